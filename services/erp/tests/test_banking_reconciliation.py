"""An accountant imports the day's statement and lets the ERP match it: each line is explained by an invoice's RF
reference or number, the payer's known IBAN, a payer's name that resembles a customer's, several open invoices of
one customer adding up, something already in the books, or a rule of hers; each match shows its rule, score and
reason. She settles the rest by hand (partial payments, small differences written off, rules learnt), undoes a
match, and the bank account's book balance agrees with the statement once every line is matched."""

import io
import random
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from erp.banking.matching import rf_of
from erp.ledger.reports import trial_balance
from servicekit.testing import assert_problem

from tests.support import bank_statements as bs
from tests.support import erp_sales as t

pytestmark = pytest.mark.db

ACCOUNTS = "/api/v1/banking/accounts"
TODAY = date.today()
IBAN = "DE89370400440532013000"


@pytest.fixture
def sessions(app):
    return app.extensions["erp.db"].sessions


@pytest.fixture
def accountant(as_user):
    return as_user("accountant")


@pytest.fixture
def account(accountant):
    r = accountant.post(ACCOUNTS, json={"name": f"Operating {t.tag()}", "iban": IBAN, "opening_balance": "500.00",
                                        "opening_date": (TODAY - timedelta(days=1)).isoformat(),
                                        "writeoff_limit": "0.05"})
    assert r.status_code == 201, r.json
    return r.json


def amount() -> str:
    """An amount no other test's open invoice has, so matching by amount finds only this test's."""
    return f"{random.randint(1000, 899999)}.{random.randint(10, 99)}"


def invoice(client, party_id: str, total: str) -> dict:
    r = client.post("/api/v1/invoices", json={"party_id": party_id, "issue": True, "lines": [
        {"description": "Consulting", "quantity": "1", "unit_price": total, "tax_rate": "0"}]})
    assert r.status_code == 201, r.json
    return r.json


def invoice_state(client, inv) -> tuple[str, str]:
    now = client.get(f"/api/v1/invoices/{inv['id']}").json
    return now["status"], now["balance_due"]


def import_camt(client, account, entries, sequence=1, opening="500.00") -> list[dict]:
    data = bs.camt053(IBAN, sequence, opening, entries, TODAY)
    r = client.post(f"{ACCOUNTS}/{account['id']}/statements", data={"file": (io.BytesIO(data), "s.xml")},
                    content_type="multipart/form-data")
    assert r.status_code == 200, r.get_data(as_text=True)[:400]
    return client.get(f"{ACCOUNTS}/{account['id']}/statement-lines", query_string={"reconciled": "false"}).json


def auto(client, account, min_score=80) -> dict:
    r = client.post(f"{ACCOUNTS}/{account['id']}/auto-reconcile", json={"min_score": min_score})
    assert r.status_code == 200, r.json
    return r.json


def report(client, account) -> dict:
    r = client.get(f"{ACCOUNTS}/{account['id']}/reconciliation-report")
    assert r.status_code == 200, r.json
    return r.json


def assert_books_balance(sessions):
    with sessions.begin() as s:
        assert trial_balance(s, TODAY + timedelta(days=400))["balanced"]


