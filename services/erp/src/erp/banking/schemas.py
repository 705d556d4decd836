"""What the banking endpoints accept (strict: unknown fields refused) and return."""

from marshmallow import Schema, fields, validate

from ..fields import AMOUNT, CURRENCY, places
from ..payments.models import BANK_ACCOUNT_KINDS
from .models import DIRECTIONS, MOVEMENT_KINDS, STATEMENT_FORMATS


def money(**kw) -> fields.Decimal:
    kw.setdefault("metadata", {"description": "> 0, in cents"})
    return fields.Decimal(as_string=True, validate=[validate.Range(min=0, min_inclusive=False),
                                                    places(2, below_power=14)], **kw)


def signed_money(**kw) -> fields.Decimal:
    return fields.Decimal(as_string=True, validate=[places(2, below_power=14)], **kw)


# -- accounts ----------------------------------------------------------------------------------

class BankAccountOpenSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    kind = fields.String(load_default="bank", validate=validate.OneOf(("bank", "cash")),
                         metadata={"description": "bank, or cash (a cash box: no IBAN, journal CSH)"})
    iban = fields.String(allow_none=True, validate=validate.Length(max=42),
                         metadata={"description": "Checked (country, length, check digits); spaces allowed."})
    bic = fields.String(allow_none=True, validate=validate.Length(max=11),
                        metadata={"description": "8 or 11 characters, of a bank in the IBAN's country."})
    currency = fields.String(load_default="EUR", validate=CURRENCY)
    ledger_account = fields.String(allow_none=True, validate=validate.Length(min=1, max=30), metadata={
        "description": "An asset account no other bank account uses; omit to get a new one (512001, ...)."})
    opening_balance = signed_money(load_default=None, allow_none=True,
                                   metadata={"description": "Negative when overdrawn; posted on opening_date."})
    opening_date = fields.Date(allow_none=True)
    writeoff_limit = fields.Decimal(as_string=True, allow_none=True, validate=[validate.Range(min=0),
                                                                                places(2, below_power=10)],
                                    metadata={"description": "The largest difference reconciliation may write "
                                                             "off on one statement line (default 0)."})


class BankAccountUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    bic = fields.String(allow_none=True, validate=validate.Length(max=11))
    writeoff_limit = fields.Decimal(as_string=True, validate=[validate.Range(min=0), places(2, below_power=10)])
    active = fields.Boolean()


class BankAccountViewSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    kind = fields.String()
    iban = fields.String(allow_none=True)
    bic = fields.String(allow_none=True)
    currency = fields.String()
    ledger_account = fields.String()
    ledger_account_code = fields.String()
    opening_balance = fields.Decimal(**AMOUNT)
    opening_date = fields.Date(allow_none=True)
    writeoff_limit = fields.Decimal(**AMOUNT)
    balance = fields.Decimal(**AMOUNT, metadata={"description": "Today's balance in the books."})
    active = fields.Boolean()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class BankAccountListArgs(Schema):
    kind = fields.String(validate=validate.OneOf(BANK_ACCOUNT_KINDS),
                         metadata={"description": "bank, cash, or cheques (the portfolio of cheques received)"})


class BankBalanceArgs(Schema):
    as_of = fields.Date(metadata={"description": "Defaults to today; the day's movements included."})


class BankBalanceSchema(Schema):
    bank_account_id = fields.UUID()
    name = fields.String()
    currency = fields.String()
    ledger_account = fields.String()
    as_of = fields.Date()
    balance = fields.Decimal(**AMOUNT)


class BankPeriodArgs(Schema):
    date_from = fields.Date(data_key="from", metadata={"description": "Defaults to the first of date_to's month."})
    date_to = fields.Date(data_key="to", metadata={"description": "Defaults to today."})


class BankMovementLineSchema(Schema):
    journal_line_id = fields.Integer()
    date = fields.Date()
    entry_id = fields.String()
    entry_number = fields.String(allow_none=True)
    reference = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    source_type = fields.String()
    source_id = fields.String()
    money_in = fields.Decimal(**AMOUNT)
    money_out = fields.Decimal(**AMOUNT)
    balance = fields.Decimal(**AMOUNT)
    reconciliation_id = fields.UUID(allow_none=True)


