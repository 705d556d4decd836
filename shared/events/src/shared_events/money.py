"""The money rule of a document line, the one both services apply (CRM quotes, ERP orders, invoices, credit notes,
purchase orders and supplier bills), and the one the crm.order.v1 contract states so the ERP can check the CRM.

- a line's net  = quantity × unit_price × (1 − discount_percent / 100), rounded half up to the cent;
- a line's tax  = line net × tax_rate (a fraction: 0.2 is 20 %), rounded half up to the cent;
- a line's gross = line net + line tax (both already cents: no further rounding);
- a document's net, tax and gross are the sums of its rounded lines, so a printed document always adds up and
  gross = net + tax exactly. Tax is never recomputed on the total.

Products are computed at 60 significant digits, so nothing is rounded before the one rounding above. A float is
refused, never converted: money never goes through binary floating point. No I/O, no dependencies.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal("0.00")
_PRECISION = 60


def decimal(name: str, value) -> Decimal:
    """`value` as a finite Decimal (a Decimal or an int); TypeError for a float, a string or anything else,
    ValueError for NaN or infinity."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{name} must be a finite number, not {value}")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError(f"{name} must be a Decimal (or int), not {type(value).__name__}: money never goes through float")


def cents(amount) -> Decimal:
    """Round half away from zero to the cent (2.345 → 2.35, −2.345 → −2.35)."""
    return decimal("amount", amount).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


def check_line_terms(quantity, unit_price, discount_percent=0, tax_rate=0) -> None:
    """Raise ValueError naming the term a line cannot have (quantity > 0, price ≥ 0, discount 0–100, tax ≥ 0)."""
    if decimal("quantity", quantity) <= 0:
        raise ValueError("quantity must be greater than 0")
    if decimal("unit_price", unit_price) < 0:
        raise ValueError("unit_price cannot be negative")
    if not 0 <= decimal("discount_percent", discount_percent) <= HUNDRED:
        raise ValueError("discount_percent must be between 0 and 100")
    if decimal("tax_rate", tax_rate) < 0:
        raise ValueError("tax_rate cannot be negative")


def line_net(quantity, unit_price, discount_percent=0) -> Decimal:
    """quantity × unit_price × (1 − discount/100), rounded half up to the cent."""
    q, p = decimal("quantity", quantity), decimal("unit_price", unit_price)
    d = decimal("discount_percent", discount_percent)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return cents(q * p * (HUNDRED - d) / HUNDRED)


def line_tax(net, tax_rate) -> Decimal:
    """The already-rounded line net × tax_rate, rounded half up to the cent."""
    n, r = decimal("net", net), decimal("tax_rate", tax_rate)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return cents(n * r)


def line_amounts(quantity, unit_price, discount_percent=0, tax_rate=0) -> LineAmounts:
    """Net and tax of one line (gross is their sum), after checking its terms."""
    check_line_terms(quantity, unit_price, discount_percent, tax_rate)
    net = line_net(quantity, unit_price, discount_percent)
    return LineAmounts(net, line_tax(net, tax_rate))


def totals(lines: Iterable[LineAmounts]) -> LineAmounts:
    """A document's net and tax: the sums of its rounded lines (an empty document is all zero)."""
    net = tax = ZERO
    for line in lines:
        net += decimal("net", line.net)
        tax += decimal("tax", line.tax)
    return LineAmounts(net, tax)


def tax_by_rate(lines: Iterable[tuple[Decimal, LineAmounts]]) -> dict[Decimal, LineAmounts]:
    """The net and tax of a document per tax rate, from (rate, line amounts) pairs, in rate order: the
    breakdown an invoice prints and a tax return needs. Each rate's figures are sums of rounded lines."""
    out: dict[Decimal, list[LineAmounts]] = {}
    for rate, amounts in lines:
        out.setdefault(decimal("tax_rate", rate).normalize(), []).append(amounts)
    return {rate: totals(out[rate]) for rate in sorted(out)}


def decimal_text(value) -> str:
    """A Decimal as a plain decimal string ("1200.0000", never "1.2E+3"), as the event contracts want."""
    return format(decimal("value", value), "f")


def money_text(value) -> str | None:
    """An amount of money as text in cents ("146.40"), for events and messages; None stays None."""
    return None if value is None else format(cents(value), "f")


def number_text(value) -> str | None:
    """A quantity or unit price as its shortest plain text ("4", "12.5"), never an exponent; None stays None."""
    return None if value is None else format(decimal("value", value).normalize(), "f")
