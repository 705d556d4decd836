"""Postings are checked against the chart a process keeps in memory, and sealed in one statement when the chain is
where the process left it: what an accountant changes (a lock date, an inactive account, a role's account) and what
another process posts are never missed. Real PostgreSQL, two connections where it races."""

import os
import subprocess
import sys
import threading
import time
import uuid
from datetime import date
from decimal import Decimal as D

import pytest
from erp.ledger import accounts as chart
from erp.ledger import hashchain
from erp.ledger.models import JournalEntry
from erp.ledger.posting import PostingLine
from erp.ledger.service import post_entry
from servicekit.problems import Problem
from sqlalchemy import func, select

pytestmark = pytest.mark.db

ACCOUNTS = "/api/v1/accounts"
CLOSED = date(2003, 3, 31)  # the lock dates of these tests; other tests close 2001 and 2002


@pytest.fixture
def make_account(accountant):
    def make(type_="asset") -> dict:
        r = accountant.post(ACCOUNTS, json={"code": f"C{uuid.uuid4().hex[:8]}", "name": f"Cache {type_}",
                                            "type": type_})
        assert r.status_code == 201, r.json
        return r.json
    return make


@pytest.fixture
def reopen(sessions):
    """The books are open again after the test (an administrator may clear the lock date)."""
    yield
    with sessions.begin() as s:
        chart.set_lock_date(s, None, "test", is_admin=True)


def post_in(session, debit: str, credit: str, day: date, source: str | None = None) -> JournalEntry:
    """A 5.00 entry of the GEN journal, in the caller's transaction."""
    lines = [PostingLine(debit, debit=D("5.00")), PostingLine(credit, credit=D("5.00"))]
    return post_entry(session, journal="GEN", entry_date=day, lines=lines, reference="chart cache test",
                      source_type="cache-test", source_id=source or uuid.uuid4().hex, actor="test")


def post(sessions, debit: str, credit: str, day: date, source: str | None = None) -> JournalEntry:
    """The same in a transaction of its own."""
    with sessions.begin() as s:
        return post_in(s, debit, credit, day, source)


def entries_of(sessions, source: str) -> int:
    with sessions.begin() as s:
        return s.execute(select(func.count()).select_from(JournalEntry).where(
            JournalEntry.source_type == "cache-test", JournalEntry.source_id == source)).scalar()


def in_thread(fn):
    """Run fn in a thread; returns (thread, outcome) where outcome gets "result" or "error"."""
    outcome = {}

    def run():
        try:
            outcome["result"] = fn()
        except Exception as exc:  # noqa: BLE001 - handed to the test
            outcome["error"] = exc
    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_a_posting_racing_a_lock_date_change_lands_before_it_or_is_refused(sessions, make_account, reopen):
    a, b = make_account()["code"], make_account()["code"]
    post(sessions, a, b, date(2003, 4, 2))  # this process now holds the chart, lock date open

    # 1. the posting goes first: the close waits for it, and the entry was booked before the books closed
    first = uuid.uuid4().hex
    with sessions.begin() as posting:
        post_in(posting, a, b, CLOSED, first)
        closing, closed = in_thread(lambda: _close(sessions, CLOSED))
        time.sleep(0.5)
        assert closing.is_alive(), "the lock date changed while a posting dated in the period was in flight"
    closing.join(10)
    assert "error" not in closed and closed["result"] == CLOSED
    assert entries_of(sessions, first) == 1

    # 2. the close goes first: a posting dated in the period waits for it, then is refused, although this
    # process's chart (read before the close) still says the period is open
    with sessions.begin() as s:
        chart.set_lock_date(s, date(2003, 3, 15), "test", is_admin=True)  # reopen half a month
    post(sessions, a, b, date(2003, 3, 20))  # the chart in memory: lock date 2003-03-15
    second = uuid.uuid4().hex
    with sessions.begin() as closing_session:
        chart.set_lock_date(closing_session, CLOSED, "test", is_admin=False)
        posting, posted = in_thread(lambda: post(sessions, a, b, date(2003, 3, 25), second))
        time.sleep(0.5)
        assert posting.is_alive(), "a posting did not wait for the lock date change in flight"
    posting.join(10)
    assert isinstance(posted.get("error"), Problem), posted
    assert posted["error"].status == 409 and posted["error"].type.endswith("period-closed")
    assert entries_of(sessions, second) == 0

    # 3. once closed, a posting into the period is refused and one after it is booked
    with pytest.raises(Problem) as refused:
        post(sessions, a, b, CLOSED)
    assert refused.value.status == 409
    assert post(sessions, a, b, date(2003, 4, 1)).id


def _close(sessions, day: date) -> date:
    with sessions.begin() as s:
        return chart.set_lock_date(s, day, "test", is_admin=False)["lock_date"]


