"""An accountant keeps the cheques customers give: a post-dated cheque settles the invoice and waits in the
portfolio, is deposited on its date (not before), clears into the bank; another is endorsed to a supplier and pays
its bill; one bounces and the customer's invoice reopens. Every move posts a balanced entry, a move out of order
is a 409, the maturity ladder shows what falls due when, and the cheques in each state always add up to the
balance of their ledger account."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from erp.cheques.models import ReceivedCheque
from erp.ledger.models import Account, JournalLine
from erp.ledger.reports import trial_balance
from servicekit.testing import assert_problem
from sqlalchemy import func, select

from tests.support import erp_sales as t

pytestmark = pytest.mark.db

TODAY = date.today()
CHEQUES = "/api/v1/cheques"
STATES_IN = {"511200": ("in_portfolio",), "511300": ("deposited_for_collection", "re_presented"),
             "511400": ("given_as_collateral",)}


@pytest.fixture
def sessions(app):
    return app.extensions["erp.db"].sessions


@pytest.fixture
def accountant(as_user):
    return as_user("accountant")


@pytest.fixture
def bank(accountant):
    r = accountant.post("/api/v1/banking/accounts", json={"name": f"Collections {t.tag()}",
                                                          "iban": "FR76 3000 6000 0112 3456 7890 189"})
    assert r.status_code == 201, r.json
    return r.json


@pytest.fixture
def customer(deliver):
    return t.customer(deliver)["id"]


def invoice(client, party_id, total) -> dict:
    r = client.post("/api/v1/invoices", json={"party_id": party_id, "issue": True, "lines": [
        {"description": "Goods", "quantity": "1", "unit_price": total, "tax_rate": "0"}]})
    assert r.status_code == 201, r.json
    return r.json


def receive(client, party_id, amount, due: date, **over) -> dict:
    r = client.post(CHEQUES, json={"party_id": party_id, "number": f"{t.tag()}", "drawer": "Initech SARL",
                                   "drawer_bank": "BNP Paribas", "drawer_branch": "Paris Opera",
                                   "cheque_date": due.isoformat(), "amount": amount, **over})
    assert r.status_code == 201, r.json
    return r.json


def move(client, cheque, to_state, expect=200, **body) -> dict:
    r = client.post(f"{CHEQUES}/{cheque['id']}/moves", json={"to_state": to_state, **body},
                    headers={"If-Match": f'"{cheque["version"]}"'})
    assert r.status_code == expect, r.json
    return r.json


def invoice_state(client, inv) -> tuple[str, str]:
    now = client.get(f"/api/v1/invoices/{inv['id']}").json
    return now["status"], now["balance_due"]


def assert_cheques_agree_with_the_ledger(sessions):
    """The invariant: the cheques in each state add up to the balance of that state's ledger account."""
    with sessions.begin() as s:
        assert trial_balance(s, TODAY + timedelta(days=400))["balanced"]
        for code, states in STATES_IN.items():
            held = s.execute(select(func.coalesce(func.sum(ReceivedCheque.amount), 0))
                             .where(ReceivedCheque.state.in_(states))).scalar_one()
            booked = s.execute(select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0))
                               .join(Account, Account.id == JournalLine.account_id)
                               .where(Account.code == code)).scalar_one()
            assert D(held) == D(booked), (states, held, booked)


