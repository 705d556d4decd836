"""An accountant records what customers pay and what we pay suppliers: allocated to invoices and bills (as given or
oldest due first), partial payments, overpayments held as credit and applied later, cheques that bounce, and each
party's statement. Every payment is in the ledger, which stays balanced."""

import re
import uuid
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from erp.ledger.models import AccountMapping, JournalLine
from erp.ledger.reports import trial_balance
from sqlalchemy import func, select

from tests.support import erp_sales as t

pytestmark = pytest.mark.db

INVOICES = "/api/v1/invoices"
PAYMENTS = "/api/v1/payments"


@pytest.fixture
def bank(accountant):
    r = accountant.post("/api/v1/bank-accounts", json={"name": f"Main account {t.tag()}",
                                                       "iban": "FR76 3000 6000 0112 3456 7890 189"})
    assert r.status_code == 201, r.json
    return r.json


@pytest.fixture
def customer(deliver):
    return t.customer(deliver)["id"]


def invoice(accountant, party_id, amount: str, days_ago: int = 0, series: str | None = None) -> dict:
    """An issued invoice of `amount` (no tax); older ones (days_ago) go in their own series to keep numbers dated."""
    body = {"party_id": party_id, "issue": True, "lines": [
        {"description": "Services", "quantity": "1", "unit_price": amount, "tax_rate": "0"}]}
    if days_ago:
        body.update(series=series or "B" + uuid.uuid4().hex[:6].upper(),
                    issue_date=(date.today() - timedelta(days=days_ago)).isoformat())
    r = accountant.post(INVOICES, json=body)
    assert r.status_code == 201, r.json
    return r.json


def pay(accountant, bank, party_id, amount: str, expect=201, **over) -> dict:
    body = {"direction": "in", "party_id": party_id, "amount": amount, "bank_account_id": bank["id"], **over}
    r = accountant.post(PAYMENTS, json=body)
    assert r.status_code == expect, r.json
    return r.json


def status(accountant, inv) -> tuple[str, str]:
    now = accountant.get(f"{INVOICES}/{inv['id']}").json
    return now["status"], now["balance_due"]


def ledger_balance(sessions, party_id, *roles) -> D:
    with sessions.begin() as s:
        return s.execute(select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0)).join(
            AccountMapping, AccountMapping.account_id == JournalLine.account_id).where(
            AccountMapping.role.in_(roles), JournalLine.party_id == party_id)).scalar_one()


def assert_books_balance(sessions):
    with sessions.begin() as s:
        assert trial_balance(s, date.today() + timedelta(days=400))["balanced"]


def test_an_invoice_paid_in_two_parts_becomes_partially_paid_then_paid(sessions, accountant, bank, customer):
    inv = invoice(accountant, customer, "100.00")
    r = accountant.post(PAYMENTS, json={"direction": "in", "party_id": customer, "amount": "40.00",
                                        "bank_account_id": bank["id"], "reference": "wire 1",
                                        "allocations": [{"document_id": inv["id"], "amount": "40.00"}]},
                        headers={"Idempotency-Key": t.tag()})
    assert r.status_code == 201, r.json
    first = r.json
    assert re.fullmatch(rf"RC-{date.today().year}-\d{{5,}}", first["number"])
    assert first["unallocated"] == "0.00" and first["allocations"][0]["document_number"] == inv["number"]
    assert status(accountant, inv) == ("partially_paid", "60.00")
    pay(accountant, bank, customer, "60.00")  # oldest due first: this invoice
    assert status(accountant, inv) == ("paid", "0.00")
    assert accountant.get(f"{INVOICES}/{inv['id']}").json["allowed_actions"] == ["credit"]
    events = t.outbox_events(sessions, inv["id"])
    assert [e for e, _ in events] == ["erp.invoice.issued", "erp.invoice.partially_paid", "erp.invoice.paid"]
    assert (events[1][1]["amount_paid"], events[1][1]["balance_due"]) == ("40.00", "60.00")
    (received,) = t.outbox_events(sessions, first["id"])
    assert received[0] == "erp.payment.received" and received[1]["party_balance"] == "60.00"
    lines = {(x.debit, x.credit) for x in _entry(sessions, first["journal_entry_id"])}
    assert lines == {(D("40.00"), D("0")), (D("0"), D("40.00"))}
    assert ledger_balance(sessions, customer, "receivable") == D("0.00")
    assert_books_balance(sessions)


def _entry(sessions, entry_id):
    with sessions.begin() as s:
        return list(s.execute(select(JournalLine).where(JournalLine.entry_id == entry_id)).scalars())


def test_a_payment_without_allocations_settles_the_oldest_due_first(accountant, bank, customer):
    newer = invoice(accountant, customer, "30.00")
    older = invoice(accountant, customer, "50.00", days_ago=20)
    p = pay(accountant, bank, customer, "60.00")
    assert [(a["document_id"], a["amount"]) for a in p["allocations"]] == [(older["id"], "50.00"),
                                                                          (newer["id"], "10.00")]
    assert status(accountant, older) == ("paid", "0.00") and status(accountant, newer) == ("partially_paid", "20.00")


