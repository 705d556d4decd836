"""What the timeline endpoints accept and return."""

from marshmallow import Schema, ValidationError, fields, validates_schema
from servicekit.pagination import PageArgs, page_schema
from webargs.fields import DelimitedList


class TimelineEntrySchema(Schema):
    id = fields.UUID()
    kind = fields.String(metadata={"description": "What happened: activity, stage_changed, quote_sent, invoice..."})
    title = fields.String()
    summary = fields.String(allow_none=True)
    occurred_at = fields.DateTime()
    party_id = fields.UUID(allow_none=True)
    party_name = fields.String(allow_none=True, metadata={"description": "The party the entry is about (for a "
                                                                         "company's timeline: which person)."})
    deal_id = fields.UUID(allow_none=True)
    lead_id = fields.UUID(allow_none=True)
    ref_type = fields.String(allow_none=True, metadata={"description": "The kind of record it comes from."})
    ref_id = fields.String(allow_none=True)
    actor_id = fields.String(allow_none=True)
    actor = fields.String(allow_none=True, metadata={"description": "Who did it (a user's name, or a system)."})
    data = fields.Dict()
    created_at = fields.DateTime()


class TimelineArgs(PageArgs):
    kind = DelimitedList(fields.String(), metadata={
        "description": "Only these kinds (comma-separated): activity, task_completed, stage_changed, quote_sent, "
                       "order_status, invoice, payment..."})
    activity_type = DelimitedList(fields.String(), metadata={
        "description": "Only activities of these types (comma-separated keys, e.g. call,meeting)."})
    since = fields.AwareDateTime(metadata={"description": "Entries that occurred at or after this time."})
    until = fields.AwareDateTime(metadata={"description": "Entries that occurred before this time."})
    people = fields.Boolean(load_default=True, metadata={
        "description": "For a company, also show the entries of its people (default true)."})

    @validates_schema
    def range_is_ordered(self, data, **_):
        if data.get("since") and data.get("until") and data["until"] <= data["since"]:
            raise ValidationError("must be after since", "until")


TimelinePageSchema = page_schema(TimelineEntrySchema, "TimelinePage")
