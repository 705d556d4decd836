"""What the cheque endpoints accept (strict) and return."""

from marshmallow import Schema, fields, validate

from ..fields import AMOUNT, CURRENCY, places
from ..payments.schemas import PaymentAllocationInSchema
from .models import STATES


def money(**kw) -> fields.Decimal:
    kw.setdefault("metadata", {"description": "> 0, in cents"})
    return fields.Decimal(as_string=True, validate=[validate.Range(min=0, min_inclusive=False),
                                                    places(2, below_power=14)], **kw)


class ChequeReceiveSchema(Schema):
    party_id = fields.UUID(required=True, metadata={"description": "The customer who gave it."})
    number = fields.String(required=True, validate=validate.Length(min=1, max=50))
    drawer = fields.String(required=True, validate=validate.Length(min=1, max=200))
    drawer_bank = fields.String(required=True, validate=validate.Length(min=1, max=100))
    drawer_branch = fields.String(allow_none=True, validate=validate.Length(max=100))
    cheque_date = fields.Date(required=True, metadata={"description": "When it may be cashed (post-dated: later "
                                                                      "than received_on)."})
    received_on = fields.Date(allow_none=True, metadata={"description": "The posting date; defaults to today."})
    amount = money(required=True)
    currency = fields.String(load_default="EUR", validate=CURRENCY)
    allocations = fields.List(fields.Nested(PaymentAllocationInSchema), validate=validate.Length(min=1, max=500),
                              metadata={"description": "The invoices it pays; without them, oldest due first."})
    auto_allocate = fields.Boolean(load_default=True)


class BillPartInSchema(Schema):
    bill_id = fields.UUID(required=True)
    amount = money(required=True)


class ChequeMoveSchema(Schema):
    to_state = fields.String(required=True, validate=validate.OneOf(STATES[1:]))
    on_date = fields.Date(allow_none=True, metadata={"description": "Defaults to today."})
    bank_account_id = fields.UUID(allow_none=True, metadata={
        "description": "Deposited for collection or given as collateral: the bank account."})
    supplier_id = fields.UUID(allow_none=True, metadata={"description": "Endorsed: the supplier it pays."})
    bills = fields.List(fields.Nested(BillPartInSchema), validate=validate.Length(min=1, max=100),
                        metadata={"description": "Endorsed: the supplier's bills it settles (else oldest due)."})
    reason = fields.String(allow_none=True, validate=validate.Length(max=2000),
                           metadata={"description": "Required when it bounced."})
    bounce_fee = money(allow_none=True, metadata={
        "description": "Bounced: a fee charged to the customer on an invoice of its own."})
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


class ChequeTransitionSchema(Schema):
    id = fields.Integer()
    from_state = fields.String(allow_none=True)
    to_state = fields.String()
    on_date = fields.Date()
    journal_entry_id = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ChequeSchema(Schema):
    id = fields.UUID()
    number = fields.String()
    drawer = fields.String()
    drawer_bank = fields.String()
    drawer_branch = fields.String(allow_none=True)
    cheque_date = fields.Date()
    received_on = fields.Date()
    amount = fields.Decimal(**AMOUNT)
    currency = fields.String()
    party_id = fields.UUID()
    state = fields.String(metadata={"description": " | ".join(STATES)})
    allowed_moves = fields.List(fields.String())
    receipt_payment_id = fields.UUID()
    endorsement_payment_id = fields.UUID(allow_none=True)
    endorsed_to_party_id = fields.UUID(allow_none=True)
    bank_account_id = fields.UUID(allow_none=True)
    transitions = fields.List(fields.Nested(ChequeTransitionSchema))
    drawer_bounces = fields.Integer(metadata={"description": "How many cheques of this drawer bounced."})
    version = fields.Integer()
    created_at = fields.DateTime()


class ChequeListArgs(Schema):
    state = fields.String(validate=validate.OneOf(STATES))
    party_id = fields.UUID()
    due_within_days = fields.Integer(validate=validate.Range(min=0, max=3650), metadata={
        "description": "Only cheques in portfolio due within N days: the ones to deposit now."})


class LadderArgs(Schema):
    by = fields.String(load_default="week", validate=validate.OneOf(("week", "month")))
    currency = fields.String(load_default="EUR", validate=CURRENCY)


