"""HTTP endpoints of activities and activity types: read arguments, call one use case in one transaction, answer."""

from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_optional, if_match_required, required_version
from servicekit.web import create_once, idempotent, optional_version, sessions, with_etag

from ..access.routes import OwnedRecord, add_owner_routes
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


@blp.route("")
class Activities(MethodView):
    @requires("activities:read")
    @blp.arguments(ActivityListArgs, location="query")
    @blp.response(200, ActivityPageSchema)
    def get(self, args):
        """List activities (newest first; filter by party, deal, lead, type, owner, participant, direction, date
        range; search with q; sort by occurred_at, created_at, updated_at, type, subject)."""
        with sessions().begin() as session:
            return service.list_activities(session, args, current_principal())

    @requires("activities:create")
    @blp.arguments(ActivityCreateSchema)
    @blp.response(201, ActivitySchema)
    @blp.alt_response(422, description="Invalid field (problem+json naming it)")
    @idempotent
    def post(self, data):
        """Log an activity; it appears on the timeline of its party, deal and lead. Send Idempotency-Key to make
        retries safe."""
        return create_once("POST /activities", ActivitySchema,
                           lambda session, me: service.log_activity(session, data, me),
                           lambda body: f"/api/v1/activities/{body['id']}")


@blp.route("/<uuid:activity_id>")
class ActivityById(MethodView):
    @requires("activities:read")
    @blp.response(200, ActivitySchema)
    def get(self, activity_id):
        """Get one activity; its ETag is what If-Match needs for changes."""
        with sessions().begin() as session:
            return with_etag(service.get_activity(session, activity_id, current_principal()))

    @requires("activities:update")
    @if_match_required
    @blp.arguments(ActivityUpdateSchema)
    @blp.response(200, ActivitySchema)
    @blp.alt_response(412, description="The activity changed since the ETag you sent")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, activity_id):
        """Change some fields (its timeline entry follows). Requires If-Match with the ETag of your last read."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.update_activity(session, activity_id, expected, changes, current_principal()))

    @requires("activities:update")
    @if_match_optional
    @blp.response(204)
    @blp.alt_response(412, description="The activity changed since the ETag you sent")
    def delete(self, activity_id):
        """Delete an activity and take it off the timeline (the audit trail keeps what it said). If-Match is
        optional: when sent, the delete happens only if the activity is still at that version."""
        expected = optional_version()
        with sessions().begin() as session:
            service.delete_activity(session, activity_id, expected, current_principal())


@types_blp.route("")
class ActivityTypes(MethodView):
    @requires("activities:read")
    @types_blp.arguments(ActivityTypeListArgs, location="query")
    @types_blp.response(200, ActivityTypeSchema(many=True))
    def get(self, args):
        """The activity types, in display order (inactive ones only with include_inactive=true)."""
        with sessions().begin() as session:
            return types.list_types(session, args["include_inactive"])

    @requires("activity_types:manage")
    @types_blp.arguments(ActivityTypeCreateSchema)
    @types_blp.response(201, ActivityTypeSchema)
    @types_blp.alt_response(409, description="The key is taken")
    def post(self, data):
        """Add an activity type (e.g. site_visit) that every user can then log."""
        with sessions().begin() as session:
            return with_etag(types.create_type(session, data, current_principal()), 201)


@types_blp.route("/<string:key>")
class ActivityTypeByKey(MethodView):
    @requires("activities:read")
    @types_blp.response(200, ActivityTypeSchema)
    def get(self, key):
        with sessions().begin() as session:
            return with_etag(types.show_type(session, key))

    @requires("activity_types:manage")
    @if_match_required
    @types_blp.arguments(ActivityTypeUpdateSchema)
    @types_blp.response(200, ActivityTypeSchema)
    def patch(self, changes, key):
        """Relabel, recolour, reorder or (de)activate a type. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(types.update_type(session, key, expected, changes, current_principal()))


add_owner_routes(blp, OwnedRecord("activity", "activities", "activity_id", service.SHARING, service.assign_activity,
                                  ActivitySchema))
