"""What the quotes API accepts (strict: unknown fields are refused) and returns. Decimals travel as strings."""

from decimal import Decimal, InvalidOperation

from marshmallow import Schema, ValidationError, fields, validate
from servicekit.pagination import PageArgs, page_schema

from .models import STATUSES

CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="an ISO 4217 code in capitals, e.g. EUR")


class _Places:
    """At most `places` digits after the point: a value is refused rather than silently rounded."""

    def __init__(self, places: int):
        self.places = places

    def __call__(self, value: Decimal) -> None:
        if value.as_tuple().exponent >= -self.places:
            return
        try:
            exact = value == value.quantize(Decimal(1).scaleb(-self.places))
        except InvalidOperation:  # too many digits for any quote: the range check names the problem
            return
        if not exact:
            raise ValidationError(f"at most {self.places} decimal places")


def Dec(places: int, minimum, maximum, min_inclusive=True, max_inclusive=True,  # noqa: N802 - reads like a field
        **kwargs):
    """A decimal from a JSON string or number (never through float arithmetic); a string on the way out."""
    return fields.Decimal(as_string=True, allow_nan=False, validate=[
        validate.Range(min=Decimal(minimum), max=Decimal(maximum), min_inclusive=min_inclusive,
                       max_inclusive=max_inclusive), _Places(places)], **kwargs)


def _out():
    return fields.Decimal(as_string=True)


class QuoteLineInputSchema(Schema):
    product_id = fields.UUID(required=True, metadata={"description": "An active product of the catalog."})
    quantity = Dec(4, 0, "99999999999999", min_inclusive=False, required=True,
                   metadata={"description": "Greater than 0, at most 4 decimals."})
    unit_price = Dec(4, 0, "99999999999999", allow_none=True, metadata={
        "description": "The agreed unit price. Default (or null): the price the catalog's price lists give for "
                       "the customer and quantity; the list price is kept beside it either way."})
    discount_percent = Dec(2, 0, 100, load_default=Decimal("0"), metadata={"description": "0-100."})
    tax_rate = Dec(4, 0, 1, max_inclusive=False, allow_none=True, metadata={
        "description": "A fraction below 1 (0.2 = 20 %). Default (or null): the product's."})
    description = fields.String(allow_none=True, validate=validate.Length(max=2000), metadata={
        "description": "Printed under the product name. Default: the product's description."})


class QuoteLineUpdateSchema(Schema):
    """Fields to change on a draft's line; a changed quantity re-prices a line whose price was not overridden."""

    quantity = Dec(4, 0, "99999999999999", min_inclusive=False)
    unit_price = Dec(4, 0, "99999999999999", allow_none=True, metadata={
        "description": "null: back to the list price."})
    discount_percent = Dec(2, 0, 100)
    tax_rate = Dec(4, 0, 1, max_inclusive=False, allow_none=True,
                   metadata={"description": "A fraction below 1; null: back to the product's."})
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))


class _HeaderFields(Schema):
    contact_person_id = fields.UUID(allow_none=True, metadata={
        "description": "A person the quote is addressed to (default: the deal's contact); their primary email "
                       "receives it."})
    valid_until = fields.Date(metadata={"description": "Default: 30 days from today."})
    requested_date = fields.Date(allow_none=True, metadata={"description": "Requested delivery date."})
    customer_reference = fields.String(allow_none=True, validate=validate.Length(max=100),
                                       metadata={"description": "The customer's own reference (e.g. their PO)."})
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))
    terms = fields.String(allow_none=True, validate=validate.Length(max=10000))


class QuoteCreateSchema(_HeaderFields):
    deal_id = fields.UUID(required=True, metadata={"description": "The open deal the quote is for."})
    party_id = fields.UUID(metadata={"description": "The customer: the deal's party (the default)."})
    currency = fields.String(validate=CURRENCY, metadata={"description": "Default: the deal's currency."})
    lines = fields.List(fields.Nested(QuoteLineInputSchema), validate=validate.Length(max=500), load_default=list)


class QuoteUpdateSchema(_HeaderFields):
    """Header fields of a draft; `lines`, when present, replace every line."""

    currency = fields.String(validate=CURRENCY)
    lines = fields.List(fields.Nested(QuoteLineInputSchema), validate=validate.Length(max=500))


class QuoteSendSchema(Schema):
    to = fields.Email(metadata={"description": "Default: the contact person's primary email, else the customer's."})
    message = fields.String(validate=validate.Length(max=5000), metadata={"description": "The email's text."})


class QuoteRejectSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class QuoteAcceptSchema(Schema):
    customer_reference = fields.String(allow_none=True, validate=validate.Length(max=100), metadata={
        "description": "The customer's purchase order number, if it came with the acceptance."})


class QuoteLineAvailabilitySchema(Schema):
    available = _out()
    sufficient = fields.Boolean(metadata={"description": "Is the quoted quantity available now?"})
    as_of = fields.DateTime(allow_none=True)


class QuoteLineSchema(Schema):
    id = fields.UUID()
    line_no = fields.Integer()
    product_id = fields.UUID()
    sku = fields.String()
    name = fields.String()
    description = fields.String(allow_none=True)
    uom = fields.String()
    kind = fields.String()
    quantity = _out()
    list_price = _out()
    price_source = fields.String(metadata={"description": "customer, group, general, base (price lists) or the "
                                                          "rule the list price came from."})
    price_list_id = fields.UUID(allow_none=True)
    unit_price = _out()
    price_overridden = fields.Boolean()
    discount_percent = _out()
    tax_rate = _out()
    net_amount = _out()
    tax_amount = _out()
    gross_amount = _out()
    availability = fields.Nested(QuoteLineAvailabilitySchema, allow_none=True, metadata={
        "description": "Stock now, from the ERP's replicated availability (stockable products only)."})


class QuoteMailSchema(Schema):
    status = fields.String(metadata={"description": "queued (waiting for the worker or a retry), sent (the mail "
                                                    "server took it), failed (refused: see last_error)"})
    attempts = fields.Integer()
    last_error = fields.String(allow_none=True, metadata={"description": "The mail server's last answer, if not 250"})
    queued_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    recipients = fields.List(fields.String())


class QuoteSchema(Schema):
    id = fields.UUID()
    number = fields.String()
    quote_version = fields.Integer(metadata={"description": "1, 2, ...: every revision is a new version."})
    previous_id = fields.UUID(allow_none=True, metadata={"description": "The version this one revises."})
    status = fields.String(metadata={"description": "draft, sent, accepted, rejected, expired (sent and past "
                                                    "valid_until) or superseded (revised)."})
    deal_id = fields.UUID()
    party_id = fields.UUID()
    party_name = fields.String()
    contact_person_id = fields.UUID(allow_none=True)
    currency = fields.String()
    valid_until = fields.Date()
    requested_date = fields.Date(allow_none=True)
    customer_reference = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    terms = fields.String(allow_none=True)
    owner_id = fields.UUID(allow_none=True)
    net_total = _out()
    tax_total = _out()
    gross_total = _out()
    lines = fields.List(fields.Nested(QuoteLineSchema))
    warnings = fields.List(fields.String(), metadata={
        "description": "Stock shortages, and the customer's credit position from the ERP (overdue amounts, a credit "
                       "limit this quote would pass): they do not block anything."})
    sent_at = fields.DateTime(allow_none=True)
    sent_to = fields.String(allow_none=True)
    mail = fields.Nested(QuoteMailSchema, allow_none=True, metadata={
        "description": "The quote's latest email, sent by the worker after the commit: null before any send."})
    accepted_at = fields.DateTime(allow_none=True)
    order_id = fields.UUID(allow_none=True, metadata={"description": "The order placed with the ERP on acceptance."})
    rejected_at = fields.DateTime(allow_none=True)
    reject_reason = fields.String(allow_none=True)
    superseded_at = fields.DateTime(allow_none=True)
    version = fields.Integer(metadata={"description": "The record's version: its ETag, for If-Match."})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class QuoteSummarySchema(Schema):
    id = fields.UUID()
    number = fields.String()
    quote_version = fields.Integer()
    status = fields.String()
    deal_id = fields.UUID()
    party_id = fields.UUID()
    party_name = fields.String()
    currency = fields.String()
    valid_until = fields.Date()
    owner_id = fields.UUID(allow_none=True)
    net_total = _out()
    tax_total = _out()
    gross_total = _out()
    order_id = fields.UUID(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class QuoteListArgs(PageArgs):
    q = fields.String(metadata={"description": "Part of the quote number (case-insensitive)."})
    deal_id = fields.UUID()
    party_id = fields.UUID()
    owner_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(STATUSES))
    latest_only = fields.Boolean(load_default=False, metadata={"description": "Only the newest version of each "
                                                                              "quote."})


QuotePageSchema = page_schema(QuoteSummarySchema, "QuotePage")
