"""An accountant keeps the books: the chart of accounts, manual entries (draft, post, reverse), the lock date, the
hash chain, the reports and their downloads; documents of other modules (stock moves, supplier bills) post by
themselves. Through the HTTP API on the real PostgreSQL, as users would."""

import csv
import io
import random
import string
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest
from erp import cli
from erp.catalog.models import Product
from erp.ledger.models import JournalEntry
from erp.ledger.posting import PostingLine
from erp.ledger.service import post_entry
from erp.stock.models import Location, Warehouse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from pypdf import PdfReader
from servicekit.problems import Problem
from shared_events.testing import party_state
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

pytestmark = pytest.mark.db

ACCOUNTS = "/api/v1/accounts"
ENTRIES = "/api/v1/journal-entries"
REPORTS = "/api/v1/ledger/reports"
PO = "/api/v1/purchase-orders"
BILLS = "/api/v1/supplier-bills"


def tag() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def make_account(accountant):
    """A fresh account of the given type, so a test reads its own figures in shared reports."""
    def make(type_="asset", **over) -> dict:
        r = accountant.post(ACCOUNTS, json={"code": f"T{tag()}", "name": f"Test {type_}", "type": type_, **over})
        assert r.status_code == 201, r.json
        return r.json
    return make


@pytest.fixture
def reset_lock(as_user):
    """Tests that close periods reopen them afterwards (an administrator may move the lock date back)."""
    admin = as_user("admin")
    yield
    assert admin.post("/api/v1/ledger/lock", json={"lock_date": None}).status_code == 200


def draft(c, lines, entry_date="2030-03-15", journal="GEN", reference=None, expect=201, **over):
    r = c.post(ENTRIES, json={"journal": journal, "entry_date": entry_date, "reference": reference or f"R-{tag()}",
                              "lines": lines, **over})
    assert r.status_code == expect, r.json
    return r.json


def posted(c, lines, **over):
    entry = draft(c, lines, **over)
    r = c.post(f"{ENTRIES}/{entry['id']}/post")
    assert r.status_code == 200, r.json
    return r.json


def dr(account, amount, **kw):
    return {"account": account, "debit": str(amount), **kw}


def cr(account, amount, **kw):
    return {"account": account, "credit": str(amount), **kw}


def ledger(c, account, **args):
    r = c.get(f"{REPORTS}/general-ledger", query_string={"account": account, **args})
    assert r.status_code == 200, r.json
    return r.json


def raw(sessions, sql, **params):
    with sessions.begin() as s:
        return s.execute(text(sql), params)


# -- chart of accounts ---------------------------------------------------------------------------

def test_the_default_chart_journals_and_role_mapping_are_there(accountant):
    chart = {a["code"]: a for a in accountant.get(ACCOUNTS, query_string={"page_size": 200}).json["items"]}
    for code in ("512000", "530000", "411000", "401000", "310000", "445710", "445660", "707000", "706000",
                 "607000", "603700", "408000", "419000", "409000", "615000", "120000", "890000", "658000", "758000"):
        assert code in chart, code
    receivables = chart["411000"]
    assert (receivables["type"], receivables["normal_side"], receivables["reconcilable"],
            receivables["party_required"]) == ("asset", "debit", True, True)
    assert chart["707000"]["normal_side"] == "credit" and "revenue_goods" in chart["707000"]["roles"]
    mapping = {m["role"]: m["account"] for m in accountant.get("/api/v1/ledger/account-mapping").json}
    assert mapping["receivable"] == "411000" and mapping["grni"] == "408000" and mapping["stock"] == "310000"
    assert mapping["vat_collected"] == "445710" and mapping["rounding"] == "658000"
    journals = {j["code"]: j["type"] for j in accountant.get("/api/v1/journals").json}
    assert {"SAL": "sales", "PUR": "purchases", "BNK": "bank", "CSH": "cash", "GEN": "general",
            "STK": "stock"}.items() <= journals.items()


def test_accounts_are_added_renamed_and_deleted_until_they_have_postings(accountant, make_account, as_user):
    account = make_account("expense", name="Office supplies")
    url = f"{ACCOUNTS}/{account['id']}"
    assert account["normal_side"] == "debit" and account["version"] == 1
    again = accountant.post(ACCOUNTS, json={"code": account["code"], "name": "Copy", "type": "asset"})
    assert again.status_code == 409 and again.json["errors"][0]["field"] == "code"
    assert accountant.patch(url, json={"name": "x"}).status_code == 428
    renamed = accountant.patch(url, json={"name": "Office and IT supplies"}, headers={"If-Match": '"1"'})
    assert renamed.status_code == 200 and renamed.headers["ETag"] == '"2"'
    posted(accountant, [dr(account["code"], "12.50"), cr("512000", "12.50")])
    recode = accountant.patch(url, json={"code": f"X{tag()}"}, headers={"If-Match": '"2"'})
    assert recode.status_code == 409 and recode.json["type"].endswith("account-in-use")
    refused = accountant.delete(url)
    assert refused.status_code == 409 and "has postings" in refused.json["detail"]
    off = accountant.patch(url, json={"active": False}, headers={"If-Match": '"2"'})
    assert off.status_code == 200 and off.json["active"] is False
    r = accountant.post(ENTRIES, json={"entry_date": "2030-03-15", "reference": "x",
                                       "lines": [dr(account["code"], 1), cr("512000", 1)]})
    assert r.status_code == 422 and "inactive" in r.json["detail"]

    unused = make_account("asset")
    assert accountant.delete(f"{ACCOUNTS}/{unused['id']}").status_code == 204
    assert accountant.get(f"{ACCOUNTS}/{unused['id']}").status_code == 404
    bank = accountant.get(ACCOUNTS, query_string={"code": "512000"}).json["items"][0]
    mapped = accountant.patch(f"{ACCOUNTS}/{bank['id']}", json={"active": False},
                              headers={"If-Match": f'"{bank["version"]}"'})
    assert mapped.status_code == 409 and mapped.json["roles"] == ["bank"]
    assert as_user("purchaser").post(ACCOUNTS, json={"code": "999", "name": "x", "type": "asset"}).status_code == 403


