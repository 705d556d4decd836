"""The money rules of sales documents, without a database: rounding, numbers, statuses, aging, what they post."""

from datetime import date
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from erp.invoicing.postings import invoice_posting_lines
from erp.invoicing.rules import aging_bucket, document_number, invoice_status
from erp.ledger.posting import check_lines
from erp.money import line_amounts, money_text, number_text, totals
from erp.payments.postings import held_credit_lines, journal_of, payment_posting_lines


@pytest.mark.parametrize(("quantity", "price", "discount", "rate", "expected"), [
    ("3", "0.335", "0", "0.21", ("1.01", "0.21", "1.22")),        # 1.005 rounds half up
    ("1", "99.99", "5", "0.2", ("94.99", "19.00", "113.99")),     # 94.9905 -> 94.99; 18.998 -> 19.00
    ("2", "0.125", "0", "0", ("0.25", "0.00", "0.25")),
    ("1", "0.005", "0", "0", ("0.01", "0.00", "0.01")),           # half a cent goes up, not to even
    ("7", "1.10", "100", "0.2", ("0.00", "0.00", "0.00")),        # a free line
    ("0.5", "10.01", "10", "0.055", ("4.50", "0.25", "4.75")),    # 4.5045 -> 4.50; 0.2475 -> 0.25
])
def test_each_line_rounds_half_up_to_the_cent(quantity, price, discount, rate, expected):
    a = line_amounts(D(quantity), D(price), D(discount), D(rate))
    assert (money_text(a.net), money_text(a.tax), money_text(a.gross)) == expected


def test_document_totals_are_the_sums_of_the_rounded_lines():
    lines = [line_amounts(D("1"), D("0.333"), D("0"), D("0.2")) for _ in range(3)]  # 0.33 + 0.07 each
    doc = totals(lines)
    assert (doc.net, doc.tax, doc.gross) == (D("0.99"), D("0.21"), D("1.20"))


def test_numbers_carry_series_year_and_at_least_five_digits():
    assert document_number("INV", 2026, 1) == "INV-2026-00001"
    assert document_number("CN", 2027, 123456) == "CN-2027-123456"
    with pytest.raises(ValueError):
        document_number("INV", 2026, 0)


def test_text_forms_of_numbers_never_use_exponents():
    assert number_text(D("4.0000")) == "4" and number_text(D("1E+1")) == "10" and number_text(D("12.5000")) == "12.5"
    assert money_text(D("146.4")) == "146.40" and money_text(D("-30")) == "-30.00"


@pytest.mark.parametrize(("paid", "credited", "overdue", "expected"), [
    ("0", "0", False, "issued"), ("40", "0", False, "partially_paid"), ("100", "0", False, "paid"),
    ("0", "100", False, "credited"), ("60", "40", False, "paid"), ("0", "30", False, "issued"),
    ("40", "0", True, "overdue"), ("100", "0", True, "paid"), ("0", "0", True, "overdue"),
])
def test_an_invoice_status_follows_what_settled_it(paid, credited, overdue, expected):
    assert invoice_status(D("100"), D(paid), D(credited), overdue) == expected


@pytest.mark.parametrize(("days_late", "bucket"), [(-5, "current"), (0, "current"), (1, "1-30"), (30, "1-30"),
                                                   (31, "31-60"), (60, "31-60"), (61, "61-90"), (91, "90+")])
def test_open_amounts_age_by_days_past_due(days_late, bucket):
    due = date(2026, 3, 1)
    assert aging_bucket(due, date.fromordinal(due.toordinal() + days_late)) == bucket


def _invoice(kind="invoice"):
    inv = SimpleNamespace(kind=kind, number="INV-2026-00001", customer_name="Acme", party_id="p-1",
                          due_date=date(2026, 2, 1), currency="EUR", net_total=D("130.00"), tax_total=D("26.00"),
                          gross_total=D("156.00"))
    lines = [SimpleNamespace(net=D("50.00"), revenue_kind="goods", description="Widget"),
             SimpleNamespace(net=D("80.00"), revenue_kind="services", description="Install"),
             SimpleNamespace(net=D("0.00"), revenue_kind="goods", description="Free sample")]
    return inv, lines


def test_an_invoice_posts_receivable_against_revenue_by_kind_and_vat():
    inv, lines = _invoice()
    posted = check_lines(invoice_posting_lines(inv, lines))
    assert [(p.account, p.debit, p.credit) for p in posted] == [
        ("receivable", D("156.00"), D("0.00")), ("revenue_goods", D("0.00"), D("50.00")),
        ("revenue_services", D("0.00"), D("80.00")), ("vat_collected", D("0.00"), D("26.00"))]
    assert posted[0].party_id == "p-1" and posted[0].due_date == date(2026, 2, 1)


def test_a_credit_note_posts_the_mirror():
    inv, lines = _invoice("credit_note")
    posted = check_lines(invoice_posting_lines(inv, lines))
    assert [(p.account, p.debit, p.credit) for p in posted] == [
        ("receivable", D("0.00"), D("156.00")), ("revenue_goods", D("50.00"), D("0.00")),
        ("revenue_services", D("80.00"), D("0.00")), ("vat_collected", D("26.00"), D("0.00"))]


def _payment(direction, method="bank_transfer"):
    return SimpleNamespace(direction=direction, method=method, number="RC-2026-00001", reference=None,
                           amount=D("100.00"), party_id="p-1", currency="EUR")


def test_a_receipt_credits_the_receivable_and_holds_the_rest_as_customer_credit():
    posted = check_lines(payment_posting_lines(_payment("in"), "512100", D("70.00")))
    assert [(p.account, p.debit, p.credit) for p in posted] == [
        ("512100", D("100.00"), D("0.00")), ("receivable", D("0.00"), D("70.00")),
        ("customer_credit", D("0.00"), D("30.00"))]
    applied = check_lines(held_credit_lines(_payment("in"), D("30.00")))
    assert [(p.account, p.debit, p.credit) for p in applied] == [
        ("customer_credit", D("30.00"), D("0.00")), ("receivable", D("0.00"), D("30.00"))]


def test_a_supplier_payment_debits_the_payable_and_the_advance():
    posted = check_lines(payment_posting_lines(_payment("out", "cash"), "cash", D("100.00")))
    assert [(p.account, p.debit, p.credit) for p in posted] == [("payable", D("100.00"), D("0.00")),
                                                                  ("cash", D("0.00"), D("100.00"))]
    assert journal_of(_payment("out", "cash")) == "CSH" and journal_of(_payment("in")) == "BNK"
    advance = check_lines(held_credit_lines(_payment("out"), D("10.00")))
    assert [(p.account, p.debit, p.credit) for p in advance] == [("payable", D("10.00"), D("0.00")),
                                                                   ("supplier_advance", D("0.00"), D("10.00"))]
