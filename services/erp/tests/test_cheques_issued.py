"""An accountant writes the company's own cheques to suppliers from a cheque book: each pays the supplier's bill at
once and waits in "cheques issued" until the bank pays it; the bank statement that shows it paid clears it by its
number; a cheque voided reopens the bill. What waits always equals the balance of cheques issued."""

import io
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from erp.cheques.models import IssuedCheque
from erp.ledger.models import Account, JournalLine
from erp.ledger.reports import trial_balance
from servicekit.testing import assert_problem
from sqlalchemy import func, select

from tests.support import bank_statements as bs
from tests.support import erp_sales as t

pytestmark = pytest.mark.db

TODAY = date.today()
IBAN = "DE89370400440532013000"


@pytest.fixture
def sessions(app):
    return app.extensions["erp.db"].sessions


@pytest.fixture
def accountant(as_user):
    return as_user("accountant")


@pytest.fixture
def bank(accountant):
    r = accountant.post("/api/v1/banking/accounts", json={
        "name": f"Payables {t.tag()}", "iban": IBAN, "opening_balance": "5000.00",
        "opening_date": (TODAY - timedelta(days=1)).isoformat()})
    assert r.status_code == 201, r.json
    return r.json


@pytest.fixture
def supplier(deliver):
    return t.customer(deliver, roles=("supplier",))["id"]


def bill(client, supplier, total) -> dict:
    r = client.post("/api/v1/supplier-bills", json={
        "supplier_id": supplier, "supplier_invoice_number": f"F-{t.tag()}", "bill_date": TODAY.isoformat(),
        "currency": "EUR", "lines": [{"description": "Parts", "quantity": "1", "unit_price": total, "tax_rate": "0"}]})
    assert r.status_code == 201, r.json
    assert client.post(f"/api/v1/supplier-bills/{r.json['id']}/approve", json={"reason": "ok"}).status_code == 200
    return r.json


def book(client, bank, first=1000001, last=1000050) -> dict:
    r = client.post("/api/v1/cheques/books", json={"bank_account_id": bank["id"], "first_number": first,
                                                   "last_number": last})
    assert r.status_code == 201, r.json
    return r.json


def write(client, book, supplier, amount, expect=201, **over) -> dict:
    r = client.post("/api/v1/cheques/issued", json={"cheque_book_id": book["id"], "supplier_id": supplier,
                                                    "amount": amount, **over})
    assert r.status_code == expect, r.json
    return r.json


def assert_waiting_equals_cheques_issued(sessions):
    with sessions.begin() as s:
        assert trial_balance(s, TODAY + timedelta(days=400))["balanced"]
        waiting = s.execute(select(func.coalesce(func.sum(IssuedCheque.amount), 0)).where(
            IssuedCheque.state.in_(("issued", "presented")))).scalar_one()
        owed = s.execute(select(func.coalesce(func.sum(JournalLine.credit - JournalLine.debit), 0))
                         .join(Account, Account.id == JournalLine.account_id).where(Account.code == "403000")
                         ).scalar_one()
        assert D(waiting) == D(owed)


def test_a_cheque_pays_the_bill_and_the_statement_that_shows_it_cashed_clears_it_by_number(
        sessions, accountant, bank, supplier):
    parts = bill(accountant, supplier, "730.00")
    chequebook = book(accountant, bank)
    cheque = write(accountant, chequebook, supplier, "730.00", due_date=(TODAY + timedelta(days=9)).isoformat(),
                   bills=[{"bill_id": parts["id"], "amount": "730.00"}])
    assert (cheque["number"], cheque["state"], cheque["allowed_moves"]) == ("1000001", "issued",
                                                                             ["presented", "voided"])
    paid = accountant.get(f"/api/v1/payments/{cheque['payment_id']}").json
    assert paid["direction"] == "out" and paid["allocations"][0]["document_id"] == parts["id"]
    assert_waiting_equals_cheques_issued(sessions)
    ladder = accountant.get("/api/v1/cheques/issued/maturity-ladder", query_string={"by": "month"}).json
    assert D(ladder["total"]) >= D("730.00")
    assert_problem(accountant.post(f"/api/v1/cheques/issued/{cheque['id']}/moves", json={"to_state": "cleared"},
                                   headers={"If-Match": '"1"'}), 409)

    data = bs.camt053(IBAN, 1, "5000.00", [{"amount": "-730.00", "text": "CHQ 1000001"}], TODAY)
    r = accountant.post(f"/api/v1/banking/accounts/{bank['id']}/statements",
                        data={"file": (io.BytesIO(data), "s.xml")}, content_type="multipart/form-data")
    assert r.status_code == 200, r.json
    run = accountant.post(f"/api/v1/banking/accounts/{bank['id']}/auto-reconcile", json={}).json
    assert (run["matched"], run["results"][0]["rule"], run["results"][0]["score"]) == (1, "cheque", 97)
    assert "1000001" in run["results"][0]["explanation"]
    now = [c for c in accountant.get("/api/v1/cheques/issued", query_string={"state": "cleared"}).json
           if c["id"] == cheque["id"]]
    assert now and now[0]["cleared_on"] == TODAY.isoformat()
    report = accountant.get(f"/api/v1/banking/accounts/{bank['id']}/reconciliation-report").json
    assert report["book_balance"] == report["statement_balance"] == "4270.00"
    assert_waiting_equals_cheques_issued(sessions)


def test_a_voided_cheque_reopens_the_bill_and_a_used_up_book_writes_no_more(sessions, accountant, bank, supplier):
    parts = bill(accountant, supplier, "90.00")
    chequebook = book(accountant, bank, first=7, last=7)
    cheque = write(accountant, chequebook, supplier, "90.00", bills=[{"bill_id": parts["id"], "amount": "90.00"}])
    assert cheque["number"] == "7"
    write(accountant, chequebook, supplier, "10.00", expect=409)
    r = accountant.post(f"/api/v1/cheques/issued/{cheque['id']}/moves", json={"to_state": "presented"},
                        headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json["state"] == "presented"
    r = accountant.post(f"/api/v1/cheques/issued/{cheque['id']}/moves", json={"to_state": "voided",
                                                                              "reason": "wrong amount"},
                        headers={"If-Match": '"2"'})
    assert r.status_code == 200 and r.json["state"] == "voided" and r.json["allowed_moves"] == []
    assert accountant.get(f"/api/v1/payments/{cheque['payment_id']}").json["status"] == "bounced"
    again = accountant.post("/api/v1/payments", json={
        "direction": "out", "party_id": supplier, "amount": "90.00", "bank_account_id": bank["id"],
        "allocations": [{"document_id": parts["id"], "amount": "90.00"}]})
    assert again.status_code == 201, again.json  # the bill was open again
    assert_waiting_equals_cheques_issued(sessions)
