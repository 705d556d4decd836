"""An accountant invoices what was delivered (or bills directly), issues gapless numbers under concurrency, keeps the
customer's legal details as issued, corrects with credit notes, prints PDFs; the overdue job flags late invoices once.
The ledger holds a balanced entry for every document."""

import re
import threading
import time
import uuid
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from erp import cli
from erp.ledger.models import Account, AccountMapping, JournalLine
from erp.ledger.reports import trial_balance
from sqlalchemy import func, select

from tests.support import erp_sales as t

pytestmark = pytest.mark.db

ORDERS = "/api/v1/sales-orders"
INVOICES = "/api/v1/invoices"


@pytest.fixture
def world(sessions, deliver, monkeypatch, app):
    wh = t.warehouse(sessions)
    t.ship_from(app, monkeypatch, wh["code"])
    widget = t.product(sessions, price="12.50")
    t.stock_up(sessions, widget, wh["id"], 20)
    state = t.customer(deliver)
    return {"app": app, "customer": state["id"], "state": state, "widget": widget,
            "install": t.product(sessions, kind="service", price="80")}


@pytest.fixture
def clerk(as_user):
    return as_user("warehouse_clerk")


def accepted_order(sessions, world, lines) -> str:
    data = t.order_placed(world["customer"], lines)
    assert t.OrderInbox(sessions, world["app"]).place(data)[0] == "applied"
    with sessions.begin() as s:
        from erp.sales.models import SalesOrder
        return s.execute(select(SalesOrder.id).where(SalesOrder.crm_order_id == data["order_id"])).scalar_one()


def direct_invoice(accountant, party_id, issue=True, **over) -> dict:
    body = {"party_id": party_id, "issue": issue, "lines": [
        {"description": "Consulting", "quantity": "3", "unit_price": "0.335", "tax_rate": "0.21"},
        {"description": "Travel", "quantity": "1", "unit_price": "99.99", "tax_rate": "0.2", "discount_percent": "5"}],
        **over}
    r = accountant.post(INVOICES, json=body)
    assert r.status_code == 201, r.json
    return r.json


def entry_lines(sessions, entry_id) -> list[dict]:
    """The journal lines of an entry, with the posting role their account is mapped to."""
    with sessions.begin() as s:
        roles = {a: r for r, a in s.execute(select(AccountMapping.role, AccountMapping.account_id))}
        rows = s.execute(select(JournalLine, Account.code).join(Account, Account.id == JournalLine.account_id)
                         .where(JournalLine.entry_id == entry_id).order_by(JournalLine.position)).all()
        return [{"role": roles.get(line.account_id), "code": code, "debit": line.debit, "credit": line.credit,
                 "party_id": line.party_id, "due_date": line.due_date} for line, code in rows]


def assert_books_balance(sessions):
    with sessions.begin() as s:
        assert trial_balance(s, date.today() + timedelta(days=400))["balanced"]


