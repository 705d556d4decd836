"""The ledger's pure rules, no I/O (unit-tested): what a valid entry is, how it is reversed and numbered, and which
lines each kind of document posts (stock moves, supplier bills) in terms of account roles."""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation

from servicekit.problems import Problem

from ..money import CENT

ZERO = Decimal("0")
MAX_AMOUNT = Decimal("1e16")

# The posting roles other modules name instead of account codes; ledger_account_mapping says which account each
# one books to (seeded by migration 0007 with the default chart, editable through PATCH /ledger/account-mapping).
ROLES = {
    "receivable": "Customers' unpaid invoices (411000)",
    "payable": "Suppliers' unpaid bills (401000)",
    "revenue_goods": "Sales of goods (707000)",
    "revenue_services": "Sales of services (706000)",
    "vat_collected": "VAT collected on sales (445710)",
    "vat_deductible": "VAT paid on purchases (445660)",
    "bank": "The bank account (512000)",
    "cash": "Cash on hand (530000)",
    "stock": "Goods in stock (310000)",
    "cogs": "Cost of goods sold: the stock value of deliveries (603700)",
    "stock_variation": "Stock adjustments and count differences (603700)",
    "grni": "Goods received not invoiced (408000)",
    "purchases": "Purchases expensed when billed: consumables, services (607000)",
    "price_variance": "Difference between a bill's price and the receipt's value (607000)",
    "customer_credit": "Customers' advances and credits (419000)",
    "supplier_advance": "Advances paid to suppliers (409000)",
    "warranty_cost": "Cost of repairs and replacements under warranty (615000)",
    "warranty_provision": "Warranty provision, if the chart has one: claims are charged to it instead of "
                          "warranty_cost (unmapped by default)",
    "accrued_labour": "Labour of warranty repairs accrued, not yet paid (428600)",
    "warranty_recoverable": "Warranty costs recoverable from suppliers under their back-to-back terms (467100)",
    "rounding": "Rounding differences, charge (658000)",
    "rounding_gain": "Rounding differences, gain (758000)",
    "retained_earnings": "Results of earlier years (120000)",
    "opening_balance": "Opening balance equity (890000)",
    "bank_fees": "Bank charges (627000)",
    "interest_income": "Interest earned on bank accounts (768000)",
    "transfer_in_transit": "Transfers between own accounts, sent and not yet received (580000)",
    "reconciliation_writeoff": "Small differences written off in bank reconciliation (658000)",
    "cheques_in_portfolio": "Cheques received and held (511200)",
    "cheques_at_bank": "Cheques deposited at the bank for collection (511300)",
    "cheques_collateral": "Cheques given as collateral (511400)",
    "cheques_issued": "Our cheques written and not yet cashed by the bank (403000)",
}

NORMAL_SIDE = {"asset": "debit", "expense": "debit", "liability": "credit", "equity": "credit", "income": "credit"}
AGING_BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "over_90")



@dataclass(frozen=True)
class PostingLine:
    """One line as callers describe it: `account` is an account code ("411000") or a role ("receivable").

    Exactly one of debit and credit is above zero, in cents (Decimal, at most 2 places). `party_id` is required on
    accounts flagged party_required (receivables, payables); `due_date` feeds AR/AP aging; `currency` notes the
    document's currency (the ledger itself is kept in the company currency, see ledger_settings).
    """

    account: str
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    party_id: str | None = None
    description: str | None = None
    due_date: date | None = None
    currency: str | None = None


def _problem(detail: str, errors: list[dict], title: str = "Invalid journal entry",
             type_: str = "validation-error", **extensions) -> Problem:
    return Problem(422, title, detail, type_, errors=errors, **extensions)


def _amount(value, field: str) -> Decimal:
    if type(value) is Decimal:  # what callers pass: no round trip through str
        amount = value
    elif isinstance(value, float):
        raise _problem(f"{field}: a Decimal, never a float", [{"field": field, "message": "a Decimal, never a float"}])
    else:
        try:
            amount = Decimal(str(value if value is not None else 0))
        except InvalidOperation:
            raise _problem(f"{field}: not a number", [{"field": field, "message": "not a number"}]) from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        cents = None
    else:
        cents = amount.quantize(CENT)
    if cents is None or cents != amount:
        message = "0 or more, in cents (at most 2 decimal places), below 10^16"
        raise _problem(f"{field}: {message}", [{"field": field, "message": message}])
    return cents


