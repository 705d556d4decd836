"""What the invoice endpoints accept (strict: unknown fields are refused) and return."""

from marshmallow import Schema, fields, validate
from servicekit.pagination import PageArgs, page_schema

from ..fields import AMOUNT, CURRENCY, discount, price, quantity, tax_rate
from .models import KINDS, REVENUE_KINDS, STATUSES

SERIES = validate.Regexp(r"^[A-Z][A-Z0-9]{0,9}$", error="1 to 10 capital letters or digits, e.g. INV")


class InvoiceLineInSchema(Schema):
    product_id = fields.UUID(allow_none=True, metadata={"description": "Optional: a free line has none."})
    description = fields.String(allow_none=True, validate=validate.Length(max=2000),
                                metadata={"description": "Defaults to the product's name; required without one."})
    quantity = quantity(required=True)
    unit_price = price(allow_none=True, metadata={"description": "Defaults to the customer's price of the product."})
    discount_percent = discount(allow_none=True)
    tax_rate = tax_rate(allow_none=True, metadata={"description": "Defaults to the product's rate (0 without one)."})
    revenue_kind = fields.String(allow_none=True, validate=validate.OneOf(REVENUE_KINDS),
                                 metadata={"description": "Which revenue account: by the product's kind by default."})


class InvoiceCreateSchema(Schema):
    party_id = fields.UUID(required=True, metadata={"description": "The customer (a CRM party)."})
    currency = fields.String(validate=CURRENCY, metadata={"description": "Defaults to the customer's currency."})
    series = fields.String(validate=SERIES, metadata={"description": "Numbering series (default INV)."})
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))
    customer_reference = fields.String(allow_none=True, validate=validate.Length(max=200),
                                       metadata={"description": "The customer's purchase order number, printed on "
                                                                "the invoice."})
    issue = fields.Boolean(load_default=False, metadata={"description": "Issue at once (default: keep a draft)."})
    issue_date = fields.Date(allow_none=True, metadata={"description": "When issuing: defaults to today."})
    lines = fields.List(fields.Nested(InvoiceLineInSchema), required=True, validate=validate.Length(min=1, max=500))


class SalesOrderInvoiceSchema(Schema):
    series = fields.String(validate=SERIES, metadata={"description": "Numbering series (default INV)."})
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))
    customer_reference = fields.String(allow_none=True, validate=validate.Length(max=200),
                                       metadata={"description": "The customer's purchase order number, printed on "
                                                                "the invoice (default: the order's)."})
    issue = fields.Boolean(load_default=True, metadata={"description": "Issue at once (default) or keep a draft."})
    issue_date = fields.Date(allow_none=True)


class InvoiceIssueSchema(Schema):
    issue_date = fields.Date(allow_none=True, metadata={"description": "Defaults to today; not before the last "
                                                                      "document issued in the series."})


class CreditNoteLineInSchema(Schema):
    invoice_line_id = fields.UUID(required=True)
    quantity = quantity(allow_none=True, metadata={"description": "Defaults to all that can still be credited."})


class CreditNoteCreateSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    lines = fields.List(fields.Nested(CreditNoteLineInSchema), validate=validate.Length(min=1, max=500),
                        metadata={"description": "Omit to credit everything not yet credited."})
    series = fields.String(validate=SERIES, metadata={"description": "Numbering series (default CN)."})
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))
    issue_date = fields.Date(allow_none=True)


class InvoiceLineSchema(Schema):
    id = fields.UUID()
    position = fields.Integer()
    product_id = fields.UUID(allow_none=True)
    order_line_id = fields.UUID(allow_none=True)
    credited_line_id = fields.UUID(allow_none=True)
    description = fields.String()
    revenue_kind = fields.String()
    quantity = fields.Decimal(**AMOUNT)
    unit_price = fields.Decimal(**AMOUNT)
    discount_percent = fields.Decimal(**AMOUNT)
    tax_rate = fields.Decimal(**AMOUNT)
    net = fields.Decimal(**AMOUNT)
    tax = fields.Decimal(**AMOUNT)
    gross = fields.Decimal(**AMOUNT)


class InvoiceCreditRefSchema(Schema):
    id = fields.UUID()
    number = fields.String()
    gross_total = fields.Decimal(**AMOUNT)
    issue_date = fields.Date()