def test_an_order_is_invoiced_for_what_was_delivered_and_not_yet_invoiced(sessions, world, clerk, accountant):
    order_id = accepted_order(sessions, world, [
        {"product_id": world["widget"], "quantity": "6", "unit_price": "12.50"},
        {"product_id": world["install"], "quantity": "1", "unit_price": "80"}])
    order = clerk.get(f"{ORDERS}/{order_id}").json
    widget_line = order["lines"][0]
    early = accountant.post(f"{ORDERS}/{order_id}/invoice", json={})
    assert early.status_code == 409 and early.json["current_state"] == "accepted"
    assert clerk.post(f"{ORDERS}/{order_id}/deliveries", json={"lines": [
        {"line_id": widget_line["id"], "quantity": "2"}]}).status_code == 201
    assert clerk.post(f"{ORDERS}/{order_id}/invoice", json={}).status_code == 403  # clerks do not invoice

    first = accountant.post(f"{ORDERS}/{order_id}/invoice", json={}, headers={"Idempotency-Key": t.tag()})
    assert first.status_code == 201, first.json
    inv = first.json
    assert inv["status"] == "issued" and re.fullmatch(rf"INV-{date.today().year}-\d{{5,}}", inv["number"])
    assert [(x["quantity"], x["net"], x["revenue_kind"]) for x in inv["lines"]] == [("2.0000", "25.00", "goods")]
    assert inv["order_id"] == order_id and inv["deal_id"] == order["deal_id"] and inv["crm_order_id"]
    assert (inv["net_total"], inv["tax_total"], inv["gross_total"], inv["balance_due"]) == (
        "25.00", "5.00", "30.00", "30.00")
    again = accountant.post(f"{ORDERS}/{order_id}/invoice", json={})
    assert again.status_code == 409 and again.json["type"].endswith("nothing-to-invoice")
    order = clerk.get(f"{ORDERS}/{order_id}").json
    assert order["status"] == "partially_delivered" and order["lines"][0]["invoiced_quantity"] == "2.0000"

    assert clerk.post(f"{ORDERS}/{order_id}/deliveries", json={}).status_code == 201
    second = accountant.post(f"{ORDERS}/{order_id}/invoice", json={}).json
    assert [(x["quantity"], x["revenue_kind"]) for x in second["lines"]] == [("4.0000", "goods"),
                                                                             ("1.0000", "services")]
    assert second["gross_total"] == "156.00"  # 50.00 + 10.00 tax, 80.00 + 16.00 tax
    assert clerk.get(f"{ORDERS}/{order_id}").json["status"] == "invoiced"
    types = [e for e, _ in t.outbox_events(sessions, order_id)]
    assert types[-3:] == ["erp.order.invoiced", "erp.order.delivered", "erp.order.invoiced"]
    assert t.outbox_events(sessions, order_id)[-1][1]["status"] == "invoiced"
    (issued,) = t.outbox_events(sessions, second["id"])
    assert issued[0] == "erp.invoice.issued" and issued[1]["crm_order_id"] == inv["crm_order_id"]

    # the ledger: receivable (customer, due date) = revenue by kind + VAT
    lines = entry_lines(sessions, second["journal_entry_id"])
    assert {(x["role"], x["debit"], x["credit"]) for x in lines} == {
        ("receivable", D("156.00"), D("0")), ("revenue_goods", D("0"), D("50.00")),
        ("revenue_services", D("0"), D("80.00")), ("vat_collected", D("0"), D("26.00"))}
    receivable = next(x for x in lines if x["role"] == "receivable")
    assert receivable["party_id"] == world["customer"] and receivable["due_date"].isoformat() == second["due_date"]
    assert_books_balance(sessions)


def test_line_amounts_round_half_up_per_line_and_totals_are_sums(world, accountant):
    inv = direct_invoice(accountant, world["customer"])
    # 3 x 0.335 = 1.005 -> 1.01, tax 21 % = 0.2121 -> 0.21; 99.99 - 5 % = 94.9905 -> 94.99, tax 20 % = 18.998 -> 19.00
    assert [(x["net"], x["tax"], x["gross"]) for x in inv["lines"]] == [("1.01", "0.21", "1.22"),
                                                                         ("94.99", "19.00", "113.99")]
    assert (inv["net_total"], inv["tax_total"], inv["gross_total"]) == ("96.00", "19.21", "115.21")


def test_a_draft_has_no_number_until_issued_with_the_customers_terms(sessions, world, accountant):
    t.set_terms(sessions, world["customer"], payment_terms_days=14)
    draft = direct_invoice(accountant, world["customer"], issue=False)
    assert draft["status"] == "draft" and draft["number"] is None and draft["issue_date"] is None
    assert draft["allowed_actions"] == ["issue", "delete"]
    assert t.outbox_events(sessions, draft["id"]) == []  # drafts are not announced
    r = accountant.post(f"{INVOICES}/{draft['id']}/issue", json={})
    assert r.status_code == 200, r.json
    assert r.json["number"] and r.json["due_date"] == (date.today() + timedelta(days=14)).isoformat()
    assert r.json["payment_terms_days"] == 14
    assert accountant.post(f"{INVOICES}/{draft['id']}/issue", json={}).status_code == 409
    assert accountant.delete(f"{INVOICES}/{draft['id']}").status_code == 409  # issued documents stay
    other = direct_invoice(accountant, world["customer"], issue=False)
    assert accountant.delete(f"{INVOICES}/{other['id']}").status_code == 204
    assert accountant.get(f"{INVOICES}/{other['id']}").status_code == 404
    bad = accountant.post(INVOICES, json={"party_id": world["customer"], "lines": [{"quantity": "1"}]})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "lines.0.description"
    nobody = accountant.post(INVOICES, json={"party_id": str(uuid.uuid4()), "lines": [
        {"description": "x", "quantity": "1", "unit_price": "1"}]})
    assert nobody.status_code == 422 and nobody.json["errors"][0]["field"] == "party_id"