class BankMovementReportSchema(Schema):
    bank_account_id = fields.UUID()
    name = fields.String()
    currency = fields.String()
    ledger_account = fields.String()
    date_from = fields.Date(data_key="from")
    date_to = fields.Date(data_key="to")
    opening_balance = fields.Decimal(**AMOUNT)
    money_in = fields.Decimal(**AMOUNT)
    money_out = fields.Decimal(**AMOUNT)
    closing_balance = fields.Decimal(**AMOUNT)
    lines = fields.List(fields.Nested(BankMovementLineSchema))


# -- movements and transfers ---------------------------------------------------------------------

class BankMovementCreateSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("deposit", "withdrawal", "fee", "interest")))
    amount = money(required=True)
    movement_date = fields.Date(allow_none=True, metadata={"description": "Defaults to today."})
    counter_account = fields.String(allow_none=True, validate=validate.Length(min=1, max=30), metadata={
        "description": "Where the money comes from or goes to (account code or role); fee and interest default "
                       "to bank_fees and interest_income."})
    party_id = fields.UUID(allow_none=True)
    reference = fields.String(allow_none=True, validate=validate.Length(max=200))
    description = fields.String(allow_none=True, validate=validate.Length(max=300))


class BankMovementReverseSchema(Schema):
    reversal_date = fields.Date(allow_none=True, metadata={"description": "Defaults to today."})


class BankMovementSchema(Schema):
    id = fields.UUID()
    bank_account_id = fields.UUID()
    kind = fields.String(metadata={"description": " | ".join(MOVEMENT_KINDS)})
    direction = fields.String(metadata={"description": " | ".join(DIRECTIONS)})
    amount = fields.Decimal(**AMOUNT)
    movement_date = fields.Date()
    counter_account = fields.String()
    party_id = fields.UUID(allow_none=True)
    reference = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    tax_rate = fields.Decimal(as_string=True, allow_none=True)
    tax_amount = fields.Decimal(**AMOUNT, allow_none=True)
    tax_account = fields.String(allow_none=True)
    status = fields.String()
    journal_entry_id = fields.String(allow_none=True)
    created_by = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()


class BankTransferCreateSchema(Schema):
    from_account_id = fields.UUID(required=True)
    to_account_id = fields.UUID(required=True)
    amount = money(required=True)
    sent_on = fields.Date(allow_none=True, metadata={"description": "Defaults to today."})
    received_on = fields.Date(allow_none=True, metadata={
        "description": "Defaults to sent_on; a later day routes the money through transfers in transit."})
    reference = fields.String(allow_none=True, validate=validate.Length(max=200))


class BankTransferSchema(Schema):
    id = fields.UUID()
    from_account_id = fields.UUID()
    to_account_id = fields.UUID()
    amount = fields.Decimal(**AMOUNT)
    currency = fields.String()
    sent_on = fields.Date()
    received_on = fields.Date()
    reference = fields.String(allow_none=True)
    sent_entry_id = fields.String(allow_none=True)
    received_entry_id = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()



# -- statements -----------------------------------------------------------------------------------

class StatementImportArgs(Schema):
    format = fields.String(validate=validate.OneOf(STATEMENT_FORMATS), metadata={
        "description": "camt053, mt940, ofx or csv; omit to detect it (CSV is never guessed)."})


class CsvMappingSchema(Schema):
    mapping = fields.Dict(required=True, metadata={
        "description": "columns: {date, amount | debit + credit, value_date, description, counterparty, iban, "
                       "reference, balance} -> header; delimiter (;), date_format (%d/%m/%Y), decimal_separator "
                       "(,), thousands_separator, encoding (utf-8), skip_rows (0)"})


class CsvMappingViewSchema(Schema):
    bank_account_id = fields.UUID()
    mapping = fields.Dict()
    version = fields.Integer()
    updated_by = fields.String(allow_none=True)
    updated_at = fields.DateTime()


class BankStatementSchema(Schema):
    id = fields.UUID()
    bank_account_id = fields.UUID()
    format = fields.String()
    bank_statement_id = fields.String(allow_none=True)
    electronic_sequence = fields.Integer(allow_none=True)
    file_name = fields.String(allow_none=True)
    file_sha256 = fields.String()
    from_date = fields.Date(allow_none=True)
    to_date = fields.Date(allow_none=True)
    currency = fields.String()
    opening_balance = fields.Decimal(**AMOUNT)
    closing_balance = fields.Decimal(**AMOUNT)
    line_count = fields.Integer()
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()


