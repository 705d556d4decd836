"""What the ticket and SLA endpoints accept (strict: unknown fields are refused) and return."""

import re

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from servicekit.pagination import PageArgs, page_schema
from webargs.fields import DelimitedList

from .business_time import WEEKDAYS
from .models import CHANNELS, PRIORITIES, STATUSES

_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


class _TicketFields(Schema):
    subject = fields.String(validate=validate.Length(min=1, max=300))
    description = fields.String(allow_none=True, validate=validate.Length(max=50_000))
    contact_id = fields.UUID(allow_none=True, metadata={"description": "The person at the customer who asked."})
    product_id = fields.UUID(allow_none=True, metadata={"description": "A product of the catalog (ERP replica)."})
    serial_number = fields.String(allow_none=True, validate=validate.Length(max=100))
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    category = fields.String(allow_none=True, validate=validate.Length(max=100))
    priority = fields.String(validate=validate.OneOf(PRIORITIES))
    assignee_id = fields.UUID(allow_none=True, metadata={"description": "The agent working it (someone else than "
                                                                        "you needs tickets:assign)."})
    team_id = fields.UUID(allow_none=True, metadata={"description": "The team whose queue it is in."})
    sla_policy_id = fields.UUID(allow_none=True, metadata={
        "description": "An SLA policy chosen by hand; null: the first matching policy by position."})


class TicketCreateSchema(_TicketFields):
    subject = fields.String(required=True, validate=validate.Length(min=1, max=300))
    party_id = fields.UUID(required=True, metadata={"description": "The customer."})
    channel = fields.String(load_default="api", validate=validate.OneOf(CHANNELS))
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))


class TicketUpdateSchema(_TicketFields):
    """Fields to change; absent fields stay as they are. Status changes go through POST /status."""


class TicketSlaSchema(Schema):
    policy_id = fields.UUID(allow_none=True)
    reason = fields.String(allow_none=True, metadata={"description": "Why this policy applies."})
    set_by_hand = fields.Boolean()
    first_response_due_at = fields.DateTime(allow_none=True)
    next_response_due_at = fields.DateTime(allow_none=True)
    resolution_due_at = fields.DateTime(allow_none=True, metadata={"description": "null while paused or stopped"})
    paused_seconds = fields.Integer()
    breached_at = fields.DateTime(allow_none=True, metadata={"description": "When a target was first missed."})


class TicketClaimSummarySchema(Schema):
    id = fields.UUID()
    revision = fields.Integer()
    status = fields.String(metadata={"description": "submitted, accepted or rejected (by the ERP)"})
    status_reason = fields.String(allow_none=True)
    entitlement_id = fields.UUID()
    labour_cost = fields.Decimal(as_string=True)
    erp_number = fields.String(allow_none=True)
    erp_total_cost = fields.Decimal(as_string=True, allow_none=True)
    currency = fields.String()


class TicketSchema(_TicketFields):
    id = fields.UUID()
    warranty_claim = fields.Nested(TicketClaimSummarySchema, allow_none=True, metadata={
        "description": "The warranty claim the ticket was resolved with (GET /tickets/{id} only)."})
    number = fields.String(metadata={"description": "T-YYYY-NNNNN, without gaps."})
    party_id = fields.UUID(allow_none=True, metadata={
        "description": "The customer; null for a ticket received by mail from an address no party has."})
    requester_email = fields.String(allow_none=True, metadata={"description": "Who wrote in (tickets by mail)."})
    follow_up_of_id = fields.UUID(allow_none=True, metadata={
        "description": "The closed ticket a later mail of the same thread follows up."})
    status = fields.String()
    created_by = fields.UUID(allow_none=True)
    merged_into_id = fields.UUID(allow_none=True)
    sla = fields.Nested(TicketSlaSchema)
    first_responded_at = fields.DateTime(allow_none=True)
    resolved_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


QUEUES = ("mine", "team", "unassigned", "breaching_soon", "breached")