def test_issued_invoices_keep_the_customers_details_as_they_were(sessions, world, accountant, deliver):
    first = direct_invoice(accountant, world["customer"])
    state = world["state"]
    assert first["customer_legal_name"] == state["legal_name"] and first["customer_tax_id"] == state["tax_id"]
    assert first["billing_address"] == state["billing_address"]
    moved = {**state, "legal_name": "Initech Holdings SA", "version": 2, "tax_id": "FR-NEW",
             "billing_address": {"line1": "9 avenue Foch", "postal_code": "69006", "city": "Lyon", "country": "FR"}}
    assert deliver("updated", moved)[0] == "applied"
    kept = accountant.get(f"{INVOICES}/{first['id']}").json
    assert kept["billing_address"] == state["billing_address"] and kept["customer_legal_name"] == state["legal_name"]
    assert kept["customer_tax_id"] == state["tax_id"]
    later = direct_invoice(accountant, world["customer"])
    assert later["billing_address"]["city"] == "Lyon" and later["customer_legal_name"] == "Initech Holdings SA"
    pdf = accountant.get(f"{INVOICES}/{first['id']}/pdf")
    assert pdf.status_code == 200 and pdf.content_type == "application/pdf" and pdf.data.startswith(b"%PDF")
    assert first["number"].encode() in pdf.headers["Content-Disposition"].encode()


def test_invoices_issued_at_once_get_consecutive_numbers_without_gaps(sessions, world, as_user):
    series = "T" + uuid.uuid4().hex[:6].upper()
    accountant = as_user("accountant")
    drafts = [direct_invoice(accountant, world["customer"], issue=False, series=series)["id"] for _ in range(8)]
    app = accountant.application
    start, numbers, errors = threading.Barrier(8), [], []

    def issue(invoice_id):
        c = app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = accountant.environ_base["HTTP_AUTHORIZATION"]
        start.wait()
        r = c.post(f"{INVOICES}/{invoice_id}/issue", json={})
        (numbers if r.status_code == 200 else errors).append(r.json.get("number") or r.json)

    threads = [threading.Thread(target=issue, args=(d,)) for d in drafts]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    year = date.today().year
    assert sorted(numbers) == [f"{series}-{year}-{n:05d}" for n in range(1, 9)]
    assert_books_balance(sessions)


def test_credit_notes_correct_an_issued_invoice_in_part_then_in_full(sessions, world, accountant, as_user):
    inv = direct_invoice(accountant, world["customer"])
    consulting, travel = inv["lines"]
    assert as_user("warehouse_clerk").post(f"{INVOICES}/{inv['id']}/credit-notes",
                                           json={"reason": "x"}).status_code == 403
    r = accountant.post(f"{INVOICES}/{inv['id']}/credit-notes", json={
        "reason": "one hour was not worked", "lines": [{"invoice_line_id": consulting["id"], "quantity": "1"}]})
    assert r.status_code == 201, r.json
    cn = r.json
    assert cn["kind"] == "credit_note" and re.fullmatch(rf"CN-{date.today().year}-\d{{5,}}", cn["number"])
    assert cn["credited_invoice_id"] == inv["id"] and cn["lines"][0]["credited_line_id"] == consulting["id"]
    assert (cn["gross_total"], cn["balance_due"]) == ("0.41", "0.00")  # 0.34 + 0.07, all taken off the invoice
    inv_now = accountant.get(f"{INVOICES}/{inv['id']}").json
    assert inv_now["amount_credited"] == "0.41" and inv_now["balance_due"] == "114.80"
    assert inv_now["status"] == "issued" and inv_now["credit_notes"][0]["number"] == cn["number"]
    too_much = accountant.post(f"{INVOICES}/{inv['id']}/credit-notes", json={
        "reason": "x", "lines": [{"invoice_line_id": consulting["id"], "quantity": "3"}]})
    assert too_much.status_code == 422 and too_much.json["errors"][0]["field"] == "lines.0.quantity"

    rest = accountant.post(f"{INVOICES}/{inv['id']}/credit-notes", json={"reason": "cancelled engagement"}).json
    # the rest of each line, to the cent: 1.22 - 0.41 and 113.99
    assert [x["gross"] for x in rest["lines"]] == ["0.81", "113.99"] and rest["gross_total"] == "114.80"
    inv_now = accountant.get(f"{INVOICES}/{inv['id']}").json
    assert inv_now["status"] == "credited" and inv_now["balance_due"] == "0.00" and inv_now["allowed_actions"] == []
    assert accountant.post(f"{INVOICES}/{inv['id']}/credit-notes", json={"reason": "x"}).status_code == 409
    assert accountant.post(f"{INVOICES}/{cn['id']}/credit-notes", json={"reason": "x"}).status_code == 409
    events = t.outbox_events(sessions, inv["id"])
    assert [e for e, _ in events] == ["erp.invoice.issued", "erp.invoice.credited", "erp.invoice.credited"]
    assert events[-1][1]["status"] == "credited"
    (cn_event,) = t.outbox_events(sessions, rest["id"])
    assert cn_event[1]["kind"] == "credit_note" and cn_event[1]["credited_invoice_id"] == inv["id"]
    # a credit note posts the mirror of an invoice
    lines = entry_lines(sessions, rest["journal_entry_id"])
    assert {(x["role"], x["debit"], x["credit"]) for x in lines} == {
        ("receivable", D("0"), D("114.80")), ("revenue_services", D("0.67"), D("0")),
        ("revenue_services", D("94.99"), D("0")), ("vat_collected", D("19.14"), D("0"))}
    with sessions.begin() as s:
        owed = s.execute(select(func.sum(JournalLine.debit - JournalLine.credit)).join(
            AccountMapping, AccountMapping.account_id == JournalLine.account_id).where(
            AccountMapping.role == "receivable", JournalLine.party_id == world["customer"])).scalar_one()
    assert owed == D("0.00")
    assert_books_balance(sessions)