class InvoicePaymentRefSchema(Schema):
    payment_id = fields.UUID()
    number = fields.String()
    amount = fields.Decimal(**AMOUNT)
    allocated_on = fields.Date()


class InvoiceSchema(Schema):
    id = fields.UUID()
    kind = fields.String(metadata={"description": " | ".join(KINDS)})
    series = fields.String()
    fiscal_year = fields.Integer(allow_none=True)
    number = fields.String(allow_none=True, metadata={"description": "<series>-<year>-<n>, gapless; none on a "
                                                                     "draft."})
    status = fields.String(metadata={"description": " | ".join(STATUSES)})
    party_id = fields.UUID()
    order_id = fields.UUID(allow_none=True)
    crm_order_id = fields.UUID(allow_none=True)
    deal_id = fields.UUID(allow_none=True)
    credited_invoice_id = fields.UUID(allow_none=True)
    currency = fields.String()
    issue_date = fields.Date(allow_none=True)
    due_date = fields.Date(allow_none=True)
    payment_terms_days = fields.Integer(allow_none=True)
    customer_name = fields.String(allow_none=True, metadata={"description": "As issued (legal snapshot)."})
    customer_legal_name = fields.String(allow_none=True)
    customer_tax_id = fields.String(allow_none=True)
    billing_address = fields.Dict(allow_none=True)
    net_total = fields.Decimal(**AMOUNT)
    tax_total = fields.Decimal(**AMOUNT)
    gross_total = fields.Decimal(**AMOUNT)
    amount_paid = fields.Decimal(**AMOUNT, metadata={"description": "Receipts allocated to it."})
    amount_credited = fields.Decimal(**AMOUNT, metadata={"description": "An invoice: what credit notes took off. A "
                                                                        "credit note: what it took off its invoice."})
    balance_due = fields.Decimal(**AMOUNT, metadata={"description": "Still to pay; negative on a credit note: the "
                                                                    "credit still open."})
    notes = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    customer_reference = fields.String(allow_none=True, metadata={"description": "The customer's PO number."})
    payment_reference = fields.String(allow_none=True, metadata={
        "description": "ISO 11649 creditor reference (RF...) the customer quotes when paying an issued invoice."})
    sent_at = fields.DateTime(allow_none=True, metadata={"description": "When it was last mailed."})
    sent_to = fields.List(fields.String(), allow_none=True)
    times_sent = fields.Integer()
    dunning_level = fields.Integer(metadata={"description": "The last dunning letter it was in: 0 none, 1-3."})
    dunned_at = fields.DateTime(allow_none=True)
    mail = fields.Dict(allow_none=True, metadata={
        "description": "The last mail about it: status (queued, sent, failed), attempts, last_error, sent_at."})
    journal_entry_id = fields.String(allow_none=True)
    overdue_at = fields.DateTime(allow_none=True)
    allowed_actions = fields.List(fields.String())
    created_by = fields.String(allow_none=True)
    issued_by = fields.String(allow_none=True)
    issued_at = fields.DateTime(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    lines = fields.List(fields.Nested(InvoiceLineSchema))
    credit_notes = fields.List(fields.Nested(InvoiceCreditRefSchema))
    payments = fields.List(fields.Nested(InvoicePaymentRefSchema))


class InvoiceListArgs(PageArgs):
    party_id = fields.UUID()
    order_id = fields.UUID()
    kind = fields.String(validate=validate.OneOf(KINDS))
    status = fields.List(fields.String(validate=validate.OneOf(STATUSES)))
    series = fields.String()
    date_from = fields.Date()
    date_to = fields.Date()
    q = fields.String(metadata={"description": "Search in the number and the customer's name."})


InvoicePageSchema = page_schema(InvoiceSchema, "InvoicePage")


class InvoiceSendSchema(Schema):
    """Who a document goes to by mail (invoices, credit notes, statements, dunning letters)."""

    to = fields.List(fields.Email(), validate=validate.Length(min=1, max=10), metadata={
        "description": "Default: the customer's primary email (else its first)."})
    cc = fields.List(fields.Email(), validate=validate.Length(max=10))
    message = fields.String(allow_none=True, validate=validate.Length(max=5000), metadata={
        "description": "Replaces the default text of the mail (the greeting and signature stay)."})