def test_a_role_is_pointed_at_another_account(accountant, make_account):
    try:
        other = make_account("income", name="Sales of goods, export")
        r = accountant.patch("/api/v1/ledger/account-mapping", json={"roles": {"revenue_goods": other["code"]}})
        assert r.status_code == 200
        assert {m["role"]: m["account"] for m in r.json}["revenue_goods"] == other["code"]
        bad = accountant.patch("/api/v1/ledger/account-mapping", json={"roles": {"revenue_goods": "nope"}})
        assert bad.status_code == 422
        assert accountant.patch("/api/v1/ledger/account-mapping", json={"roles": {"nope": "707000"}}).status_code == 422
    finally:
        accountant.patch("/api/v1/ledger/account-mapping", json={"roles": {"revenue_goods": "707000"}})


# -- manual entries ------------------------------------------------------------------------------

def test_a_manual_entry_is_drafted_then_posted_with_a_gapless_number_and_a_hash(accountant, make_account):
    cash, expense = make_account("asset"), make_account("expense")
    entry = draft(accountant, [dr(expense["code"], "40.00", description="taxi"), cr(cash["code"], "30.00")],
                  memo="petty cash")
    assert entry["status"] == "draft" and entry["number"] is None and entry["allowed_actions"] == [
        "update", "delete", "post"]
    url = f"{ENTRIES}/{entry['id']}"
    unbalanced = accountant.post(f"{url}/post")
    assert unbalanced.status_code == 422 and unbalanced.json["type"].endswith("unbalanced-entry")
    assert (unbalanced.json["debit"], unbalanced.json["credit"]) == ("40.00", "30.00")
    fixed = accountant.patch(url, json={"lines": [dr(expense["code"], "40.00", description="taxi"),
                                                  cr(cash["code"], "40.00")]}, headers={"If-Match": '"1"'})
    assert fixed.status_code == 200 and fixed.json["total"] == "40.00"
    r = accountant.post(f"{url}/post")
    assert r.status_code == 200, r.json
    done = r.json
    assert done["status"] == "posted" and done["number"].startswith("GEN-2030-") and len(done["hash"]) == 64
    assert done["posted_by"].startswith("accountant-") and done["allowed_actions"] == ["reverse"]
    assert [(line["account"], line["debit"], line["credit"], line["description"]) for line in done["lines"]] == [
        (expense["code"], "40.00", "0.00", "taxi"), (cash["code"], "0.00", "40.00", None)]
    assert accountant.post(f"{url}/post").status_code == 409
    assert ledger(accountant, cash["code"], as_of="2030-12-31")["closing_balance"] == "-40.00"


def test_posted_entries_never_change_and_are_corrected_by_a_reversal(accountant, make_account, as_user):
    bank, income = make_account("asset"), make_account("income")
    entry = posted(accountant, [dr(bank["code"], "99.90"), cr(income["code"], "99.90")])
    url = f"{ENTRIES}/{entry['id']}"
    patch = accountant.patch(url, json={"reference": "edited"}, headers={"If-Match": f'"{entry["version"]}"'})
    assert patch.status_code == 409 and patch.json["type"].endswith("entry-posted")
    assert accountant.delete(url).status_code == 409
    assert accountant.post(f"{url}/reverse", json={}).status_code == 422  # a reason is required
    r = accountant.post(f"{url}/reverse", json={"reason": "wrong customer", "entry_date": "2030-03-20"})
    assert r.status_code == 201, r.json
    mirror = r.json
    assert mirror["reversal_of_id"] == entry["id"] and mirror["memo"] == "wrong customer"
    assert mirror["number"].startswith("GEN-2030-") and mirror["reference"] == f"Reversal of {entry['number']}"
    assert [(line["account"], line["debit"], line["credit"]) for line in mirror["lines"]] == [
        (bank["code"], "0.00", "99.90"), (income["code"], "99.90", "0.00")]
    assert accountant.get(url).json["reversed_by_id"] == mirror["id"]
    twice = accountant.post(f"{url}/reverse", json={"reason": "again"})
    assert twice.status_code == 409 and twice.json["reversal_id"] == mirror["id"]
    assert accountant.post(f"{ENTRIES}/{mirror['id']}/reverse", json={"reason": "x"}).status_code == 409
    assert ledger(accountant, bank["code"], as_of="2030-12-31")["closing_balance"] == "0.00"
    early = posted(accountant, [dr(bank["code"], 1), cr(income["code"], 1)])
    before = accountant.post(f"{ENTRIES}/{early['id']}/reverse", json={"reason": "x", "entry_date": "2030-01-01"})
    assert before.status_code == 422
    trail = as_user("auditor").get("/api/v1/audit", query_string={"entity_type": "journal_entry",
                                                                 "entity_id": entry["id"]}).json["items"]
    assert [e["action"] for e in trail] == ["reverse", "post", "create"]