def test_the_overdue_job_flags_late_invoices_once(sessions, world, accountant, capsys):
    series = "OD" + uuid.uuid4().hex[:6].upper()
    t.set_terms(sessions, world["customer"], payment_terms_days=30)
    late = direct_invoice(accountant, world["customer"], series=series,
                          issue_date=(date.today() - timedelta(days=45)).isoformat())
    on_time = direct_invoice(accountant, world["customer"], series=series)
    cli.main(["mark-overdue"])
    assert late["number"] in capsys.readouterr().out
    assert accountant.get(f"{INVOICES}/{late['id']}").json["status"] == "overdue"
    assert accountant.get(f"{INVOICES}/{on_time['id']}").json["status"] == "issued"
    cli.main(["mark-overdue"])
    assert late["number"] not in capsys.readouterr().out
    events = t.outbox_events(sessions, late["id"])
    assert [e for e, _ in events] == ["erp.invoice.issued", "erp.invoice.overdue"]
    assert events[-1][1]["status"] == "overdue" and events[-1][1]["balance_due"] == "115.21"
    listed = accountant.get(INVOICES, query_string={"status": "overdue", "party_id": world["customer"]}).json
    assert [i["id"] for i in listed["items"]] == [late["id"]]
    backdated = accountant.post(INVOICES, json={"party_id": world["customer"], "issue": True, "series": series,
                                                "issue_date": (date.today() - timedelta(days=50)).isoformat(),
                                                "lines": [{"description": "x", "quantity": "1", "unit_price": "1"}]})
    assert backdated.status_code == 422 and backdated.json["errors"][0]["field"] == "issue_date"


def test_the_worker_runs_the_overdue_job_at_once_then_every_interval(sessions, world, accountant):
    from erp.invoicing.overdue import OverdueLoop

    series = "W" + uuid.uuid4().hex[:6].upper()
    late = direct_invoice(accountant, world["customer"], series=series,
                          issue_date=(date.today() - timedelta(days=90)).isoformat())
    loop = OverdueLoop(sessions, interval_minutes=60)
    runner = threading.Thread(target=loop.run)
    runner.start()
    try:
        deadline = time.monotonic() + 10
        while status_of(accountant, late) != "overdue" and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        loop.stop()
        runner.join(timeout=10)
    assert not runner.is_alive() and status_of(accountant, late) == "overdue"


def status_of(reader, inv) -> str:
    return reader.get(f"{INVOICES}/{inv['id']}").json["status"]


def test_the_auditor_reads_invoices_and_their_trail(world, accountant, as_user):
    inv = direct_invoice(accountant, world["customer"])
    auditor = as_user("auditor")
    assert auditor.get(f"{INVOICES}/{inv['id']}").status_code == 200
    assert auditor.post(INVOICES, json={}).status_code == 403
    trail = auditor.get("/api/v1/audit", query_string={"entity_type": "invoice", "entity_id": inv["id"]}).json
    assert {e["action"] for e in trail["items"]} == {"create", "issue"}
