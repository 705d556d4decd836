"""An accountant opens the company's bank accounts and cash box, records deposits, withdrawals, bank fees and
interest, moves money between the accounts, and reads each account's balance on any day and its movements: every
movement is a balanced entry of the ledger, and each account's balance is its own ledger account's."""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from erp.ledger.models import Account, JournalLine
from erp.ledger.reports import trial_balance
from servicekit.testing import assert_problem
from sqlalchemy import func, select

from tests.support import erp_sales as t

pytestmark = pytest.mark.db

ACCOUNTS = "/api/v1/banking/accounts"
DAY = date(2026, 3, 2)


@pytest.fixture
def sessions(app):
    return app.extensions["erp.db"].sessions


@pytest.fixture
def accountant(as_user):
    return as_user("accountant")


def open_account(client, expect=201, **over) -> dict:
    body = {"name": f"Bank {t.tag()}", "iban": "DE89 3704 0044 0532 0130 00", "bic": "COBADEFFXXX",
            "currency": "EUR", **over}
    r = client.post(ACCOUNTS, json=body)
    assert r.status_code == expect, r.json
    return r.json


def balance(client, account, on: date) -> str:
    r = client.get(f"{ACCOUNTS}/{account['id']}/balance", query_string={"as_of": on.isoformat()})
    assert r.status_code == 200, r.json
    return r.json["balance"]


def move(client, account, kind, amount, on=DAY, expect=201, **over) -> dict:
    r = client.post(f"{ACCOUNTS}/{account['id']}/movements", json={"kind": kind, "amount": amount,
                                                                     "movement_date": on.isoformat(), **over})
    assert r.status_code == expect, r.json
    return r.json


def assert_books_balance(sessions):
    with sessions.begin() as s:
        assert trial_balance(s, date(2027, 12, 31))["balanced"]


def ledger_total(sessions, code: str, on: date) -> D:
    with sessions.begin() as s:
        return s.execute(select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0))
                         .join(Account, Account.id == JournalLine.account_id)
                         .where(Account.code == code, JournalLine.entry_date <= on)).scalar_one()


def test_a_bank_account_opens_with_its_own_ledger_account_and_its_opening_balance_posted(sessions, accountant):
    account = open_account(accountant, iban="de89370400440532013000", opening_balance="1250.40",
                           opening_date="2026-02-28")
    assert account["iban"] == "DE89370400440532013000" and account["bic"] == "COBADEFFXXX"
    assert account["ledger_account"].startswith("512") and account["ledger_account"] != "512000"
    assert balance(accountant, account, date(2026, 2, 27)) == "0.00"
    assert balance(accountant, account, date(2026, 2, 28)) == "1250.40"
    assert ledger_total(sessions, account["ledger_account"], date(2026, 2, 28)) == D("1250.40")
    other = open_account(accountant)
    assert other["ledger_account"] != account["ledger_account"]
    assert_books_balance(sessions)


def test_a_bad_iban_a_foreign_bic_or_a_cash_box_with_an_iban_is_refused_and_nothing_opens(accountant):
    name = f"Refused {t.tag()}"
    assert_problem(accountant.post(ACCOUNTS, json={"name": name, "iban": "DE89 3704 0044 0532 0130 01"}), 422, "iban")
    assert_problem(accountant.post(ACCOUNTS, json={"name": name, "iban": "DE89370400440532013000",
                                                   "bic": "BNPAFRPPXXX"}), 422, "bic")
    assert_problem(accountant.post(ACCOUNTS, json={"name": name, "bic": "NOTABIC!"}), 422, "bic")
    assert_problem(accountant.post(ACCOUNTS, json={"name": name, "kind": "cash", "iban": "DE89370400440532013000"}),
                   422, "iban")
    assert_problem(accountant.post(ACCOUNTS, json={"name": name, "opening_balance": "10.00"}), 422, "opening_date")
    assert name not in [a["name"] for a in accountant.get(ACCOUNTS).json]


def test_deposits_withdrawals_fees_and_interest_post_balanced_entries_and_show_in_the_movement_report(
        sessions, accountant):
    account = open_account(accountant, opening_balance="100.00", opening_date=(DAY - timedelta(days=1)).isoformat())
    move(accountant, account, "deposit", "500.00", counter_account="101000", description="Capital paid in")
    move(accountant, account, "withdrawal", "120.00", on=DAY + timedelta(days=1), counter_account="530000")
    fee = move(accountant, account, "fee", "4.90", on=DAY + timedelta(days=2))
    move(accountant, account, "interest", "0.35", on=DAY + timedelta(days=3))
    assert fee["counter_account"] == "bank_fees" and fee["direction"] == "out"
    assert ledger_total(sessions, "627000", date(2027, 1, 1)) >= D("4.90")
    assert balance(accountant, account, DAY + timedelta(days=1)) == "480.00"
    assert balance(accountant, account, DAY + timedelta(days=3)) == "475.45"

    r = accountant.get(f"{ACCOUNTS}/{account['id']}/movements",
                       query_string={"from": DAY.isoformat(), "to": (DAY + timedelta(days=3)).isoformat()})
    assert r.status_code == 200, r.json
    report = r.json
    assert (report["opening_balance"], report["money_in"], report["money_out"], report["closing_balance"]) == (
        "100.00", "500.35", "124.90", "475.45")
    assert [(x["money_in"], x["money_out"], x["balance"]) for x in report["lines"]] == [
        ("500.00", "0.00", "600.00"), ("0.00", "120.00", "480.00"), ("0.00", "4.90", "475.10"),
        ("0.35", "0.00", "475.45")]
    assert report["lines"][0]["description"] == "Capital paid in"
    assert {x["source_type"] for x in report["lines"]} == {"bank_movement"}
    assert_books_balance(sessions)


