"""HTTP endpoints of a ticket's warranty claim: resolve under warranty (or correct the claim), and read it."""

from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import etag_of, if_match_required, required_version
from servicekit.web import sessions

from . import claims
from .claim_schemas import ClaimCreateSchema, ClaimSchema

blp = Blueprint("ticket_claims", __name__, url_prefix="/api/v1/tickets",
                description="Warranty claims: a ticket resolved under warranty records the parts and labour of the "
                            "repair against the customer's entitlement; the ERP books it and answers.")


@blp.route("/<uuid:ticket_id>/warranty-claim")
class TicketWarrantyClaim(MethodView):
    @requires("tickets:read")
    @blp.response(200, ClaimSchema)
    def get(self, ticket_id):
        """The ticket's warranty claim: its current revision and the ERP's answer (status, reason, cost)."""
        with sessions().begin() as session:
            return claims.ticket_claim(session, ticket_id, current_principal())

    @requires("tickets:update")
    @if_match_required
    @blp.arguments(ClaimCreateSchema)
    @blp.response(200, ClaimSchema, description="The claim; the ETag is the ticket's new version")
    @blp.alt_response(409, description="The ticket is closed, or resolved without a claim")
    @blp.alt_response(412, description="The ticket changed since the ETag you sent")
    @blp.alt_response(428, description="If-Match is missing")
    def post(self, data, ticket_id):
        """Resolve the ticket under warranty with its claim (parts, labour hours x rate, faulty and replacement
        serial), announced to the ERP on crm.ticket.v1. On a resolved ticket with a claim this corrects it: a new
        revision. An expired, voided, foreign or unknown entitlement is a 422 naming entitlement_id. Requires the
        ticket's If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            view = claims.resolve_under_warranty(session, ticket_id, expected, data, current_principal())
        return view, 200, {"ETag": etag_of(view["ticket_version"])}
