"""HTTP endpoints of parties: read arguments, call one use case in one transaction, answer."""

from flask import current_app, jsonify, request
from flask.views import MethodView
from servicekit import idempotency
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import etag_of, if_match_required, required_version

from ..access.schemas import AssignSchema, ShareCreateSchema, ShareSchema
from ..db import idempotency_keys
from . import service
from .schemas import PartyCreateSchema, PartyListArgs, PartyPageSchema, PartySchema, PartyUpdateSchema

blp = Blueprint("parties", __name__, url_prefix="/api/v1/parties",
                description="Companies and people: customers, suppliers, prospects, partners. You see the ones "
                            "you own, those shared with you or your teams, and your team members' if you manage "
                            "the team.")


def _sessions():
    return current_app.extensions["crm.db"].sessions


def _with_etag(party, status=200):
    return party, status, {"ETag": etag_of(party.version)}


@blp.route("")
class Parties(MethodView):
    @requires("parties:read")
    @blp.arguments(PartyListArgs, location="query")
    @blp.response(200, PartyPageSchema)
    def get(self, args):
        """List parties (paginated; filter by kind, role, status, company, owner, tax id, country; search with q)."""
        with _sessions().begin() as session:
            return service.list_parties(session, args, current_principal())

    @requires("parties:create")
    @blp.arguments(PartyCreateSchema)
    @blp.response(201, PartySchema)
    @blp.alt_response(422, description="Invalid field (problem+json naming it)")
    def post(self, data):
        """Create a company or a person. Send Idempotency-Key to make retries safe."""
        key = request.headers.get("Idempotency-Key")
        me = current_principal()
        scope = f"POST /parties {me.user_id}"
        with _sessions().begin() as session:
            if key:
                stored = idempotency.claim(session, idempotency_keys, scope, key, request.get_json())
                if stored:  # a retry: answer what the first request got
                    return jsonify(stored[1]), stored[0], {"ETag": etag_of(stored[1]["version"]),
                                                           "Location": f"/api/v1/parties/{stored[1]['id']}"}
            party = service.create_party(session, data, me)
            if key:
                idempotency.remember(session, idempotency_keys, scope, key, 201, PartySchema().dump(party))
        return party, 201, {"ETag": etag_of(party.version), "Location": f"/api/v1/parties/{party.id}"}


@blp.route("/<uuid:party_id>")
class PartyById(MethodView):
    @requires("parties:read")
    @blp.response(200, PartySchema)
    def get(self, party_id):
        """Get one party; its ETag is what If-Match needs for changes."""
        with _sessions().begin() as session:
            return _with_etag(service.get_party(session, party_id, current_principal()))

    @requires("parties:update")
    @if_match_required
    @blp.arguments(PartyUpdateSchema)
    @blp.response(200, PartySchema)
    @blp.alt_response(412, description="The party changed since the ETag you sent")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, party_id):
        """Change some fields. Requires If-Match with the ETag of your last read."""
        expected = required_version()
        with _sessions().begin() as session:
            return _with_etag(service.update_party(session, party_id, expected, changes, current_principal()))


@blp.route("/<uuid:party_id>/archive")
class PartyArchive(MethodView):
    @requires("parties:archive")
    @if_match_required
    @blp.response(200, PartySchema)
    def post(self, party_id):
        """Archive a party (it leaves default lists; documents keep pointing at it). Requires If-Match."""
        expected = required_version()
        with _sessions().begin() as session:
            return _with_etag(service.archive_party(session, party_id, expected, current_principal()))


@blp.route("/<uuid:party_id>/restore")
class PartyRestore(MethodView):
    @requires("parties:archive")
    @if_match_required
    @blp.response(200, PartySchema)
    def post(self, party_id):
        """Bring an archived party back. Requires If-Match."""
        expected = required_version()
        with _sessions().begin() as session:
            return _with_etag(service.restore_party(session, party_id, expected, current_principal()))


@blp.route("/<uuid:party_id>/assign")
class PartyAssign(MethodView):
    @requires("parties:assign")
    @blp.arguments(AssignSchema)
    @blp.response(200, PartySchema)
    def post(self, data, party_id):
        """Give the party to another user."""
        with _sessions().begin() as session:
            return _with_etag(service.assign_party(session, party_id, data["owner_id"], current_principal()))


@blp.route("/<uuid:party_id>/shares")
class PartyShares(MethodView):
    @requires("parties:read")
    @blp.response(200, ShareSchema(many=True))
    def get(self, party_id):
        """Who else sees this party."""
        with _sessions().begin() as session:
            return service.list_shares(session, party_id, current_principal())

    @requires("parties:share")
    @blp.arguments(ShareCreateSchema)
    @blp.response(201, ShareSchema)
    def post(self, data, party_id):
        """Share with a user or a team, read-only or with write access."""
        with _sessions().begin() as session:
            return service.share_party(session, party_id, data, current_principal())


@blp.route("/<uuid:party_id>/shares/<uuid:share_id>")
class PartyShare(MethodView):
    @requires("parties:share")
    @blp.response(204)
    def delete(self, party_id, share_id):
        """Stop sharing."""
        with _sessions().begin() as session:
            service.unshare_party(session, party_id, share_id, current_principal())
