"""HTTP endpoints of parties: read arguments, call one use case in one transaction, answer."""

from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_required, required_version
from servicekit.web import create_once, idempotent, sessions, with_etag

from ..access.routes import OwnedRecord, add_owner_routes
from . import service
from .schemas import CREATE, PARTY, PartyListArgs, PartyPageSchema, PartySchema, PartyUpdateSchema

blp = Blueprint("parties", __name__, url_prefix="/api/v1/parties",
                description="Companies and people: customers, suppliers, prospects, partners. You see the ones "
                            "you own, those shared with you or your teams, and your team members' if you manage "
                            "the team.")


@blp.route("")
class Parties(MethodView):
    @requires("parties:read")
    @blp.arguments(PartyListArgs, location="query")
    @blp.response(200, PartyPageSchema)
    def get(self, args):
        """List parties (paginated; filter by kind, role, status, company, owner, tax id, country; search with q)."""
        with sessions().begin() as session:
            return service.list_parties(session, args, current_principal())

    @requires("parties:create")
    @blp.arguments(CREATE)
    @blp.response(201, PARTY)
    @blp.alt_response(422, description="Invalid field (problem+json naming it)")
    @idempotent
    def post(self, data):
        """Create a company or a person. Send Idempotency-Key to make retries safe."""
        return create_once("POST /parties", PARTY, lambda session, me: service.create_party(session, data, me),
                           lambda body: f"/api/v1/parties/{body['id']}")


@blp.route("/<uuid:party_id>")
class PartyById(MethodView):
    @requires("parties:read")
    @blp.response(200, PARTY)
    def get(self, party_id):
        """Get one party; its ETag is what If-Match needs for changes."""
        with sessions().begin() as session:
            return with_etag(service.get_party(session, party_id, current_principal()))

    @requires("parties:update")
    @if_match_required
    @blp.arguments(PartyUpdateSchema)
    @blp.response(200, PARTY)
    @blp.alt_response(412, description="The party changed since the ETag you sent")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, party_id):
        """Change some fields. Requires If-Match with the ETag of your last read."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.update_party(session, party_id, expected, changes, current_principal()))


@blp.route("/<uuid:party_id>/archive")
class PartyArchive(MethodView):
    @requires("parties:archive")
    @if_match_required
    @blp.response(200, PartySchema)
    def post(self, party_id):
        """Archive a party (it leaves default lists; documents keep pointing at it). Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.archive_party(session, party_id, expected, current_principal()))


@blp.route("/<uuid:party_id>/restore")
class PartyRestore(MethodView):
    @requires("parties:archive")
    @if_match_required
    @blp.response(200, PartySchema)
    def post(self, party_id):
        """Bring an archived party back. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.restore_party(session, party_id, expected, current_principal()))


add_owner_routes(blp, OwnedRecord("party", "parties", "party_id", service.SHARING, service.assign_party, PartySchema))
