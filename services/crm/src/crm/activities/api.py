"""HTTP endpoints of activities and activity types: read arguments, call one use case in one transaction, answer."""

from flask import current_app, jsonify, request
from flask.views import MethodView
from servicekit import idempotency
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import etag_of, if_match_optional, if_match_required, required_version

from ..access.schemas import AssignSchema, ShareCreateSchema, ShareSchema
from ..db import idempotency_keys
from . import service, types
from .schemas import (
    ActivityCreateSchema,
    ActivityListArgs,
    ActivityPageSchema,
    ActivitySchema,
    ActivityTypeCreateSchema,
    ActivityTypeListArgs,
    ActivityTypeSchema,
    ActivityTypeUpdateSchema,
    ActivityUpdateSchema,
)

blp = Blueprint("activities", __name__, url_prefix="/api/v1/activities",
                description="Calls, emails, SMS and messenger messages, meetings and notes logged against a party, "
                            "deal or lead; each one also appears on the customer's timeline. You see your own, those "
                            "shared with you or your teams, those you took part in, and your team members' if you "
                            "manage the team.")
types_blp = Blueprint("activity_types", __name__, url_prefix="/api/v1/activity-types",
                      description="The kinds of activity users can log: built-in call, email, sms, messenger, "
                                  "meeting and note, and those added by holders of activity_types:manage.")


def _sessions():
    return current_app.extensions["crm.db"].sessions


def _optional_version() -> int | None:
    return required_version() if request.headers.get("If-Match") else None


def _with_etag(view: dict, status=200):
    return view, status, {"ETag": etag_of(view["version"])}


def register(api) -> None:
    """Register both blueprints on the app's Api."""
    api.register_blueprint(blp)
    api.register_blueprint(types_blp)


@blp.route("")
class Activities(MethodView):
    @requires("activities:read")
    @blp.arguments(ActivityListArgs, location="query")
    @blp.response(200, ActivityPageSchema)
    def get(self, args):
        """List activities (newest first; filter by party, deal, lead, type, owner, participant, direction, date
        range; search with q; sort by occurred_at, created_at, updated_at, type, subject)."""
        with _sessions().begin() as session:
            return service.list_activities(session, args, current_principal())

    @requires("activities:create")
    @blp.arguments(ActivityCreateSchema)
    @blp.response(201, ActivitySchema)
    @blp.alt_response(422, description="Invalid field (problem+json naming it)")
    def post(self, data):
        """Log an activity; it appears on the timeline of its party, deal and lead. Send Idempotency-Key to make
        retries safe."""
        key = request.headers.get("Idempotency-Key")
        me = current_principal()
        scope = f"POST /activities {me.user_id}"
        with _sessions().begin() as session:
            if key:
                stored = idempotency.claim(session, idempotency_keys, scope, key, request.get_json())
                if stored:  # a retry: answer what the first request got
                    return jsonify(stored[1]), stored[0], {"ETag": etag_of(stored[1]["version"]),
                                                           "Location": f"/api/v1/activities/{stored[1]['id']}"}
            view = service.log_activity(session, data, me)
            if key:
                idempotency.remember(session, idempotency_keys, scope, key, 201, ActivitySchema().dump(view))
        return view, 201, {"ETag": etag_of(view["version"]), "Location": f"/api/v1/activities/{view['id']}"}


@blp.route("/<uuid:activity_id>")
class ActivityById(MethodView):
    @requires("activities:read")
    @blp.response(200, ActivitySchema)
    def get(self, activity_id):
        """Get one activity; its ETag is what If-Match needs for changes."""
        with _sessions().begin() as session:
            return _with_etag(service.get_activity(session, activity_id, current_principal()))

    @requires("activities:update")
    @if_match_required
    @blp.arguments(ActivityUpdateSchema)
    @blp.response(200, ActivitySchema)
    @blp.alt_response(412, description="The activity changed since the ETag you sent")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, activity_id):
        """Change some fields (its timeline entry follows). Requires If-Match with the ETag of your last read."""
        expected = required_version()
        with _sessions().begin() as session:
            return _with_etag(service.update_activity(session, activity_id, expected, changes, current_principal()))

    @requires("activities:update")
    @if_match_optional
    @blp.response(204)
    @blp.alt_response(412, description="The activity changed since the ETag you sent")
    def delete(self, activity_id):
        """Delete an activity and take it off the timeline (the audit trail keeps what it said). If-Match is
        optional: when sent, the delete happens only if the activity is still at that version."""
        expected = _optional_version()
        with _sessions().begin() as session:
            service.delete_activity(session, activity_id, expected, current_principal())


@blp.route("/<uuid:activity_id>/assign")
class ActivityAssign(MethodView):
    @requires("activities:assign")
    @blp.arguments(AssignSchema)
    @blp.response(200, ActivitySchema)
    def post(self, data, activity_id):
        """Give the activity to another user."""
        with _sessions().begin() as session:
            return _with_etag(service.assign_activity(session, activity_id, data["owner_id"], current_principal()))


@blp.route("/<uuid:activity_id>/shares")
class ActivityShares(MethodView):
    @requires("activities:read")
    @blp.response(200, ShareSchema(many=True))
    def get(self, activity_id):
        """Who else sees this activity."""
        with _sessions().begin() as session:
            return service.list_shares(session, activity_id, current_principal())

    @requires("activities:share")
    @blp.arguments(ShareCreateSchema)
    @blp.response(201, ShareSchema)
    def post(self, data, activity_id):
        """Share with a user or a team, read-only or with write access."""
        with _sessions().begin() as session:
            return service.share_activity(session, activity_id, data, current_principal())


@blp.route("/<uuid:activity_id>/shares/<uuid:share_id>")
class ActivityShare(MethodView):
    @requires("activities:share")
    @blp.response(204)
    def delete(self, activity_id, share_id):
        """Stop sharing."""
        with _sessions().begin() as session:
            service.unshare_activity(session, activity_id, share_id, current_principal())


@types_blp.route("")
class ActivityTypes(MethodView):
    @requires("activities:read")
    @types_blp.arguments(ActivityTypeListArgs, location="query")
    @types_blp.response(200, ActivityTypeSchema(many=True))
    def get(self, args):
        """The activity types, in display order (inactive ones only with include_inactive=true)."""
        with _sessions().begin() as session:
            return types.list_types(session, args["include_inactive"])

    @requires("activity_types:manage")
    @types_blp.arguments(ActivityTypeCreateSchema)
    @types_blp.response(201, ActivityTypeSchema)
    @types_blp.alt_response(409, description="The key is taken")
    def post(self, data):
        """Add an activity type (e.g. site_visit) that every user can then log."""
        with _sessions().begin() as session:
            found = types.create_type(session, data, current_principal())
            return found, 201, {"ETag": etag_of(found.version)}


@types_blp.route("/<string:key>")
class ActivityTypeByKey(MethodView):
    @requires("activities:read")
    @types_blp.response(200, ActivityTypeSchema)
    def get(self, key):
        with _sessions().begin() as session:
            found = types.get_type(session, key)
            return found, 200, {"ETag": etag_of(found.version)}

    @requires("activity_types:manage")
    @if_match_required
    @types_blp.arguments(ActivityTypeUpdateSchema)
    @types_blp.response(200, ActivityTypeSchema)
    def patch(self, changes, key):
        """Relabel, recolour, reorder or (de)activate a type. Requires If-Match."""
        expected = required_version()
        with _sessions().begin() as session:
            found = types.update_type(session, key, expected, changes, current_principal())
            return found, 200, {"ETag": etag_of(found.version)}
