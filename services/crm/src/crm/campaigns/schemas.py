"""What the campaign audience, consent and subscription endpoints accept and return."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from servicekit import validators
from servicekit.pagination import PageArgs, page_schema

from ..leads.models import SOURCES, STATUSES
from ..parties.models import KINDS, ROLES
from .audiences import LEAD_FILTERS, PARTY_FILTERS
from .models import SUPPRESSION_REASONS

EMAIL = fields.Email(required=True, validate=validate.Length(max=254))


class SegmentFilterSchema(Schema):
    """Every condition is optional and they all must hold; an unknown key is refused (422 naming it)."""

    kinds = fields.List(fields.String(validate=validate.OneOf(KINDS)), validate=validate.Length(max=2))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), validate=validate.Length(max=4),
                        metadata={"description": "Parties holding any of these roles."})
    countries = fields.List(fields.String(validate=validators.country), validate=validate.Length(max=300),
                            metadata={"description": "Billing country (ISO 3166-1 alpha-2)."})
    owner_ids = fields.List(fields.UUID(), validate=validate.Length(max=200))
    created_after = fields.AwareDateTime()
    created_before = fields.AwareDateTime()
    active_after = fields.AwareDateTime(metadata={"description": "Last activity logged at or after."})
    active_before = fields.AwareDateTime(metadata={"description": "No activity logged since (or never)."})
    has_open_deal = fields.Boolean()
    has_overdue_invoice = fields.Boolean(metadata={"description": "From the ERP's billing replica."})
    bought_product_id = fields.UUID(metadata={"description": "Ordered this product (ERP orders replica)."})
    lead_source = fields.String(validate=validate.OneOf(SOURCES))
    lead_campaign = fields.String(validate=validate.Length(min=1, max=150))
    statuses = fields.List(fields.String(validate=validate.OneOf(STATUSES)), validate=validate.Length(max=5),
                           metadata={"description": "Leads only."})


def _check_subject(data: dict) -> None:
    allowed = PARTY_FILTERS if data.get("subject", "parties") == "parties" else LEAD_FILTERS
    wrong = sorted(set(data.get("filter") or {}) - set(allowed))
    if wrong:
        raise ValidationError({"filter": {k: [f"not a filter of {data.get('subject', 'parties')}"] for k in wrong}})


class SegmentCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=150))
    subject = fields.String(load_default="parties", validate=validate.OneOf(("parties", "leads")))
    filter = fields.Nested(SegmentFilterSchema, load_default=dict)

    @validates_schema
    def fits_subject(self, data, **kwargs):
        _check_subject(data)


class SegmentFilterPreviewSchema(Schema):
    subject = fields.String(load_default="parties", validate=validate.OneOf(("parties", "leads")))
    filter = fields.Nested(SegmentFilterSchema, load_default=dict)

    @validates_schema
    def fits_subject(self, data, **kwargs):
        _check_subject(data)


class SegmentUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=150))
    filter = fields.Nested(SegmentFilterSchema)


class SegmentSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    subject = fields.String()
    filter = fields.Dict()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class RecipientSchema(Schema):
    email = fields.String()
    name = fields.String(allow_none=True)
    party_id = fields.UUID(allow_none=True)
    lead_id = fields.UUID(allow_none=True)


class AudiencePreviewSchema(Schema):
    count = fields.Integer(metadata={"description": "Addresses reached now (suppressed ones left out)."})
    sample = fields.List(fields.Nested(RecipientSchema))
    evaluated_at = fields.DateTime()


class MailingListCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=150))
    description = fields.String(allow_none=True, validate=validate.Length(max=1000))


class MailingListSchema(MailingListCreateSchema):
    id = fields.UUID()
    members = fields.Integer()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ListImportSchema(Schema):
    csv = fields.String(required=True, validate=validate.Length(min=6, max=900_000), metadata={
        "description": "CSV text; the first line names the columns: `email` (required) and `name`."})
    source = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "Where these addresses come from (recorded on each member and consent)."})
    already_confirmed = fields.Boolean(load_default=False, metadata={
        "description": "The subscribers confirmed elsewhere: record their consent as given (method import)."})


class ListImportResultSchema(Schema):
    rows = fields.Integer()
    added = fields.Integer()
    already_members = fields.Integer()
    confirmed = fields.Integer(metadata={"description": "Addresses whose consent this import recorded."})
    suppressed = fields.Integer(metadata={"description": "Members that campaigns will skip (suppressed)."})


class ListMemberSchema(Schema):
    email = fields.String()
    name = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    added_at = fields.DateTime()
    consent = fields.String()
    suppressed_reason = fields.String(allow_none=True)
    unsubscribed_at = fields.DateTime(allow_none=True, metadata={
        "description": "When the address left this list only (the list's campaigns skip it)."})


ListMemberPageSchema = page_schema(ListMemberSchema, "ListMemberPage")


class ConsentChangeSchema(Schema):
    change = fields.String()
    method = fields.String(allow_none=True)
    source = fields.String(allow_none=True)
    ip = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    at = fields.DateTime()


class EmailAddressSchema(Schema):
    email = fields.String()
    consent = fields.String(metadata={"description": "none, pending, subscribed or unsubscribed."})
    consent_at = fields.DateTime(allow_none=True)
    consent_method = fields.String(allow_none=True)
    consent_source = fields.String(allow_none=True)
    consent_ip = fields.String(allow_none=True)
    suppressed_reason = fields.String(allow_none=True)
    suppressed_at = fields.DateTime(allow_none=True)
    suppressed_note = fields.String(allow_none=True)
    version = fields.Integer()
    history = fields.List(fields.Nested(ConsentChangeSchema))


class ConsentSetSchema(Schema):
    email = EMAIL
    consent = fields.String(required=True, validate=validate.OneOf(("subscribed", "unsubscribed")))
    source = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={
        "description": "How it was given or withdrawn (a signed paper form, a call...)."})


class EmailArgs(Schema):
    email = EMAIL


class SuppressionCreateSchema(Schema):
    email = EMAIL
    note = fields.String(allow_none=True, validate=validate.Length(max=500))


class SuppressionListArgs(PageArgs):
    reason = fields.String(validate=validate.OneOf(SUPPRESSION_REASONS))


SuppressionPageSchema = page_schema(EmailAddressSchema, "SuppressionPage")


class SubscriptionFormCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=150))
    list_id = fields.UUID(required=True)
    active = fields.Boolean(load_default=True)


class SubscriptionFormUpdateSchema(Schema):
    active = fields.Boolean()
    rotate_key = fields.Boolean(metadata={"description": "A new public key; pending confirmations are revoked."})


class SubscriptionFormSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    form_key = fields.String()
    subscribe_url = fields.String(metadata={"description": "The absolute URL a website posts the address to."})
    list_id = fields.UUID()
    active = fields.Boolean()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class PublicSubscribeSchema(Schema):
    email = EMAIL


class PublicAnswerSchema(Schema):
    status = fields.String()


class ConfirmationSchema(Schema):
    email = fields.String()
    list = fields.String()
    confirmed = fields.Boolean()


# -- campaigns ---------------------------------------------------------------------------------------------------

class _CampaignFields(Schema):
    subject = fields.String(validate=validate.Length(min=1, max=500), metadata={
        "description": "A Jinja2 template; merge fields: recipient.(email, name, first_name, last_name), "
                       "company.name, owner.(name, email), campaign.name, unsubscribe_url."})
    html_body = fields.String(validate=validate.Length(min=1, max=500_000), metadata={
        "description": "A sandboxed Jinja2 template (values are HTML-escaped); CSS in <style> is inlined."})
    text_body = fields.String(allow_none=True, validate=validate.Length(max=200_000), metadata={
        "description": "The plain-text alternative; generated from the HTML when left out."})
    from_name = fields.String(allow_none=True, validate=validate.Length(max=150))
    reply_to = fields.Email(allow_none=True, validate=validate.Length(max=254))
    segment_id = fields.UUID(allow_none=True)
    list_id = fields.UUID(allow_none=True)
    require_consent = fields.Boolean(metadata={
        "description": "Only addresses that opted in (consent subscribed); suppressed ones are always left out."})
    tracking = fields.Boolean(metadata={"description": "Open pixel and click redirects (default true)."})
    rate_per_second = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=10_000))


class CampaignCreateSchema(_CampaignFields):
    name = fields.String(required=True, validate=validate.Length(min=1, max=150))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=500))
    html_body = fields.String(required=True, validate=validate.Length(min=1, max=500_000))
    require_consent = fields.Boolean(load_default=False)
    tracking = fields.Boolean(load_default=True)

    @validates_schema
    def one_audience(self, data, **kwargs):
        if bool(data.get("segment_id")) == bool(data.get("list_id")):
            raise ValidationError("send to one segment or one list", "segment_id")


class CampaignUpdateSchema(_CampaignFields):
    name = fields.String(validate=validate.Length(min=1, max=150))


class AttachmentInfoSchema(Schema):
    id = fields.UUID()
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()


class CampaignSchema(_CampaignFields):
    id = fields.UUID()
    name = fields.String()
    status = fields.String(metadata={"description": "draft, scheduled, sending, paused, cancelled or sent."})
    scheduled_at = fields.DateTime(allow_none=True)
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    owner_id = fields.UUID(allow_none=True)
    newsletter_id = fields.UUID(allow_none=True, metadata={"description": "The newsletter this is an issue of."})
    issue_at = fields.DateTime(allow_none=True, metadata={"description": "The newsletter's occurrence it is for."})
    attachments = fields.List(fields.Nested(AttachmentInfoSchema))
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ResendResultSchema(CampaignSchema):
    added = fields.Integer(metadata={"description": "Addresses that joined the audience since, now queued."})
    retried = fields.Integer(metadata={"description": "Failed recipients queued again."})


class AttachmentCreateSchema(Schema):
    filename = fields.String(required=True, validate=[validate.Length(min=1, max=200),
                                                      validate.Regexp(r"^[^/\\\x00-\x1f]+$",
                                                                      error="a file name without a path")])
    content_type = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z]+/[a-z0-9.+-]+$", error="a MIME type such as application/pdf"))
    content_base64 = fields.String(required=True, validate=validate.Length(min=1, max=800_000), metadata={
        "description": "The file, base64; at most 512 KiB once decoded."})


class PreviewArgs(Schema):
    email = fields.Email(validate=validate.Length(max=254), metadata={
        "description": "Render for the party or lead with this address (default: sample values)."})


class PreviewSchema(Schema):
    subject = fields.String()
    html = fields.String()
    text = fields.String()


class TestSendSchema(Schema):
    to = EMAIL


class TestSendResultSchema(Schema):
    status = fields.String()
    to = fields.String()


class ScheduleSchema(Schema):
    at = fields.AwareDateTime(metadata={"description": "When to start (default: now)."})


class ResendSchema(Schema):
    failed = fields.Boolean(load_default=True, metadata={"description": "Also retry those whose sending failed."})


class LinkClicksSchema(Schema):
    url = fields.String()
    clicks = fields.Integer()
    unique_clicks = fields.Integer()


class CampaignStatisticsSchema(Schema):
    campaign_id = fields.UUID()
    status = fields.String()
    recipients = fields.Integer()
    queued = fields.Integer()
    sent = fields.Integer()
    failed = fields.Integer()
    skipped = fields.Integer(metadata={"description": "Suppressed after the audience was taken."})
    bounced_hard = fields.Integer()
    bounced_soft = fields.Integer()
    opened = fields.Integer(metadata={"description": "Unique opens (recipients)."})
    opens = fields.Integer()
    clicked = fields.Integer(metadata={"description": "Unique clickers (recipients)."})
    unsubscribed = fields.Integer(metadata={"description": "Recipients who unsubscribed, from the list or all."})
    unsubscribed_from_list = fields.Integer(metadata={"description": "Of those, the ones who left the list only."})
    complained = fields.Integer()
    links = fields.List(fields.Nested(LinkClicksSchema))
    leads = fields.Integer(metadata={"description": "Leads whose campaign is this campaign's name."})
    won_deals = fields.Integer(metadata={"description": "Won deals converted from those leads."})


class CampaignRecipientSchema(Schema):
    id = fields.Integer()
    email = fields.String()
    name = fields.String(allow_none=True)
    party_id = fields.UUID(allow_none=True)
    lead_id = fields.UUID(allow_none=True)
    status = fields.String()
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True)
    message_id = fields.String(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)
    opened_at = fields.DateTime(allow_none=True)
    clicked_at = fields.DateTime(allow_none=True)
    unsubscribed_at = fields.DateTime(allow_none=True)
    unsubscribe_scope = fields.String(allow_none=True, metadata={"description": "list (that list only) or all."})
    bounce = fields.String(allow_none=True)


class RecipientListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(("queued", "sent", "failed", "skipped")))


CampaignRecipientPageSchema = page_schema(CampaignRecipientSchema, "CampaignRecipientPage")


class UnsubscribeFactsSchema(Schema):
    email = fields.String()
    campaign = fields.String()
    list = fields.String(allow_none=True, metadata={"description": "The list the campaign went to (None: a segment)."})
    scope = fields.String(metadata={"description": "What this link's POST leaves: list (that list only) or all."})
    unsubscribed = fields.Boolean(metadata={"description": "Whether this link's POST has been done already."})
    unsubscribed_from = fields.String(allow_none=True, metadata={"description": "list, all, or None."})
