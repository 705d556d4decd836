"""HTTP views of a deal's fulfilment as the ERP reports it."""

from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.web import sessions

from . import service
from .schemas import DealFulfilmentSchema

blp = Blueprint("fulfilment", __name__, url_prefix="/api/v1",
                description="What happens after a deal is won, as the ERP reports it (read-only): work orders and "
                            "purchases with their status, expected dates and late flags.")


@blp.route("/deals/<uuid:deal_id>/fulfilment")
class DealFulfilment(MethodView):
    @requires("deals:read")
    @blp.response(200, DealFulfilmentSchema)
    def get(self, deal_id):
        """The deal's fulfilment panel: its orders, each work order and purchase with status, expected date and
        late flag, and a one-sentence summary to tell the customer."""
        with sessions().begin() as session:
            return service.deal_fulfilment(session, deal_id, current_principal())