def test_the_database_refuses_to_change_or_delete_posted_lines_and_entries(accountant, make_account, sessions):
    a, b = make_account("asset"), make_account("asset")
    entry = posted(accountant, [dr(a["code"], 5), cr(b["code"], 5)])
    for sql in ("UPDATE journal_lines SET debit = debit + 1 WHERE entry_id = :id AND debit > 0",
                "DELETE FROM journal_lines WHERE entry_id = :id",
                "UPDATE journal_entries SET reference = 'x' WHERE id = :id",
                "UPDATE journal_entries SET hash = repeat('a', 64) WHERE id = :id",
                "DELETE FROM journal_entries WHERE id = :id"):
        with pytest.raises(DBAPIError, match="immutable|append-only"):
            raw(sessions, sql, id=entry["id"])


def test_entries_refuse_unknown_accounts_and_receivables_without_a_customer(accountant):
    r = accountant.post(ENTRIES, json={"entry_date": "2030-03-15", "reference": "x",
                                       "lines": [dr("nope", 1), cr("512000", 1)]})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "lines.0.account"
    entry = draft(accountant, [dr("receivable", 10), cr("revenue_services", 10)])
    r = accountant.post(f"{ENTRIES}/{entry['id']}/post")
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "lines.0.party_id"
    both = accountant.post(ENTRIES, json={"entry_date": "2030-03-15", "reference": "x",
                                          "lines": [{"account": "512000", "debit": "1", "credit": "1"}]})
    assert both.status_code == 422
    assert accountant.post(ENTRIES, json={"entry_date": "2030-03-15", "reference": "x", "journal": "NOPE",
                                          "lines": [dr("512000", 1), cr("411000", 1)]}).status_code == 422


def test_post_entry_is_idempotent_per_document_and_purpose(sessions, make_account):
    a, b = make_account("asset"), make_account("income")
    source = str(uuid.uuid4())
    lines = [PostingLine(a["code"], debit=D("10")), PostingLine(b["code"], credit=D("10"))]
    with sessions.begin() as s:
        first = post_entry(s, journal="SAL", entry_date=date(2030, 4, 1), lines=lines, reference="INV-1",
                           source_type="invoice", source_id=source, actor="test")
        assert first.number is None  # numbered when the transaction commits
    assert first.number.startswith("SAL-2030-")
    with sessions.begin() as s:
        again = post_entry(s, journal="SAL", entry_date=date(2030, 4, 1), lines=lines, reference="INV-1",
                           source_type="invoice", source_id=source, actor="test")
        other = post_entry(s, journal="SAL", entry_date=date(2030, 4, 1), lines=lines, reference="INV-1",
                           source_type="invoice", source_id=source, actor="test", purpose="writeoff")
        assert again.id == first.id and other.id != first.id
    with sessions.begin() as s:
        count = s.execute(select(JournalEntry).where(JournalEntry.source_id == source)).scalars().all()
        assert len(count) == 2


def test_a_rolled_back_posting_uses_no_number(sessions, make_account, accountant):
    journal = new_journal(accountant)
    a, b = make_account("asset"), make_account("asset")
    lines = [PostingLine(a["code"], debit=D("1")), PostingLine(b["code"], credit=D("1"))]
    with pytest.raises(RuntimeError), sessions.begin() as s:
        post_entry(s, journal=journal, entry_date=date(2030, 5, 1), lines=lines, reference="x",
                   source_type="test", source_id=tag(), actor="test")
        raise RuntimeError("the document failed after posting")
    with sessions.begin() as s:
        entry = post_entry(s, journal=journal, entry_date=date(2030, 5, 1), lines=lines, reference="x",
                           source_type="test", source_id=tag(), actor="test")
    assert entry.number == f"{journal}-2030-000001"


def test_a_posting_in_a_rolled_back_savepoint_is_not_sealed_and_the_others_keep_their_order(
        sessions, make_account, accountant):
    journal = new_journal(accountant)
    a, b = make_account("asset"), make_account("asset")
    lines = [PostingLine(a["code"], debit=D("2")), PostingLine(b["code"], credit=D("2"))]

    def post(s, source):
        return post_entry(s, journal=journal, entry_date=date(2030, 6, 1), lines=lines, reference=source,
                          source_type="test", source_id=source, actor="test")

    with sessions.begin() as s:
        first = post(s, "sp-1")
        try:
            with s.begin_nested():
                post(s, "sp-gone")
                raise RuntimeError("the document failed inside its savepoint")
        except RuntimeError:
            pass
        with s.begin_nested():
            kept = post(s, "sp-2")
        last = post(s, "sp-3")
    assert [first.number, kept.number, last.number] == [f"{journal}-2030-{n:06d}" for n in (1, 2, 3)]
    assert kept.chain_seq == first.chain_seq + 1 and last.chain_seq == kept.chain_seq + 1
    with sessions.begin() as s:
        assert s.execute(select(JournalEntry).where(JournalEntry.source_type == "test",
                                                    JournalEntry.source_id == "sp-gone")).first() is None
    assert accountant.get("/api/v1/ledger/verify").json["ok"] is True


def test_the_same_document_posted_concurrently_is_booked_once(sessions, make_account):
    a, b = make_account("asset"), make_account("asset")
    lines = [PostingLine(a["code"], debit=D("3")), PostingLine(b["code"], credit=D("3"))]
    source, posted_first, ids = tag(), threading.Event(), {}

    def post(name):
        with sessions.begin() as s:
            ids[name] = post_entry(s, journal="GEN", entry_date=date(2030, 6, 2), lines=lines, reference="twice",
                                   source_type="test", source_id=source, actor="test").id
            if name == "first":
                posted_first.set()
                time.sleep(0.5)  # the second posting waits on this one's row meanwhile, then finds it

    first = threading.Thread(target=post, args=("first",))
    first.start()
    posted_first.wait(10)
    post("second")
    first.join()
    assert ids["first"] == ids["second"]
    with sessions.begin() as s:
        assert len(s.execute(select(JournalEntry).where(JournalEntry.source_id == source)).all()) == 1