def test_a_days_statement_is_matched_line_by_line_with_the_reason_shown_and_the_balances_agree(
        sessions, accountant, account, deliver):
    tag = t.tag()
    vandelay = bs.customer(deliver, f"Vandelay Industries {tag}")
    kramerica = bs.customer(deliver, f"Kramerica {tag} SARL")
    pendant = bs.customer(deliver, f"Pendant Publishing {tag}")
    by_rf = invoice(accountant, vandelay["id"], amount())
    by_name = invoice(accountant, kramerica["id"], amount())
    batch = [invoice(accountant, pendant["id"], amount()), invoice(accountant, pendant["id"], amount())]
    r = accountant.post("/api/v1/banking/rules", json={"name": f"Bank fees {tag}", "text_contains": f"FEE {tag}",
                                                       "direction": "out", "account": "bank_fees"})
    assert r.status_code == 201, r.json
    deposit = accountant.post(f"{ACCOUNTS}/{account['id']}/movements", json={
        "kind": "deposit", "amount": "1234.56", "counter_account": "101000", "movement_date": TODAY.isoformat()})
    assert deposit.status_code == 201
    batch_total = D(batch[0]["gross_total"]) + D(batch[1]["gross_total"])
    lines = import_camt(accountant, account, [
        {"amount": by_rf["gross_total"], "name": "V. INDUSTRIES", "rf": rf_of(by_rf["number"])},
        {"amount": by_name["gross_total"], "name": f"KRAMERICA {tag.upper()}", "text": "thanks"},
        {"amount": str(batch_total), "name": f"Pendant Publishing {tag}", "text": "two invoices"},
        {"amount": "-4.90", "text": f"ACCOUNT MAINTENANCE FEE {tag}"},
        {"amount": "1234.56", "text": "cash deposit"},
    ])
    assert len(lines) == 5

    run = auto(accountant, account)
    assert (run["matched"], run["left"]) == (5, 0), run["results"]
    rules = [(r["rule"], r["score"] >= 80) for r in run["results"]]
    assert [r for r, _ in rules] == ["reference", "name", "subset", "rule", "book"] and all(ok for _, ok in rules)
    assert by_rf["number"] in run["results"][0]["explanation"]
    assert f"Kramerica {tag} SARL" in run["results"][1]["explanation"]
    for inv in [by_rf, by_name, *batch]:
        assert invoice_state(accountant, inv) == ("paid", "0.00")
    payments = accountant.get("/api/v1/payments", query_string={"bank_account_id": account["id"]}).json["items"]
    assert len(payments) == 3 and {p["method"] for p in payments} == {"bank_transfer"}

    closing = D("500.00") + sum((D(x["amount"]) for x in lines), D("0"))
    rep = report(accountant, account)
    assert (rep["reconciled_lines"], rep["statement_lines"]) == (5, 5)
    assert rep["book_balance"] == rep["statement_balance"] == f"{closing:.2f}"
    assert rep["unreconciled_book_items"] == [] and rep["unreconciled_statement_lines"] == []
    assert_books_balance(sessions)

    # undo the fee: its booking is reversed, the line waits again, and the report explains the difference
    fee = run["results"][3]
    rec = accountant.get(f"/api/v1/banking/reconciliations/{fee['reconciliation_id']}")
    assert_problem(accountant.post(f"/api/v1/banking/reconciliations/{fee['reconciliation_id']}/undo"), 428)
    undone = accountant.post(f"/api/v1/banking/reconciliations/{fee['reconciliation_id']}/undo",
                             headers={"If-Match": rec.headers["ETag"]})
    assert undone.status_code == 200 and undone.json["status"] == "undone"
    rep = report(accountant, account)
    assert (rep["difference"], rep["unreconciled_statement_total"], rep["explained"]) == ("4.90", "-4.90", True)
    assert_books_balance(sessions)
    again = auto(accountant, account)
    assert (again["matched"], again["results"][0]["rule"]) == (1, "rule")
    rep = report(accountant, account)
    assert rep["book_balance"] == rep["statement_balance"] and rep["difference"] == "0.00"
    assert_books_balance(sessions)


def test_two_partial_payments_of_one_invoice_each_make_a_payment_and_the_invoice_ends_paid(
        accountant, account, deliver):
    party = bs.customer(deliver, f"Sheinfeld {t.tag()}")
    inv = invoice(accountant, party["id"], "300.00")
    import_camt(accountant, account, [
        {"amount": "120.00", "name": "Someone", "text": f"part 1 of {inv['number']}"},
        {"amount": "180.00", "name": "Someone", "text": f"{inv['number']} rest"}])
    run = auto(accountant, account)
    assert [(r["rule"], r["score"]) for r in run["results"]] == [("reference", 90), ("reference", 100)]
    assert "partial" in run["results"][0]["explanation"]
    assert invoice_state(accountant, inv) == ("paid", "0.00")
    assert report(accountant, account)["difference"] == "0.00"