class LadderPeriodSchema(Schema):
    period = fields.String(metadata={"description": "due (dated today or before), 2026-W11, or 2026-03"})
    count = fields.Integer()
    total = fields.Decimal(**AMOUNT)
    in_portfolio = fields.Decimal(**AMOUNT)
    deposited_for_collection = fields.Decimal(**AMOUNT)
    given_as_collateral = fields.Decimal(**AMOUNT)
    re_presented = fields.Decimal(**AMOUNT)


class LadderSchema(Schema):
    by = fields.String()
    currency = fields.String()
    as_of = fields.Date()
    total = fields.Decimal(**AMOUNT)
    periods = fields.List(fields.Nested(LadderPeriodSchema))


class DepositSlipCreateSchema(Schema):
    bank_account_id = fields.UUID(required=True)
    cheque_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=500))
    on_date = fields.Date(allow_none=True, metadata={"description": "Defaults to today."})


class SlipChequeSchema(Schema):
    id = fields.UUID()
    number = fields.String()
    drawer = fields.String()
    drawer_bank = fields.String()
    drawer_branch = fields.String(allow_none=True)
    cheque_date = fields.Date()
    amount = fields.Decimal(**AMOUNT)
    state = fields.String()


class DepositSlipSchema(Schema):
    id = fields.UUID()
    bank_account_id = fields.UUID()
    bank_account_name = fields.String()
    iban = fields.String(allow_none=True)
    currency = fields.String()
    on_date = fields.Date()
    count = fields.Integer()
    total = fields.Decimal(**AMOUNT)
    cheques = fields.List(fields.Nested(SlipChequeSchema))


class DrawerArgs(Schema):
    drawer = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "Name contains."})


class DrawerSchema(Schema):
    drawer = fields.String()
    cheques = fields.Integer()
    bounced = fields.Integer()
    bounced_total = fields.Decimal(**AMOUNT)
    bounce_rate = fields.Float(metadata={"description": "bounced / cheques"})


class ChequeBookCreateSchema(Schema):
    bank_account_id = fields.UUID(required=True)
    first_number = fields.Integer(required=True, validate=validate.Range(min=1, max=10**15))
    last_number = fields.Integer(required=True, validate=validate.Range(min=1, max=10**15))


class ChequeBookSchema(Schema):
    id = fields.UUID()
    bank_account_id = fields.UUID()
    first_number = fields.Integer()
    last_number = fields.Integer()
    next_number = fields.Integer()
    version = fields.Integer()
    created_at = fields.DateTime()


class IssueChequeSchema(Schema):
    cheque_book_id = fields.UUID(required=True)
    supplier_id = fields.UUID(required=True)
    amount = money(required=True)
    issue_date = fields.Date(allow_none=True, metadata={"description": "Defaults to today."})
    due_date = fields.Date(allow_none=True, metadata={"description": "When it may be cashed; defaults to the issue "
                                                                    "date."})
    bills = fields.List(fields.Nested(BillPartInSchema), validate=validate.Length(min=1, max=100),
                        metadata={"description": "The bills it pays; without them, oldest due first."})


class IssuedMoveSchema(Schema):
    to_state = fields.String(required=True, validate=validate.OneOf(("presented", "cleared", "voided")))
    on_date = fields.Date(allow_none=True)
    reason = fields.String(allow_none=True, validate=validate.Length(max=2000))


class IssuedChequeSchema(Schema):
    id = fields.UUID()
    cheque_book_id = fields.UUID()
    bank_account_id = fields.UUID()
    number = fields.String()
    supplier_id = fields.UUID()
    amount = fields.Decimal(**AMOUNT)
    currency = fields.String()
    issue_date = fields.Date()
    due_date = fields.Date()
    state = fields.String(metadata={"description": "issued | presented | cleared | voided"})
    allowed_moves = fields.List(fields.String())
    payment_id = fields.UUID()
    cleared_on = fields.Date(allow_none=True)
    clearing_entry_id = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()


class IssuedListArgs(Schema):
    state = fields.String(validate=validate.OneOf(("issued", "presented", "cleared", "voided")))


class OutgoingPeriodSchema(Schema):
    period = fields.String()
    count = fields.Integer()
    total = fields.Decimal(**AMOUNT)


class OutgoingLadderSchema(Schema):
    by = fields.String()
    currency = fields.String()
    as_of = fields.Date()
    total = fields.Decimal(**AMOUNT)
    periods = fields.List(fields.Nested(OutgoingPeriodSchema))