def new_journal(accountant) -> str:
    code = "".join(random.choices(string.ascii_uppercase, k=8))
    r = accountant.post("/api/v1/journals", json={"code": code, "name": f"Test {code}", "type": "general"})
    assert r.status_code == 201, r.json
    return code


def test_concurrent_postings_get_consecutive_numbers_without_gaps_or_duplicates(app, as_user, make_account):
    accountant = as_user("accountant")
    journal = new_journal(accountant)
    a, b = make_account("asset"), make_account("asset")
    drafts = [draft(accountant, [dr(a["code"], i + 1), cr(b["code"], i + 1)], journal=journal)["id"]
              for i in range(16)]
    answers, barrier = [], threading.Barrier(2)

    def post_half(ids):
        c = app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = accountant.environ_base["HTTP_AUTHORIZATION"]
        barrier.wait()
        for entry_id in ids:
            answers.append(c.post(f"{ENTRIES}/{entry_id}/post"))

    threads = [threading.Thread(target=post_half, args=(drafts[i::2],)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in answers] == [200] * 16
    numbers = sorted(r.json["number"] for r in answers)
    assert numbers == [f"{journal}-2030-{n:06d}" for n in range(1, 17)]
    seqs = sorted(r.json["chain_seq"] for r in answers)
    assert len(set(seqs)) == 16
    assert accountant.get("/api/v1/ledger/verify").json["ok"] is True


# -- period close --------------------------------------------------------------------------------

def test_the_lock_date_refuses_back_dated_postings_and_only_moves_forward(accountant, as_user, make_account,
                                                                          sessions, reset_lock):
    a, b = make_account("asset"), make_account("asset")
    late = draft(accountant, [dr(a["code"], 3), cr(b["code"], 3)], entry_date="2001-06-30")
    r = accountant.post("/api/v1/ledger/lock", json={"lock_date": "2001-06-30"})
    assert r.status_code == 200 and r.json["lock_date"] == "2001-06-30"
    refused = accountant.post(f"{ENTRIES}/{late['id']}/post")
    assert refused.status_code == 409 and refused.json["type"].endswith("period-closed")
    assert refused.json["lock_date"] == "2001-06-30"
    open_day = posted(accountant, [dr(a["code"], 3), cr(b["code"], 3)], entry_date="2001-07-01")
    assert open_day["number"].startswith("GEN-2001-")
    with pytest.raises(Problem) as closed, sessions.begin() as s:
        post_entry(s, journal="GEN", entry_date=date(2001, 1, 31), reference="x", source_type="test",
                   source_id=tag(), actor="test", lines=[PostingLine(a["code"], debit=D("1")),
                                                         PostingLine(b["code"], credit=D("1"))])
    assert closed.value.status == 409
    reversal = accountant.post(f"{ENTRIES}/{open_day['id']}/reverse", json={"reason": "x", "entry_date": "2001-06-01"})
    assert reversal.status_code == 422  # before the entry it reverses (and in the closed period)

    back = accountant.post("/api/v1/ledger/lock", json={"lock_date": "2001-01-31"})
    assert back.status_code == 409 and back.json["type"].endswith("lock-date-backwards")
    future = accountant.post("/api/v1/ledger/lock", json={"lock_date": (date.today() + timedelta(days=2)).isoformat()})
    assert future.status_code == 422
    assert as_user("auditor").post("/api/v1/ledger/lock", json={"lock_date": "2001-07-31"}).status_code == 403
    admin = as_user("admin")
    assert admin.post("/api/v1/ledger/lock", json={"lock_date": "2001-01-31"}).json["lock_date"] == "2001-01-31"
    assert accountant.get("/api/v1/ledger/settings").json["lock_date"] == "2001-01-31"


def test_a_stock_move_in_a_closed_period_is_booked_on_the_first_open_day(app, as_user, sessions, reset_lock):
    admin = as_user("admin")
    assert admin.post("/api/v1/ledger/lock", json={"lock_date": "2002-03-31"}).status_code == 200
    product, wh = stock_product(sessions), warehouse(sessions)
    move = admin.post("/api/v1/stock/moves", json={
        "kind": "receipt", "product_id": product, "warehouse_id": wh["id"], "quantity": "2", "unit_cost": "7.50",
        "done_at": "2002-02-01T09:00:00+00:00"})
    assert move.status_code == 201, move.json
    entry = entry_for(admin, "stock_move", move.json["id"])
    assert entry["entry_date"] == "2002-04-01" and "moved on 2002-02-01" in entry["memo"]


# -- hash chain ----------------------------------------------------------------------------------

def test_the_hash_chain_detects_an_amount_changed_behind_the_applications_back(accountant, make_account, sessions,
                                                                                 as_user, capsys):
    a, b = make_account("asset"), make_account("asset")
    entry = posted(accountant, [dr(a["code"], "250.00"), cr(b["code"], "250.00")])
    verify = as_user("auditor").get("/api/v1/ledger/verify")
    assert verify.status_code == 200 and verify.json["ok"] is True and verify.json["broken"] is None
    assert verify.json["entries_checked"] >= entry["chain_seq"]

    def tamper(delta: str) -> None:
        raw(sessions, "ALTER TABLE journal_lines DISABLE TRIGGER journal_lines_immutable; "
                      "UPDATE journal_lines SET debit = CASE WHEN debit > 0 THEN debit + CAST(:delta AS numeric) "
                      "ELSE 0 END, credit = CASE WHEN credit > 0 THEN credit + CAST(:delta AS numeric) ELSE 0 END "
                      "WHERE entry_id = :id; "
                      "ALTER TABLE journal_lines ENABLE TRIGGER journal_lines_immutable", id=entry["id"], delta=delta)

    tamper("0")  # a no-op edit leaves the chain intact
    tamper("1000")
    try:
        broken = accountant.get("/api/v1/ledger/verify").json
        assert broken["ok"] is False
        assert (broken["broken"]["entry_id"], broken["broken"]["number"]) == (entry["id"], entry["number"])
        assert broken["entries_checked"] == entry["chain_seq"] - 1
        with pytest.raises(SystemExit) as exit_code:
            cli.main(["verify-ledger"])
        assert exit_code.value.code == 1 and entry["number"] in capsys.readouterr().out
    finally:
        tamper("-1000")
    assert accountant.get("/api/v1/ledger/verify").json["ok"] is True
    cli.main(["verify-ledger"])
    assert "ledger ok" in capsys.readouterr().out


# -- reports -------------------------------------------------------------------------------------

def test_the_trial_balance_always_sums_to_zero_and_shows_each_account(accountant, make_account):
    a, b, c = make_account("asset"), make_account("liability"), make_account("expense")
    posted(accountant, [dr(a["code"], "100.00"), cr(b["code"], "60.00"), cr(c["code"], "40.00")],
           entry_date="2030-02-01")
    posted(accountant, [dr(c["code"], "15.00"), cr(a["code"], "15.00")], entry_date="2030-02-10")
    tb = accountant.get(f"{REPORTS}/trial-balance", query_string={"as_of": "2030-12-31"}).json
    assert tb["balanced"] is True and tb["totals"]["debit"] == tb["totals"]["credit"]
    assert tb["totals"]["debit_balance"] == tb["totals"]["credit_balance"]
    rows = {line["account"]: line for line in tb["lines"]}
    assert (rows[a["code"]]["debit"], rows[a["code"]]["credit"], rows[a["code"]]["balance"]) == (
        "100.00", "15.00", "85.00")
    assert rows[c["code"]]["balance"] == "-25.00" and rows[c["code"]]["credit_balance"] == "25.00"
    earlier = accountant.get(f"{REPORTS}/trial-balance", query_string={"as_of": "2030-02-05"}).json
    assert {line["account"]: line["balance"] for line in earlier["lines"]}[a["code"]] == "100.00"
    assert earlier["balanced"] is True


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3), st.integers(1, 10**8)), min_size=1, max_size=6),
       st.integers(0, 364))
