"""Pure money rules of sales documents, no I/O (unit-tested): line amounts, totals, numbers, invoice status."""

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0")
HUNDRED = Decimal("100")


FOUR_PLACES = Decimal("0.0001")


def four_places(value: Decimal | None) -> Decimal | None:
    """Quantities, unit prices, rates and discounts as stored (4 decimal places); validated before, never rounded."""
    return None if value is None else Decimal(value).quantize(FOUR_PLACES)


def cents(amount: Decimal) -> Decimal:
    """An amount rounded to the cent, half away from zero."""
    return Decimal(amount).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    tax: Decimal
    gross: Decimal


def line_amounts(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal = ZERO,
                 tax_rate: Decimal = ZERO) -> LineAmounts:
    """net = quantity x unit price x (1 - discount/100) rounded to the cent; tax = net x rate rounded to the cent;
    gross = net + tax. Rounded per line, so a document's totals are plain sums of its lines."""
    net = cents(Decimal(quantity) * Decimal(unit_price) * (HUNDRED - Decimal(discount_percent)) / HUNDRED)
    tax = cents(net * Decimal(tax_rate))
    return LineAmounts(net, tax, net + tax)


def document_totals(lines: list[LineAmounts]) -> LineAmounts:
    net = sum((a.net for a in lines), ZERO)
    tax = sum((a.tax for a in lines), ZERO)
    return LineAmounts(cents(net), cents(tax), cents(net + tax))


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


AGING_BUCKETS = ("current", "1-30", "31-60", "61-90", "90+")


def aging_bucket(due_date: date | None, on: date) -> str:
    """How late an open amount is on a date: current (not yet due), then 1-30, 31-60, 61-90, 90+ days past due."""
    if due_date is None or on <= due_date:
        return "current"
    late = (on - due_date).days
    if late <= 30:
        return "1-30"
    if late <= 60:
        return "31-60"
    if late <= 90:
        return "61-90"
    return "90+"


def fmt(d: Decimal | None) -> str | None:
    """An amount of money as text in cents ("146.40"), for events and messages."""
    return None if d is None else format(cents(Decimal(d)), "f")


def fmt_number(d: Decimal | None) -> str | None:
    """A quantity or unit price as its shortest plain text ("4", "12.5"), never an exponent."""
    return None if d is None else format(Decimal(d).normalize(), "f")