def test_an_overpayment_is_held_as_credit_and_applied_to_a_later_invoice(sessions, accountant, bank, customer):
    inv = invoice(accountant, customer, "70.00")
    p = pay(accountant, bank, customer, "100.00")
    assert p["allocated"] == "70.00" and p["unallocated"] == "30.00"
    assert t.outbox_events(sessions, p["id"])[0][1]["party_balance"] == "-30.00"  # we owe them 30
    assert status(accountant, inv) == ("paid", "0.00")
    assert ledger_balance(sessions, customer, "customer_credit") == D("-30.00")
    nothing = accountant.post(f"{PAYMENTS}/{p['id']}/allocate", json={})
    assert nothing.status_code == 409  # nothing open to apply it to yet

    later = invoice(accountant, customer, "45.00")
    too_much = accountant.post(f"{PAYMENTS}/{p['id']}/allocate", json={"allocations": [
        {"document_id": later["id"], "amount": "40.00"}]})
    assert too_much.status_code == 422 and too_much.json["errors"][0]["field"] == "allocations"
    r = accountant.post(f"{PAYMENTS}/{p['id']}/allocate", json={})
    assert r.status_code == 200, r.json
    assert r.json["unallocated"] == "0.00" and r.json["allocations"][-1]["document_id"] == later["id"]
    assert status(accountant, later) == ("partially_paid", "15.00")
    events = t.outbox_events(sessions, p["id"])
    assert [e for e, _ in events] == ["erp.payment.received", "erp.payment.allocated"]
    assert events[-1][1]["party_balance"] == "15.00" and events[-1][1]["unallocated"] == "0.00"
    assert ledger_balance(sessions, customer, "customer_credit") == D("0.00")
    assert ledger_balance(sessions, customer, "receivable") == D("15.00")
    assert accountant.post(f"{PAYMENTS}/{p['id']}/allocate", json={}).status_code == 409
    assert_books_balance(sessions)


def test_allocations_are_checked_against_the_documents(accountant, bank, customer, deliver):
    inv = invoice(accountant, customer, "20.00")
    other = invoice(accountant, t.customer(deliver)["id"], "20.00")
    over = pay(accountant, bank, customer, "50.00", expect=422,
               allocations=[{"document_id": inv["id"], "amount": "25.00"}])
    assert over["errors"][0]["field"] == "allocations.0.amount"
    foreign = pay(accountant, bank, customer, "5.00", expect=422,
                  allocations=[{"document_id": other["id"], "amount": "5.00"}])
    assert foreign["errors"][0]["field"] == "allocations.0.document_id"
    no_bank = accountant.post(PAYMENTS, json={"direction": "in", "party_id": customer, "amount": "5"})
    assert no_bank.status_code == 422 and no_bank.json["errors"][0]["field"] == "bank_account_id"
    cash = accountant.post(PAYMENTS, json={"direction": "in", "party_id": customer, "amount": "5", "method": "cash",
                                           "auto_allocate": False})
    assert cash.status_code == 201 and cash.json["unallocated"] == "5.00"
    assert status(accountant, inv) == ("issued", "20.00")
    cents = accountant.post(PAYMENTS, json={"direction": "in", "party_id": customer, "amount": "5.001",
                                            "method": "cash"})
    assert cents.status_code == 422 and cents.json["errors"][0]["field"] == "amount"


def test_a_supplier_bill_is_paid_and_the_advance_held(sessions, accountant, bank, deliver):
    supplier = t.customer(deliver, roles=("supplier",))["id"]
    bill = accountant.post("/api/v1/supplier-bills", json={
        "supplier_id": supplier, "supplier_invoice_number": f"F-{t.tag()}", "bill_date": date.today().isoformat(),
        "currency": "EUR", "lines": [{"description": "Freight", "quantity": "1", "unit_price": "200",
                                      "tax_rate": "0.2"}]})
    assert bill.status_code == 201, bill.json
    not_yet = pay(accountant, bank, supplier, "10.00", expect=422, direction="out",
                  allocations=[{"document_id": bill.json["id"], "amount": "10.00"}])
    assert "approved" in not_yet["errors"][0]["message"]
    assert accountant.post(f"/api/v1/supplier-bills/{bill.json['id']}/approve",
                           json={"reason": "no purchase order for freight"}).status_code == 200
    p = pay(accountant, bank, supplier, "250.00", direction="out")
    assert re.fullmatch(rf"PM-{date.today().year}-\d{{5,}}", p["number"])
    assert p["allocations"] == [{**p["allocations"][0], "document_id": bill.json["id"], "amount": "240.00",
                                 "document_type": "supplier_bill"}]
    assert p["unallocated"] == "10.00"
    (made,) = t.outbox_events(sessions, p["id"])
    assert made[0] == "erp.payment.made" and made[1]["party_balance"] == "10.00"  # they owe us the advance
    assert ledger_balance(sessions, supplier, "supplier_advance") == D("10.00")
    assert_books_balance(sessions)