class StatementLineSchema(Schema):
    id = fields.UUID()
    statement_id = fields.UUID()
    bank_account_id = fields.UUID()
    position = fields.Integer()
    booking_date = fields.Date()
    value_date = fields.Date(allow_none=True)
    amount = fields.Decimal(**AMOUNT, metadata={"description": "Money in > 0, money out < 0."})
    currency = fields.String()
    reversal = fields.Boolean()
    bank_reference = fields.String(allow_none=True)
    end_to_end_id = fields.String(allow_none=True)
    counterparty_name = fields.String(allow_none=True)
    counterparty_iban = fields.String(allow_none=True)
    remittance = fields.String(allow_none=True)
    structured_reference = fields.String(allow_none=True)
    details = fields.List(fields.Dict(), allow_none=True)
    reconciled = fields.Boolean()
    version = fields.Integer()


class BankStatementDetailSchema(BankStatementSchema):
    lines = fields.List(fields.Nested(StatementLineSchema))


class StatementImportReportSchema(Schema):
    bank_account_id = fields.UUID()
    format = fields.String()
    status = fields.String(metadata={"description": "imported | already_imported (nothing new in the file)"})
    statements = fields.List(fields.Nested(BankStatementSchema))
    lines_imported = fields.Integer()
    lines_already_imported = fields.Integer()
    pending_left_out = fields.Integer(metadata={"description": "Pending (not booked) entries, not imported."})


class StatementLineArgs(Schema):
    reconciled = fields.Boolean()


# -- reconciliation -------------------------------------------------------------------------------

class InvoicePartSchema(Schema):
    invoice_id = fields.UUID(required=True)
    amount = money(required=True)


class BillPartSchema(Schema):
    bill_id = fields.UUID(required=True)
    amount = money(required=True)


class AccountLineSchema(Schema):
    account = fields.String(required=True, validate=validate.Length(min=1, max=30),
                            metadata={"description": "Account code or role the amount is booked to."})
    amount = money(required=True)
    party_id = fields.UUID(allow_none=True)
    description = fields.String(allow_none=True, validate=validate.Length(max=300))
    tax_rate = fields.Decimal(as_string=True, allow_none=True, validate=[
        validate.Range(min=0, max=1, min_inclusive=False, max_inclusive=False), places(4, below_power=1)],
        metadata={"description": "The line is gross: this share of net (0.2 = 20 %) is split off as tax."})
    tax_account = fields.String(allow_none=True, validate=validate.Length(min=1, max=30), metadata={
        "description": "Account code or role of the tax; default vat_deductible (money out) or vat_collected (in)."})


class ReconcileSchema(Schema):
    invoices = fields.List(fields.Nested(InvoicePartSchema), validate=validate.Length(max=500), metadata={
        "description": "Customer invoices the line pays (money in): one payment per customer, allocated."})
    bills = fields.List(fields.Nested(BillPartSchema), validate=validate.Length(max=500),
                        metadata={"description": "Supplier bills the line pays (money out)."})
    journal_line_ids = fields.List(fields.Integer(validate=validate.Range(min=1, max=2**63 - 1)),
                                   validate=validate.Length(max=500),
                                   metadata={"description": "Ledger lines already on the account's ledger account."})
    account_lines = fields.List(fields.Nested(AccountLineSchema), validate=validate.Length(max=50))
    issued_cheque_ids = fields.List(fields.UUID(), validate=validate.Length(max=100), metadata={
        "description": "Our cheques the line pays (money out): each is cleared."})
    write_off = fields.Boolean(load_default=False, metadata={
        "description": "Write off what is left, within the account's write-off limit."})
    hold_as_credit = fields.Boolean(load_default=False, metadata={
        "description": "Money in beyond the invoices is held as the customer's credit."})
    learn_rule = fields.Boolean(load_default=False, metadata={
        "description": "Remember the first account line as a rule for this counterparty."})
    note = fields.String(allow_none=True, validate=validate.Length(max=500))


class ReconciliationItemSchema(Schema):
    journal_line_id = fields.Integer()
    amount = fields.Decimal(**AMOUNT)


