"""HTTP endpoints of the caller's own notifications: read arguments, call one use case in one transaction, answer."""

from flask.views import MethodView
from servicekit.auth.principal import current_principal
from servicekit.blueprint import Blueprint
from servicekit.web import sessions

from . import service
from .schemas import NotificationListArgs, NotificationPageSchema, NotificationSchema, SnoozeSchema

blp = Blueprint("notifications", __name__, url_prefix="/api/v1/me/notifications",
                description="Your in-app notifications (agenda reminders and other alerts): list them, mark them "
                            "read, snooze or dismiss them. Only your own: another user's is not found.")


@blp.route("")
class Notifications(MethodView):
    @blp.arguments(NotificationListArgs, location="query")
    @blp.response(200, NotificationPageSchema)
    def get(self, args):
        """Your notifications, newest first: the active ones by default (unread, not dismissed, not snoozed into
        the future), every one with state=all."""
        with sessions().begin() as session:
            return service.list_notifications(session, args, current_principal())


@blp.route("/<uuid:notification_id>/read")
class NotificationRead(MethodView):
    @blp.response(200, NotificationSchema)
    def post(self, notification_id):
        """Mark it read: it leaves the active list."""
        with sessions().begin() as session:
            return service.mark_read(session, notification_id, current_principal())


@blp.route("/<uuid:notification_id>/snooze")
class NotificationSnooze(MethodView):
    @blp.arguments(SnoozeSchema, example={"minutes": 30})
    @blp.response(200, NotificationSchema)
    @blp.alt_response(409, description="It was dismissed")
    def post(self, data, notification_id):
        """Hide it until a moment or for some minutes (at most 30 days); it then comes back unread."""
        with sessions().begin() as session:
            return service.snooze(session, notification_id, current_principal(), data.get("until"),
                                  data.get("minutes"))


@blp.route("/<uuid:notification_id>/dismiss")
class NotificationDismiss(MethodView):
    @blp.response(200, NotificationSchema)
    def post(self, notification_id):
        """Dismiss it for good."""
        with sessions().begin() as session:
            return service.dismiss(session, notification_id, current_principal())