def test_a_bounced_cheque_reverses_its_payment(sessions, accountant, bank, customer):
    inv = invoice(accountant, customer, "80.00")
    no_number = pay(accountant, bank, customer, "80.00", expect=422, method="cheque")
    assert no_number["errors"][0]["field"] == "cheque_number"
    p = pay(accountant, bank, customer, "80.00", method="cheque", cheque_number="0012345", cheque_bank="BNP")
    assert p["cheque_status"] == "received" and status(accountant, inv) == ("paid", "0.00")
    cleared_early = accountant.post(f"{PAYMENTS}/{p['id']}/cheque", json={"status": "cleared"})
    assert cleared_early.status_code == 409
    assert accountant.post(f"{PAYMENTS}/{p['id']}/cheque", json={"status": "deposited"}).status_code == 200
    no_reason = accountant.post(f"{PAYMENTS}/{p['id']}/cheque", json={"status": "bounced"})
    assert no_reason.status_code == 422 and no_reason.json["errors"][0]["field"] == "reason"
    r = accountant.post(f"{PAYMENTS}/{p['id']}/cheque", json={"status": "bounced", "reason": "insufficient funds"})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "bounced" and r.json["allocations"] == [] and r.json["unallocated"] == "0.00"
    assert status(accountant, inv) == ("issued", "80.00")
    assert [e for e, _ in t.outbox_events(sessions, inv["id"])] == ["erp.invoice.issued", "erp.invoice.paid",
                                                                    "erp.invoice.issued"]
    bounced = t.outbox_events(sessions, p["id"])[-1]
    assert bounced[0] == "erp.payment.allocated" and bounced[1]["status"] == "bounced"
    assert bounced[1]["party_balance"] == "80.00"
    assert ledger_balance(sessions, customer, "receivable") == D("80.00")
    assert accountant.post(f"{PAYMENTS}/{p['id']}/allocate", json={}).status_code == 409
    statement = accountant.get(f"/api/v1/parties/{customer}/statement").json
    assert [(x["type"], x["balance"]) for x in statement["lines"]] == [
        ("invoice", "80.00"), ("receipt", "0.00"), ("receipt_bounced", "80.00")]
    assert_books_balance(sessions)


def test_a_partys_statement_runs_its_balance_from_the_opening(sessions, accountant, bank, customer):
    series = "S" + uuid.uuid4().hex[:6].upper()
    old = invoice(accountant, customer, "100.00", days_ago=40, series=series)
    pay(accountant, bank, customer, "30.00", payment_date=(date.today() - timedelta(days=35)).isoformat())
    recent = invoice(accountant, customer, "50.00", days_ago=5, series=series)
    credit = accountant.post(f"{INVOICES}/{recent['id']}/credit-notes", json={"reason": "discount agreed"}).json
    pay(accountant, bank, customer, "20.00")
    r = accountant.get(f"/api/v1/parties/{customer}/statement",
                       query_string={"from": (date.today() - timedelta(days=10)).isoformat()})
    assert r.status_code == 200, r.json
    s = r.json
    assert s["opening_balance"] == "70.00"
    assert [(x["type"], x["number"], x["debit"], x["credit"], x["balance"]) for x in s["lines"]] == [
        ("invoice", recent["number"], "50.00", "0.00", "120.00"),
        ("credit_note", credit["number"], "0.00", "50.00", "70.00"),
        ("receipt", s["lines"][2]["number"], "0.00", "20.00", "50.00")]
    assert s["closing_balance"] == "50.00"
    assert s["open_invoices"] == [{"document_id": old["id"], "number": old["number"], "due_date": old["due_date"],
                                   "balance_due": "50.00", "bucket": "1-30"}]
    assert s["aging"]["1-30"] == "50.00" and s["aging"]["current"] == "0.00"
    # the ledger agrees with the documents
    assert ledger_balance(sessions, customer, "receivable", "customer_credit") == D("50.00")
    assert accountant.get(f"/api/v1/parties/{uuid.uuid4()}/statement").status_code == 404


def test_who_may_see_and_record_payments(as_user, bank, customer):
    purchaser, clerk = as_user("purchaser"), as_user("warehouse_clerk")
    assert purchaser.get(PAYMENTS).status_code == 200
    assert purchaser.post(PAYMENTS, json={}).status_code == 403
    assert clerk.get(PAYMENTS).status_code == 403
    assert as_user("auditor").get(f"/api/v1/parties/{customer}/statement").status_code == 200
    dup = as_user("accountant").post("/api/v1/bank-accounts", json={"name": bank["name"].upper()})
    assert dup.status_code == 409
    assert any(b["id"] == bank["id"] for b in purchaser.get("/api/v1/bank-accounts").json)
