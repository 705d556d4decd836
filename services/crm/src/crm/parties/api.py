"""HTTP endpoints of parties: read arguments, call one use case in one transaction, answer."""

from flask import current_app, jsonify, request
from flask.views import MethodView
from flask_smorest import Blueprint
from servicekit import idempotency
from servicekit.etag import etag_of, required_version

from ..db import idempotency_keys
from . import service
from .schemas import PartyCreateSchema, PartyListArgs, PartyPageSchema, PartySchema, PartyUpdateSchema

blp = Blueprint("parties", __name__, url_prefix="/api/v1/parties",
                description="Companies and people: customers, suppliers, prospects, partners.")


def _sessions():
    return current_app.extensions["crm.db"].sessions


def _with_etag(party, status=200):
    return party, status, {"ETag": etag_of(party.version)}


@blp.route("")
class Parties(MethodView):
    @blp.arguments(PartyListArgs, location="query")
    @blp.response(200, PartyPageSchema)
    def get(self, args):
        """List parties (paginated; filter by kind, role, status, company, owner, tax id, country; search with q)."""
        with _sessions().begin() as session:
            return service.list_parties(session, args)

    @blp.arguments(PartyCreateSchema)
    @blp.response(201, PartySchema)
    @blp.alt_response(422, description="Invalid field (problem+json naming it)")
    def post(self, data):
        """Create a company or a person. Send Idempotency-Key to make retries safe."""
        key = request.headers.get("Idempotency-Key")
        with _sessions().begin() as session:
            if key:
                stored = idempotency.claim(session, idempotency_keys, "POST /parties", key, request.get_json())
                if stored:  # a retry: answer what the first request got
                    return jsonify(stored[1]), stored[0], {"ETag": etag_of(stored[1]["version"])}
            party = service.create_party(session, data)
            if key:
                idempotency.remember(session, idempotency_keys, "POST /parties", key, 201,
                                     PartySchema().dump(party))
        return party, 201, {"ETag": etag_of(party.version), "Location": f"/api/v1/parties/{party.id}"}


@blp.route("/<uuid:party_id>")
class PartyById(MethodView):
    @blp.response(200, PartySchema)
    def get(self, party_id):
        """Get one party; its ETag is what If-Match needs for changes."""
        with _sessions().begin() as session:
            return _with_etag(service.get_party(session, party_id))

    @blp.arguments(PartyUpdateSchema)
    @blp.response(200, PartySchema)
    @blp.alt_response(412, description="The party changed since the ETag you sent")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, party_id):
        """Change some fields. Requires If-Match with the ETag of your last read."""
        expected = required_version()
        with _sessions().begin() as session:
            return _with_etag(service.update_party(session, party_id, expected, changes))


@blp.route("/<uuid:party_id>/archive")
class PartyArchive(MethodView):
    @blp.response(200, PartySchema)
    def post(self, party_id):
        """Archive a party (it disappears from default lists; documents keep pointing at it). Requires If-Match."""
        expected = required_version()
        with _sessions().begin() as session:
            return _with_etag(service.archive_party(session, party_id, expected))


@blp.route("/<uuid:party_id>/restore")
class PartyRestore(MethodView):
    @blp.response(200, PartySchema)
    def post(self, party_id):
        """Bring an archived party back. Requires If-Match."""
        expected = required_version()
        with _sessions().begin() as session:
            return _with_etag(service.restore_party(session, party_id, expected))
