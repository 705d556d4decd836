"""What the notification endpoints accept (strict: unknown fields are refused) and return."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from servicekit.pagination import MAX_PAGE, page_schema

STATES = ("unread", "read", "snoozed", "dismissed")


class NotificationListArgs(Schema):
    state = fields.String(load_default="active", validate=validate.OneOf(("active", "all")), metadata={
        "description": "active (default): unread, not dismissed and not snoozed into the future; all: every one."})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    page_size = fields.Integer(load_default=25, validate=validate.Range(min=1, max=200))


class SnoozeSchema(Schema):
    until = fields.AwareDateTime(metadata={"description": "Show it again at this moment (at most 30 days ahead)..."})
    minutes = fields.Integer(validate=validate.Range(min=1, max=30 * 24 * 60),
                             metadata={"description": "...or after this many minutes (not both)."})

    @validates_schema
    def one_of(self, data, **_):
        if ("until" in data) == ("minutes" in data):
            raise ValidationError("give until or minutes (one of them)", "until")


class NotificationSchema(Schema):
    id = fields.UUID()
    kind = fields.String(metadata={"description": "What it is about, e.g. agenda.reminder."})
    title = fields.String()
    body = fields.String(allow_none=True)
    ref_type = fields.String(allow_none=True, metadata={"description": "The kind of record it points at."})
    ref_id = fields.String(allow_none=True)
    occurrence = fields.DateTime(allow_none=True, metadata={
        "description": "For a reminder: the start of the occurrence it announces."})
    late = fields.Boolean(metadata={"description": "Sent after its time (the worker was not running then)."})
    state = fields.String(validate=validate.OneOf(STATES))
    read_at = fields.DateTime(allow_none=True)
    snoozed_until = fields.DateTime(allow_none=True)
    dismissed_at = fields.DateTime(allow_none=True)
    created_at = fields.DateTime()


NotificationPageSchema = page_schema(NotificationSchema, "NotificationPage")
