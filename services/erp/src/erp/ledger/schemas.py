"""What the ledger endpoints accept (strict) and return; amounts are decimal strings with 2 places."""

from datetime import UTC, datetime
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from servicekit.pagination import PageArgs, page_schema

from .models import ACCOUNT_TYPES, ENTRY_STATUSES, JOURNAL_TYPES, SIDES
from .posting import AGING_BUCKETS, ROLES

ACCOUNT_CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$",
                               error="1 to 20 letters, digits, '.', '_' or '-'")


def _cents(value: Decimal) -> None:
    if abs(value) >= Decimal("1e16") or value != value.quantize(Decimal("0.01")):  # the size first: no overflow
        raise ValidationError("at most 2 decimal places and below 10^16")


def Amount(**kw) -> fields.Decimal:  # noqa: N802 - a field factory reads like a field class
    return fields.Decimal(as_string=True, allow_nan=False, places=None,
                          validate=[_cents, validate.Range(min=0), *kw.pop("validate", [])], **kw)


def Out(**kw) -> fields.Decimal:  # noqa: N802
    return fields.Decimal(as_string=True, places=2, **kw)


def _today():
    return datetime.now(UTC).date()


# -- chart of accounts ---------------------------------------------------------------------------

class LedgerAccountSchema(Schema):
    id = fields.UUID()
    code = fields.String()
    name = fields.String()
    type = fields.String()
    normal_side = fields.String()
    reconcilable = fields.Boolean()
    party_required = fields.Boolean()
    active = fields.Boolean()
    parent_id = fields.UUID(allow_none=True)
    parent_code = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    roles = fields.List(fields.String(), metadata={"description": "Posting roles mapped to this account."})
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class _AccountFields(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    normal_side = fields.String(validate=validate.OneOf(SIDES),
                                metadata={"description": "Default: debit for assets and expenses, else credit."})
    reconcilable = fields.Boolean(metadata={"description": "Receivables, payables, bank: matched item by item."})
    party_required = fields.Boolean(metadata={"description": "Every line on it names a customer or supplier."})
    active = fields.Boolean()
    parent_id = fields.UUID(allow_none=True, metadata={"description": "A group account (optional)."})
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))


class LedgerAccountCreateSchema(_AccountFields):
    code = fields.String(required=True, validate=ACCOUNT_CODE)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    type = fields.String(required=True, validate=validate.OneOf(ACCOUNT_TYPES))
    reconcilable = fields.Boolean(load_default=False)
    party_required = fields.Boolean(load_default=False)
    active = fields.Boolean(load_default=True)


class LedgerAccountUpdateSchema(_AccountFields):
    code = fields.String(validate=ACCOUNT_CODE, metadata={"description": "Fixed once the account has postings."})
    type = fields.String(validate=validate.OneOf(ACCOUNT_TYPES),
                         metadata={"description": "Fixed once the account has postings."})


class LedgerAccountListArgs(PageArgs):
    page_size = fields.Integer(load_default=100, validate=validate.Range(min=1, max=200))
    q = fields.String(metadata={"description": "Code prefix or part of the name."})
    code = fields.String()
    type = fields.String(validate=validate.OneOf(ACCOUNT_TYPES))
    active = fields.Boolean()


LedgerAccountPageSchema = page_schema(LedgerAccountSchema, "LedgerAccountPage")


class AccountRoleSchema(Schema):
    role = fields.String()
    account = fields.String(allow_none=True, metadata={"description": "The code of the account it books to."})
    description = fields.String()


class AccountMappingUpdateSchema(Schema):
    roles = fields.Dict(keys=fields.String(validate=validate.OneOf(list(ROLES))),
                        values=fields.String(validate=ACCOUNT_CODE), required=True,
                        metadata={"description": "role -> account code, e.g. {\"revenue_goods\": \"707100\"}."})


# -- journals and settings -----------------------------------------------------------------------

class LedgerJournalSchema(Schema):
    id = fields.UUID()
    code = fields.String()
    name = fields.String()
    type = fields.String()
    active = fields.Boolean()
    created_at = fields.DateTime()


class LedgerJournalCreateSchema(Schema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z]{2,10}$", error="2 to 10 letters"))
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    type = fields.String(required=True, validate=validate.OneOf(JOURNAL_TYPES))


class LedgerSettingsSchema(Schema):
    currency = fields.String()
    lock_date = fields.Date(allow_none=True, metadata={"description": "Postings dated on or before it are refused."})
    version = fields.Integer()
    updated_at = fields.DateTime()
    updated_by = fields.String(allow_none=True)


class LockDateSchema(Schema):
    lock_date = fields.Date(required=True, allow_none=True,
                            metadata={"description": "Close the books up to this day (inclusive). Forward only, "
                                                     "unless you are an administrator (null reopens everything)."})