class ReconciliationSchema(Schema):
    id = fields.UUID()
    bank_account_id = fields.UUID()
    statement_line_id = fields.UUID()
    rule = fields.String(metadata={"description": "reference | iban | name | subset | cheque | book | rule | "
                                                  "manual"})
    score = fields.Decimal(as_string=True)
    explanation = fields.String(allow_none=True)
    payment_ids = fields.List(fields.UUID(), allow_none=True)
    movement_ids = fields.List(fields.UUID(), allow_none=True)
    status = fields.String()
    items = fields.List(fields.Nested(ReconciliationItemSchema))
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    undone_at = fields.DateTime(allow_none=True)
    version = fields.Integer()


class ProposalInvoiceSchema(Schema):
    invoice_id = fields.UUID()
    number = fields.String()
    party_id = fields.UUID()
    amount = fields.Decimal(**AMOUNT)


class ProposalBillSchema(Schema):
    bill_id = fields.UUID()
    number = fields.String()
    party_id = fields.UUID()
    amount = fields.Decimal(**AMOUNT)


class ProposalSchema(Schema):
    rule = fields.String()
    score = fields.Integer(metadata={"description": "0 to 100"})
    explanation = fields.String()
    invoices = fields.List(fields.Nested(ProposalInvoiceSchema))
    journal_line_ids = fields.List(fields.Integer())
    account = fields.String(allow_none=True)
    party_id = fields.UUID(allow_none=True)
    difference = fields.Decimal(**AMOUNT)
    issued_cheque_ids = fields.List(fields.UUID())
    bills = fields.List(fields.Nested(ProposalBillSchema))
    tax_rate = fields.Decimal(as_string=True, allow_none=True)
    tax_account = fields.String(allow_none=True)


class ProposalsSchema(Schema):
    line = fields.Nested(StatementLineSchema)
    proposals = fields.List(fields.Nested(ProposalSchema))


class AutoReconcileSchema(Schema):
    min_score = fields.Integer(load_default=90, validate=validate.Range(min=50, max=100), metadata={
        "description": "Apply a line's best proposal only from this score (default 90)."})


class AutoResultSchema(Schema):
    line_id = fields.UUID()
    amount = fields.Decimal(**AMOUNT)
    matched = fields.Boolean()
    rule = fields.String(allow_none=True)
    score = fields.Integer(allow_none=True)
    explanation = fields.String()
    reconciliation_id = fields.UUID()


class AutoReconcileReportSchema(Schema):
    bank_account_id = fields.UUID()
    lines = fields.Integer()
    matched = fields.Integer()
    left = fields.Integer()
    results = fields.List(fields.Nested(AutoResultSchema))


class BookItemSchema(Schema):
    journal_line_id = fields.Integer()
    date = fields.Date()
    amount = fields.Decimal(**AMOUNT)
    reference = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    source_type = fields.String()
    source_id = fields.String()


class ReconciliationReportSchema(Schema):
    bank_account_id = fields.UUID()
    name = fields.String()
    currency = fields.String()
    as_of = fields.Date()
    book_balance = fields.Decimal(**AMOUNT)
    statement_balance = fields.Decimal(**AMOUNT)
    difference = fields.Decimal(**AMOUNT)
    opening_difference = fields.Decimal(**AMOUNT, metadata={
        "description": "The account's opening balance less the first statement's opening balance."})
    unreconciled_book_total = fields.Decimal(**AMOUNT)
    unreconciled_statement_total = fields.Decimal(**AMOUNT)
    explained = fields.Boolean(metadata={"description": "difference = opening_difference + unreconciled book "
                                                        "items - unreconciled statement lines"})
    statement_lines = fields.Integer()
    reconciled_lines = fields.Integer()
    unreconciled_book_items = fields.List(fields.Nested(BookItemSchema))
    unreconciled_statement_lines = fields.List(fields.Nested(StatementLineSchema))


class RuleCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    bank_account_id = fields.UUID(allow_none=True, metadata={"description": "Omit for every account."})
    text_contains = fields.String(allow_none=True, validate=validate.Length(min=1, max=200))
    counterparty_contains = fields.String(allow_none=True, validate=validate.Length(min=1, max=200))
    counterparty_iban = fields.String(allow_none=True, validate=validate.Length(max=42))
    direction = fields.String(allow_none=True, validate=validate.OneOf(DIRECTIONS))
    amount_min = fields.Decimal(as_string=True, allow_none=True, validate=[validate.Range(min=0),
                                                                          places(2, below_power=14)])
    amount_max = fields.Decimal(as_string=True, allow_none=True, validate=[validate.Range(min=0),
                                                                          places(2, below_power=14)])
    account = fields.String(required=True, validate=validate.Length(min=1, max=30))
    party_id = fields.UUID(allow_none=True)
    active = fields.Boolean(load_default=True)
    tax_rate = fields.Decimal(as_string=True, allow_none=True, validate=[
        validate.Range(min=0, max=1, min_inclusive=False, max_inclusive=False), places(4, below_power=1)],
        metadata={"description": "The line is gross: this share of net (0.2 = 20 %) is split off as tax."})
    tax_account = fields.String(allow_none=True, validate=validate.Length(min=1, max=30), metadata={
        "description": "Account code or role of the tax; default vat_deductible (money out) or vat_collected (in)."})


class RuleUpdateSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=100))
    text_contains = fields.String(allow_none=True, validate=validate.Length(min=1, max=200))
    counterparty_contains = fields.String(allow_none=True, validate=validate.Length(min=1, max=200))
    counterparty_iban = fields.String(allow_none=True, validate=validate.Length(max=42))
    direction = fields.String(allow_none=True, validate=validate.OneOf(DIRECTIONS))
    amount_min = fields.Decimal(as_string=True, allow_none=True, validate=[validate.Range(min=0),
                                                                          places(2, below_power=14)])
    amount_max = fields.Decimal(as_string=True, allow_none=True, validate=[validate.Range(min=0),
                                                                          places(2, below_power=14)])
    account = fields.String(validate=validate.Length(min=1, max=30))
    party_id = fields.UUID(allow_none=True)
    active = fields.Boolean()
    tax_rate = fields.Decimal(as_string=True, allow_none=True, validate=[
        validate.Range(min=0, max=1, min_inclusive=False, max_inclusive=False), places(4, below_power=1)],
        metadata={"description": "The line is gross: this share of net (0.2 = 20 %) is split off as tax."})
    tax_account = fields.String(allow_none=True, validate=validate.Length(min=1, max=30), metadata={
        "description": "Account code or role of the tax; default vat_deductible (money out) or vat_collected (in)."})


class RuleSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    bank_account_id = fields.UUID(allow_none=True)
    text_contains = fields.String(allow_none=True)
    counterparty_contains = fields.String(allow_none=True)
    counterparty_iban = fields.String(allow_none=True)
    direction = fields.String(allow_none=True)
    amount_min = fields.Decimal(**AMOUNT, allow_none=True)
    amount_max = fields.Decimal(**AMOUNT, allow_none=True)
    account = fields.String()
    party_id = fields.UUID(allow_none=True)
    active = fields.Boolean()
    tax_rate = fields.Decimal(as_string=True, allow_none=True)
    tax_account = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()


class CashPositionArgs(Schema):
    currency = fields.String(load_default="EUR", validate=CURRENCY)
    weeks = fields.Integer(load_default=13, validate=validate.Range(min=1, max=52))


class CashAccountSchema(Schema):
    bank_account_id = fields.UUID()
    name = fields.String()
    kind = fields.String()
    balance = fields.Decimal(**AMOUNT)


class CashWeekSchema(Schema):
    week = fields.Integer()
    starts_on = fields.Date()
    cheques = fields.Decimal(**AMOUNT, metadata={"description": "Cheques not yet cashed, by their date."})
    receivables = fields.Decimal(**AMOUNT, metadata={"description": "Open customer invoices, by due date."})
    payables = fields.Decimal(**AMOUNT, metadata={"description": "Approved supplier bills unpaid, by due date."})
    cheques_issued = fields.Decimal(**AMOUNT, metadata={"description": "Our cheques not paid yet, by due date."})
    net = fields.Decimal(**AMOUNT)
    balance = fields.Decimal(**AMOUNT, metadata={"description": "Forecast balance at the week's end."})


class CashBeyondSchema(Schema):
    cheques = fields.Decimal(**AMOUNT)
    receivables = fields.Decimal(**AMOUNT)
    payables = fields.Decimal(**AMOUNT)
    cheques_issued = fields.Decimal(**AMOUNT)


class CashPositionSchema(Schema):
    currency = fields.String()
    as_of = fields.Date()
    balance = fields.Decimal(**AMOUNT, metadata={"description": "What the bank accounts and cash boxes hold today."})
    accounts = fields.List(fields.Nested(CashAccountSchema))
    weeks = fields.List(fields.Nested(CashWeekSchema))
    beyond = fields.Nested(CashBeyondSchema, metadata={"description": "What falls due after the last week."})
