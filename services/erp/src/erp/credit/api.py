"""HTTP endpoint of a customer's credit position."""

from flask.views import MethodView
from servicekit.auth.principal import requires
from servicekit.blueprint import Blueprint
from servicekit.problems import NotFound
from servicekit.web import sessions

from ..parties.models import PartyReplica
from . import service
from .schemas import CreditPositionSchema

blp = Blueprint("credit", __name__, url_prefix="/api/v1",
                description="What a customer may owe and owes now; the CRM receives it on erp.credit.v1.")


@blp.route("/parties/<uuid:party_id>/credit")
class CreditPosition(MethodView):
    @requires("partners:read")
    @blp.response(200, CreditPositionSchema)
    def get(self, party_id):
        """The customer's credit position as of now."""
        with sessions().begin() as session:
            if session.get(PartyReplica, str(party_id)) is None:
                raise NotFound("party", party_id)
            return service.credit_view(session, str(party_id))