class LedgerVerificationSchema(Schema):
    ok = fields.Boolean()
    entries_checked = fields.Integer()
    last_hash = fields.String()
    broken = fields.Dict(allow_none=True, metadata={"description": "The first entry that breaks the chain."})


# -- journal entries -----------------------------------------------------------------------------

class JournalLineInSchema(Schema):
    account = fields.String(required=True, validate=validate.Length(min=1, max=40),
                            metadata={"description": "An account code, or a posting role (receivable, bank, ...)."})
    debit = Amount(load_default=Decimal("0"))
    credit = Amount(load_default=Decimal("0"))
    party_id = fields.UUID(allow_none=True)
    description = fields.String(allow_none=True, validate=validate.Length(max=300))
    due_date = fields.Date(allow_none=True)

    @validates_schema
    def one_side(self, data, **_):
        if (data.get("debit", 0) > 0) == (data.get("credit", 0) > 0):
            raise ValidationError("exactly one of debit and credit is above zero", "debit")


class JournalEntryCreateSchema(Schema):
    journal = fields.String(load_default="GEN", validate=validate.Length(min=2, max=10))
    entry_date = fields.Date(required=True)
    reference = fields.String(required=True, validate=validate.Length(min=1, max=200))
    memo = fields.String(allow_none=True, validate=validate.Length(max=2000))
    lines = fields.List(fields.Nested(JournalLineInSchema), required=True, validate=validate.Length(min=1, max=500))


class JournalEntryUpdateSchema(Schema):
    journal = fields.String(validate=validate.Length(min=2, max=10))
    entry_date = fields.Date()
    reference = fields.String(validate=validate.Length(min=1, max=200))
    memo = fields.String(allow_none=True, validate=validate.Length(max=2000))
    lines = fields.List(fields.Nested(JournalLineInSchema), validate=validate.Length(min=1, max=500))


class JournalLineSchema(Schema):
    position = fields.Integer()
    account = fields.String()
    account_name = fields.String(allow_none=True)
    debit = Out()
    credit = Out()
    party_id = fields.UUID(allow_none=True)
    description = fields.String(allow_none=True)
    due_date = fields.Date(allow_none=True)
    currency = fields.String(allow_none=True)


class JournalEntrySchema(Schema):
    id = fields.UUID()
    number = fields.String(allow_none=True, metadata={"description": "SAL-2026-000001, given when posted."})
    journal = fields.String()
    status = fields.String()
    entry_date = fields.Date()
    reference = fields.String()
    memo = fields.String(allow_none=True)
    source_type = fields.String()
    source_id = fields.String()
    purpose = fields.String()
    reversal_of_id = fields.UUID(allow_none=True)
    reversed_by_id = fields.UUID(allow_none=True)
    total = Out()
    fiscal_year = fields.Integer(allow_none=True)
    sequence_number = fields.Integer(allow_none=True)
    chain_seq = fields.Integer(allow_none=True)
    hash = fields.String(allow_none=True)
    created_by = fields.String(allow_none=True)
    posted_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    posted_at = fields.DateTime(allow_none=True)
    version = fields.Integer()
    allowed_actions = fields.List(fields.String())
    lines = fields.List(fields.Nested(JournalLineSchema))


class JournalEntryListArgs(PageArgs):
    journal = fields.String()
    status = fields.String(validate=validate.OneOf(ENTRY_STATUSES))
    source_type = fields.String()
    source_id = fields.String()
    purpose = fields.String()
    account = fields.String(metadata={"description": "Entries with a line on this account code."})
    party_id = fields.UUID(metadata={"description": "Entries with a line for this party."})
    date_from = fields.Date()
    date_to = fields.Date()
    q = fields.String(metadata={"description": "Part of the number or the reference."})


JournalEntryPageSchema = page_schema(JournalEntrySchema, "JournalEntryPage")


class JournalEntryReverseSchema(Schema):
    entry_date = fields.Date(metadata={"description": "Date of the reversal; default today."})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


# -- reports -------------------------------------------------------------------------------------

def _format():
    return fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx", "pdf"]),
                         metadata={"description": "json, csv (text/csv), xlsx (a spreadsheet) or pdf (to print)."})


class LedgerExportArgs(Schema):
    format = fields.String(load_default="hledger", validate=validate.OneOf(["hledger"]),
                           metadata={"description": "hledger: the journal format of hledger (and ledger-cli)."})
    date_to = fields.Date(metadata={"description": "Only entries dated up to this day (default: all)."})


class AsOfArgs(Schema):
    as_of = fields.Date(load_default=_today, metadata={"description": "Up to the end of this day; default today."})
    format = _format()


