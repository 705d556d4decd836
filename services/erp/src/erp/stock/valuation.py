"""How stock is valued: moving average and FIFO layers. Pure rules, no I/O (unit-tested).

Every rule returns the change of inventory value it causes, so the value of a product's stock is always the sum of
those changes, and (for FIFO) the sum of the remaining layers. When backorders let the quantity go below zero, the
shortfall is valued at the cost the goods left at; goods that later arrive first settle that shortfall at the same
cost (the difference with their purchase price is a price variance, not inventory value).
"""

from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal

VALUE_PLACES = Decimal("0.0001")
COST_PLACES = Decimal("0.000001")
ZERO = Decimal("0")


class InsufficientStock(Exception):  # noqa: N818 - a business outcome, not a programming error
    """More was asked to leave than is there, and the product does not allow backorders."""

    def __init__(self, available: Decimal, requested: Decimal):
        super().__init__(f"{requested} requested, {available} available")
        self.available = available
        self.requested = requested


def money(value: Decimal) -> Decimal:
    return value.quantize(VALUE_PLACES, rounding=ROUND_HALF_UP)


def unit_cost(value: Decimal) -> Decimal:
    return value.quantize(COST_PLACES, rounding=ROUND_HALF_UP)


def check_positive(quantity: Decimal) -> None:
    if quantity <= 0:
        raise ValueError(f"a quantity moved is positive, not {quantity}")


# -- moving average ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Average:
    """A product's stock under the moving average: quantity, total value and the current unit cost."""

    quantity: Decimal = ZERO
    value: Decimal = ZERO
    unit_cost: Decimal = ZERO


def average_receive(state: Average, quantity: Decimal, cost: Decimal) -> tuple[Average, Decimal]:
    """Goods come in at `cost` each: (new state, value added). The average moves towards the new cost."""
    check_positive(quantity)
    if state.quantity >= 0:
        added = money(quantity * cost)
        new_qty, new_value = state.quantity + quantity, state.value + added
        return Average(new_qty, new_value, unit_cost(new_value / new_qty)), added
    # a shortfall (backorder) left at the current average: the part that settles it is valued at that average
    settles = min(quantity, -state.quantity)
    rest = quantity - settles
    if settles == -state.quantity:
        added = -state.value + money(rest * cost)
    else:
        added = money(settles * state.unit_cost)
    new_qty, new_value = state.quantity + quantity, state.value + added
    new_cost = unit_cost(cost) if rest > 0 else state.unit_cost
    return Average(new_qty, new_value, new_cost), added


def average_issue(state: Average, quantity: Decimal, allow_negative: bool) -> tuple[Average, Decimal]:
    """Goods leave at the current average: (new state, value taken out, as a positive amount)."""
    check_positive(quantity)
    if quantity > state.quantity and not allow_negative:
        raise InsufficientStock(max(state.quantity, ZERO), quantity)
    if 0 < state.quantity <= quantity:
        # the last units carry whatever value is left, so no rounding residue stays behind
        taken = state.value + money((quantity - state.quantity) * state.unit_cost)
    else:
        taken = money(quantity * state.unit_cost)
    return replace(state, quantity=state.quantity - quantity, value=state.value - taken), taken


# -- FIFO ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Layer:
    """What remains of one valuation layer: positive for goods in stock, negative for a backordered shortfall."""

    key: object
    quantity: Decimal
    value: Decimal

    @property
    def unit_cost(self) -> Decimal:
        return unit_cost(self.value / self.quantity) if self.quantity else ZERO


@dataclass(frozen=True)
class FifoOutcome:
    value: Decimal  # the value added (receipt) or taken out (issue), positive
    layers: tuple[Layer, ...]  # every layer still open afterwards, oldest first
    changed: tuple[Layer, ...]  # the existing layers this move changed, as they are now (closed ones at zero)
    new_layer: Layer | None  # the layer this move leaves open, if any


def _take(layer: Layer, quantity: Decimal) -> Decimal:
    """Value of `quantity` units of the layer (all of its value when it is emptied)."""
    if quantity == layer.quantity:
        return layer.value
    return money(quantity * layer.value / layer.quantity)


def fifo_receive(layers: list[Layer], quantity: Decimal, cost: Decimal, key: object) -> FifoOutcome:
    """Goods come in at `cost` each: they first settle shortfalls (oldest first), the rest opens a new layer."""
    check_positive(quantity)
    left, added = quantity, ZERO
    kept, changed = [], []
    for layer in layers:
        if layer.quantity < 0 and left > 0:
            settle = min(left, -layer.quantity)
            value = -_take(layer, -settle) if settle < -layer.quantity else -layer.value
            layer = Layer(layer.key, layer.quantity + settle, layer.value + value)
            added += value
            left -= settle
            changed.append(layer)
        if layer.quantity:
            kept.append(layer)
    new_layer = None
    if left > 0:
        new_layer = Layer(key, left, money(left * cost))
        added += new_layer.value
        kept.append(new_layer)
    return FifoOutcome(added, tuple(kept), tuple(changed), new_layer)


def fifo_issue(layers: list[Layer], quantity: Decimal, allow_negative: bool, fallback_cost: Decimal,
               key: object) -> FifoOutcome:
    """Goods leave from the oldest layers first; a shortfall (backorders only) is valued at the last cost seen."""
    check_positive(quantity)
    on_hand = sum((layer.quantity for layer in layers), ZERO)
    if quantity > on_hand and not allow_negative:
        raise InsufficientStock(max(on_hand, ZERO), quantity)
    left, taken = quantity, ZERO
    last_cost = fallback_cost
    kept, changed = [], []
    for layer in layers:
        if layer.quantity > 0 and left > 0:
            use = min(left, layer.quantity)
            value = _take(layer, use)
            last_cost = layer.unit_cost
            layer = Layer(layer.key, layer.quantity - use, layer.value - value)
            taken += value
            left -= use
            changed.append(layer)
        if layer.quantity:
            kept.append(layer)
    new_layer = None
    if left > 0:
        new_layer = Layer(key, -left, -money(left * last_cost))
        taken += -new_layer.value
        kept.append(new_layer)
    return FifoOutcome(taken, tuple(kept), tuple(changed), new_layer)
