"""What the billing views return (money as decimal strings)."""

from marshmallow import Schema, fields
from servicekit.pagination import page_schema

MONEY = dict(as_string=True, places=2)


class OrderViewSchema(Schema):
    id = fields.UUID()
    number = fields.String()
    crm_order_id = fields.UUID(allow_none=True)
    deal_id = fields.UUID(allow_none=True)
    status = fields.String()
    reason = fields.String(allow_none=True)
    currency = fields.String()
    gross_total = fields.Decimal(**MONEY)
    lines = fields.List(fields.Dict())
    last_delivery_at = fields.DateTime(allow_none=True)
    erp_updated_at = fields.DateTime()


class InvoiceViewSchema(Schema):
    id = fields.UUID()
    number = fields.String()
    kind = fields.String()
    status = fields.String()
    issue_date = fields.Date()
    due_date = fields.Date(allow_none=True)
    currency = fields.String()
    gross_total = fields.Decimal(**MONEY)
    amount_paid = fields.Decimal(**MONEY)
    balance_due = fields.Decimal(**MONEY)
    deal_id = fields.UUID(allow_none=True)


class PaymentViewSchema(Schema):
    id = fields.UUID()
    number = fields.String()
    direction = fields.String()
    amount = fields.Decimal(**MONEY)
    currency = fields.String()
    payment_date = fields.Date()
    unallocated = fields.Decimal(**MONEY)
    status = fields.String(metadata={"description": "posted, or bounced (the bank returned the cheque: it paid "
                                                    "nothing)."})


class BalanceSchema(Schema):
    currency = fields.String()
    amount = fields.Decimal(**MONEY)


class CreditSchema(Schema):
    currency = fields.String()
    credit_limit = fields.Decimal(allow_none=True, **MONEY, metadata={"description": "None: no limit."})
    open_balance = fields.Decimal(**MONEY)
    overdue_amount = fields.Decimal(**MONEY)
    available_credit = fields.Decimal(allow_none=True, **MONEY)
    cheques_bounced = fields.Integer(metadata={"description": "How many of the customer's cheques bounced (the "
                                                              "risk the ERP publishes)."})
    bounced_total = fields.Decimal(**MONEY)
    last_bounced_at = fields.DateTime(allow_none=True)
    last_bounced_at = fields.DateTime(allow_none=True)
    erp_updated_at = fields.DateTime()


class PartyBillingSchema(Schema):
    party_id = fields.UUID()
    balance = fields.List(fields.Nested(BalanceSchema), metadata={
        "description": "What the customer owes per currency: open invoices less credit notes not yet applied."})
    overdue_count = fields.Integer()
    open_invoices = fields.List(fields.Nested(InvoiceViewSchema), metadata={
        "description": "Invoices with an amount still due."})
    open_credits = fields.List(fields.Nested(InvoiceViewSchema), metadata={
        "description": "Credit notes with credit not yet applied (balance_due is negative)."})
    orders = fields.List(fields.Nested(OrderViewSchema))
    recent_payments = fields.List(fields.Nested(PaymentViewSchema))
    last_delivery_at = fields.DateTime(allow_none=True)
    credit = fields.Nested(CreditSchema, allow_none=True, metadata={
        "description": "The credit position the ERP last published (erp.credit.v1); null before its first."})


class OverdueCustomerSchema(Schema):
    party_id = fields.UUID()
    display_name = fields.String()
    owner_id = fields.UUID(allow_none=True)
    currency = fields.String()
    overdue_amount = fields.Decimal(**MONEY)
    invoices = fields.Integer()
    oldest_due_date = fields.Date()
    days_overdue = fields.Integer()


OverdueCustomerPageSchema = page_schema(OverdueCustomerSchema, "OverdueCustomerPage")