class TicketListArgs(PageArgs):
    queue = fields.String(validate=validate.OneOf(QUEUES), metadata={
        "description": "Open tickets: mine, team (my teams'), unassigned, breaching_soon (resolution due within "
                       "`within` minutes), breached."})
    within = fields.Integer(load_default=60, validate=validate.Range(min=1, max=60 * 24 * 30))
    status = DelimitedList(fields.String(validate=validate.OneOf((*STATUSES, "open_any"))), metadata={
        "description": "Comma-separated statuses; open_any = new, open, pending and on_hold."})
    priority = DelimitedList(fields.String(validate=validate.OneOf(PRIORITIES)))
    channel = DelimitedList(fields.String(validate=validate.OneOf(CHANNELS)))
    category = fields.String(validate=validate.Length(max=100))
    party_id = fields.UUID()
    assignee_id = fields.UUID()
    team_id = fields.UUID()
    product_id = fields.UUID()
    q = fields.String(validate=validate.Length(max=200), metadata={"description": "Search in subject and number."})


TicketPageSchema = page_schema(TicketSchema, "TicketPage")


class TicketStatusSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(STATUSES))


class TicketMergeSchema(Schema):
    into_id = fields.UUID(required=True, metadata={"description": "The ticket that stays (same customer)."})


class MessageCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("reply", "note")), metadata={
        "description": "reply: public, part of the conversation with the customer; note: internal, agents only."})
    author_type = fields.String(load_default="agent", validate=validate.OneOf(("agent", "customer")), metadata={
        "description": "customer: a reply the customer gave (e.g. on the phone), logged by the agent."})
    body = fields.String(required=True, validate=validate.Length(min=1, max=100_000))


class MessageSchema(Schema):
    id = fields.UUID()
    ticket_id = fields.UUID()
    kind = fields.String()
    author_type = fields.String()
    author_id = fields.UUID(allow_none=True)
    body = fields.String()
    created_at = fields.DateTime()


class FactSchema(Schema):
    occurred_at = fields.DateTime()
    kind = fields.String(metadata={"description": "created, status, changed, policy, assigned, agent_reply, "
                                                  "customer_reply, note, attachment, merged, merged_in, edited, "
                                                  "escalated"})
    data = fields.Dict()
    actor_id = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)


class AttachmentFormSchema(Schema):
    """The multipart form: the file itself is the field `file`."""


class AttachmentSchema(Schema):
    id = fields.UUID()
    ticket_id = fields.UUID()
    sha256 = fields.String()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()
    created_by = fields.UUID(allow_none=True)
    created_at = fields.DateTime()


class SlaAsOfArgs(Schema):
    as_of = fields.AwareDateTime(required=True, metadata={"description": "The moment to recompute the clock at."})


class SlaAsOfSchema(Schema):
    as_of = fields.DateTime()
    policy_id = fields.UUID(allow_none=True)
    reason = fields.String()
    running = fields.Boolean()
    first_response_due_at = fields.DateTime(allow_none=True)
    next_response_due_at = fields.DateTime(allow_none=True)
    resolution_due_at = fields.DateTime(allow_none=True)
    paused_seconds = fields.Integer()
    breached_at = fields.DateTime(allow_none=True)
    consumed_seconds = fields.Dict(keys=fields.String(), values=fields.Integer())


def _window(value):
    if not isinstance(value, list | tuple) or len(value) != 2 or not all(
            isinstance(v, str) and _HHMM.match(v) for v in value):
        raise ValidationError('a window is ["HH:MM", "HH:MM"]')


