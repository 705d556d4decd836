"""Pure rules of sales documents, no I/O (unit-tested): numbers, invoice status, aging by due date.
Their money rule (line amounts, rounding) is erp.money."""

from datetime import date
from decimal import Decimal

from ..ledger import posting


def document_number(series: str, year: int, n: int) -> str:
    """INV-2026-00042: the series, the fiscal year and the number in it (at least 5 digits)."""
    if n < 1:
        raise ValueError("document numbers start at 1")
    return f"{series}-{year}-{n:05d}"


def invoice_status(gross: Decimal, paid: Decimal, credited: Decimal, overdue: bool) -> str:
    """An issued invoice's status from what settled it: nothing left due -> paid (or credited when credit notes
    took all of it off); otherwise overdue once the overdue job marked it, else partially_paid or issued."""
    if gross - paid - credited <= 0:
        return "credited" if credited >= gross else "paid"
    if overdue:
        return "overdue"
    return "partially_paid" if paid > 0 else "issued"


AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")  # the customer statement's names for them
_NAMES = dict(zip(posting.AGING_BUCKETS, AGING_BUCKETS, strict=True))


def aging_bucket(due_date: date | None, on: date) -> str:
    """How late an open amount is on a date: current (not yet due), then 1-30, 31-60, 61-90, 90+ days past due
    (the ledger's aging rule, ledger.posting.aging_bucket, under the statement's names)."""
    if due_date is None:
        return "current"
    return _NAMES[posting.aging_bucket((on - due_date).days)]