def test_a_cent_short_is_written_off_within_the_limit_and_more_is_refused_changing_nothing(
        sessions, accountant, account, deliver):
    party = bs.customer(deliver, f"Costanza {t.tag()}")
    small = invoice(accountant, party["id"], "100.00")
    big = invoice(accountant, party["id"], "200.00")
    lines = import_camt(accountant, account, [
        {"amount": "99.98", "name": "G Costanza", "text": small["number"]},
        {"amount": "199.00", "name": "G Costanza", "text": "no reference"}])
    run = auto(accountant, account)
    assert run["results"][0]["matched"] and "written off" in run["results"][0]["explanation"]
    assert invoice_state(accountant, small) == ("paid", "0.00")

    url = f"/api/v1/banking/statement-lines/{lines[1]['id']}/reconcile"
    problem = assert_problem(accountant.post(url, json={"invoices": [{"invoice_id": big["id"], "amount": "200.00"}],
                                                        "write_off": True}), 422, "amount")
    assert "0.05" in problem["detail"]
    assert_problem(accountant.post(url, json={"invoices": [{"invoice_id": big["id"], "amount": "250.00"}]}), 422,
                   "invoices.0.amount")
    assert invoice_state(accountant, big) == ("issued", "200.00")
    r = accountant.post(url, json={"invoices": [{"invoice_id": big["id"], "amount": "199.00"}]})
    assert r.status_code == 201, r.json
    assert invoice_state(accountant, big) == ("partially_paid", "1.00")
    assert_problem(accountant.post(url, json={"invoices": [{"invoice_id": big["id"], "amount": "1.00"}]}), 409)
    rep = report(accountant, account)
    assert rep["difference"] == "0.00" and rep["reconciled_lines"] == 2
    assert_books_balance(sessions)


def test_a_payers_iban_is_learnt_and_recognises_the_next_payment_and_a_manual_booking_becomes_a_rule(
        accountant, account, deliver):
    tag = t.tag()
    party = bs.customer(deliver, f"Pennypacker {tag}")
    first, second = invoice(accountant, party["id"], amount()), invoice(accountant, party["id"], amount())
    payer_iban = bs.fresh_iban()
    lines = import_camt(accountant, account, [
        {"amount": first["gross_total"], "name": "H.E. Pennypacker", "iban": payer_iban, "text": first["number"]},
        {"amount": second["gross_total"], "name": "Mr P", "iban": payer_iban, "text": "thanks"},
        {"amount": "-89.00", "name": f"Telco {tag}", "text": "monthly line"}])
    run = auto(accountant, account, min_score=95)
    # the first line teaches the IBAN, and the same run already recognises the second payment by it
    assert [(r["rule"], r["score"], r["matched"]) for r in run["results"][:2]] == [("reference", 100, True),
                                                                                  ("iban", 95, True)]
    assert payer_iban in run["results"][1]["explanation"] and invoice_state(accountant, second)[0] == "paid"

    r = accountant.post(f"/api/v1/banking/statement-lines/{lines[2]['id']}/reconcile", json={
        "account_lines": [{"account": "607000", "amount": "89.00"}], "learn_rule": True})
    assert r.status_code == 201, r.json
    assert any(x["counterparty_contains"] == f"Telco {tag}" and x["account"] == "607000"
               for x in accountant.get("/api/v1/banking/rules").json)
    nxt = import_camt(accountant, account, [{"amount": "-89.00", "name": f"Telco {tag}", "text": "next month"}],
                      sequence=2, opening=report(accountant, account)["statement_balance"])
    (telco,) = [x for x in nxt if x["counterparty_name"] == f"Telco {tag}"]
    best = accountant.get(f"/api/v1/banking/statement-lines/{telco['id']}/proposals").json["proposals"][0]
    assert best["rule"] == "rule" and best["account"] == "607000"


def test_a_line_cannot_be_matched_with_a_ledger_line_of_another_account_or_one_already_matched(
        accountant, account):
    other = accountant.post(ACCOUNTS, json={"name": f"Other {t.tag()}"}).json
    foreign = accountant.post(f"{ACCOUNTS}/{other['id']}/movements", json={
        "kind": "deposit", "amount": "10.00", "counter_account": "101000"}).json
    lines = import_camt(accountant, account, [{"amount": "10.00", "text": "x"}, {"amount": "10.00", "text": "y"}])
    movements = accountant.get(f"{ACCOUNTS}/{other['id']}/movements",
                               query_string={"from": TODAY.isoformat(), "to": TODAY.isoformat()}).json["lines"]
    (foreign_line,) = [m["journal_line_id"] for m in movements if m["source_id"] == foreign["id"]]
    assert_problem(accountant.post(f"/api/v1/banking/statement-lines/{lines[0]['id']}/reconcile",
                                   json={"journal_line_ids": [foreign_line]}), 422, "journal_line_ids.0")
    mine = accountant.post(f"{ACCOUNTS}/{account['id']}/movements", json={
        "kind": "deposit", "amount": "10.00", "counter_account": "101000"}).json
    own = [m["journal_line_id"] for m in accountant.get(f"{ACCOUNTS}/{account['id']}/movements", query_string={
        "from": TODAY.isoformat(), "to": TODAY.isoformat()}).json["lines"] if m["source_id"] == mine["id"]]
    ok = accountant.post(f"/api/v1/banking/statement-lines/{lines[0]['id']}/reconcile",
                         json={"journal_line_ids": own})
    assert ok.status_code == 201 and ok.json["rule"] == "manual"
    assert_problem(accountant.post(f"/api/v1/banking/statement-lines/{lines[1]['id']}/reconcile",
                                   json={"journal_line_ids": own}), 409, "journal_line_ids.0")