def test_a_post_dated_cheque_settles_the_invoice_waits_for_its_date_and_clears_into_the_bank(
        sessions, accountant, bank, customer):
    inv = invoice(accountant, customer, "450.00")
    due = TODAY + timedelta(days=20)
    cheque = receive(accountant, customer, "450.00", due, allocations=[{"document_id": inv["id"],
                                                                         "amount": "450.00"}])
    assert cheque["state"] == "in_portfolio" and cheque["received_on"] == TODAY.isoformat()
    assert invoice_state(accountant, inv) == ("paid", "0.00")
    assert_cheques_agree_with_the_ledger(sessions)
    soon = accountant.get(CHEQUES, query_string={"due_within_days": 30}).json
    assert cheque["id"] in [c["id"] for c in soon]
    assert cheque["id"] not in [c["id"] for c in accountant.get(CHEQUES, query_string={"due_within_days": 5}).json]

    early = move(accountant, cheque, "deposited_for_collection", expect=409, bank_account_id=bank["id"])
    assert early["type"].endswith("post-dated")
    assert_problem(accountant.post(f"{CHEQUES}/{cheque['id']}/moves", json={"to_state": "cleared"},
                                   headers={"If-Match": '"1"'}), 409)
    assert_problem(accountant.post(f"{CHEQUES}/{cheque['id']}/moves", json={"to_state": "cleared"}), 428)
    cheque = move(accountant, cheque, "deposited_for_collection", bank_account_id=bank["id"], on_date=due.isoformat())
    assert_cheques_agree_with_the_ledger(sessions)
    cheque = move(accountant, cheque, "cleared", on_date=(due + timedelta(days=2)).isoformat())
    assert [x["to_state"] for x in cheque["transitions"]] == ["in_portfolio", "deposited_for_collection", "cleared"]
    balance = accountant.get(f"/api/v1/banking/accounts/{bank['id']}/balance",
                             query_string={"as_of": (due + timedelta(days=2)).isoformat()}).json
    assert balance["balance"] == "450.00"
    assert_cheques_agree_with_the_ledger(sessions)


def test_a_bounced_cheque_reopens_the_invoice_is_presented_again_and_after_a_second_bounce_protested(
        sessions, accountant, bank, customer):
    inv = invoice(accountant, customer, "120.00")
    cheque = receive(accountant, customer, "120.00", TODAY, drawer=f"Bouncy {t.tag()}")
    assert invoice_state(accountant, inv) == ("paid", "0.00")
    cheque = move(accountant, cheque, "deposited_for_collection", bank_account_id=bank["id"])
    assert_problem(accountant.post(f"{CHEQUES}/{cheque['id']}/moves", json={"to_state": "bounced"},
                                   headers={"If-Match": f'"{cheque["version"]}"'}), 422, "reason")
    cheque = move(accountant, cheque, "bounced", reason="insufficient funds", bounce_fee="15.00")
    assert invoice_state(accountant, inv) == ("issued", "120.00")
    fees = accountant.get("/api/v1/invoices", query_string={"party_id": customer}).json["items"]
    (fee,) = [f for f in fees if f["id"] != inv["id"]]
    assert (fee["gross_total"], fee["status"]) == ("15.00", "issued")
    assert "bounce fee" in cheque["transitions"][-1]["note"] and cheque["drawer_bounces"] == 1
    receipt = accountant.get(f"/api/v1/payments/{cheque['receipt_payment_id']}").json
    assert receipt["status"] == "bounced"
    risk_now = [d for k, d in t.outbox_events(sessions, customer) if k == "erp.credit.changed"][-1]
    assert (risk_now["cheques_bounced"], risk_now["bounced_total"], risk_now["open_balance"]) == (1, "120.00",
                                                                                                "135.00")
    assert risk_now["last_bounced_at"]  # the CRM shows it on the customer and warns on the next quote
    assert cheque["allowed_moves"] == ["returned", "re_presented", "protested"]
    move(accountant, cheque, "deposited_for_collection", expect=409, bank_account_id=bank["id"])
    cheque = move(accountant, cheque, "re_presented", bank_account_id=bank["id"])
    assert invoice_state(accountant, inv) == ("paid", "0.00")  # the customer pays it again
    assert_cheques_agree_with_the_ledger(sessions)
    cheque = move(accountant, cheque, "bounced", reason="insufficient funds again")
    assert invoice_state(accountant, inv) == ("issued", "120.00")
    risk_now = [d for k, d in t.outbox_events(sessions, customer) if k == "erp.credit.changed"][-1]
    assert (risk_now["cheques_bounced"], risk_now["bounced_total"]) == (2, "240.00")  # presented twice, bounced twice
    cheque = move(accountant, cheque, "protested", note="protest drawn up by the bailiff")
    assert cheque["allowed_moves"] == []
    again = receive(accountant, customer, "10.00", TODAY, drawer=cheque["drawer"], auto_allocate=False)
    assert again["drawer_bounces"] == 2  # the first cheque bounced twice
    (risk,) = accountant.get(f"{CHEQUES}/drawers", query_string={"drawer": cheque["drawer"]}).json
    assert (risk["cheques"], risk["bounced"], risk["bounced_total"], risk["bounce_rate"]) == (2, 1, "120.00", 0.5)
    assert_cheques_agree_with_the_ledger(sessions)