def check_lines(lines: Iterable[PostingLine], field: str = "lines") -> list[PostingLine]:
    """The lines with their amounts normalized to cents; 422 unless each line has exactly one side above zero
    and the debits equal the credits (an entry without lines is refused too)."""
    lines = list(lines)
    if not lines:
        raise _problem("An entry needs lines (at least one debit and one credit).",
                       [{"field": field, "message": "an entry needs lines"}], type_="empty-entry")
    checked = []
    for i, line in enumerate(lines):
        debit, credit = _amount(line.debit, f"{field}.{i}.debit"), _amount(line.credit, f"{field}.{i}.credit")
        if (debit > 0) == (credit > 0):
            message = "exactly one of debit and credit is above zero"
            raise _problem(f"{field}.{i}: {message}", [{"field": f"{field}.{i}", "message": message}])
        if not (line.account or "").strip():
            raise _problem(f"{field}.{i}.account: required", [{"field": f"{field}.{i}.account",
                                                               "message": "required"}])
        checked.append(PostingLine(line.account.strip(), debit, credit, line.party_id, line.description,
                                   line.due_date, line.currency))
    debits, credits = totals(checked)
    if debits != credits:
        raise _problem(f"The debits ({debits}) and the credits ({credits}) differ by {debits - credits}.",
                       [{"field": field, "message": "the debits and the credits must be equal"}],
                       title="Unbalanced journal entry", type_="unbalanced-entry", debit=str(debits),
                       credit=str(credits))
    return checked


def totals(lines: Iterable[PostingLine]) -> tuple[Decimal, Decimal]:
    debits = credits = ZERO
    for line in lines:
        debits += Decimal(line.debit)
        credits += Decimal(line.credit)
    return debits, credits


def reversed_lines(lines: Iterable[PostingLine]) -> list[PostingLine]:
    """The mirror of an entry: every debit becomes a credit and the other way round, parties and dates kept."""
    return [replace(line, debit=line.credit, credit=line.debit) for line in lines]


def fiscal_year(entry_date: date) -> int:
    """Fiscal years are calendar years."""
    return entry_date.year


def entry_number(journal_code: str, year: int, number: int) -> str:
    """SAL-2026-000001: gapless per journal and fiscal year."""
    return f"{journal_code}-{year}-{number:06d}"


def is_locked(entry_date: date, lock_date: date | None) -> bool:
    """Postings dated on or before the lock date belong to a closed period."""
    return lock_date is not None and entry_date <= lock_date


def aging_bucket(days_past_due: int) -> str:
    """current (not yet due), then 1-30, 31-60, 61-90 and over 90 days past due."""
    if days_past_due <= 0:
        return "current"
    if days_past_due <= 30:
        return "days_1_30"
    if days_past_due <= 60:
        return "days_31_60"
    if days_past_due <= 90:
        return "days_61_90"
    return "over_90"


def fifo_open_items(items: list[tuple[date, Decimal]], settled: Decimal) -> list[tuple[date, Decimal]]:
    """What stays open of (due date, amount) items once `settled` is applied to the oldest due first: the rule the
    AR/AP aging applies in SQL (reports.aging), written out here to be tested."""
    out, cumulative = [], ZERO
    for due, amount in sorted(items, key=lambda it: it[0]):
        cumulative += amount
        left = max(ZERO, min(amount, cumulative - settled))
        if left > 0:
            out.append((due, left))
    return out


# -- what documents post -------------------------------------------------------------------------

def lines_from_amounts(amounts: dict[str, Decimal], **common) -> list[PostingLine]:
    """One line per role with a net amount: positive is a debit, negative a credit; zero is left out."""
    return [PostingLine(role, debit=amount if amount > 0 else ZERO, credit=-amount if amount < 0 else ZERO,
                        **common.get(role, {}))
            for role, amount in amounts.items() if amount != 0]
