"""What the agenda endpoints accept (strict: unknown fields are refused) and return."""

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from webargs.fields import DelimitedList

from .models import PARTSTATS, TRANSPARENCIES, VISIBILITIES


def _zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise ValidationError("an IANA time zone such as Europe/Berlin") from None


class AttendeeInSchema(Schema):
    user_id = fields.UUID(metadata={"description": "A CRM user..."})
    party_id = fields.UUID(metadata={"description": "...or a party contact (one of the two)."})
    status = fields.String(validate=validate.OneOf(PARTSTATS))


class ReminderInSchema(Schema):
    minutes = fields.Integer(load_default=0, validate=validate.Range(0, 40320))
    hours = fields.Integer(load_default=0, validate=validate.Range(0, 672))
    days = fields.Integer(load_default=0, validate=validate.Range(0, 28))
    user_id = fields.UUID(metadata={"description": "Who is reminded (default: the owner)."})


_MOMENTS = fields.List(fields.AwareDateTime(), validate=validate.Length(max=1000))


class _EventFields(Schema):
    title = fields.String(validate=validate.Length(min=1, max=300))
    description = fields.String(allow_none=True, validate=validate.Length(max=20_000))
    location = fields.String(allow_none=True, validate=validate.Length(max=500))
    starts_at = fields.AwareDateTime(metadata={"description": "The (first) start, with its offset."})
    ends_at = fields.AwareDateTime(metadata={"description": "The end (default: the start)."})
    all_day = fields.Boolean(metadata={"description": "Whole days in the event's zone (times are ignored)."})
    tz = fields.String(validate=_zone, metadata={"description": "IANA zone whose wall clock the series keeps.",
                                                 "example": "Europe/Berlin"})
    rrule = fields.String(allow_none=True, validate=validate.Length(max=1000), metadata={
        "description": "RFC 5545 RRULE, no limit on COUNT, UNTIL optional.", "example": "FREQ=WEEKLY;BYDAY=MO"})
    rdates = fields.List(fields.AwareDateTime(), allow_none=True, validate=validate.Length(max=1000))
    exdates = fields.List(fields.AwareDateTime(), allow_none=True, validate=validate.Length(max=1000))
    category = fields.String(allow_none=True, validate=validate.Length(max=60))
    color = fields.String(allow_none=True, validate=validate.Regexp(r"^#[0-9a-fA-F]{6}$"),
                          metadata={"example": "#1e88e5"})
    transparency = fields.String(validate=validate.OneOf(TRANSPARENCIES),
                                 metadata={"description": "busy blocks the attendees' time; free does not."})
    visibility = fields.String(validate=validate.OneOf(VISIBILITIES))
    party_id = fields.UUID(allow_none=True)
    deal_id = fields.UUID(allow_none=True)
    lead_id = fields.UUID(allow_none=True)
    task_id = fields.UUID(allow_none=True)
    ticket_id = fields.UUID(allow_none=True)
    attendees = fields.List(fields.Nested(AttendeeInSchema), validate=validate.Length(max=200))
    reminders = fields.List(fields.Nested(ReminderInSchema), validate=validate.Length(max=20))

    @validates_schema
    def consistent(self, data, **_):
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] < data["starts_at"]:
            raise ValidationError("an event cannot end before it starts", "ends_at")


class EventCreateSchema(_EventFields):
    title = fields.String(required=True, validate=validate.Length(min=1, max=300))
    starts_at = fields.AwareDateTime(required=True)
    tz = fields.String(load_default="UTC", validate=_zone, metadata={"example": "Europe/Berlin"})
    all_day = fields.Boolean(load_default=False)
    transparency = fields.String(load_default="busy", validate=validate.OneOf(TRANSPARENCIES))
    visibility = fields.String(load_default="public", validate=validate.OneOf(VISIBILITIES))


class EventUpdateSchema(_EventFields):
    """Fields to change; absent fields stay. A list (attendees, reminders, rdates, exdates) replaces the old."""


class BookingArgs(Schema):
    allow_conflicts = fields.Boolean(load_default=False, metadata={
        "description": "Book even if an attendee is busy then (otherwise 409 listing the conflicts)."})


class ScopeArgs(BookingArgs):
    scope = fields.String(load_default="all", validate=validate.OneOf(("all", "this", "following")), metadata={
        "description": "all: the whole series; this: one occurrence; following: this one and the later ones "
                       "(the series is split)."})
    occurrence = fields.AwareDateTime(metadata={
        "description": "The original start of the occurrence (its RECURRENCE-ID) for scope this or following."})


