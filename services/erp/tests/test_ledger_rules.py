"""The ledger's rules without a database: what a valid entry is, reversals, numbering, the lock date, aging, what
stock moves and supplier bills post, and the hash chain's serialization."""

from collections import defaultdict
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from erp.ledger import hashchain, posting
from erp.ledger.posting import PostingLine
from erp.purchasing.postings import BilledAmounts, supplier_bill_lines
from erp.stock.postings import stock_move_lines
from hypothesis import given, settings
from hypothesis import strategies as st
from servicekit.problems import Problem

ACCOUNTS = ("411000", "707000", "445710", "512000", "607000", "receivable")


def refused(lines) -> Problem:
    with pytest.raises(Problem) as caught:
        posting.check_lines(lines)
    return caught.value


def balances(entries) -> dict[str, D]:
    """A trial balance: debit minus credit per account."""
    out = defaultdict(D)
    for lines in entries:
        for line in lines:
            out[line.account] += line.debit - line.credit
    return out


# -- a valid entry -------------------------------------------------------------------------------

def test_an_invoice_entry_balances_and_its_amounts_are_cents():
    lines = posting.check_lines([PostingLine("receivable", debit=D("120"), party_id="p"),
                                 PostingLine("revenue_goods", credit=D("100.00")),
                                 PostingLine(" vat_collected ", credit="20.0")])
    assert [(line.account, line.debit, line.credit) for line in lines] == [
        ("receivable", D("120.00"), D("0.00")), ("revenue_goods", D("0.00"), D("100.00")),
        ("vat_collected", D("0.00"), D("20.00"))]
    assert posting.totals(lines) == (D("120.00"), D("120.00"))


def test_an_unbalanced_entry_is_refused_with_both_totals():
    problem = refused([PostingLine("512000", debit=D("100")), PostingLine("411000", credit=D("99.99"))])
    assert problem.status == 422 and problem.type == "unbalanced-entry"
    assert problem.extensions == {"debit": "100.00", "credit": "99.99"}
    assert "differ by 0.01" in problem.detail


@pytest.mark.parametrize("lines, field", [
    ([], "lines"),
    ([PostingLine("512000", debit=D("1"), credit=D("1"))], "lines.0"),
    ([PostingLine("512000")], "lines.0"),
    ([PostingLine("512000", debit=D("-5")), PostingLine("411000", credit=D("-5"))], "lines.0.debit"),
    ([PostingLine("512000", debit=D("0.001")), PostingLine("411000", credit=D("0.001"))], "lines.0.debit"),
    ([PostingLine("512000", debit=1.5), PostingLine("411000", credit=1.5)], "lines.0.debit"),
    ([PostingLine("512000", debit=D("1")), PostingLine(" ", credit=D("1"))], "lines.1.account"),
    ([PostingLine("512000", debit=D("NaN")), PostingLine("411000", credit=D("1"))], "lines.0.debit"),
])
def test_malformed_lines_are_refused_naming_the_line(lines, field):
    problem = refused(lines)
    assert problem.status == 422 and problem.errors[0]["field"] == field


def test_a_reversal_swaps_debits_and_credits_and_nets_every_account_to_zero():
    entry = posting.check_lines([PostingLine("411000", debit=D("50"), party_id="c", due_date=date(2030, 1, 31)),
                                 PostingLine("707000", credit=D("50"), description="sale")])
    mirror = posting.reversed_lines(entry)
    assert [(m.account, m.debit, m.credit, m.party_id, m.due_date) for m in mirror] == [
        ("411000", D("0"), D("50.00"), "c", date(2030, 1, 31)), ("707000", D("50.00"), D("0"), None, None)]
    assert posting.reversed_lines(mirror) == entry
    assert set(balances([entry, mirror]).values()) == {D("0")}


def test_numbers_are_per_journal_and_calendar_year_with_six_digits():
    assert posting.entry_number("SAL", 2026, 1) == "SAL-2026-000001"
    assert posting.entry_number("GEN", 2027, 1234567) == "GEN-2027-1234567"
    assert posting.fiscal_year(date(2026, 12, 31)) == 2026 and posting.fiscal_year(date(2027, 1, 1)) == 2027


