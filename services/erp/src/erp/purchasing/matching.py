"""Pure purchasing rules, no I/O (unit-tested): the order's life cycle, the three-way match (money: erp.money)."""

from dataclasses import dataclass, field
from decimal import Decimal

from ..money import cents

ZERO = Decimal("0")


# -- the purchase order's life cycle -------------------------------------------------------------

STATES = ("draft", "sent", "partially_received", "received", "billed", "cancelled")

# which states each action may start from
ALLOWED_FROM = {
    "edit_lines": ("draft",),
    "edit": ("draft", "sent", "partially_received"),
    "send": ("draft",),
    "cancel": ("draft", "sent", "partially_received"),
    "receive": ("sent", "partially_received"),
    "bill": ("sent", "partially_received", "received", "billed"),
}


def allowed(action: str, state: str) -> bool:
    return state in ALLOWED_FROM[action]


@dataclass(frozen=True)
class LineProgress:
    """What happened to one order line: ordered, received, cancelled (unreceived remainder) and billed."""

    quantity: Decimal
    received: Decimal = ZERO
    cancelled: Decimal = ZERO
    billed_approved: Decimal = ZERO

    @property
    def expected(self) -> Decimal:
        """What the supplier still owes us plus what came: the ordered quantity less its cancelled part."""
        return self.quantity - self.cancelled

    @property
    def remaining(self) -> Decimal:
        return self.expected - self.received


def state_after_progress(state: str, lines: list[LineProgress]) -> str:
    """The order's state once receipts, remainder cancellations or approved bills moved its lines.

    Draft and cancelled orders stay as they are; otherwise: nothing received yet -> sent, something still
    to come -> partially_received, everything in -> received, and everything in and billed by approved
    bills -> billed.
    """
    if state in ("draft", "cancelled") or not lines:
        return state
    if all(p.remaining <= 0 for p in lines):
        if all(p.billed_approved >= p.expected for p in lines):
            return "billed"
        return "received"
    if any(p.received > 0 for p in lines):
        return "partially_received"
    return "sent"


# -- three-way match -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Tolerance:
    """How far a billed unit price may stray from the order's: the larger of an amount per unit and a percentage."""

    per_unit: Decimal = Decimal("0.01")
    percent: Decimal = ZERO

    def allows(self, ordered_price: Decimal, billed_price: Decimal) -> bool:
        limit = max(self.per_unit, ordered_price * self.percent / 100)
        return abs(billed_price - ordered_price) <= limit


@dataclass(frozen=True)
class BilledLine:
    """One bill line and, when it names an order line, the facts of that line when the bill is checked.

    `previously_billed` is what other (earlier, not rejected) bills already claim for the same order line.
    """

    billed_quantity: Decimal
    billed_unit_price: Decimal
    ordered_quantity: Decimal | None = None
    ordered_unit_price: Decimal | None = None
    received_quantity: Decimal | None = None
    previously_billed: Decimal = ZERO

    @property
    def has_order_line(self) -> bool:
        return self.ordered_quantity is not None


@dataclass(frozen=True)
class Difference:
    code: str  # no_purchase_order | quantity_exceeds_received | price_differs
    message: str
    expected: Decimal | None = None
    actual: Decimal | None = None


@dataclass(frozen=True)
class LineMatch:
    status: str  # matched | discrepancy
    differences: list[Difference] = field(default_factory=list)
    ordered_amount: Decimal | None = None  # ordered quantity x order price
    received_amount: Decimal | None = None  # received quantity x order price
    billed_amount: Decimal = ZERO  # billed quantity x billed price


def _fmt(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


def match_line(line: BilledLine, tolerance: Tolerance) -> LineMatch:
    """Compare what was ordered, what was received and what the supplier bills for one line."""
    billed_amount = cents(line.billed_quantity * line.billed_unit_price)
    if not line.has_order_line:
        return LineMatch("discrepancy", [Difference(
            "no_purchase_order", "billed without a purchase order line: nobody ordered this")],
            billed_amount=billed_amount)
    differences = []
    claimed = line.previously_billed + line.billed_quantity
    if claimed > line.received_quantity:
        already = f" ({_fmt(line.previously_billed)} already billed before)" if line.previously_billed else ""
        differences.append(Difference(
            "quantity_exceeds_received",
            f"billed {_fmt(line.billed_quantity)}{already} but only {_fmt(line.received_quantity)} received "
            f"of {_fmt(line.ordered_quantity)} ordered",
            expected=max(line.received_quantity - line.previously_billed, ZERO), actual=line.billed_quantity))
    if not tolerance.allows(line.ordered_unit_price, line.billed_unit_price):
        differences.append(Difference(
            "price_differs",
            f"billed unit price {_fmt(line.billed_unit_price)} differs from the order's "
            f"{_fmt(line.ordered_unit_price)} by more than the tolerance",
            expected=line.ordered_unit_price, actual=line.billed_unit_price))
    return LineMatch("discrepancy" if differences else "matched", differences,
                     ordered_amount=cents(line.ordered_quantity * line.ordered_unit_price),
                     received_amount=cents(line.received_quantity * line.ordered_unit_price),
                     billed_amount=billed_amount)


def match_bill(lines: list[BilledLine], tolerance: Tolerance) -> tuple[str, list[LineMatch]]:
    """The bill is matched when every line is; one line off puts the whole bill in discrepancy."""
    results = [match_line(line, tolerance) for line in lines]
    status = "matched" if results and all(r.status == "matched" for r in results) else "discrepancy"
    return status, results
