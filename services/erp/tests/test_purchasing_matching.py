"""Purchasing rules without I/O: totals to the cent, the order's state, and the three-way match."""

from decimal import Decimal as D

import pytest
from erp.money import LineAmounts, cents, line_amounts, totals
from erp.purchasing.matching import (
    BilledLine,
    LineProgress,
    Tolerance,
    allowed,
    match_bill,
    match_line,
    state_after_progress,
)

TOL = Tolerance()


# -- money ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("amount, rounded", [("0.005", "0.01"), ("0.0049", "0.00"), ("2.675", "2.68"),
                                             ("-0.005", "-0.01"), ("10", "10.00")])
def test_amounts_round_half_up_to_the_cent(amount, rounded):
    assert cents(D(amount)) == D(rounded)
    assert str(cents(D(amount))) == rounded


def test_a_line_rounds_its_net_then_its_tax():
    # 3 x 0.335 = 1.005 -> 1.01 net; 1.01 x 21 % = 0.2121 -> 0.21 tax
    line = line_amounts(D("3"), D("0.335"), 0, D("0.21"))
    assert line == LineAmounts(D("1.01"), D("0.21")) and line.gross == D("1.22")


def test_document_totals_are_the_sum_of_rounded_lines():
    # each line's tax is 0.005 -> 0.01; tax on the summed net would give 0.02 instead of 0.03
    lines = [line_amounts(D("1"), D("0.05"), 0, D("0.1")) for _ in range(3)]
    assert totals(lines) == LineAmounts(D("0.15"), D("0.03")) and totals(lines).gross == D("0.18")
    assert totals([]) == LineAmounts(D("0.00"), D("0.00"))


def test_fractional_quantities_and_four_decimal_prices():
    assert line_amounts(D("2.5"), D("19.9999"), 0, D("0.2")) == LineAmounts(D("50.00"), D("10.00"))
    assert line_amounts(D("0.3333"), D("3"), 0, D("0")).net == D("1.00")


# -- the order's life cycle ----------------------------------------------------------------------

def test_lines_are_edited_only_in_draft_and_goods_received_only_once_sent():
    assert allowed("edit_lines", "draft") and not allowed("edit_lines", "sent")
    assert allowed("receive", "sent") and allowed("receive", "partially_received")
    assert not allowed("receive", "draft") and not allowed("receive", "received")
    assert allowed("cancel", "partially_received") and not allowed("cancel", "received")
    assert not allowed("bill", "draft") and not allowed("bill", "cancelled")


def test_receipts_move_the_order_from_sent_to_received():
    ten = D("10")
    assert state_after_progress("sent", [LineProgress(ten)]) == "sent"
    assert state_after_progress("sent", [LineProgress(ten, D("4")), LineProgress(ten)]) == "partially_received"
    assert state_after_progress("partially_received", [LineProgress(ten, ten), LineProgress(ten, ten)]) == "received"


def test_a_cancelled_remainder_counts_as_nothing_more_to_come():
    assert state_after_progress("partially_received", [LineProgress(D("10"), D("4"), D("6"))]) == "received"


def test_the_order_is_billed_once_everything_expected_is_on_approved_bills():
    ten = D("10")
    assert state_after_progress("received", [LineProgress(ten, ten, billed_approved=D("9"))]) == "received"
    assert state_after_progress("received", [LineProgress(ten, ten, billed_approved=ten)]) == "billed"
    # approved bills ahead of the goods do not close the order
    assert state_after_progress("sent", [LineProgress(ten, billed_approved=ten)]) == "sent"
    # a cancelled remainder need not be billed
    assert state_after_progress("received", [LineProgress(ten, D("4"), D("6"), D("4"))]) == "billed"


def test_drafts_and_cancelled_orders_keep_their_state():
    assert state_after_progress("draft", [LineProgress(D("1"))]) == "draft"
    assert state_after_progress("cancelled", [LineProgress(D("1"), cancelled=D("1"))]) == "cancelled"


# -- three-way match -----------------------------------------------------------------------------

def po_line(billed_qty, billed_price, ordered="10", price="5.00", received="10", before="0"):
    return BilledLine(D(billed_qty), D(billed_price), D(ordered), D(price), D(received), D(before))


def test_a_bill_for_what_was_received_at_the_order_price_matches():
    m = match_line(po_line("10", "5.00"), TOL)
    assert m.status == "matched" and m.differences == []
    assert (m.ordered_amount, m.received_amount, m.billed_amount) == (D("50.00"), D("50.00"), D("50.00"))


def test_billing_more_than_received_is_flagged():
    m = match_line(po_line("10", "5.00", received="6"), TOL)
    assert m.status == "discrepancy"
    (d,) = m.differences
    assert d.code == "quantity_exceeds_received" and d.expected == D("6") and d.actual == D("10")
    assert "only 6 received of 10 ordered" in d.message


def test_earlier_bills_count_against_what_was_received():
    assert match_line(po_line("4", "5.00", received="10", before="6"), TOL).status == "matched"
    m = match_line(po_line("5", "5.00", received="10", before="6"), TOL)
    assert [d.code for d in m.differences] == ["quantity_exceeds_received"]
    assert m.differences[0].expected == D("4") and "6 already billed before" in m.differences[0].message


def test_a_partial_bill_is_not_a_discrepancy():
    assert match_line(po_line("3", "5.00", received="10"), TOL).status == "matched"


def test_price_within_a_cent_per_unit_matches_beyond_it_is_flagged():
    assert match_line(po_line("10", "5.01"), TOL).status == "matched"
    assert match_line(po_line("10", "4.99"), TOL).status == "matched"
    m = match_line(po_line("10", "5.02"), TOL)
    (d,) = m.differences
    assert d.code == "price_differs" and d.expected == D("5.00") and d.actual == D("5.02")
    assert m.billed_amount == D("50.20")


def test_a_percentage_tolerance_widens_the_band_for_expensive_items():
    tol = Tolerance(per_unit=D("0.01"), percent=D("1"))
    assert match_line(po_line("1", "1010.00", price="1000.00"), tol).status == "matched"
    assert match_line(po_line("1", "1010.01", price="1000.00"), tol).status == "discrepancy"
    # on cheap items the per-unit amount is the larger allowance
    assert match_line(po_line("1", "0.51", price="0.50"), tol).status == "matched"


def test_several_differences_on_one_line_are_all_listed():
    m = match_line(po_line("12", "6.00", received="10"), TOL)
    assert [d.code for d in m.differences] == ["quantity_exceeds_received", "price_differs"]


def test_a_line_without_an_order_is_flagged():
    m = match_line(BilledLine(D("1"), D("25")), TOL)
    assert m.status == "discrepancy" and [d.code for d in m.differences] == ["no_purchase_order"]
    assert m.ordered_amount is None and m.billed_amount == D("25.00")


def test_one_line_off_puts_the_whole_bill_in_discrepancy():
    status, lines = match_bill([po_line("10", "5.00"), po_line("1", "5.50")], TOL)
    assert status == "discrepancy" and [m.status for m in lines] == ["matched", "discrepancy"]
    assert match_bill([po_line("10", "5.00"), po_line("2", "5.00")], TOL)[0] == "matched"
