"""How a stock move enters the valuation: the running value of `stock_products` and the move's valuation layer
(with what remains of it), by the product's method. The rules themselves are in valuation.py."""

from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..catalog.models import Product
from . import valuation
from .models import StockProduct, ValuationLayer


def value_in(session: Session, product: Product, stock: StockProduct, quantity: Decimal, cost: Decimal) -> dict:
    """Take goods into the valuation; returns the move's valuation layer (not yet added)."""
    if product.valuation_method == "fifo":
        outcome = valuation.fifo_receive(_open_layers(session, product.id), quantity, cost, "new")
        return _apply_fifo(session, stock, quantity, outcome.value, outcome)
    state, added = valuation.average_receive(_average(stock), quantity, cost)
    stock.value, stock.average_cost = state.value, state.unit_cost
    return _average_layer(session, product.id, quantity, added, state)


def value_out(session: Session, product: Product, stock: StockProduct, quantity: Decimal) -> dict:
    """Take goods out of the valuation at their cost; returns the move's valuation layer (not yet added).

    Raises valuation.InsufficientStock when the company-wide quantity is short and backorders are off.
    """
    if product.valuation_method == "fifo":
        fallback = stock.average_cost or product.cost
        outcome = valuation.fifo_issue(_open_layers(session, product.id), quantity, product.allow_backorder,
                                       fallback, "new")
        return _apply_fifo(session, stock, -quantity, -outcome.value, outcome)
    state, taken = valuation.average_issue(_average(stock), quantity, product.allow_backorder)
    stock.value = state.value
    return _average_layer(session, product.id, -quantity, -taken, state)


def _average_layer(session: Session, product_id: str, quantity: Decimal, value: Decimal,
                   state: valuation.Average) -> dict:
    """Under the average, the whole position is one pool: the newest layer holds it, so the remaining layers sum
    to the stock's value under either method, and a product switched to FIFO starts from that pool."""
    session.execute(update(ValuationLayer).where(ValuationLayer.product_id == product_id,
                                                 ValuationLayer.remaining_quantity != 0)
                    .values(remaining_quantity=0, remaining_value=0).execution_options(synchronize_session=False))
    return _layer(quantity, value, state.quantity, state.value if state.quantity else Decimal("0"))


def _average(stock: StockProduct) -> valuation.Average:
    return valuation.Average(stock.on_hand, stock.value, stock.average_cost)


def _open_layers(session: Session, product_id: str) -> list[valuation.Layer]:
    rows = session.execute(select(ValuationLayer).where(ValuationLayer.product_id == product_id,
                                                        ValuationLayer.remaining_quantity != 0)
                           .order_by(ValuationLayer.id)).scalars()
    return [valuation.Layer(r.id, r.remaining_quantity, r.remaining_value) for r in rows]


def _apply_fifo(session: Session, stock: StockProduct, quantity: Decimal, value: Decimal,
                outcome: valuation.FifoOutcome) -> dict:
    for changed in outcome.changed:
        layer = session.get(ValuationLayer, changed.key)
        layer.remaining_quantity, layer.remaining_value = changed.quantity, changed.value
    stock.value += value
    on_hand = stock.on_hand + quantity
    if on_hand > 0:
        stock.average_cost = valuation.unit_cost(stock.value / on_hand)
    new = outcome.new_layer
    return _layer(quantity, value, new.quantity if new else Decimal("0"), new.value if new else Decimal("0"))


def _layer(quantity: Decimal, value: Decimal, remaining_quantity: Decimal = Decimal("0"),
           remaining_value: Decimal = Decimal("0")) -> dict:
    return {"quantity": quantity, "value": value, "unit_cost": valuation.unit_cost(abs(value) / abs(quantity)),
            "remaining_quantity": remaining_quantity, "remaining_value": remaining_value}
