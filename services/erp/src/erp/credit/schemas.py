"""What the credit position endpoint returns."""

from marshmallow import Schema, fields

from ..fields import AMOUNT


class CreditPositionSchema(Schema):
    party_id = fields.UUID()
    currency = fields.String()
    credit_limit = fields.Decimal(allow_none=True, **AMOUNT, metadata={"description": "None: no limit."})
    open_balance = fields.Decimal(**AMOUNT, metadata={"description": "Issued invoices less credit notes and "
                                                                     "receipts."})
    overdue_amount = fields.Decimal(**AMOUNT, metadata={"description": "Due on invoices past their due date."})
    available_credit = fields.Decimal(allow_none=True, **AMOUNT, metadata={
        "description": "credit_limit - open_balance (never below 0); none without a limit."})