class PeriodArgs(AsOfArgs):
    date_from = fields.Date(metadata={"description": "Start of the period; default the start of the fiscal year "
                                                     "(P&L) or the beginning (ledgers)."})


class GeneralLedgerArgs(PeriodArgs):
    account = fields.String(required=True, metadata={"description": "Account code (or posting role)."})
    page = fields.Integer(load_default=1, validate=validate.Range(min=1), metadata={
        "description": "Page by number; deep pages are cheaper with `after`."})
    after = fields.String(validate=validate.Length(max=100), metadata={
        "description": "The next_cursor of the page before: the next page_size lines (keyset paging, the cost of "
                       "the first page at any depth); `page` is then ignored."})
    page_size = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class AgingArgs(AsOfArgs):
    account = fields.String(metadata={"description": "Default: the account mapped to receivable (AR) or payable "
                                                     "(AP)."})
    party_id = fields.UUID()


class StatementArgs(PeriodArgs):
    party_id = fields.UUID(required=True)
    account = fields.String(metadata={"description": "Default: the receivable (customer) or payable (supplier)."})


class TrialBalanceLineSchema(Schema):
    account = fields.String()
    name = fields.String()
    type = fields.String()
    debit = Out()
    credit = Out()
    balance = Out(metadata={"description": "Debit minus credit."})
    debit_balance = Out()
    credit_balance = Out()


class TrialBalanceTotalsSchema(Schema):
    debit = Out()
    credit = Out()
    debit_balance = Out()
    credit_balance = Out()


class TrialBalanceSchema(Schema):
    as_of = fields.Date()
    lines = fields.List(fields.Nested(TrialBalanceLineSchema))
    totals = fields.Nested(TrialBalanceTotalsSchema)
    balanced = fields.Boolean()


class ReportAmountLineSchema(Schema):
    account = fields.String(allow_none=True)
    name = fields.String()
    amount = Out()


class ProfitAndLossSchema(Schema):
    date_from = fields.Date()
    as_of = fields.Date()
    income = fields.List(fields.Nested(ReportAmountLineSchema))
    expense = fields.List(fields.Nested(ReportAmountLineSchema))
    total_income = Out()
    total_expense = Out()
    result = Out()


class BalanceSheetSchema(Schema):
    as_of = fields.Date()
    fiscal_year_start = fields.Date()
    assets = fields.List(fields.Nested(ReportAmountLineSchema))
    liabilities = fields.List(fields.Nested(ReportAmountLineSchema))
    equity = fields.List(fields.Nested(ReportAmountLineSchema))
    total_assets = Out()
    total_liabilities = Out()
    total_equity = Out()
    total_liabilities_and_equity = Out()
    current_year_result = Out()
    balanced = fields.Boolean()


class LedgerLineSchema(Schema):
    entry_date = fields.Date()
    number = fields.String(allow_none=True)
    journal = fields.String()
    reference = fields.String()
    account = fields.String()
    description = fields.String(allow_none=True)
    party_id = fields.UUID(allow_none=True)
    due_date = fields.Date(allow_none=True)
    debit = Out()
    credit = Out()
    balance = Out()
    entry_id = fields.UUID()


class GeneralLedgerSchema(Schema):
    account = fields.String()
    name = fields.String()
    type = fields.String()
    date_from = fields.Date(allow_none=True)
    as_of = fields.Date()
    opening_balance = Out()
    total_debit = Out()
    total_credit = Out()
    closing_balance = Out()
    items = fields.List(fields.Nested(LedgerLineSchema))
    total = fields.Integer()
    page = fields.Integer()
    page_size = fields.Integer()
    pages = fields.Integer()
    next_cursor = fields.String(allow_none=True, metadata={
        "description": "Pass it as `after` for the next page (null on the last one)."})


def _aging_amounts() -> dict:
    return {k: Out() for k in (*AGING_BUCKETS, "unapplied", "balance")}


AgingLineSchema = Schema.from_dict({"party_id": fields.UUID(), "name": fields.String(allow_none=True),
                                    **_aging_amounts()}, name="AgingLine")
AgingTotalsSchema = Schema.from_dict(_aging_amounts(), name="AgingTotals")


class AgingSchema(Schema):
    kind = fields.String()
    account = fields.String()
    as_of = fields.Date()
    lines = fields.List(fields.Nested(AgingLineSchema))
    totals = fields.Nested(AgingTotalsSchema)


class PartyStatementSchema(Schema):
    kind = fields.String()
    party_id = fields.UUID()
    name = fields.String(allow_none=True)
    account = fields.String()
    date_from = fields.Date(allow_none=True)
    as_of = fields.Date()
    opening_balance = Out()
    total_debit = Out()
    total_credit = Out()
    closing_balance = Out()
    lines = fields.List(fields.Nested(LedgerLineSchema))
