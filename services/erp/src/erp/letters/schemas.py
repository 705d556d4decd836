"""What the letter endpoints accept (strict) and return."""

from marshmallow import Schema, fields, validate

from ..fields import AMOUNT
from ..invoicing.schemas import InvoiceSendSchema


class StatementSendSchema(InvoiceSendSchema):
    date_from = fields.Date(allow_none=True)
    date_to = fields.Date(allow_none=True)


class DunningArgs(Schema):
    level = fields.Integer(validate=validate.Range(min=1, max=3), metadata={
        "description": "1 reminder, 2 second reminder, 3 final notice; default: one above the highest level the "
                       "overdue invoices already had (at most 3)."})


class DunningSendSchema(InvoiceSendSchema):
    level = fields.Integer(validate=validate.Range(min=1, max=3))


class StatementSentSchema(Schema):
    party_id = fields.UUID()
    sent_to = fields.List(fields.String())


class DunnedInvoiceSchema(Schema):
    id = fields.UUID()
    number = fields.String()
    balance_due = fields.Decimal(**AMOUNT)
    due_date = fields.Date()


class DunningSentSchema(StatementSentSchema):
    level = fields.Integer()
    invoices = fields.List(fields.Nested(DunnedInvoiceSchema))
