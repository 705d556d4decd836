"""The schema fields the ERP's documents share: currencies, amounts, quantities, prices, discounts and tax rates,
each as a decimal string with a bounded number of places. Every package's schemas.py takes them from here."""

from decimal import Decimal

from marshmallow import ValidationError, fields, validate

CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="an ISO 4217 code, e.g. EUR")
AMOUNT = dict(as_string=True)  # an amount answered: a decimal string in cents


def places(n: int, below_power: int | None = None):
    """A validator: at most n decimal places as written ("1.50000" has 5). With below_power, the value must be under
    10^below_power in size instead, and trailing zeros are allowed ("1.50000" is 1.5)."""
    step = Decimal(1).scaleb(-n)

    def check(value: Decimal) -> None:
        if below_power is None:
            if value.as_tuple().exponent < -n:
                raise ValidationError(f"at most {n} decimal places")
        elif abs(value) >= Decimal(10) ** below_power or value != value.quantize(step):
            raise ValidationError(f"at most {n} decimal places and below 10^{below_power}")
    return check


def _decimal(rule: validate.Range, description: str, **kw) -> fields.Decimal:
    kw.setdefault("metadata", {"description": description})
    return fields.Decimal(as_string=True, validate=[rule, places(4)], **kw)


def quantity(**kw) -> fields.Decimal:
    return _decimal(validate.Range(min=0, min_inclusive=False), "> 0, up to 4 decimals", **kw)


def price(**kw) -> fields.Decimal:
    return _decimal(validate.Range(min=0), ">= 0, up to 4 decimals", **kw)


def discount(**kw) -> fields.Decimal:
    return _decimal(validate.Range(min=0, max=100), "0 to 100 (percent off the line)", **kw)


def tax_rate(**kw) -> fields.Decimal:
    return _decimal(validate.Range(min=0, max=1, max_inclusive=False), "0.2 = 20 %", **kw)