class DeleteArgs(Schema):
    scope = fields.String(load_default="all", validate=validate.OneOf(("all", "this", "following")))
    occurrence = fields.AwareDateTime()


class RespondSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("accepted", "declined", "tentative")))


class AttendeeSchema(Schema):
    id = fields.UUID()
    user_id = fields.UUID(allow_none=True)
    party_id = fields.UUID(allow_none=True)
    status = fields.String()
    name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)


class ReminderSchema(Schema):
    id = fields.UUID()
    user_id = fields.UUID()
    minutes_before = fields.Integer()


class OverrideSchema(Schema):
    recurrence_id = fields.DateTime()
    cancelled = fields.Boolean()
    starts_at = fields.DateTime(allow_none=True)
    ends_at = fields.DateTime(allow_none=True)
    title = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    location = fields.String(allow_none=True)


class EventSchema(Schema):
    id = fields.UUID()
    uid = fields.String()
    title = fields.String()
    description = fields.String(allow_none=True)
    location = fields.String(allow_none=True)
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    all_day = fields.Boolean()
    tz = fields.String()
    rrule = fields.String(allow_none=True)
    rdates = fields.List(fields.DateTime())
    exdates = fields.List(fields.DateTime())
    series_ends_at = fields.DateTime(allow_none=True)
    recurring = fields.Boolean()
    category = fields.String(allow_none=True)
    color = fields.String(allow_none=True)
    transparency = fields.String()
    visibility = fields.String()
    owner_id = fields.UUID()
    party_id = fields.UUID(allow_none=True)
    deal_id = fields.UUID(allow_none=True)
    lead_id = fields.UUID(allow_none=True)
    task_id = fields.UUID(allow_none=True)
    ticket_id = fields.UUID(allow_none=True)
    split_from_id = fields.UUID(allow_none=True)
    sequence = fields.Integer()
    attendees = fields.List(fields.Nested(AttendeeSchema))
    reminders = fields.List(fields.Nested(ReminderSchema))
    overrides = fields.List(fields.Nested(OverrideSchema))
    created_by = fields.UUID(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class WindowArgs(Schema):
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)
    user_ids = DelimitedList(fields.UUID(), metadata={"description": "Owned by or attended by these users."})
    attendee_party_id = fields.UUID(metadata={"description": "With this party contact as an attendee."})
    party_id = fields.UUID(metadata={"description": "Linked to this party or attended by it."})
    category = DelimitedList(fields.String(validate=validate.Length(max=60)))


class OccurrenceSchema(Schema):
    event_id = fields.UUID()
    recurrence_id = fields.DateTime(allow_none=True)
    title = fields.String()
    description = fields.String(allow_none=True)
    location = fields.String(allow_none=True)
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    all_day = fields.Boolean()
    tz = fields.String()
    category = fields.String(allow_none=True)
    color = fields.String(allow_none=True)
    transparency = fields.String()
    visibility = fields.String()
    owner_id = fields.UUID()
    party_id = fields.UUID(allow_none=True)
    deal_id = fields.UUID(allow_none=True)
    lead_id = fields.UUID(allow_none=True)
    recurring = fields.Boolean()
    overridden = fields.Boolean()


class OverviewArgs(Schema):
    year = fields.Integer(required=True, validate=validate.Range(1900, 2200))
    month = fields.Integer(validate=validate.Range(1, 12), metadata={"description": "Without it: the whole year."})
    tz = fields.String(load_default="UTC", validate=_zone)
    user_ids = DelimitedList(fields.UUID())
    party_id = fields.UUID()
    category = DelimitedList(fields.String(validate=validate.Length(max=60)))


class DaySchema(Schema):
    date = fields.Date()
    count = fields.Integer()
    busy_minutes = fields.Integer()
    note = fields.String(allow_none=True, metadata={"description": "Your note for the day, if any."})
    note_color = fields.String(allow_none=True)


class OverviewSchema(Schema):
    tz = fields.String()
    year = fields.Integer()
    month = fields.Integer(allow_none=True)
    days = fields.List(fields.Nested(DaySchema))


class ConflictArgs(Schema):
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime()
    tz = fields.String(load_default="UTC", validate=_zone)
    rrule = fields.String(validate=validate.Length(max=1000))
    user_ids = DelimitedList(fields.UUID(), metadata={"description": "The attendees (default: you)."})
    ignore_event_id = fields.UUID(metadata={"description": "The event being moved (its own times do not count)."})


