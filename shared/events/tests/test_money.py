"""The money rule of a document line (CRM quotes, ERP orders and invoices): each line rounded half up to the cent,
totals the sums of the rounded lines."""

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st
from shared_events import money as pricing


def dec(places, lo, hi):
    return st.decimals(min_value=D(lo), max_value=D(hi), places=places, allow_nan=False, allow_infinity=False)


quantities = dec(4, "0.0001", "100000")
prices = dec(4, "0", "1000000")
discounts = dec(2, "0", "100")
rates = dec(4, "0", "0.5")
lines = st.lists(st.tuples(quantities, prices, discounts, rates), max_size=30)


@pytest.mark.parametrize("quantity, price, discount, rate, net, tax", [
    (D("3"), D("19.99"), D("10"), D("0.2"), D("53.97"), D("10.79")),      # 53.973 → 53.97; 10.794 → 10.79
    (D("1"), D("0.125"), D("0"), D("0"), D("0.13"), D("0.00")),           # half up, not half even
    (D("1"), D("0.135"), D("0"), D("0"), D("0.14"), D("0.00")),
    (D("2.5"), D("1200"), D("7.5"), D("0.2"), D("2775.00"), D("555.00")),
    (D("1"), D("10.05"), D("0"), D("0.1"), D("10.05"), D("1.01")),        # 1.005 → 1.01 (no float drift)
    (D("7"), D("99.99"), D("100"), D("0.2"), D("0.00"), D("0.00")),       # free of charge
    (D("0.3333"), D("3"), D("0"), D("0.055"), D("1.00"), D("0.06")),      # 0.9999 → 1.00; 0.055 → 0.06
])
def test_a_line_is_rounded_half_up_to_the_cent(quantity, price, discount, rate, net, tax):
    amounts = pricing.line_amounts(quantity, price, discount, rate)
    assert (amounts.net, amounts.tax, amounts.gross) == (net, tax, net + tax)
    assert amounts.net.as_tuple().exponent == -2 and amounts.tax.as_tuple().exponent == -2


def test_tax_is_computed_on_the_rounded_net_not_on_the_exact_one():
    # exact net 10.005 → 10.01; tax at 50 % on 10.01 is 5.005 → 5.01 (on 10.005 it would be 5.0025 → 5.00)
    assert pricing.line_amounts(D("1"), D("10.005"), D("0"), D("0.5")).tax == D("5.01")


def test_totals_are_the_sums_of_the_rounded_lines():
    # three lines of 0.333… each: a total computed first and rounded once would say 1.00, the lines say 0.99
    third = [pricing.line_amounts(D("1"), D("0.3333"), D("0"), D("0.2")) for _ in range(3)]
    t = pricing.totals(third)
    assert (t.net, t.tax, t.gross) == (D("0.99"), D("0.21"), D("1.20"))


def test_an_empty_quote_is_zero():
    assert pricing.totals([]) == pricing.LineAmounts(D("0.00"), D("0.00"))


@pytest.mark.parametrize("args", [
    (1.5, D("10"), D("0"), D("0.2")),
    (D("1"), 9.99, D("0"), D("0.2")),
    (D("1"), D("10"), 5.0, D("0.2")),
    (D("1"), D("10"), D("0"), 0.2),
    (D("1"), D("10"), D("0"), "0.2"),
])
def test_a_float_never_enters_the_money_rules(args):
    with pytest.raises(TypeError, match="float|str"):
        pricing.line_amounts(*args)


@pytest.mark.parametrize("args, message", [
    ((D("0"), D("10"), D("0"), D("0.2")), "quantity"),
    ((D("-1"), D("10"), D("0"), D("0.2")), "quantity"),
    ((D("1"), D("-0.01"), D("0"), D("0.2")), "unit_price"),
    ((D("1"), D("10"), D("100.01"), D("0.2")), "discount_percent"),
    ((D("1"), D("10"), D("-1"), D("0.2")), "discount_percent"),
    ((D("1"), D("10"), D("0"), D("-0.1")), "tax_rate"),
    ((D("NaN"), D("10"), D("0"), D("0.2")), "quantity"),
])
def test_impossible_terms_are_refused_naming_the_term(args, message):
    with pytest.raises(ValueError, match=message):
        pricing.line_amounts(*args)


def test_decimal_text_never_uses_exponents():
    assert pricing.decimal_text(D("1E+3")) == "1000"
    assert pricing.decimal_text(D("0E-8")) == "0.00000000"
    assert pricing.decimal_text(D("1200.0000")) == "1200.0000"


@given(lines)
def test_totals_equal_the_sum_of_the_lines_and_gross_is_net_plus_tax(terms):
    amounts = [pricing.line_amounts(*t) for t in terms]
    t = pricing.totals(amounts)
    assert t.net == sum((a.net for a in amounts), D("0"))
    assert t.tax == sum((a.tax for a in amounts), D("0"))
    assert t.gross == t.net + t.tax == sum((a.gross for a in amounts), D("0"))
    for value in (t.net, t.tax, t.gross, *(a.net for a in amounts), *(a.tax for a in amounts)):
        assert isinstance(value, D) and value.as_tuple().exponent == -2


@given(quantities, prices, discounts, rates)
def test_a_line_is_within_half_a_cent_of_the_exact_amount(quantity, price, discount, rate):
    amounts = pricing.line_amounts(quantity, price, discount, rate)
    exact_net = quantity * price * (100 - discount) / 100  # Decimal all the way: exact at these sizes
    assert abs(amounts.net - exact_net) <= D("0.005")
    assert abs(amounts.tax - amounts.net * rate) <= D("0.005")
    assert amounts.net >= 0 and amounts.tax >= 0


@given(quantities, prices, rates)
def test_a_discount_never_raises_a_line(quantity, price, rate):
    full = pricing.line_amounts(quantity, price, D("0"), rate)
    discounted = pricing.line_amounts(quantity, price, D("12.5"), rate)
    assert discounted.net <= full.net and discounted.tax <= full.tax
