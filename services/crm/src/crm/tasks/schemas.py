"""What the task endpoints accept (strict: unknown fields are refused) and return."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from servicekit.pagination import PageArgs, page_schema
from webargs.fields import DelimitedList

from .models import PRIORITIES, RECORD_TYPES, STATUSES


def _zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise ValidationError("an IANA time zone such as Europe/Paris") from None


class _TaskFields(Schema):
    title = fields.String(validate=validate.Length(min=1, max=300))
    description = fields.String(allow_none=True, validate=validate.Length(max=20_000))
    assignee_id = fields.UUID(metadata={"description": "Who has to do it (default: you; someone else needs "
                                                       "tasks:assign)."})
    due_at = fields.AwareDateTime(allow_none=True, metadata={"description": "Due at this moment..."})
    due_date = fields.Date(allow_none=True, metadata={"description": "...or some time on this day (not both)."})
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    record_type = fields.String(allow_none=True, validate=validate.OneOf(RECORD_TYPES),
                                metadata={"description": "The kind of record the task is about."})
    record_id = fields.UUID(allow_none=True)
    reminder_at = fields.AwareDateTime(allow_none=True)

    @validates_schema
    def consistent(self, data, **_):
        if data.get("due_at") and data.get("due_date"):
            raise ValidationError("give due_at or due_date, not both", "due_date")
        if bool(data.get("record_type")) != bool(data.get("record_id")) and (
                "record_type" in data or "record_id" in data):
            missing = "record_id" if data.get("record_type") else "record_type"
            raise ValidationError("give record_type and record_id together", missing)


class TaskCreateSchema(_TaskFields):
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))


class TaskUpdateSchema(_TaskFields):
    """Fields to change; absent fields stay as they are. Status done is the same as POST /complete."""

    status = fields.String(validate=validate.OneOf(STATUSES))


class TaskSchema(_TaskFields):
    id = fields.UUID()
    status = fields.String()
    completed_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean(metadata={"description": "Pending and past its due time (as of this answer)."})
    created_by = fields.UUID(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


_TZ = dict(load_default="UTC", validate=_zone,
           metadata={"description": "The time zone whose midnight starts a day for today, week and due dates "
                                    "(default UTC)."})


class TaskListArgs(PageArgs):
    mine = fields.Boolean(metadata={"description": "Only tasks assigned to you."})
    assignee_id = fields.UUID()
    created_by = fields.UUID()
    status = DelimitedList(fields.String(validate=validate.OneOf((*STATUSES, "pending"))), metadata={
        "description": "Comma-separated statuses; pending = open and in_progress."})
    priority = DelimitedList(fields.String(validate=validate.OneOf(PRIORITIES)))
    record_type = fields.String(validate=validate.OneOf(RECORD_TYPES))
    record_id = fields.UUID()
    team_id = fields.UUID(metadata={"description": "A team (department): tasks assigned to its members."})
    due = fields.String(validate=validate.OneOf(("overdue", "today", "week", "none")), metadata={
        "description": "overdue: pending and past due; today: due today; week: due in the 7 days from today; "
                       "none: without a due time."})
    q = fields.String(metadata={"description": "Search in title and description (case-insensitive)."})
    tz = fields.String(**_TZ)


class TaskSummaryArgs(Schema):
    team_id = fields.UUID(metadata={"description": "One line per member of this team (its managers only)."})
    tz = fields.String(**_TZ)


class TaskSummarySchema(Schema):
    user_id = fields.UUID()
    email = fields.String()
    name = fields.String()
    pending = fields.Integer(metadata={"description": "Open or in progress."})
    overdue = fields.Integer(metadata={"description": "Pending and past due."})
    due_today = fields.Integer(metadata={"description": "Pending and due today."})


TaskPageSchema = page_schema(TaskSchema, "TaskPage")