def test_any_posted_entries_keep_the_trial_balance_at_zero(sessions, make_account, accountant, moves, day):
    accounts = [make_account(t)["code"] for t in ("asset", "liability", "income", "expense")]
    lines, expected = [], dict.fromkeys(accounts, D("0"))
    for debit, credit, cents in moves:
        amount = D(cents).scaleb(-2)
        lines += [PostingLine(accounts[debit], debit=amount), PostingLine(accounts[credit], credit=amount)]
        expected[accounts[debit]] += amount
        expected[accounts[credit]] -= amount
    with sessions.begin() as s:
        post_entry(s, journal="GEN", entry_date=date(2031, 1, 1) + timedelta(days=day), lines=lines, reference="h",
                   source_type="hypothesis", source_id=tag(), actor="test")
    tb = accountant.get(f"{REPORTS}/trial-balance", query_string={"as_of": "2031-12-31"}).json
    assert tb["balanced"] is True
    balances = {line["account"]: D(line["balance"]) for line in tb["lines"]}
    assert {code: balances.get(code, D("0")) for code in accounts} == expected


def test_profit_and_loss_and_the_balance_sheet_agree(accountant, make_account):
    bank, sales, rent = make_account("asset"), make_account("income"), make_account("expense")
    posted(accountant, [dr(bank["code"], "1000.00"), cr(sales["code"], "1000.00")], entry_date="2030-05-02")
    posted(accountant, [dr(rent["code"], "300.00"), cr(bank["code"], "300.00")], entry_date="2030-05-03")
    posted(accountant, [dr(bank["code"], "50.00"), cr(sales["code"], "50.00")], entry_date="2029-12-30")
    pnl = accountant.get(f"{REPORTS}/profit-and-loss", query_string={"as_of": "2030-12-31"}).json
    assert pnl["date_from"] == "2030-01-01"
    assert {i["account"]: i["amount"] for i in pnl["income"]}[sales["code"]] == "1000.00"
    assert {e["account"]: e["amount"] for e in pnl["expense"]}[rent["code"]] == "300.00"
    assert D(pnl["result"]) == D(pnl["total_income"]) - D(pnl["total_expense"])
    bs = accountant.get(f"{REPORTS}/balance-sheet", query_string={"as_of": "2030-12-31"}).json
    assert bs["balanced"] is True
    assert D(bs["total_assets"]) == D(bs["total_liabilities"]) + D(bs["total_equity"])
    assert bs["current_year_result"] == pnl["result"]
    result_line = [e for e in bs["equity"] if e["name"] == "Result of the current fiscal year"][0]
    assert result_line["amount"] == pnl["result"]
    assert {a["account"]: a["amount"] for a in bs["assets"]}[bank["code"]] == "750.00"
    period = accountant.get(f"{REPORTS}/profit-and-loss", query_string={"date_from": "2030-05-03",
                                                                        "as_of": "2030-05-03"}).json
    assert sales["code"] not in {i["account"] for i in period["income"]}
    assert accountant.get(f"{REPORTS}/profit-and-loss", query_string={"date_from": "2030-05-04",
                                                                      "as_of": "2030-05-03"}).status_code == 422