class _CalendarFields(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    zone = fields.String(validate=validate.Length(min=1, max=60),
                         metadata={"description": "IANA time zone, e.g. Europe/Paris."})
    windows = fields.Dict(keys=fields.String(validate=validate.OneOf(WEEKDAYS)),
                          values=fields.List(fields.Raw(validate=_window), validate=validate.Length(max=12)),
                          metadata={"description": 'Working windows per weekday: {"mon": [["09:00", "12:00"], '
                                                   '["13:00", "17:00"]], ...}; a missing day is closed.'})
    holiday_country = fields.String(allow_none=True, validate=validate.Length(min=2, max=10), metadata={
        "description": "Close on this country's public holidays (ISO code, e.g. FR)."})
    holiday_subdivision = fields.String(allow_none=True, validate=validate.Length(min=1, max=10))
    closed_days = fields.List(fields.Date(), validate=validate.Length(max=1000))
    half_days = fields.Dict(keys=fields.Date(), values=fields.String(validate=validate.Regexp(_HHMM)), metadata={
        "description": 'Days when work stops early: {"2026-12-24": "12:00"}.'})

    @validates_schema
    def subdivision_needs_country(self, data, **_):
        if data.get("holiday_subdivision") and not data.get("holiday_country"):
            raise ValidationError("give holiday_country with a subdivision", "holiday_subdivision")


class CalendarCreateSchema(_CalendarFields):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    zone = fields.String(required=True, validate=validate.Length(min=1, max=60))
    windows = fields.Dict(required=True, keys=fields.String(validate=validate.OneOf(WEEKDAYS)),
                          values=fields.List(fields.Raw(validate=_window), validate=validate.Length(max=12)))


class CalendarUpdateSchema(_CalendarFields):
    pass


class CalendarSchema(_CalendarFields):
    id = fields.UUID()
    closed_days = fields.List(fields.String())
    half_days = fields.Dict(keys=fields.String(), values=fields.String())
    version = fields.Integer()
    created_at = fields.DateTime()


_MINUTES = dict(allow_none=True, validate=validate.Range(min=1, max=60 * 24 * 365))


class _PolicyFields(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    position = fields.Integer(validate=validate.Range(min=0, max=10_000), metadata={
        "description": "Policies are tried in this order; the first that matches applies."})
    active = fields.Boolean()
    priorities = fields.List(fields.String(validate=validate.OneOf(PRIORITIES)), validate=validate.Length(max=10))
    categories = fields.List(fields.String(validate=validate.Length(min=1, max=100)), validate=validate.Length(max=100))
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), validate=validate.Length(max=10))
    segments = fields.List(fields.String(validate=validate.Length(min=1, max=20)), validate=validate.Length(max=20),
                           metadata={"description": "Customer groups: the party's roles (customer, partner...)."})
    calendar_id = fields.UUID()
    first_response_minutes = fields.Integer(**_MINUTES, metadata={"description": "Working minutes."})
    next_response_minutes = fields.Integer(**_MINUTES)
    resolution_minutes = fields.Integer(**_MINUTES)
    pause_statuses = fields.List(fields.String(validate=validate.OneOf(("new", "open", "pending", "on_hold"))),
                                 validate=validate.Length(max=4))


class PolicyCreateSchema(_PolicyFields):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    position = fields.Integer(required=True, validate=validate.Range(min=0, max=10_000))
    calendar_id = fields.UUID(required=True)


class PolicyUpdateSchema(_PolicyFields):
    pass


class PolicySchema(_PolicyFields):
    id = fields.UUID()
    version = fields.Integer()
    created_at = fields.DateTime()


class SlaReportArgs(Schema):
    group_by = fields.String(load_default="priority", validate=validate.OneOf(("team", "priority", "category",
                                                                                "month")))
    since = fields.AwareDateTime(metadata={"description": "Tickets opened from this moment."})
    until = fields.AwareDateTime(metadata={"description": "Tickets opened before this moment."})


class SlaReportRowSchema(Schema):
    group_by = fields.String()
    key = fields.String()
    measured = fields.Integer()
    met = fields.Integer()
    breached = fields.Integer()
    met_percent = fields.Float(allow_none=True)


class CoverageArgs(Schema):
    on = fields.Date(metadata={"description": "The day to check (default today)."})


class CoveredEntitlementSchema(Schema):
    entitlement_id = fields.UUID()
    invoice_number = fields.String()
    start_date = fields.Date()
    end_date = fields.Date()
    covers_parts = fields.Boolean()
    covers_labour = fields.Boolean()
    serial_number = fields.String(allow_none=True)
    quantity = fields.Decimal(as_string=True)
    status = fields.String()


class CoverageSchema(Schema):
    state = fields.String(metadata={"description": "covered, expired or not_found"})
    on = fields.Date()
    reason = fields.String()
    entitlement = fields.Nested(CoveredEntitlementSchema, allow_none=True)
