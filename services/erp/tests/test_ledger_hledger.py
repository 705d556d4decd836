"""An independent check of the books: hledger (Debian's package) reads our export and finds, for every account,
the balance our own trial balance reports, to the cent."""

import csv
import io
import shutil
import subprocess
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from erp import cli
from erp.ledger.hledger import account_name

from tests.support import erp_sales as t

pytestmark = pytest.mark.db


def _ok(r, status=201):
    assert r.status_code == status, r.json
    return r.json


def _some_books(accountant, deliver):
    """Invoices with VAT, a partial payment, a manual entry and its reversal."""
    party = t.customer(deliver)["id"]
    bank = _ok(accountant.post("/api/v1/bank-accounts", json={"name": f"Bank {t.tag()}"}))
    for price, qty in (("1234.56", "3"), ("99.99", "7")):
        _ok(accountant.post("/api/v1/invoices", json={"party_id": party, "issue": True, "lines": [
            {"description": "Consulting; day rate", "quantity": qty, "unit_price": price, "tax_rate": "0.2"}]}))
    _ok(accountant.post("/api/v1/payments", json={"direction": "in", "party_id": party, "amount": "1000.01",
                                                  "bank_account_id": bank["id"]}))
    accounts = {a["code"]: a for a in accountant.get("/api/v1/accounts", query_string={"page_size": 200}).json[
        "items"]}
    cash, expense = next(c for c, a in accounts.items() if a["type"] == "asset" and not a["party_required"]), \
        next(c for c, a in accounts.items() if a["type"] == "expense")
    draft = _ok(accountant.post("/api/v1/journal-entries", json={
        "journal": "GEN", "entry_date": date.today().isoformat(), "reference": "Office: supplies", "lines": [
            {"account": expense, "debit": "45.10"}, {"account": cash, "credit": "45.10"}]}))
    posted = _ok(accountant.post(f"/api/v1/journal-entries/{draft['id']}/post"), 200)
    reverse = f"/api/v1/journal-entries/{posted['id']}/reverse"
    _ok(accountant.post(reverse, json={"reason": "Booked twice"}), 201)


def _hledger_balances(journal_file) -> dict[str, D]:
    out = subprocess.run(["hledger", "-f", str(journal_file), "balance", "--flat", "--no-total", "-O", "csv"],
                         capture_output=True, text=True, check=True).stdout
    balances = {}
    for row in list(csv.reader(io.StringIO(out)))[1:]:
        account, amount = row[0], row[1]
        balances[account] = D(amount.split()[0].replace(",", "")) if amount not in ("", "0") else D("0")
    return balances


def test_hledger_finds_every_account_balance_our_trial_balance_reports(accountant, deliver, tmp_path):
    assert shutil.which("hledger"), "hledger is installed by deploy/local/bootstrap.sh"
    _some_books(accountant, deliver)
    as_of = (date.today() + timedelta(days=3650)).isoformat()
    trial = _ok(accountant.get("/api/v1/ledger/reports/trial-balance", query_string={"as_of": as_of}), 200)
    ours = {account_name(line["account"], line["name"]): D(line["debit"]) - D(line["credit"])
            for line in trial["lines"]}
    # the API's export and the operator command write the same journal
    by_api = accountant.get("/api/v1/ledger/export", query_string={"format": "hledger"})
    assert by_api.status_code == 200 and by_api.mimetype == "text/plain"
    exported = tmp_path / "ledger.journal"
    cli.main(["export-ledger", "--output", str(exported)])
    assert exported.read_text() == by_api.get_data(as_text=True)
    theirs = _hledger_balances(exported)
    nonzero = {k: v for k, v in ours.items() if v}
    assert {k: v for k, v in theirs.items() if v} == nonzero
    assert sum(theirs.values()) == 0 and len(nonzero) >= 4
    entries = subprocess.run(["hledger", "-f", str(exported), "print"], capture_output=True, text=True,
                             check=True).stdout.count("\n\n")
    assert entries >= 5
