"""What the lead, lead-form and public capture endpoints accept and return."""

import ipaddress
import re
from urllib.parse import urlsplit

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema
from servicekit.pagination import PageArgs, page_schema

from ..deals.schemas import CURRENCY, Money
from .models import SOURCES, STATUSES

PHONE = [validate.Length(min=3, max=40),
         validate.Regexp(r"^\+?[0-9 ().\-/]+$", error="use digits, spaces and + ( ) . - / only")]
_HOST = re.compile(r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def ORIGIN(value: str) -> None:  # noqa: N802 - used like the marshmallow validators beside it
    """A browser origin: http(s)://host[:port], the host a domain name (IDN allowed) or an IP address."""
    error = ValidationError("an origin like https://www.example.com (no path)")
    try:
        parts = urlsplit(value)
        port = parts.port
        host = parts.hostname or ""
    except ValueError:
        raise error from None
    if parts.scheme not in ("http", "https") or parts.path not in ("", "/") or parts.query or parts.fragment \
            or parts.username or parts.password or port == 0:
        raise error
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise error from None
    if not _HOST.match(ascii_host):
        raise error


def _text(size: int, **kwargs):
    return fields.String(allow_none=True, validate=validate.Length(max=size), **kwargs)


class _ContactFields(Schema):
    first_name = _text(150)
    last_name = _text(150)
    company_name = _text(300)
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=PHONE)
    job_title = _text(150)
    message = _text(5000)
    utm_source = _text(200)
    utm_medium = _text(200)
    utm_campaign = _text(200)
    utm_term = _text(200)
    utm_content = _text(200)


class _LeadFields(_ContactFields):
    source = fields.String(validate=validate.OneOf(SOURCES))
    campaign = _text(150)
    score = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=100))


class LeadCreateSchema(_LeadFields):
    source = fields.String(load_default="manual", validate=validate.OneOf(SOURCES))
    owner_id = fields.UUID(metadata={"description": "Default: you; someone else needs leads:assign."})

    @validates_schema
    def somebody(self, data, **_):
        if not any((data.get(f) or "").strip() for f in ("first_name", "last_name", "company_name")):
            raise ValidationError("a lead needs a person's name or a company name", "last_name")


class LeadUpdateSchema(_LeadFields):
    """Fields to change; qualify, disqualify and convert have their own endpoints, the owner changes via assign."""

    status = fields.String(validate=validate.OneOf(["new", "contacted"]), metadata={
        "description": "new or contacted; the other statuses come from /qualify, /disqualify and /convert."})


class LeadSchema(_LeadFields):
    id = fields.UUID()
    display_name = fields.String()
    owner_id = fields.UUID(allow_none=True)
    status = fields.String(metadata={"description": ", ".join(STATUSES)})
    disqualify_reason = fields.String(allow_none=True)
    form_id = fields.UUID(allow_none=True)
    submissions = fields.Integer(metadata={"description": "Web form submissions merged into this lead."})
    last_submitted_at = fields.DateTime(allow_none=True)
    qualified_at = fields.DateTime(allow_none=True)
    disqualified_at = fields.DateTime(allow_none=True)
    converted_at = fields.DateTime(allow_none=True)
    converted_party_id = fields.UUID(allow_none=True)
    converted_person_id = fields.UUID(allow_none=True)
    converted_deal_id = fields.UUID(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


LeadPageSchema = page_schema(LeadSchema, "LeadPage")


class LeadListArgs(PageArgs):
    q = fields.String(metadata={"description": "Search in name, company and email (case-insensitive)."})
    status = fields.String(validate=validate.OneOf(STATUSES))
    source = fields.String(validate=validate.OneOf(SOURCES))
    campaign = fields.String()
    owner_id = fields.UUID()
    form_id = fields.UUID()


class LeadDisqualifySchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class LeadDuplicateSchema(Schema):
    record_type = fields.String(metadata={"description": "lead or party"})
    id = fields.UUID()
    kind = fields.String(allow_none=True, metadata={"description": "company or person (parties)"})
    display_name = fields.String()
    company_name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    status = fields.String()
    owner_id = fields.UUID(allow_none=True)
    reasons = fields.List(fields.String(), metadata={"description": "email, phone, name_company, company"})


class LeadConvertDealSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200), metadata={
        "description": "Default: the company's (or person's) name."})
    pipeline_id = fields.UUID(metadata={"description": "Default: the default pipeline."})
    stage_id = fields.UUID()
    amount = Money()
    currency = fields.String(validate=CURRENCY)
    expected_close_date = fields.Date(allow_none=True)


class LeadConvertSchema(Schema):
    party_id = fields.UUID(metadata={"description": "An existing company or person to convert into (see "
                                                    "/duplicates); default: new parties from the lead's data."})
    person_id = fields.UUID(metadata={"description": "An existing person of that company to use as the contact."})
    create_deal = fields.Boolean(load_default=True)
    deal = fields.Nested(LeadConvertDealSchema, load_default=dict)

    @validates_schema
    def person_needs_party(self, data, **_):
        if data.get("person_id") and not data.get("party_id"):
            raise ValidationError("name the person's company in party_id", "person_id")


class LeadConversionSchema(Schema):
    lead = fields.Nested(LeadSchema)
    party_id = fields.UUID(metadata={"description": "The customer: the company, or the person without one."})
    person_id = fields.UUID(allow_none=True)
    deal_id = fields.UUID(allow_none=True)
    created = fields.List(fields.String(), metadata={"description": "What the conversion created: company, "
                                                                    "person, deal."})


# -- lead forms ----------------------------------------------------------------------------------

class _FormFields(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    source = fields.String(validate=validate.OneOf(SOURCES))
    campaign = _text(150)
    owner_id = fields.UUID(metadata={"description": "Who gets the captured leads (default: you)."})
    allowed_origins = fields.List(fields.String(validate=[validate.Length(max=300), ORIGIN]),
                                  validate=validate.Length(max=20), metadata={
                                      "description": "Websites allowed to post (Origin header); empty: any."})
    redirect_url = fields.Url(allow_none=True, schemes={"http", "https"}, validate=validate.Length(max=500),
                              metadata={"description": "Where a visitor's browser goes after posting the HTML form "
                                                       "(303 See Other, with ?status=received, invalid or "
                                                       "rate_limited); without it a form post is answered in JSON."})
    active = fields.Boolean()


class LeadFormCreateSchema(_FormFields):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    source = fields.String(load_default="web_form", validate=validate.OneOf(SOURCES))
    active = fields.Boolean(load_default=True)


class LeadFormUpdateSchema(_FormFields):
    """Fields to change."""


class LeadFormSchema(_FormFields):
    id = fields.UUID()
    form_key = fields.String(metadata={"description": "Public identifier of the form, part of submit_url."})
    submit_url = fields.String(metadata={"description": "The absolute URL the website posts to (JSON or "
                                                        "form-encoded), on CRM_PUBLIC_URL."})
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    key_rotated_at = fields.DateTime(allow_none=True)


class LeadSubmissionSchema(_ContactFields):
    """A website visitor's form. Unknown fields (buttons, consent boxes…) are ignored."""

    class Meta:
        unknown = EXCLUDE

    website_url = fields.String(metadata={"description": "Leave empty: a field hidden from people, which bots "
                                                         "fill in (honeypot)."})

    @validates_schema
    def reachable(self, data, **_):
        if not (data.get("email") or data.get("phone")):
            raise ValidationError("give an email or a phone number", "email")


class LeadSubmissionReceivedSchema(Schema):
    status = fields.String(metadata={"description": "received"})