def test_the_general_ledger_pages_lines_with_a_running_balance(accountant, make_account):
    a, b = make_account("asset"), make_account("asset")
    posted(accountant, [dr(a["code"], "10.00"), cr(b["code"], "10.00")], entry_date="2030-01-05")
    for day in range(10, 15):
        posted(accountant, [dr(a["code"], f"{day}.00"), cr(b["code"], f"{day}.00")], entry_date=f"2030-02-{day}")
    posted(accountant, [dr(b["code"], "4.00"), cr(a["code"], "4.00")], entry_date="2030-02-12")
    page1 = ledger(accountant, a["code"], date_from="2030-02-01", as_of="2030-02-28", page_size=4)
    page2 = ledger(accountant, a["code"], date_from="2030-02-01", as_of="2030-02-28", page_size=4, page=2)
    assert page1["opening_balance"] == "10.00" and page1["total"] == 6 and page1["pages"] == 2
    lines = page1["items"] + page2["items"]
    assert [line["entry_date"] for line in lines] == ["2030-02-10", "2030-02-11", "2030-02-12", "2030-02-12",
                                                      "2030-02-13", "2030-02-14"]
    assert [line["balance"] for line in lines] == ["20.00", "31.00", "43.00", "39.00", "52.00", "66.00"]
    assert page1["closing_balance"] == "66.00" and lines[0]["number"].startswith("GEN-2030-")


def test_the_general_ledger_walked_by_cursor_shows_the_same_lines_and_balances_as_by_page(accountant,
                                                                                         make_account):
    a, b = make_account("asset"), make_account("asset")
    posted(accountant, [dr(a["code"], "7.00"), cr(b["code"], "7.00")], entry_date="2030-01-05")
    for i in range(11):  # several lines on one day: the cursor orders them by posting order too
        posted(accountant, [dr(a["code"], f"{i + 1}.00"), cr(b["code"], f"{i + 1}.00")],
               entry_date=f"2030-02-{10 + i // 3:02d}")
    posted(accountant, [dr(b["code"], "5.00"), cr(a["code"], "5.00")], entry_date="2030-02-11")
    args = {"date_from": "2030-02-01", "as_of": "2030-02-28", "page_size": 5}
    by_number = [ledger(accountant, a["code"], page=n, **args) for n in (1, 2, 3)]
    assert [len(p["items"]) for p in by_number] == [5, 5, 2] and by_number[2]["next_cursor"] is None
    walked, cursor = [], None
    while True:
        page = ledger(accountant, a["code"], **args, **({"after": cursor} if cursor else {}))
        walked.append(page)
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [p["page"] for p in walked] == [1, 2, 3]
    assert [p["items"] for p in walked] == [p["items"] for p in by_number]
    assert walked[-1]["items"][-1]["balance"] == walked[0]["closing_balance"] == "68.00"  # 7 + 66 - 5
    r = accountant.get(f"{REPORTS}/general-ledger", query_string={"account": a["code"], "after": "bm90IGEgY3Vyc29y"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "after"


def test_aging_buckets_open_items_by_days_past_due_and_payments_settle_the_oldest_first(accountant):
    customer = str(uuid.uuid4())
    as_of = date(2030, 9, 30)
    for days_late, amount in ((-5, "100.00"), (10, "200.00"), (45, "300.00"), (75, "400.00"), (120, "500.00")):
        due = (as_of - timedelta(days=days_late)).isoformat()
        posted(accountant, [dr("receivable", amount, party_id=customer, due_date=due), cr("707000", amount)],
               entry_date="2030-01-15", journal="SAL")
    posted(accountant, [dr("bank", "650.00"), cr("receivable", "650.00", party_id=customer)],
           entry_date="2030-09-01", journal="BNK")
    r = accountant.get(f"{REPORTS}/ar-aging", query_string={"as_of": as_of.isoformat(), "party_id": customer})
    (line,) = r.json["lines"]
    # 650 paid: the 500 over 90 days, then 150 of the 400 at 61-90
    assert {k: line[k] for k in ("current", "days_1_30", "days_31_60", "days_61_90", "over_90", "unapplied",
                                 "balance")} == {
        "current": "100.00", "days_1_30": "200.00", "days_31_60": "300.00", "days_61_90": "250.00",
        "over_90": "0.00", "unapplied": "0.00", "balance": "850.00"}
    everyone = accountant.get(f"{REPORTS}/ar-aging", query_string={"as_of": as_of.isoformat()}).json
    assert customer in {x["party_id"] for x in everyone["lines"]}
    before = accountant.get(f"{REPORTS}/ar-aging", query_string={"as_of": "2030-08-31", "party_id": customer}).json
    assert before["lines"][0]["balance"] == "1500.00"
    statement = accountant.get(f"{REPORTS}/customer-statement", query_string={
        "party_id": customer, "date_from": "2030-02-01", "as_of": "2030-12-31"}).json
    assert statement["opening_balance"] == "1500.00" and statement["closing_balance"] == "850.00"
    assert [(x["credit"], x["balance"]) for x in statement["lines"]] == [("650.00", "850.00")]
    overpaid = str(uuid.uuid4())
    posted(accountant, [dr("bank", "70.00"), cr("receivable", "70.00", party_id=overpaid)], entry_date="2030-09-02")
    (advance,) = accountant.get(f"{REPORTS}/ar-aging", query_string={"as_of": "2030-09-30", "party_id": overpaid}
                                ).json["lines"]
    assert (advance["unapplied"], advance["balance"], advance["current"]) == ("70.00", "-70.00", "0.00")


def test_reports_download_as_csv_xlsx_and_pdf(accountant, make_account):
    a, b = make_account("asset"), make_account("income")
    posted(accountant, [dr(a["code"], "12.34"), cr(b["code"], "12.34")], entry_date="2030-06-01")
    for report, args in (("trial-balance", {}), ("profit-and-loss", {}), ("balance-sheet", {}),
                         ("general-ledger", {"account": a["code"]}), ("ar-aging", {}), ("ap-aging", {}),
                         ("customer-statement", {"party_id": str(uuid.uuid4())}),
                         ("supplier-statement", {"party_id": str(uuid.uuid4())})):
        query = {"as_of": "2030-12-31", **args}
        r = accountant.get(f"{REPORTS}/{report}", query_string={**query, "format": "csv"})
        assert r.status_code == 200 and r.mimetype == "text/csv", (report, r.status_code)
        assert f'filename="{report}' in r.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(r.get_data(as_text=True))))
        assert len(rows) >= 2
        x = accountant.get(f"{REPORTS}/{report}", query_string={**query, "format": "xlsx"})
        assert x.status_code == 200 and x.mimetype.endswith("spreadsheetml.sheet")
        sheet = load_workbook(io.BytesIO(x.data), read_only=True).active
        assert [c for c in next(sheet.iter_rows(values_only=True))] == rows[0]
        p = accountant.get(f"{REPORTS}/{report}", query_string={**query, "format": "pdf"})
        assert p.status_code == 200 and p.mimetype == "application/pdf", (report, p.status_code)
        text = " ".join(PdfReader(io.BytesIO(p.data)).pages[0].extract_text().split())
        assert rows[0][0].replace("_", " ") in text, (report, text)
    tb = list(csv.reader(io.StringIO(accountant.get(f"{REPORTS}/trial-balance", query_string={
        "as_of": "2030-12-31", "format": "csv"}).get_data(as_text=True))))
    assert tb[0][:5] == ["account", "name", "type", "debit", "credit"]
    assert [a["code"], "Test asset", "asset", "12.34", "0.00", "12.34", "0.00"] in tb
    assert tb[-1][0] == "TOTAL" and tb[-1][3] == tb[-1][4]
    sheet = load_workbook(io.BytesIO(accountant.get(f"{REPORTS}/general-ledger", query_string={
        "account": a["code"], "as_of": "2030-12-31", "format": "xlsx"}).data)).active
    values = [row for row in sheet.iter_rows(values_only=True)]
    assert values[-1][3] == "Closing balance" and D(str(values[-1][10])) == D("12.34")
    tb_pdf = accountant.get(f"{REPORTS}/trial-balance", query_string={"as_of": "2030-12-31", "format": "pdf"})
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(tb_pdf.data)).pages).split())
    assert f"{a['code']} Test asset asset 12.34" in text and "TOTAL" in text