def test_a_ledger_line_id_beyond_any_number_is_a_422_not_a_server_error(accountant, account):
    (line,) = import_camt(accountant, account, [{"amount": "5.00", "text": "x"}])
    assert_problem(accountant.post(f"/api/v1/banking/statement-lines/{line['id']}/reconcile",
                                   json={"journal_line_ids": [2**70]}), 422, "journal_line_ids.0")


def test_a_transfer_to_a_supplier_quoting_its_invoice_number_pays_the_bill(sessions, accountant, account, deliver):
    supplier = t.customer(deliver, roles=("supplier",))["id"]
    theirs = f"FAC-{t.tag().upper()}"
    total = amount()
    bill = accountant.post("/api/v1/supplier-bills", json={
        "supplier_id": supplier, "supplier_invoice_number": theirs, "bill_date": TODAY.isoformat(),
        "currency": "EUR", "lines": [{"description": "Toner", "quantity": "1", "unit_price": total,
                                      "tax_rate": "0"}]}).json
    assert accountant.post(f"/api/v1/supplier-bills/{bill['id']}/approve", json={"reason": "ok"}).status_code == 200
    import_camt(accountant, account, [{"amount": f"-{total}", "name": "Toner Supplies", "text": f"Invoice {theirs}"}],
                opening="500.00")
    run = auto(accountant, account)
    assert (run["matched"], run["results"][0]["rule"], run["results"][0]["score"]) == (1, "reference", 100)
    payments = accountant.get("/api/v1/payments", query_string={"bank_account_id": account["id"],
                                                                 "direction": "out"}).json["items"]
    assert payments[0]["allocations"][0]["document_id"] == bill["id"] and payments[0]["amount"] == total
    assert report(accountant, account)["difference"] == "0.00"
    assert_books_balance(sessions)


def test_payments_to_a_supplier_are_matched_to_its_bills_by_reference_iban_name_and_batch_through_payments(
        sessions, accountant, account, deliver):
    tag = t.tag()
    name = f"Zorblax Hydraulics {tag}"
    supplier = bs.customer(deliver, name, roles=("supplier",))["id"]

    def bill(total: str, theirs: str) -> dict:
        created = accountant.post("/api/v1/supplier-bills", json={
            "supplier_id": supplier, "supplier_invoice_number": theirs, "bill_date": TODAY.isoformat(),
            "currency": "EUR", "lines": [{"description": "Pumps", "quantity": "1", "unit_price": total,
                                          "tax_rate": "0"}]}).json
        assert accountant.post(f"/api/v1/supplier-bills/{created['id']}/approve",
                               json={"reason": "ok"}).status_code == 200
        return created

    bills = [bill(amount(), f"ZH-{tag}-{n}") for n in range(5)]
    totals = [D(b["total"]) for b in bills]
    supplier_iban = bs.fresh_iban()
    lines = import_camt(accountant, account, [
        {"amount": f"-{totals[0]}", "name": "Zorblax", "iban": supplier_iban, "text": f"Rechnung ZH-{tag}-0"},
        {"amount": f"-{totals[1]}", "name": "ZBX", "iban": supplier_iban, "text": "payment run 12"},
        {"amount": f"-{totals[2] + totals[3]}", "name": name, "text": "payment run 13"},
        {"amount": f"-{totals[4]}", "name": f"{name.upper()} GMBH", "text": "payment run 14"}])
    run = auto(accountant, account)
    assert [(r["matched"], r["rule"]) for r in run["results"]] == [
        (True, "reference"), (True, "iban"), (True, "subset"), (True, "name")], run["results"]
    assert "ZH" in run["results"][0]["explanation"] and supplier_iban in run["results"][1]["explanation"]
    paid = accountant.get("/api/v1/payments", query_string={"bank_account_id": account["id"], "direction": "out"}
                          ).json["items"]
    allocated = {a["document_id"]: D(a["amount"]) for p in paid for a in p["allocations"]}
    assert allocated == {b["id"]: total for b, total in zip(bills, totals, strict=True)}
    assert {p["party_id"] for p in paid} == {supplier} and len(paid) == 4
    again = accountant.get(f"/api/v1/banking/statement-lines/{lines[2]['id']}/proposals").json
    assert again["proposals"] == [] and again["line"]["reconciled"] is True
    assert report(accountant, account)["difference"] == "0.00"
    assert_books_balance(sessions)