def test_an_endorsed_cheque_pays_the_suppliers_bill_and_its_bounce_reopens_both_sides(
        sessions, accountant, customer, deliver):
    supplier = t.customer(deliver, roles=("supplier",))["id"]
    bill = accountant.post("/api/v1/supplier-bills", json={
        "supplier_id": supplier, "supplier_invoice_number": f"F-{t.tag()}", "bill_date": TODAY.isoformat(),
        "currency": "EUR", "lines": [{"description": "Freight", "quantity": "1", "unit_price": "300",
                                      "tax_rate": "0"}]}).json
    assert accountant.post(f"/api/v1/supplier-bills/{bill['id']}/approve",
                           json={"reason": "freight, no order"}).status_code == 200
    inv = invoice(accountant, customer, "300.00")
    cheque = receive(accountant, customer, "300.00", TODAY + timedelta(days=45))
    cheque = move(accountant, cheque, "endorsed", supplier_id=supplier,
                  bills=[{"bill_id": bill["id"], "amount": "300.00"}])
    paid = accountant.get(f"/api/v1/payments/{cheque['endorsement_payment_id']}").json
    assert paid["direction"] == "out" and paid["allocations"][0]["document_id"] == bill["id"]
    assert_cheques_agree_with_the_ledger(sessions)
    cheque = move(accountant, cheque, "bounced", reason="account closed")
    assert invoice_state(accountant, inv) == ("issued", "300.00")
    assert accountant.get(f"/api/v1/payments/{paid['id']}").json["status"] == "bounced"
    assert_cheques_agree_with_the_ledger(sessions)


def test_the_maturity_ladder_groups_the_cheques_not_yet_cashed_by_week_and_month(accountant, bank, customer):
    currency = "CHF"  # a currency of its own: the ladder totals only this test's cheques
    first = TODAY + timedelta(days=8)
    receive(accountant, customer, "100.00", TODAY - timedelta(days=1), currency=currency, auto_allocate=False)
    receive(accountant, customer, "200.00", first, currency=currency, auto_allocate=False)
    receive(accountant, customer, "300.00", first + timedelta(days=1), currency=currency, auto_allocate=False)
    collateral = receive(accountant, customer, "50.00", first + timedelta(days=40), currency=currency,
                         auto_allocate=False)
    chf = accountant.post("/api/v1/banking/accounts", json={"name": f"CHF {t.tag()}", "currency": "CHF"}).json
    move(accountant, collateral, "given_as_collateral", bank_account_id=chf["id"])
    weekly = accountant.get(f"{CHEQUES}/maturity-ladder", query_string={"by": "week", "currency": currency}).json
    assert weekly["total"] == "650.00"
    assert weekly["periods"][0]["period"] == "due" and weekly["periods"][0]["total"] == "100.00"
    year, week, _ = first.isocalendar()
    key = f"{year}-W{week:02d}"
    same_week = first.isocalendar()[1] == (first + timedelta(days=1)).isocalendar()[1]
    by_key = {p["period"]: p for p in weekly["periods"]}
    assert by_key[key]["total"] == ("500.00" if same_week else "200.00")
    monthly = accountant.get(f"{CHEQUES}/maturity-ladder", query_string={"by": "month", "currency": currency}).json
    later = first + timedelta(days=40)
    assert {p["period"]: p for p in monthly["periods"]}[f"{later.year}-{later.month:02d}"][
        "given_as_collateral"] == "50.00"
    assert sum(D(p["total"]) for p in monthly["periods"]) == D("650.00")