def test_who_may_read_post_close_and_report(as_user, accountant):
    clerk, auditor, purchaser = as_user("warehouse_clerk"), as_user("auditor"), as_user("purchaser")
    assert clerk.get(f"{REPORTS}/trial-balance").status_code == 403
    assert clerk.get(ENTRIES).status_code == 403
    assert auditor.get(f"{REPORTS}/trial-balance").status_code == 200
    assert auditor.get(ENTRIES).status_code == 200 and auditor.get(ACCOUNTS).status_code == 200
    assert auditor.post(ENTRIES, json={"entry_date": "2030-01-01", "reference": "x",
                                       "lines": [dr("512000", 1), cr("411000", 1)]}).status_code == 403
    assert purchaser.get(f"{REPORTS}/balance-sheet").status_code == 403
    assert accountant.get(f"{REPORTS}/balance-sheet").status_code == 200


# -- documents of other modules ------------------------------------------------------------------

def stock_product(sessions, kind="stockable", cost="5.00") -> str:
    with sessions.begin() as s:
        p = Product(sku=f"L-{tag()}", name=f"Ledger part {tag()}", kind=kind, cost=D(cost), tax_rate=D("0.2"),
                    currency="EUR", sale_price=D("0"), valuation_method="average", allow_backorder=False, version=1)
        s.add(p)
        s.flush()
        return p.id


def warehouse(sessions) -> dict:
    with sessions.begin() as s:
        w = Warehouse(code=f"L{tag()}".upper(), name="Ledger", active=True, version=1)
        s.add(w)
        s.flush()
        loc = Location(warehouse_id=w.id, code="STOCK", name="Stock", path="STOCK", is_default=True, active=True)
        s.add(loc)
        s.flush()
        return {"id": w.id, "stock": loc.id}


def entry_for(c, source_type, source_id, **args) -> dict:
    (found,) = c.get(ENTRIES, query_string={"source_type": source_type, "source_id": source_id, **args}).json["items"]
    return c.get(f"{ENTRIES}/{found['id']}").json


def amounts(entry) -> list[tuple]:
    return [(line["account"], line["debit"], line["credit"]) for line in entry["lines"]]


