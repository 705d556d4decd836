"""What stock is worth: the moving average and FIFO rules, by example and by property (no I/O)."""

from decimal import Decimal as D

import pytest
from erp.stock.valuation import (
    Average,
    InsufficientStock,
    Layer,
    average_issue,
    average_receive,
    fifo_issue,
    fifo_receive,
)
from hypothesis import given, settings
from hypothesis import strategies as st

# -- moving average ------------------------------------------------------------------------------


def test_receipts_move_the_average_towards_their_cost():
    state, added = average_receive(Average(), D("10"), D("4"))
    assert added == D("40") and state == Average(D("10"), D("40"), D("4"))
    state, added = average_receive(state, D("30"), D("8"))
    assert added == D("240") and state.quantity == D("40") and state.value == D("280") and state.unit_cost == D("7")


def test_deliveries_leave_at_the_average_and_do_not_change_it():
    state, _ = average_receive(Average(), D("3"), D("10"))
    state, _ = average_receive(state, D("1"), D("11"))  # average 10.25
    state, taken = average_issue(state, D("2"), allow_negative=False)
    assert taken == D("20.5") and state.quantity == D("2") and state.value == D("20.5")
    assert state.unit_cost == D("10.25")


def test_the_last_units_take_whatever_value_is_left():
    state, _ = average_receive(Average(), D("3"), D("1"))
    state, _ = average_receive(state, D("3"), D("2"))  # 9 / 6 = 1.5
    state, _ = average_receive(state, D("1"), D("0.01"))  # 9.01 / 7 = 1.287142857...
    for _ in range(6):
        state, _ = average_issue(state, D("1"), allow_negative=False)
    state, taken = average_issue(state, D("1"), allow_negative=False)
    assert state.quantity == 0 and state.value == 0 and taken > 0


def test_delivering_more_than_on_hand_is_refused_unless_backorders_are_allowed():
    state, _ = average_receive(Average(), D("5"), D("2"))
    with pytest.raises(InsufficientStock) as refused:
        average_issue(state, D("6"), allow_negative=False)
    assert refused.value.available == D("5") and refused.value.requested == D("6")
    state, taken = average_issue(state, D("6"), allow_negative=True)
    assert state.quantity == D("-1") and state.value == D("-2") and taken == D("12")


def test_a_receipt_settles_a_backorder_at_the_cost_it_left_at_then_takes_its_own_cost():
    state = Average(D("-2"), D("-20"), D("10"))
    state, added = average_receive(state, D("5"), D("16"))
    assert added == D("20") + D("48")
    assert state == Average(D("3"), D("48"), D("16"))


# -- FIFO ----------------------------------------------------------------------------------------


def test_fifo_takes_the_oldest_layers_first():
    layers = []
    for key, (qty, cost) in enumerate([(D("10"), D("5")), (D("10"), D("7"))]):
        layers = list(fifo_receive(layers, qty, cost, key).layers)
    out = fifo_issue(layers, D("12"), False, D("0"), "out")
    assert out.value == D("50") + D("14")
    assert out.layers == (Layer(1, D("8"), D("56")),)
    assert [(c.key, c.quantity) for c in out.changed] == [(0, D("0")), (1, D("8"))]


def test_fifo_refuses_to_issue_more_than_the_layers_hold():
    layers = list(fifo_receive([], D("2"), D("3"), "a").layers)
    with pytest.raises(InsufficientStock) as refused:
        fifo_issue(layers, D("3"), False, D("0"), "out")
    assert refused.value.available == D("2")


def test_fifo_shortfall_is_valued_at_the_last_cost_and_settled_by_the_next_receipt():
    layers = list(fifo_receive([], D("2"), D("3"), "a").layers)
    out = fifo_issue(layers, D("5"), True, D("99"), "out")
    assert out.value == D("15") and out.new_layer == Layer("out", D("-3"), D("-9"))
    back = fifo_receive(list(out.layers), D("4"), D("4"), "b")
    assert back.value == D("9") + D("4")
    assert back.layers == (Layer("b", D("1"), D("4")),)


# -- properties ----------------------------------------------------------------------------------

quantities = st.decimals(min_value=D("0.0001"), max_value=D("1000"), places=4)
costs = st.decimals(min_value=D("0"), max_value=D("10000"), places=4)
operations = st.lists(st.one_of(st.tuples(st.just("in"), quantities, costs),
                                st.tuples(st.just("out"), quantities, st.just(D("0")))), max_size=40)


@settings(deadline=None)
@given(operations, st.booleans())
def test_quantity_never_goes_below_zero_unless_allowed(ops, allow_negative):
    avg, layers, expected = Average(), [], D("0")
    for n, (kind, qty, cost) in enumerate(ops):
        if kind == "in":
            avg, _ = average_receive(avg, qty, cost)
            layers = list(fifo_receive(layers, qty, cost, n).layers)
            expected += qty
            continue
        if qty > expected and not allow_negative:
            with pytest.raises(InsufficientStock):
                average_issue(avg, qty, allow_negative)
            with pytest.raises(InsufficientStock):
                fifo_issue(layers, qty, allow_negative, D("1"), n)
            continue
        avg, _ = average_issue(avg, qty, allow_negative)
        layers = list(fifo_issue(layers, qty, allow_negative, D("1"), n).layers)
        expected -= qty
    fifo_qty = sum((layer.quantity for layer in layers), D("0"))
    assert avg.quantity == fifo_qty == expected
    if not allow_negative:
        assert avg.quantity >= 0 and all(layer.quantity > 0 for layer in layers)


@settings(deadline=None)
@given(operations, st.booleans())
def test_valuation_equals_the_sum_of_the_remaining_layers(ops, allow_negative):
    avg, layers = Average(), []
    avg_value, fifo_value = D("0"), D("0")
    for n, (kind, qty, cost) in enumerate(ops):
        try:
            if kind == "in":
                avg, added = average_receive(avg, qty, cost)
                outcome = fifo_receive(layers, qty, cost, n)
                avg_value, fifo_value = avg_value + added, fifo_value + outcome.value
            else:
                avg, taken = average_issue(avg, qty, allow_negative)
                outcome = fifo_issue(layers, qty, allow_negative, D("1"), n)
                avg_value, fifo_value = avg_value - taken, fifo_value - outcome.value
        except InsufficientStock:
            continue
        layers = list(outcome.layers)
        # every layer the move touched is reported with its new remaining state
        assert all(c in layers or c.quantity == 0 for c in outcome.changed)
        assert fifo_value == sum((layer.value for layer in layers), D("0"))
        assert avg_value == avg.value
        if avg.quantity == 0:
            assert avg.value == 0
        if not layers:
            assert fifo_value == 0
        assert all(layer.quantity != 0 for layer in layers)
        if all(layer.value >= 0 for layer in layers):
            assert fifo_value >= 0