def test_a_movement_booked_in_error_is_reversed_with_if_match_and_only_once(sessions, accountant):
    account = open_account(accountant)
    fee = move(accountant, account, "fee", "12.00")
    url = f"/api/v1/banking/movements/{fee['id']}/reverse"
    assert_problem(accountant.post(url, json={}), 428)
    assert_problem(accountant.post(url, json={}, headers={"If-Match": '"7"'}), 412)
    r = accountant.post(url, json={"reversal_date": DAY.isoformat()}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json["status"] == "reversed"
    assert balance(accountant, account, DAY) == "0.00"
    assert_problem(accountant.post(url, json={}, headers={"If-Match": '"2"'}), 409)
    assert_books_balance(sessions)


def test_a_movement_against_its_own_ledger_account_or_without_a_counter_account_is_refused(accountant):
    account = open_account(accountant)
    assert_problem(accountant.post(f"{ACCOUNTS}/{account['id']}/movements", json={
        "kind": "deposit", "amount": "10.00"}), 422, "counter_account")
    assert_problem(accountant.post(f"{ACCOUNTS}/{account['id']}/movements", json={
        "kind": "deposit", "amount": "10.00", "counter_account": account["ledger_account"]}), 422, "counter_account")
    assert_problem(accountant.post(f"{ACCOUNTS}/{account['id']}/movements", json={
        "kind": "deposit", "amount": "10.00", "counter_account": "999999"}), 422, "counter_account")
    assert balance(accountant, account, date(2027, 1, 1)) == "0.00"


def test_a_transfer_the_same_day_is_one_entry_and_a_later_arrival_waits_in_transit(sessions, accountant):
    bank = open_account(accountant, opening_balance="1000.00", opening_date="2026-03-01")
    cash = open_account(accountant, kind="cash", iban=None, bic=None, name=f"Till {t.tag()}")
    assert cash["ledger_account"].startswith("530")
    r = accountant.post("/api/v1/banking/transfers", json={
        "from_account_id": bank["id"], "to_account_id": cash["id"], "amount": "200.00", "sent_on": "2026-03-02"})
    assert r.status_code == 201, r.json
    assert r.json["sent_entry_id"] == r.json["received_entry_id"]
    assert (balance(accountant, bank, DAY), balance(accountant, cash, DAY)) == ("800.00", "200.00")

    savings = open_account(accountant)
    transit_before = ledger_total(sessions, "580000", date(2026, 3, 4))
    r = accountant.post("/api/v1/banking/transfers", json={
        "from_account_id": bank["id"], "to_account_id": savings["id"], "amount": "300.00",
        "sent_on": "2026-03-03", "received_on": "2026-03-05", "reference": "To savings"})
    assert r.status_code == 201, r.json
    assert r.json["sent_entry_id"] != r.json["received_entry_id"]
    on_the_way = date(2026, 3, 4)
    assert (balance(accountant, bank, on_the_way), balance(accountant, savings, on_the_way)) == ("500.00", "0.00")
    assert ledger_total(sessions, "580000", on_the_way) - transit_before == D("300.00")
    assert balance(accountant, savings, date(2026, 3, 5)) == "300.00"
    assert ledger_total(sessions, "580000", date(2026, 3, 5)) == transit_before
    assert_books_balance(sessions)


def test_a_transfer_between_currencies_or_back_in_time_is_refused(accountant):
    eur = open_account(accountant)
    usd = open_account(accountant, currency="USD")
    other = open_account(accountant)
    assert_problem(accountant.post("/api/v1/banking/transfers", json={
        "from_account_id": eur["id"], "to_account_id": usd["id"], "amount": "1.00"}), 422, "to_account_id")
    assert_problem(accountant.post("/api/v1/banking/transfers", json={
        "from_account_id": eur["id"], "to_account_id": other["id"], "amount": "1.00", "sent_on": "2026-03-05",
        "received_on": "2026-03-04"}), 422, "received_on")
    assert balance(accountant, eur, date(2027, 1, 1)) == "0.00"


def test_an_account_is_renamed_and_closed_with_if_match(accountant):
    account = open_account(accountant)
    url = f"{ACCOUNTS}/{account['id']}"
    assert_problem(accountant.patch(url, json={"writeoff_limit": "0.50"}), 428)
    r = accountant.patch(url, json={"writeoff_limit": "0.50", "active": False}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json["writeoff_limit"] == "0.50" and r.json["active"] is False
    assert r.headers["ETag"] == '"2"'
    assert_problem(accountant.post(f"{url}/movements", json={"kind": "fee", "amount": "1.00"}), 422,
                   "bank_account_id")