def test_stock_receipts_and_deliveries_post_their_valuation(as_user, sessions):
    clerk, accountant = as_user("warehouse_clerk"), as_user("accountant")
    product, wh = stock_product(sessions), warehouse(sessions)
    receipt = clerk.post("/api/v1/stock/moves", json={"kind": "receipt", "product_id": product,
                                                      "warehouse_id": wh["id"], "quantity": "3", "unit_cost": "10.335"})
    assert receipt.status_code == 201, receipt.json
    entry = entry_for(accountant, "stock_move", receipt.json["id"])
    assert entry["journal"] == "STK" and entry["purpose"] == "valuation" and entry["number"].startswith("STK-")
    assert amounts(entry) == [("310000", "31.01", "0.00"), ("408000", "0.00", "31.01")]  # 31.005 to the cent
    assert entry["entry_date"] == datetime.now(UTC).date().isoformat()
    delivery = clerk.post("/api/v1/stock/moves", json={"kind": "delivery", "product_id": product,
                                                       "warehouse_id": wh["id"], "quantity": "1"})
    assert amounts(entry_for(accountant, "stock_move", delivery.json["id"])) == [
        ("603700", "10.34", "0.00"), ("310000", "0.00", "10.34")]
    other = warehouse(sessions)
    transfer = clerk.post("/api/v1/stock/moves", json={"kind": "transfer", "product_id": product, "quantity": "1",
                                                       "from_warehouse_id": wh["id"], "to_warehouse_id": other["id"]})
    assert transfer.status_code == 201
    assert accountant.get(ENTRIES, query_string={"source_type": "stock_move", "source_id": transfer.json["id"]}
                          ).json["total"] == 0


@pytest.fixture
def supplier(deliver) -> str:
    name = f"Initech {tag()}"
    s = party_state(display_name=name, legal_name=name, version=1, roles=["supplier"])
    assert deliver("created", s)[0] == "applied"
    return s["id"]


def test_a_received_and_approved_supplier_bill_posts_to_payables(as_user, sessions, supplier):
    purchaser, clerk, accountant = as_user("purchaser"), as_user("warehouse_clerk"), as_user("accountant")
    wh, screen, gloves = warehouse(sessions), stock_product(sessions), stock_product(sessions, kind="consumable")
    po = purchaser.post(PO, json={"supplier_id": supplier, "warehouse_id": wh["id"], "lines": [
        {"product_id": screen, "quantity": "10", "unit_price": "119.99", "tax_rate": "0.2"},
        {"product_id": gloves, "quantity": "4", "unit_price": "2.50", "tax_rate": "0.2"}]})
    assert po.status_code == 201, po.json
    po = purchaser.post(f"{PO}/{po.json['id']}/send").json
    screen_line, gloves_line = po["lines"]
    receipt = clerk.post(f"{PO}/{po['id']}/receipts", json={"lines": [
        {"po_line_id": screen_line["id"], "quantity": "10"}, {"po_line_id": gloves_line["id"], "quantity": "4"}]})
    assert receipt.status_code == 201, receipt.json
    move_id = [line for line in receipt.json["lines"] if line["product_id"] == screen][0]["stock_move_id"]
    stocked = entry_for(accountant, "stock_move", move_id)
    assert amounts(stocked) == [("310000", "1199.90", "0.00"), ("408000", "0.00", "1199.90")]
    assert stocked["lines"][1]["party_id"] == supplier

    bill = accountant.post(BILLS, json={"supplier_id": supplier, "supplier_invoice_number": f"S-{tag()}",
                                        "bill_date": "2031-05-10", "currency": "EUR", "lines": [
        {"po_line_id": screen_line["id"], "quantity": "10", "unit_price": "121.00"},
        {"po_line_id": gloves_line["id"], "quantity": "4", "unit_price": "2.50"}]})
    assert bill.status_code == 201, bill.json
    bill = bill.json
    assert accountant.get(ENTRIES, query_string={"source_id": bill["id"]}).json["total"] == 0  # not approved yet
    approved = accountant.post(f"{BILLS}/{bill['id']}/approve", json={"reason": "price increase agreed"})
    assert approved.status_code == 200, approved.json
    entry = entry_for(accountant, "supplier_bill", bill["id"])
    assert entry["journal"] == "PUR" and entry["entry_date"] == "2031-05-10"
    assert entry["number"].startswith("PUR-2031-") and bill["number"] in entry["reference"]
    # GRNI is cleared at the receipt's value; the price difference (10.10) and the gloves (10.00) are expensed
    assert amounts(entry) == [("408000", "1199.90", "0.00"), ("607000", "10.10", "0.00"),
                              ("607000", "10.00", "0.00"), ("445660", "244.00", "0.00"), ("401000", "0.00", "1464.00")]
    assert bill["total"] == "1464.00"
    payable = entry["lines"][-1]
    assert (payable["party_id"], payable["due_date"]) == (supplier, bill["due_date"])

    aging = accountant.get(f"{REPORTS}/ap-aging", query_string={"as_of": "2031-05-31", "party_id": supplier}).json
    (line,) = aging["lines"]
    assert line["current"] == "1464.00" and line["balance"] == "1464.00" and line["name"].startswith("Initech")
    late = accountant.get(f"{REPORTS}/ap-aging", query_string={"as_of": "2031-08-01", "party_id": supplier}).json
    assert late["lines"][0]["days_31_60"] == "1464.00"
    statement = accountant.get(f"{REPORTS}/supplier-statement", query_string={
        "party_id": supplier, "as_of": "2031-12-31"}).json
    assert statement["closing_balance"] == "1464.00" and statement["lines"][0]["balance"] == "1464.00"
    grni = ledger(accountant, "grni", as_of="2031-12-31")
    assert grni["account"] == "408000"
