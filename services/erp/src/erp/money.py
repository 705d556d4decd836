"""Money in the ERP: the line and rounding rule both services share (shared_events.money), and what only the ERP
stores. Sales orders, invoices, credit notes, purchase orders, supplier bills, payments, stock values and the ledger
all round with these functions; none writes its own."""

from decimal import Decimal

from shared_events.money import (  # noqa: F401 - the ERP's one import for money
    CENT,
    ZERO,
    LineAmounts,
    cents,
    line_amounts,
    money_text,
    number_text,
    tax_by_rate,
    totals,
)

FOUR_PLACES = Decimal("0.0001")


def four_places(value: Decimal | None) -> Decimal | None:
    """Quantities, unit prices, rates and discounts as stored (4 decimal places); validated before, never rounded."""
    return None if value is None else Decimal(value).quantize(FOUR_PLACES)