class ConflictSchema(Schema):
    event_id = fields.UUID()
    recurrence_id = fields.DateTime(allow_none=True)
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()
    title = fields.String()
    user_ids = fields.List(fields.UUID())
    proposed_starts_at = fields.DateTime(allow_none=True)


class FreeBusyArgs(Schema):
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)
    user_ids = DelimitedList(fields.UUID())


class IntervalSchema(Schema):
    starts_at = fields.DateTime()
    ends_at = fields.DateTime()


class FreeBusySchema(Schema):
    user_id = fields.UUID()
    busy = fields.List(fields.Nested(IntervalSchema))


class FeedSchema(Schema):
    active = fields.Boolean(metadata={"description": "Whether you have a feed URL that works."})
    created_at = fields.DateTime(allow_none=True)
    url = fields.String(allow_none=True, metadata={
        "description": "https URL of your feed: shown only when it is made (rotate to get a new one)."})
    webcal_url = fields.String(allow_none=True, metadata={"description": "The same as webcal:// for Outlook, "
                                                                         "Apple Calendar and Thunderbird."})


class IcsImportFormSchema(Schema):
    file = Upload(metadata={"description": "An .ics file (RFC 5545) exported by Outlook, Google, Apple or any "
                                           "calendar; at most 10 MB and 20,000 events."})
    tz = fields.String(load_default="UTC", validate=_zone, metadata={
        "description": "The zone of floating times and all-day events when the file does not say."})


class IcsImportReportSchema(Schema):
    created = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    deleted = fields.Integer(metadata={"description": "Events the file cancels (STATUS:CANCELLED)."})
    overrides = fields.Integer(metadata={"description": "Changed or cancelled single occurrences."})
    event_ids = fields.List(fields.String())


class CalDavLinkCreateSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=8, max=1000), metadata={
        "description": "The calendar collection's URL, e.g. https://cloud.example.com/remote.php/dav/calendars/ada/"
                       "work/", "example": "https://dav.example.com/ada/work/"})
    username = fields.String(load_default="", validate=validate.Length(max=200))
    password = fields.String(load_default="", load_only=True, validate=validate.Length(max=500), metadata={
        "description": "Stored encrypted, never shown again (an app password where the server offers one)."})


class CalDavLinkSchema(Schema):
    id = fields.UUID()
    url = fields.String()
    username = fields.String()
    status = fields.String(metadata={"description": "active, or failing (see last_error)"})
    last_synced_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()


class CalDavSyncReportSchema(Schema):
    pulled = fields.Integer(metadata={"description": "Objects taken from the calendar (created, changed)."})
    deleted_here = fields.Integer(metadata={"description": "Events deleted because the calendar deleted them."})
    pushed = fields.Integer(metadata={"description": "Events written to the calendar."})
    deleted_there = fields.Integer(metadata={"description": "Objects deleted there because they were deleted here."})
    conflicts = fields.Integer(metadata={"description": "Events changed on both sides: the later edit won, the "
                                                        "other is kept in the event's history."})
    skipped = fields.Integer(metadata={"description": "Objects that could not be read."})
    error = fields.String(metadata={"description": "Why the sync failed (nothing was changed here)."})


class CalDavSyncSchema(CalDavLinkSchema):
    report = fields.Nested(CalDavSyncReportSchema)


class HeldSchema(Schema):
    occurrence = fields.AwareDateTime(metadata={
        "description": "For a series: the original start (RECURRENCE-ID) of the occurrence that was held."})
    notes = fields.String(allow_none=True, validate=validate.Length(max=100_000),
                          metadata={"description": "What was said and agreed: the activity's body."})
    outcome = fields.String(allow_none=True, validate=validate.Length(max=200))


class DayNoteInSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    color = fields.String(allow_none=True, validate=validate.Regexp(r"^#[0-9a-fA-F]{6}$"),
                          metadata={"example": "#fdd835"})


class DayNoteSchema(Schema):
    day = fields.Date()
    text = fields.String()
    color = fields.String(allow_none=True)
    updated_at = fields.DateTime()


class DayNoteArgs(Schema):
    start = fields.Date(required=True)
    end = fields.Date(required=True, metadata={"description": "The day after the last one (at most 400 days on)."})