def test_the_cash_position_adds_the_cheques_to_come_week_by_week_to_what_the_accounts_hold(accountant, customer):
    currency = "JPY"  # a currency of its own: only this test's accounts and cheques count
    accountant.post("/api/v1/banking/accounts", json={"name": f"Tokyo {t.tag()}", "currency": currency,
                                                      "opening_balance": "1000.00",
                                                      "opening_date": (TODAY - timedelta(days=3)).isoformat()})
    receive(accountant, customer, "300.00", TODAY + timedelta(days=8), currency=currency, auto_allocate=False)
    receive(accountant, customer, "50.00", TODAY - timedelta(days=2), currency=currency, auto_allocate=False)
    r = accountant.get("/api/v1/banking/cash-position", query_string={"currency": currency, "weeks": 13})
    assert r.status_code == 200, r.json
    position = r.json
    assert position["balance"] == "1000.00" and len(position["weeks"]) == 13
    assert [a["kind"] for a in position["accounts"]] == ["bank"]  # the portfolio is not cash yet
    weeks = {w["week"]: w for w in position["weeks"]}
    assert weeks[1]["cheques"] == "50.00"  # overdue: counted in the first week
    due_week = (TODAY + timedelta(days=8) - (TODAY - timedelta(days=TODAY.weekday()))).days // 7 + 1
    assert weeks[due_week]["cheques"] == "300.00"
    assert position["weeks"][-1]["balance"] == "1350.00"


def test_a_deposit_slip_takes_several_due_cheques_to_the_bank_at_once_and_prints(sessions, accountant, bank,
                                                                                 customer):
    one = receive(accountant, customer, "120.00", TODAY, auto_allocate=False)
    two = receive(accountant, customer, "80.50", TODAY - timedelta(days=3), auto_allocate=False)
    later = receive(accountant, customer, "99.00", TODAY + timedelta(days=10), auto_allocate=False)
    refused = accountant.post(f"{CHEQUES}/deposit-slips", json={"bank_account_id": bank["id"],
                                                                "cheque_ids": [one["id"], later["id"]]})
    assert_problem(refused, 409, "cheque_ids.1")
    assert accountant.get(f"{CHEQUES}/{one['id']}").json["state"] == "in_portfolio"  # nothing moved
    r = accountant.post(f"{CHEQUES}/deposit-slips", json={"bank_account_id": bank["id"],
                                                          "cheque_ids": [one["id"], two["id"]]})
    assert r.status_code == 201, r.json
    slip = r.json
    assert (slip["count"], slip["total"], slip["bank_account_id"]) == (2, "200.50", bank["id"])
    assert {c["state"] for c in slip["cheques"]} == {"deposited_for_collection"}
    printed = accountant.get(f"{CHEQUES}/deposit-slips/{slip['id']}/pdf")
    assert printed.status_code == 200 and printed.mimetype == "application/pdf"
    assert printed.data.startswith(b"%PDF") and len(printed.data) > 800
    assert_cheques_agree_with_the_ledger(sessions)


def test_money_enters_or_leaves_the_portfolio_only_as_a_cheque(sessions, accountant, customer):
    receive(accountant, customer, "10.00", TODAY, auto_allocate=False)
    (portfolio,) = accountant.get("/api/v1/banking/accounts", query_string={"kind": "cheques"}).json[:1]
    assert portfolio["ledger_account_code"] == "511200"
    assert_problem(accountant.post("/api/v1/payments", json={
        "direction": "in", "party_id": customer, "amount": "5.00", "bank_account_id": portfolio["id"]}), 422,
        "bank_account_id")
    assert_problem(accountant.post(f"/api/v1/banking/accounts/{portfolio['id']}/movements", json={
        "kind": "deposit", "amount": "5.00", "counter_account": "101000"}), 422, "bank_account_id")
    assert_problem(accountant.patch(f"/api/v1/banking/accounts/{portfolio['id']}", json={"active": False},
                                    headers={"If-Match": f'"{portfolio["version"]}"'}), 409)
    assert_cheques_agree_with_the_ledger(sessions)
