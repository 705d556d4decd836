"""HTTP endpoint of a customer's credit position."""

from flask.views import MethodView
from marshmallow import Schema, fields
from servicekit.auth.principal import requires
from servicekit.blueprint import Blueprint
from servicekit.problems import NotFound
from servicekit.web import sessions

from ..fields import AMOUNT
from ..parties.models import PartyReplica
from . import service

blp = Blueprint("credit", __name__, url_prefix="/api/v1",
                description="What a customer may owe and owes now; the CRM receives it on erp.credit.v1.")


class CreditPositionSchema(Schema):
    party_id = fields.UUID()
    currency = fields.String()
    credit_limit = fields.Decimal(allow_none=True, **AMOUNT, metadata={"description": "None: no limit."})
    open_balance = fields.Decimal(**AMOUNT, metadata={"description": "Issued invoices less credit notes and "
                                                                     "receipts."})
    overdue_amount = fields.Decimal(**AMOUNT, metadata={"description": "Due on invoices past their due date."})
    available_credit = fields.Decimal(allow_none=True, **AMOUNT, metadata={
        "description": "credit_limit - open_balance (never below 0); none without a limit."})


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
