"""What the newsletter endpoints accept and return."""

from datetime import UTC, datetime

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from .schemas import _CampaignFields

_RRULE = fields.String(validate=validate.Length(min=1, max=500), metadata={
    "description": "An RFC 5545 RRULE without DTSTART, at most daily, e.g. FREQ=WEEKLY;BYDAY=MO or "
                   "FREQ=MONTHLY;BYMONTHDAY=1;COUNT=12. Occurrences keep the wall-clock time of first_issue_at "
                   "in `timezone`."})
_TIMEZONE = fields.String(validate=validate.Length(min=1, max=64), metadata={
    "description": "A tz database name, e.g. Europe/Paris."})
_FIRST = fields.AwareDateTime(metadata={"description": "The first occurrence (its local time is every issue's)."})
_YEARS = validate.Range(min=datetime(2000, 1, 1, tzinfo=UTC), max=datetime(2200, 1, 1, tzinfo=UTC),
                        error="between the years 2000 and 2200")


class NewsletterCreateSchema(_CampaignFields):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=500))
    html_body = fields.String(required=True, validate=validate.Length(min=1, max=500_000))
    require_consent = fields.Boolean(load_default=False)
    tracking = fields.Boolean(load_default=True)
    rrule = fields.String(required=True, validate=validate.Length(min=1, max=500), metadata=_RRULE.metadata)
    timezone = fields.String(required=True, validate=validate.Length(min=1, max=64), metadata=_TIMEZONE.metadata)
    first_issue_at = fields.AwareDateTime(required=True, validate=_YEARS, metadata=_FIRST.metadata)

    @validates_schema
    def one_audience(self, data, **kwargs):
        if bool(data.get("segment_id")) == bool(data.get("list_id")):
            raise ValidationError("send to one segment or one list", "segment_id")


class NewsletterUpdateSchema(_CampaignFields):
    name = fields.String(validate=validate.Length(min=1, max=120))
    rrule = fields.String(validate=validate.Length(min=1, max=500), metadata=_RRULE.metadata)
    timezone = fields.String(validate=validate.Length(min=1, max=64), metadata=_TIMEZONE.metadata)
    first_issue_at = fields.AwareDateTime(validate=_YEARS, metadata=_FIRST.metadata)


class NewsletterSchema(_CampaignFields):
    id = fields.UUID()
    name = fields.String()
    rrule = fields.String()
    timezone = fields.String()
    first_issue_at = fields.DateTime()
    next_issue_at = fields.DateTime(allow_none=True, metadata={
        "description": "When the worker makes the next issue (None: the rule has ended)."})
    upcoming = fields.List(fields.DateTime(), metadata={"description": "The next occurrences (when active)."})
    status = fields.String(metadata={"description": "active, paused or ended."})
    owner_id = fields.UUID(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class IssueFiguresSchema(Schema):
    campaign_id = fields.UUID()
    name = fields.String()
    issue_at = fields.DateTime()
    status = fields.String()
    recipients = fields.Integer()
    sent = fields.Integer()
    failed = fields.Integer()
    bounced = fields.Integer()
    opened = fields.Integer(metadata={"description": "Unique opens."})
    clicked = fields.Integer(metadata={"description": "Unique clickers."})
    unsubscribed = fields.Integer()
    complained = fields.Integer()


class SeriesFiguresSchema(Schema):
    recipients = fields.Integer()
    sent = fields.Integer()
    failed = fields.Integer()
    bounced = fields.Integer()
    opened = fields.Integer()
    clicked = fields.Integer()
    unsubscribed = fields.Integer()
    complained = fields.Integer()
    open_rate = fields.Float(allow_none=True, metadata={"description": "Unique opens per message sent."})
    click_rate = fields.Float(allow_none=True, metadata={"description": "Unique clickers per message sent."})


class NewsletterStatisticsSchema(Schema):
    newsletter_id = fields.UUID()
    issues = fields.Integer()
    per_issue = fields.List(fields.Nested(IssueFiguresSchema))
    totals = fields.Nested(SeriesFiguresSchema)
