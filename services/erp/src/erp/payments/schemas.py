"""What the payment, bank account and statement endpoints accept (strict) and return."""

from marshmallow import Schema, fields, validate
from servicekit import validators
from servicekit.pagination import PageArgs, page_schema

from ..fields import AMOUNT, CURRENCY, places
from ..invoicing.rules import AGING_BUCKETS
from .models import CHEQUE_STATUSES, DIRECTIONS, METHODS, STATUSES


def money(**kw) -> fields.Decimal:
    kw.setdefault("metadata", {"description": "> 0, in cents"})
    return fields.Decimal(as_string=True, validate=[validate.Range(min=0, min_inclusive=False), places(2)], **kw)


class BankAccountCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    iban = fields.String(allow_none=True, validate=[validate.Length(max=42), validators.iban],
                         metadata={"description": "ISO 13616, spaces allowed (stored without them, 34 characters "
                                                  "at most)."})
    currency = fields.String(load_default="EUR", validate=CURRENCY)
    ledger_account = fields.String(load_default="bank", validate=validate.Length(min=1, max=30),
                                   metadata={"description": "Ledger account code or role it posts to (default bank)."})


class BankAccountSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    iban = fields.String(allow_none=True)
    currency = fields.String()
    ledger_account = fields.String()
    active = fields.Boolean()
    version = fields.Integer()
    created_at = fields.DateTime()


class PaymentAllocationInSchema(Schema):
    document_id = fields.UUID(required=True, metadata={"description": "A customer invoice (in) or supplier bill "
                                                                      "(out) of the party."})
    amount = money(required=True)


class PaymentCreateSchema(Schema):
    direction = fields.String(required=True, validate=validate.OneOf(DIRECTIONS),
                              metadata={"description": "in: a customer receipt; out: a supplier payment."})
    party_id = fields.UUID(required=True)
    amount = money(required=True)
    currency = fields.String(load_default="EUR", validate=CURRENCY)
    payment_date = fields.Date(allow_none=True, metadata={"description": "Defaults to today."})
    method = fields.String(load_default="bank_transfer", validate=validate.OneOf(METHODS))
    bank_account_id = fields.UUID(allow_none=True, metadata={"description": "Required except for cash."})
    reference = fields.String(allow_none=True, validate=validate.Length(max=200))
    cheque_number = fields.String(allow_none=True, validate=validate.Length(max=50))
    cheque_bank = fields.String(allow_none=True, validate=validate.Length(max=100))
    allocations = fields.List(fields.Nested(PaymentAllocationInSchema), validate=validate.Length(min=1, max=500),
                              metadata={"description": "Explicit allocations; without them, oldest due first."})
    auto_allocate = fields.Boolean(load_default=True, metadata={
        "description": "Without allocations: settle the oldest due documents (default) or hold it all as credit."})


class PaymentAllocateSchema(Schema):
    allocations = fields.List(fields.Nested(PaymentAllocationInSchema), validate=validate.Length(min=1, max=500),
                              metadata={"description": "Omit to apply the credit oldest due first."})
    allocation_date = fields.Date(allow_none=True)


class PaymentChequeMoveSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(CHEQUE_STATUSES[1:]))
    reason = fields.String(allow_none=True, validate=validate.Length(max=2000),
                           metadata={"description": "Required when the cheque bounced."})


class PaymentAllocationSchema(Schema):
    id = fields.UUID()
    document_id = fields.UUID()
    document_type = fields.String()
    document_number = fields.String(allow_none=True)
    amount = fields.Decimal(**AMOUNT)
    allocated_on = fields.Date()


class PaymentPartySchema(Schema):
    id = fields.UUID()
    display_name = fields.String(allow_none=True)


class PaymentSchema(Schema):
    id = fields.UUID()
    number = fields.String(metadata={"description": "RC-<year>-<n> (receipts) or PM-<year>-<n> (payments)"})
    direction = fields.String()
    party_id = fields.UUID()
    party = fields.Nested(PaymentPartySchema)
    amount = fields.Decimal(**AMOUNT)
    allocated = fields.Decimal(**AMOUNT)
    unallocated = fields.Decimal(**AMOUNT, metadata={"description": "Held as credit on the party's account."})
    currency = fields.String()
    payment_date = fields.Date()
    method = fields.String()
    bank_account_id = fields.UUID(allow_none=True)
    reference = fields.String(allow_none=True)
    status = fields.String(metadata={"description": " | ".join(STATUSES)})
    cheque_number = fields.String(allow_none=True)
    cheque_bank = fields.String(allow_none=True)
    cheque_status = fields.String(allow_none=True, metadata={"description": " | ".join(CHEQUE_STATUSES)})
    bounced_at = fields.DateTime(allow_none=True)
    bounce_reason = fields.String(allow_none=True)
    journal_entry_id = fields.String(allow_none=True)
    allocations = fields.List(fields.Nested(PaymentAllocationSchema))
    created_by = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class PaymentListArgs(PageArgs):
    party_id = fields.UUID()
    bank_account_id = fields.UUID()
    direction = fields.String(validate=validate.OneOf(DIRECTIONS))
    method = fields.String(validate=validate.OneOf(METHODS))
    status = fields.String(validate=validate.OneOf(STATUSES))
    cheque_status = fields.String(validate=validate.OneOf(CHEQUE_STATUSES))
    with_credit = fields.Boolean(metadata={"description": "Only payments holding unallocated credit."})
    date_from = fields.Date()
    date_to = fields.Date()


PaymentPageSchema = page_schema(PaymentSchema, "PaymentPage")


class CurrentAccountArgs(Schema):
    date_from = fields.Date(data_key="from", metadata={"description": "Movements before it make the opening "
                                                                      "balance."})
    date_to = fields.Date(data_key="to", metadata={"description": "Defaults to today."})
    currency = fields.String(validate=CURRENCY, metadata={"description": "Defaults to the party's currency."})


class CurrentAccountLineSchema(Schema):
    date = fields.Date()
    type = fields.String(metadata={"description": "invoice, credit_note, receipt, receipt_bounced, supplier_bill, "
                                                  "payment, payment_bounced"})
    number = fields.String(allow_none=True)
    document_id = fields.UUID()
    due_date = fields.Date(allow_none=True)
    debit = fields.Decimal(**AMOUNT)
    credit = fields.Decimal(**AMOUNT)
    balance = fields.Decimal(**AMOUNT, metadata={"description": "Running balance: positive = the party owes us."})


class CurrentAccountOpenInvoiceSchema(Schema):
    document_id = fields.UUID()
    number = fields.String()
    due_date = fields.Date()
    balance_due = fields.Decimal(**AMOUNT)
    bucket = fields.String()


CurrentAccountAgingSchema = Schema.from_dict({b: fields.Decimal(**AMOUNT) for b in AGING_BUCKETS},
                                            name="CurrentAccountAging")


class CurrentAccountSchema(Schema):
    party_id = fields.UUID()
    display_name = fields.String()
    currency = fields.String()
    date_from = fields.Date(data_key="from", allow_none=True)
    date_to = fields.Date(data_key="to")
    opening_balance = fields.Decimal(**AMOUNT)
    closing_balance = fields.Decimal(**AMOUNT)
    lines = fields.List(fields.Nested(CurrentAccountLineSchema))
    open_invoices = fields.List(fields.Nested(CurrentAccountOpenInvoiceSchema))
    aging = fields.Nested(CurrentAccountAgingSchema)