def test_an_account_deactivated_while_a_posting_waits_refuses_it(sessions, accountant, make_account):
    a, b = make_account(), make_account()
    post(sessions, a["code"], b["code"], date(2003, 5, 1))  # cached: both accounts active
    source = uuid.uuid4().hex
    with sessions.begin() as editing:
        chart.update_account(editing, a["id"], 1, {"active": False}, "test")
        posting, posted = in_thread(lambda: post(sessions, a["code"], b["code"], date(2003, 5, 2), source))
        time.sleep(0.5)
        assert posting.is_alive(), "a posting did not wait for the chart change in flight"
    posting.join(10)
    assert isinstance(posted.get("error"), Problem), posted
    assert posted["error"].status == 422
    assert posted["error"].errors == [{"field": "lines.0.account", "message": f"account {a['code']} is inactive"}]
    assert entries_of(sessions, source) == 0
    # and reactivated, it takes postings again (the chart in memory said inactive)
    assert accountant.patch(f"{ACCOUNTS}/{a['id']}", json={"active": True},
                            headers={"If-Match": '"2"'}).status_code == 200
    assert post(sessions, a["code"], b["code"], date(2003, 5, 3)).id


def test_an_account_edit_waits_for_a_posting_in_flight_without_deadlocking(sessions, make_account):
    a, b = make_account(), make_account()
    post(sessions, a["code"], b["code"], date(2003, 5, 1))
    with sessions.begin() as posting:
        entry = post_in(posting, a["code"], b["code"], date(2003, 5, 4))
        editing, edited = in_thread(lambda: _rename(sessions, a["id"], "Renamed while posting"))
        time.sleep(0.5)
        assert editing.is_alive(), "the account changed while a posting to it was in flight"
    editing.join(10)
    assert edited.get("result") == "Renamed while posting", edited
    with sessions.begin() as s:
        assert s.get(JournalEntry, entry.id).hash == entry.hash


def _rename(sessions, account_id: str, name: str) -> str:
    with sessions.begin() as s:
        return chart.update_account(s, account_id, 1, {"name": name}, "test")["name"]


def test_a_role_pointed_at_another_account_books_there_at_once(sessions, accountant, make_account):
    before = accountant.get("/api/v1/ledger/account-mapping").json
    old = next(m["account"] for m in before if m["role"] == "rounding")
    other, cash = make_account("expense"), make_account()
    post(sessions, "rounding", cash["code"], date(2003, 6, 1))
    try:
        assert accountant.patch("/api/v1/ledger/account-mapping",
                                json={"roles": {"rounding": other["code"]}}).status_code == 200
        entry = post(sessions, "rounding", cash["code"], date(2003, 6, 2))
        lines = accountant.get(f"/api/v1/journal-entries/{entry.id}").json["lines"]
        assert [line["account"] for line in lines] == [other["code"], cash["code"]]
    finally:
        assert accountant.patch("/api/v1/ledger/account-mapping", json={"roles": {"rounding": old}}).status_code == 200


def test_postings_from_another_process_in_between_keep_the_numbers_gapless_and_the_chain_whole(sessions,
                                                                                              make_account):
    a, b = make_account()["code"], make_account()["code"]
    mine = [post(sessions, a, b, date(2003, 7, 1))]  # this process knows where the chain is
    other = subprocess.run([sys.executable, "-c", OTHER_PROCESS, a, b], capture_output=True, text=True,
                           timeout=120, env=os.environ)
    assert other.returncode == 0, other.stderr[-3000:]
    theirs = other.stdout.split()
    mine += [post(sessions, a, b, date(2003, 7, 1)) for _ in range(2)]  # the chain moved: sealed the long way
    with sessions.begin() as s:
        numbers = dict(s.execute(select(JournalEntry.id, JournalEntry.sequence_number).where(
            JournalEntry.id.in_([e.id for e in mine] + theirs))).all())
        result = hashchain.verify(s)
    gen_2003 = sorted(numbers.values())
    assert gen_2003 == list(range(gen_2003[0], gen_2003[0] + 5))  # consecutive, whoever posted
    assert numbers[mine[1].id] > max(numbers[t] for t in theirs)
    assert [numbers[e.id] for e in mine] == [e.sequence_number for e in mine]
    assert result.ok, result.broken


# Two postings from another process, on the same journal and year (prints their ids).
OTHER_PROCESS = """
import sys, uuid
from datetime import date
from decimal import Decimal
from erp.config import Settings
from erp.ledger.posting import PostingLine
from erp.ledger.service import post_entry
from servicekit.db import make_engine, make_session_factory
sessions = make_session_factory(make_engine(Settings.from_env().database_url))
for _ in range(2):
    with sessions.begin() as s:
        entry = post_entry(s, journal="GEN", entry_date=date(2003, 7, 1), reference="other process",
                           lines=[PostingLine(sys.argv[1], debit=Decimal("1.00")),
                                  PostingLine(sys.argv[2], credit=Decimal("1.00"))],
                           source_type="cache-test", source_id=uuid.uuid4().hex, actor="test")
    print(entry.id)
"""