def test_a_rule_with_a_tax_rate_books_the_net_to_its_account_and_the_tax_to_vat_balanced_to_the_cent(
        sessions, accountant, account):
    tag = t.tag()
    r = accountant.post("/api/v1/banking/rules", json={
        "name": f"Phone {tag}", "counterparty_contains": f"Telco {tag}", "direction": "out", "account": "607000",
        "tax_rate": "0.2"})
    assert r.status_code == 201 and r.json["tax_rate"] == "0.2000", r.json
    lines = import_camt(accountant, account, [{"amount": "-89.99", "name": f"Telco {tag}", "text": "March"},
                                              {"amount": "-120.00", "name": f"Telco {tag}", "text": "April"}])
    proposal = accountant.get(f"/api/v1/banking/statement-lines/{lines[0]['id']}/proposals").json["proposals"][0]
    assert (proposal["rule"], proposal["tax_rate"]) == ("rule", "0.2000") and "20% tax" in proposal["explanation"]
    run = auto(accountant, account)
    assert run["matched"] == 2, run["results"]
    booked = []
    for result in run["results"]:
        rec = accountant.get(f"/api/v1/banking/reconciliations/{result['reconciliation_id']}").json
        (found,) = accountant.get("/api/v1/journal-entries", query_string={
            "source_type": "bank_movement", "source_id": rec["movement_ids"][0]}).json["items"]
        entry = accountant.get(f"/api/v1/journal-entries/{found['id']}").json
        booked.append({"bank" if x["account"] == account["ledger_account"] else x["account"]:
                       (D(x["debit"]), D(x["credit"])) for x in entry["lines"]})
    assert booked == [{"bank": (D(0), D("89.99")), "607000": (D("74.99"), D(0)), "445660": (D("15.00"), D(0))},
                      {"bank": (D(0), D("120.00")), "607000": (D("100.00"), D(0)), "445660": (D("20.00"), D(0))}]
    assert report(accountant, account)["difference"] == "0.00"
    assert_books_balance(sessions)


def test_a_rule_or_a_booking_with_a_bad_tax_is_refused_naming_the_field_and_a_good_one_is_learnt_with_its_tax(
        accountant, account):
    tag = t.tag()
    for bad, field in [({"tax_rate": "1.5"}, "tax_rate"), ({"tax_rate": "0.2", "tax_account": "999999x"},
                                                            "tax_account"),
                       ({"tax_account": "445660"}, "tax_account")]:
        assert_problem(accountant.post("/api/v1/banking/rules", json={
            "name": f"Bad {tag}", "text_contains": f"bad {tag}", "account": "607000", **bad}), 422, field)
    assert not [x for x in accountant.get("/api/v1/banking/rules").json if x["name"] == f"Bad {tag}"]
    (line,) = import_camt(accountant, account, [{"amount": "-10.00", "name": f"Shop {tag}", "text": "pens"}])
    assert_problem(accountant.post(f"/api/v1/banking/statement-lines/{line['id']}/reconcile", json={
        "account_lines": [{"account": "607000", "amount": "10.00", "tax_rate": "0.2",
                           "tax_account": account["ledger_account"]}]}),
        422, "account_lines.0.tax_account")
    assert accountant.get(f"{ACCOUNTS}/{account['id']}/statement-lines",
                          query_string={"reconciled": "false"}).json[0]["id"] == line["id"]
    done = accountant.post(f"/api/v1/banking/statement-lines/{line['id']}/reconcile", json={
        "account_lines": [{"account": "607000", "amount": "10.00", "tax_rate": "0.055"}], "learn_rule": True})
    assert done.status_code == 201, done.json
    (learnt,) = [x for x in accountant.get("/api/v1/banking/rules").json if x["counterparty_contains"] == f"Shop {tag}"]
    assert (learnt["account"], learnt["tax_rate"], learnt["tax_account"]) == ("607000", "0.0550", None)