def test_the_lock_date_closes_its_own_day_and_everything_before():
    lock = date(2026, 3, 31)
    assert posting.is_locked(date(2026, 3, 31), lock) and posting.is_locked(date(2025, 12, 1), lock)
    assert not posting.is_locked(date(2026, 4, 1), lock) and not posting.is_locked(date(2000, 1, 1), None)


# -- aging ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("days, bucket", [(-10, "current"), (0, "current"), (1, "days_1_30"), (30, "days_1_30"),
                                          (31, "days_31_60"), (60, "days_31_60"), (61, "days_61_90"),
                                          (90, "days_61_90"), (91, "over_90"), (400, "over_90")])
def test_aging_buckets(days, bucket):
    assert posting.aging_bucket(days) == bucket


def test_payments_settle_the_oldest_items_first():
    items = [(date(2030, 3, 1), D("100")), (date(2030, 1, 1), D("40")), (date(2030, 2, 1), D("60"))]
    assert posting.fifo_open_items(items, D("70")) == [(date(2030, 2, 1), D("30")), (date(2030, 3, 1), D("100"))]
    assert posting.fifo_open_items(items, D("0")) == sorted(items)
    assert posting.fifo_open_items(items, D("500")) == []


# -- what documents post -------------------------------------------------------------------------

def test_stock_moves_post_their_value_between_stock_and_its_counterpart():
    receipt = stock_move_lines("receipt", True, D("123.4567"), party_id="s")
    assert [(line.account, line.debit, line.credit, line.party_id) for line in receipt] == [
        ("stock", D("123.46"), D("0"), None), ("grni", D("0"), D("123.46"), "s")]
    delivery = stock_move_lines("delivery", False, D("-80.004"), party_id="c")
    assert [(line.account, line.debit, line.credit, line.party_id) for line in delivery] == [
        ("cogs", D("80.00"), D("0"), None), ("stock", D("0"), D("80.00"), None)]
    found = stock_move_lines("adjustment", True, D("5"))
    lost = stock_move_lines("adjustment", False, D("-5"))
    assert [(x.account, x.debit > 0) for x in found] == [("stock", True), ("stock_variation", False)]
    assert [(x.account, x.debit > 0) for x in lost] == [("stock_variation", True), ("stock", False)]
    assert stock_move_lines("transfer", False, D("10")) == []
    assert stock_move_lines("receipt", True, D("0.004")) == []
    for lines in (receipt, delivery, found, lost):
        posting.check_lines(lines)


def test_a_supplier_bill_clears_grni_at_the_receipt_value_and_credits_the_supplier():
    due = date(2031, 6, 9)
    lines = supplier_bill_lines([
        BilledAmounts(D("1210.00"), D("242.00"), received_value=D("1199.90")),  # billed above the order's price
        BilledAmounts(D("1.01"), D("0.21"), received_value=D("1.005")),
        BilledAmounts(D("25.00"), D("5.00")),  # a consumable: expensed
    ], D("1483.22"), "supplier-1", due, "BILL-1")
    by_role = {line.account: line for line in lines}
    assert set(by_role) == {"grni", "price_variance", "purchases", "vat_deductible", "payable"}
    assert by_role["grni"].debit == D("1200.91") and by_role["price_variance"].debit == D("10.10")
    assert by_role["purchases"].debit == D("25.00") and by_role["vat_deductible"].debit == D("247.21")
    payable = by_role["payable"]
    assert (payable.credit, payable.party_id, payable.due_date) == (D("1483.22"), "supplier-1", due)
    posting.check_lines(lines)


def test_a_bill_below_the_order_price_credits_price_variance_and_a_stray_cent_goes_to_rounding():
    lines = supplier_bill_lines([BilledAmounts(D("90.00"), D("18.00"), received_value=D("100"))], D("108.01"),
                                        "s", date(2031, 1, 1))
    by_role = {line.account: (line.debit, line.credit) for line in lines}
    assert by_role["price_variance"] == (D("0"), D("10.00")) and by_role["rounding"] == (D("0.01"), D("0"))
    posting.check_lines(lines)


# -- the hash chain ------------------------------------------------------------------------------

