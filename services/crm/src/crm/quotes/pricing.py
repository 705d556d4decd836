"""The money rules of a quote, as pure functions on Decimal (a float is refused, never converted).

Rounding rule (the one the crm.order.v1 contract states, so the ERP can check it):

- a line's net  = quantity × unit_price × (1 − discount_percent / 100), rounded half up to the cent;
- a line's tax  = line net × tax_rate (a fraction: 0.2 is 20 %), rounded half up to the cent;
- a line's gross = line net + line tax (both already cents: no further rounding);
- the quote's net, tax and gross totals are the sums of the rounded lines, so a printed quote always adds up
  and gross total = net total + tax total exactly. Tax is never recomputed on the total.

The products are computed at 60 significant digits, so no intermediate rounding happens before the one above.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal("0.00")


def _decimal(name: str, value) -> Decimal:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{name} must be a finite number, not {value}")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Decimal(value)
    raise TypeError(f"{name} must be a Decimal (or int), not {type(value).__name__}: money never goes through float")


def round_money(amount: Decimal) -> Decimal:
    """Round half up to the cent (2.345 → 2.35, −2.345 → −2.35)."""
    return _decimal("amount", amount).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineAmounts:
    net: Decimal
    tax: Decimal

    @property
    def gross(self) -> Decimal:
        return self.net + self.tax


@dataclass(frozen=True)
class Totals:
    net: Decimal
    tax: Decimal
    gross: Decimal


def check_line_terms(quantity, unit_price, discount_percent, tax_rate) -> None:
    """Raise ValueError naming the term a line cannot have (quantity > 0, price ≥ 0, discount 0–100, tax ≥ 0)."""
    if _decimal("quantity", quantity) <= 0:
        raise ValueError("quantity must be greater than 0")
    if _decimal("unit_price", unit_price) < 0:
        raise ValueError("unit_price cannot be negative")
    if not 0 <= _decimal("discount_percent", discount_percent) <= HUNDRED:
        raise ValueError("discount_percent must be between 0 and 100")
    if _decimal("tax_rate", tax_rate) < 0:
        raise ValueError("tax_rate cannot be negative")


def line_net(quantity, unit_price, discount_percent=Decimal(0)) -> Decimal:
    """quantity × unit_price × (1 − discount/100), rounded half up to the cent."""
    q, p, d = _decimal("quantity", quantity), _decimal("unit_price", unit_price), _decimal(
        "discount_percent", discount_percent)
    with localcontext() as ctx:
        ctx.prec = 60
        return round_money(q * p * (HUNDRED - d) / HUNDRED)


def line_tax(net, tax_rate) -> Decimal:
    """The already-rounded line net × tax_rate, rounded half up to the cent."""
    n, r = _decimal("net", net), _decimal("tax_rate", tax_rate)
    with localcontext() as ctx:
        ctx.prec = 60
        return round_money(n * r)


def line_amounts(quantity, unit_price, discount_percent, tax_rate) -> LineAmounts:
    """Net and tax of one line, after checking its terms."""
    check_line_terms(quantity, unit_price, discount_percent, tax_rate)
    net = line_net(quantity, unit_price, discount_percent)
    return LineAmounts(net, line_tax(net, tax_rate))


def totals(lines: Iterable[LineAmounts]) -> Totals:
    """The quote's totals: sums of the rounded lines (an empty quote is all zero)."""
    net = tax = ZERO
    for line in lines:
        net += _decimal("net", line.net)
        tax += _decimal("tax", line.tax)
    return Totals(net, tax, net + tax)


def decimal_text(value: Decimal) -> str:
    """A Decimal as a plain decimal string ("1200.0000", never "1.2E+3"), as the event contracts want."""
    return format(_decimal("value", value), "f")