def _entry(**over):
    values = {"chain_seq": 1, "id": "e1", "number": "GEN-2030-000001", "journal_id": "j",
              "entry_date": date(2030, 1, 2), "reference": "r", "memo": None, "source_type": "manual",
              "source_id": "e1", "purpose": "main", "reversal_of_id": None, "total": D("10.00"), "posted_by": "a",
              "posted_at": datetime(2030, 1, 2, 10, tzinfo=UTC), "hash": None}
    return SimpleNamespace(**{**values, **over})


def _line(position, **over):
    values = {"position": position, "account_id": f"a{position}", "debit": D("10.00") if position == 1 else D("0"),
              "credit": D("0") if position == 1 else D("10"), "party_id": None, "description": None, "due_date": None,
              "currency": "EUR", "entry_date": date(2030, 1, 2), "journal_id": "j"}
    return hashchain.line_of({**values, **over})


def test_the_chain_hash_covers_every_amount_and_follows_the_previous_hash():
    text = hashchain.canonical(_entry(), [_line(2), _line(1)])
    assert text == hashchain.canonical(_entry(), [_line(1), _line(2)])  # lines in position order
    first = hashchain.chain_hash(hashchain.GENESIS, text)
    assert len(first) == 64
    tampered = hashchain.canonical(_entry(), [_line(1, debit=D("10.01")), _line(2)])
    assert hashchain.chain_hash(hashchain.GENESIS, tampered) != first
    # amounts read back from the database as text hash like the Decimals that were written
    assert hashchain.canonical(_entry(total="10.00"), [_line(1, debit="10.00", credit="0.00"),
                                                       _line(2, debit="0.00", credit="10.00")]) == text
    assert hashchain.chain_hash("f" * 64, text) != first
    # the same instant in another time zone is the same entry
    moved = _entry(posted_at=datetime(2030, 1, 2, 10, tzinfo=UTC).astimezone())
    assert hashchain.canonical(moved, [_line(1), _line(2)]) == text


# -- properties ----------------------------------------------------------------------------------

cents = st.integers(min_value=1, max_value=10**9).map(lambda n: D(n).scaleb(-2))


@st.composite
def balanced_entries(draw):
    """Any set of debits, with credits that split the same total over other lines."""
    debits = draw(st.lists(cents, min_size=1, max_size=6))
    total = sum(debits, D("0"))
    cuts = sorted(draw(st.lists(st.integers(min_value=1, max_value=int(total * 100) - 1), max_size=5, unique=True))
                  ) if total > D("0.01") else []
    bounds = [0, *cuts, int(total * 100)]
    credits = [D(b - a).scaleb(-2) for a, b in zip(bounds, bounds[1:], strict=False)]
    lines = [PostingLine(draw(st.sampled_from(ACCOUNTS)), debit=d) for d in debits]
    lines += [PostingLine(draw(st.sampled_from(ACCOUNTS)), credit=c) for c in credits]
    return draw(st.permutations(lines))


@settings(max_examples=300)
@given(st.lists(balanced_entries(), min_size=1, max_size=8))
def test_any_balanced_entries_post_and_keep_the_trial_balance_at_zero(entries):
    posted = [posting.check_lines(lines) for lines in entries]
    assert sum(balances(posted).values(), D("0")) == 0
    debits = sum((posting.totals(lines)[0] for lines in posted), D("0"))
    credits = sum((posting.totals(lines)[1] for lines in posted), D("0"))
    assert debits == credits
    reversed_too = posted + [posting.check_lines(posting.reversed_lines(lines)) for lines in posted]
    assert set(balances(reversed_too).values()) == {D("0")}


@settings(max_examples=300)
@given(balanced_entries(), st.integers(min_value=0), st.sampled_from([D("0.01"), D("-0.01"), D("1000"), D("-3.5")]))
def test_any_unbalanced_entry_is_refused(lines, index, delta):
    i = index % len(lines)
    line = lines[i]
    changed = replace(line, debit=line.debit + delta) if line.debit else replace(line, credit=line.credit + delta)
    if (changed.debit or changed.credit) <= 0:
        changed = replace(line, debit=line.debit + abs(delta)) if line.debit else replace(line, credit=line.credit
                                                                                         + abs(delta))
    problem = refused([*lines[:i], changed, *lines[i + 1:]])
    assert problem.status == 422 and problem.type == "unbalanced-entry"
