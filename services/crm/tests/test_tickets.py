"""Support agents work tickets: open them for a customer (numbered without gaps), move them through their statuses,
reply and note, merge duplicates, attach files, find them in queues, and see SLA deadlines computed in business
time from the ticket's own history."""

import hashlib
import io
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from crm.app import create_app
from crm.catalog.handlers import CONSUMER, HANDLERS, TOPICS
from crm.config import Settings
from crm.db import audit_log, auth, processed_events
from crm.tickets.business_time import WEEKDAYS
from crm.tickets.escalation import EscalationRunner
from crm.tickets.models import Ticket, TicketFact
from crm.tickets.sla import SlaRecomputeRunner
from servicekit.testing import assert_problem, client_as
from shared_events import envelope
from shared_events.inbox import InboxConsumer
from shared_events.testing import Record, RecordingProducer
from sqlalchemy import func, select, update

pytestmark = pytest.mark.db

ALWAYS = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def tag() -> str:
    return uuid.uuid4().hex[:8]


ADMIN = []  # the administrator's client of the running test (see the autouse fixture): creates customers


@pytest.fixture(autouse=True)
def _admin(client):
    ADMIN[:] = [client]
    yield
    ADMIN.clear()


def party(client=None) -> dict:
    """A new customer, by default created by an administrator (support agents read every party but do not create
    them)."""
    r = (client or ADMIN[0]).post("/api/v1/parties", json={"kind": "company", "legal_name": f"Customer {tag()}",
                                             "roles": ["customer"]})
    assert r.status_code == 201, r.json
    return r.json


def ticket(client, status=201, **body) -> dict:
    body.setdefault("subject", f"Printer jams {tag()}")
    if "party_id" not in body:
        body["party_id"] = party()["id"]
    r = client.post("/api/v1/tickets", json=body)
    assert r.status_code == status, r.json
    return r.json


def fresh(client, t) -> dict:
    r = client.get(f"/api/v1/tickets/{t['id']}")
    assert r.status_code == 200
    return r.json


def move(client, t, status, expect=200):
    r = client.post(f"/api/v1/tickets/{t['id']}/status", json={"status": status})
    assert r.status_code == expect, r.json
    return r.json


def say(client, t, kind="reply", author="agent", expect=201, body="Thanks, we are on it."):
    r = client.post(f"/api/v1/tickets/{t['id']}/messages", json={"kind": kind, "author_type": author, "body": body})
    assert r.status_code == expect, r.json
    return r.json


def calendar(client, **over) -> dict:
    r = client.post("/api/v1/sla/calendars", json={"name": f"Hours {tag()}", "zone": "UTC", "windows": ALWAYS,
                                                   **over})
    assert r.status_code == 201, r.json
    return r.json


def policy(client, cal, **over) -> dict:
    body = {"name": f"Policy {tag()}", "position": uuid.uuid4().int % 9_000 + 1000, "calendar_id": cal["id"],
            "first_response_minutes": 60, "resolution_minutes": 240, **over}
    r = client.post("/api/v1/sla/policies", json=body)
    assert r.status_code == 201, r.json
    return r.json


def numbers(client, **query) -> list[str]:
    r = client.get("/api/v1/tickets", query_string={"page_size": 200, **query})
    assert r.status_code == 200, r.json
    return [t["number"] for t in r.json["items"]]


@pytest.fixture
def agent(as_user):
    return as_user("support_agent")


@pytest.fixture
def product(db):
    """A product announced by the ERP on erp.product.v1, as the catalog replica receives it."""
    inbox = InboxConsumer(CONSUMER, "unused:1", TOPICS, HANDLERS, db.sessions, processed_events,
                          producer_factory=RecordingProducer)
    state = {"id": str(uuid.uuid4()), "sku": f"SKU-{tag()}", "name": "Laser printer", "description": None,
             "category_id": None, "category_path": None, "uom": "unit", "kind": "stockable", "currency": "EUR",
             "sale_price": "100", "tax_rate": "0.2", "warranty_months": 24, "allow_backorder": False, "active": True,
             "version": 1, "updated_at": datetime.now(UTC).isoformat()}
    topic, key, value, headers = envelope.to_kafka(envelope.new_event("erp.product.created", state["id"], state, 1))
    assert inbox.handle_message(Record(topic, 0, 0, key, value, headers)) == "applied"
    return state


def test_tickets_are_numbered_per_year_without_gaps_even_when_one_is_refused(agent):
    customer = party()
    first = ticket(agent, party_id=customer["id"])
    ticket(agent, 422, party_id=customer["id"], product_id=str(uuid.uuid4()))  # refused: takes no number
    second = ticket(agent, party_id=customer["id"])
    year, n = first["number"].split("-")[1:]
    assert first["number"].startswith(f"T-{datetime.now(UTC).year}-") and len(n) == 5
    assert second["number"] == f"T-{year}-{int(n) + 1:05d}"
    assert first["status"] == "new" and first["channel"] == "api" and first["priority"] == "normal"


def test_a_ticket_for_an_unknown_customer_or_product_is_refused_and_nothing_is_created(agent, db):
    with db.sessions() as s:
        before = s.execute(select(func.count()).select_from(TicketFact)).scalar_one()
    assert_problem(agent.post("/api/v1/tickets", json={"subject": "x", "party_id": str(uuid.uuid4())}), 422,
                   "party_id")
    r = agent.post("/api/v1/tickets", json={"subject": "x", "party_id": party()["id"],
                                            "product_id": str(uuid.uuid4())})
    assert_problem(r, 422, "product_id")
    with db.sessions() as s:
        assert s.execute(select(func.count()).select_from(TicketFact)).scalar_one() == before


def test_a_ticket_about_a_catalog_product_and_serial_shows_them(agent, product):
    t = ticket(agent, product_id=product["id"], serial_number="SN-0001", channel="phone", category="hardware")
    assert (t["product_id"], t["serial_number"], t["channel"]) == (product["id"], "SN-0001", "phone")


def test_statuses_follow_the_workflow_and_a_closed_ticket_is_final(agent):
    t = ticket(agent)
    assert move(agent, t, "pending")["status"] == "pending"
    assert move(agent, t, "resolved")["resolved_at"] is not None
    reopened = move(agent, t, "open")
    assert reopened["status"] == "open" and reopened["resolved_at"] is None
    closed = move(agent, t, "closed")
    refused = assert_problem(agent.post(f"/api/v1/tickets/{t['id']}/status", json={"status": "open"}), 409,
                             "status")
    assert "final" in refused["detail"]
    assert fresh(agent, t)["version"] == closed["version"]


def test_a_stale_if_match_changes_nothing(agent):
    t = ticket(agent)
    r = agent.patch(f"/api/v1/tickets/{t['id']}", json={"priority": "high"}, headers={"If-Match": '"999"'})
    assert_problem(r, 412)
    r = agent.patch(f"/api/v1/tickets/{t['id']}", json={"priority": "high"},
                    headers={"If-Match": agent.get(f"/api/v1/tickets/{t['id']}").headers["ETag"]})
    assert r.status_code == 200 and r.json["priority"] == "high"
    assert_problem(agent.post(f"/api/v1/tickets/{t['id']}/status", json={"status": "open"},
                              headers={"If-Match": '"1"'}), 412)


def test_replies_and_notes_move_the_ticket_and_keep_notes_internal(agent):
    t = ticket(agent)
    say(agent, t, "note", body="Customer is a VIP, be quick")
    assert fresh(agent, t)["status"] == "new"  # a note is not an answer
    say(agent, t)
    answered = fresh(agent, t)
    assert answered["status"] == "open" and answered["first_responded_at"] is not None
    move(agent, t, "pending")
    say(agent, t, author="customer", body="Here is the log you asked for")
    assert fresh(agent, t)["status"] == "open"
    assert_problem(agent.post(f"/api/v1/tickets/{t['id']}/messages",
                              json={"kind": "note", "author_type": "customer", "body": "x"}), 422, "author_type")
    kinds = [(m["kind"], m["author_type"]) for m in agent.get(f"/api/v1/tickets/{t['id']}/messages").json]
    assert kinds == [("note", "agent"), ("reply", "agent"), ("reply", "customer")]


def test_a_customer_reply_reopens_a_resolved_ticket_but_not_after_the_window(agent, db):
    t = ticket(agent)
    move(agent, t, "resolved")
    say(agent, t, author="customer", body="Still broken")
    assert fresh(agent, t)["status"] == "open"
    move(agent, t, "resolved")
    with db.sessions.begin() as s:  # resolved three weeks ago (the window is 14 days)
        s.execute(update(Ticket).where(Ticket.id == t["id"]).values(resolved_at=datetime.now(UTC) - timedelta(days=21)))
    refused = assert_problem(agent.post(f"/api/v1/tickets/{t['id']}/messages", json={
        "kind": "reply", "author_type": "customer", "body": "Hello again"}), 409)
    assert "open a new ticket" in refused["detail"]
    assert fresh(agent, t)["status"] == "resolved"


def test_merging_a_duplicate_moves_its_conversation_and_closes_it(agent):
    customer = party()
    original, duplicate = ticket(agent, party_id=customer["id"]), ticket(agent, party_id=customer["id"])
    say(agent, duplicate, body="Answered on the duplicate")
    kept = agent.post(f"/api/v1/tickets/{duplicate['id']}/merge", json={"into_id": original["id"]})
    assert kept.status_code == 200, kept.json
    assert [m["body"] for m in agent.get(f"/api/v1/tickets/{original['id']}/messages").json] == \
        ["Answered on the duplicate"]
    gone = fresh(agent, duplicate)
    assert gone["status"] == "closed" and gone["merged_into_id"] == original["id"]
    history = [f["kind"] for f in agent.get(f"/api/v1/tickets/{original['id']}/history").json]
    assert history[0] == "created" and history[-1] == "merged_in"
    other = ticket(agent)
    assert_problem(agent.post(f"/api/v1/tickets/{other['id']}/merge", json={"into_id": original["id"]}), 422,
                   "into_id")


def test_the_customer_timeline_shows_the_ticket_opened_and_resolved(agent):
    t = ticket(agent)
    move(agent, t, "resolved")
    entries = agent.get(f"/api/v1/parties/{t['party_id']}/timeline").json["items"]
    assert {e["kind"] for e in entries if e.get("ref_id") == t["id"]} == {"ticket_opened", "ticket_resolved"}


def test_queues_mine_team_and_unassigned(as_user, client):
    me, colleague = as_user("support_agent"), as_user("support_agent")
    r = client.post("/api/v1/teams", json={"name": f"Support {tag()}"})
    team = r.json
    for user in (me, colleague):
        client.post(f"/api/v1/teams/{team['id']}/members", json={"user_id": user.user["id"], "role": "member"})
    mine = ticket(me, assignee_id=me.user["id"])
    theirs = ticket(me, assignee_id=colleague.user["id"])
    nobody = ticket(me)
    assert mine["number"] in numbers(me, queue="mine") and theirs["number"] not in numbers(me, queue="mine")
    assert {mine["number"], theirs["number"]} <= set(numbers(me, queue="team"))
    assert nobody["number"] in numbers(me, queue="unassigned") and mine["number"] not in numbers(me, queue="unassigned")


def test_a_sales_rep_sees_only_the_tickets_they_opened(as_user, agent):
    rep = as_user("sales_rep")
    own = ticket(rep, party_id=party(rep)["id"])
    other = ticket(agent)
    assert own["number"] in numbers(rep) and other["number"] not in numbers(rep)
    assert_problem(rep.get(f"/api/v1/tickets/{other['id']}"), 404)


# -- SLA ---------------------------------------------------------------------------------------------------------

def test_the_matching_policy_and_its_reason_show_on_the_ticket(client, agent):
    cal = calendar(client)
    category = f"billing-{tag()}"
    urgent = policy(client, cal, categories=[category], priorities=["urgent"], resolution_minutes=60)
    t = ticket(agent, category=category, priority="urgent")
    assert t["sla"]["policy_id"] == urgent["id"]
    assert f"category {category}" in t["sla"]["reason"] and "priority urgent" in t["sla"]["reason"]
    due = datetime.fromisoformat(t["sla"]["resolution_due_at"])
    assert timedelta(minutes=59) < due - datetime.fromisoformat(t["created_at"]) < timedelta(minutes=61)


def test_breaching_soon_and_breached_queues(client, agent, db):
    cal = calendar(client)
    category = f"network-{tag()}"
    policy(client, cal, categories=[category], resolution_minutes=30, first_response_minutes=None)
    soon = ticket(agent, category=category)
    late = ticket(agent, category=category)
    with db.sessions.begin() as s:  # `late` was opened two hours ago
        s.execute(update(TicketFact).where(TicketFact.ticket_id == late["id"])
                  .values(occurred_at=datetime.now(UTC) - timedelta(hours=2)))
    pol = policy(client, cal, categories=[f"unused-{tag()}"])  # any policy change recomputes open tickets
    assert pol["id"] and SlaRecomputeRunner(db.sessions).run_once() >= 2  # in the worker
    assert soon["number"] in numbers(agent, queue="breaching_soon", within=60)
    assert soon["number"] not in numbers(agent, queue="breaching_soon", within=10)
    assert late["number"] in numbers(agent, queue="breached")
    assert late["number"] not in numbers(agent, queue="breaching_soon")
    assert fresh(agent, late)["sla"]["breached_at"] is not None


def test_pending_pauses_the_deadline_and_the_clock_can_be_replayed_as_of_a_moment(client, agent):
    cal = calendar(client)
    category = f"paused-{tag()}"
    policy(client, cal, categories=[category], resolution_minutes=600)
    t = ticket(agent, category=category)
    assert t["sla"]["resolution_due_at"] is not None
    paused = move(agent, t, "pending")
    assert paused["sla"]["resolution_due_at"] is None
    running = move(agent, t, "open")
    assert datetime.fromisoformat(running["sla"]["resolution_due_at"]) >= \
        datetime.fromisoformat(t["sla"]["resolution_due_at"])
    before = agent.get(f"/api/v1/tickets/{t['id']}/sla", query_string={"as_of": t["created_at"]})
    assert before.status_code == 200 and before.json["running"] is True
    assert before.json["resolution_due_at"] == t["sla"]["resolution_due_at"]


def test_a_priority_change_switches_policy_and_keeps_time_spent(client, agent, db):
    cal = calendar(client)
    category = f"switch-{tag()}"
    first = uuid.uuid4().int % 9_000 + 1000
    policy(client, cal, categories=[category], priorities=["urgent"], resolution_minutes=120, position=first)
    normal = policy(client, cal, categories=[category], resolution_minutes=600, position=first + 1)
    t = ticket(agent, category=category)
    assert t["sla"]["policy_id"] == normal["id"]
    with db.sessions.begin() as s:  # the ticket was opened an hour ago
        s.execute(update(TicketFact).where(TicketFact.ticket_id == t["id"])
                  .values(occurred_at=datetime.now(UTC) - timedelta(hours=1)))
    etag = agent.get(f"/api/v1/tickets/{t['id']}").headers["ETag"]
    changed = agent.patch(f"/api/v1/tickets/{t['id']}", json={"priority": "urgent"}, headers={"If-Match": etag}).json
    left = datetime.fromisoformat(changed["sla"]["resolution_due_at"]) - datetime.now(UTC)
    assert timedelta(minutes=55) < left < timedelta(minutes=61)  # 2h target, 1h already spent


def test_a_calendar_with_overlapping_windows_is_refused(client):
    r = client.post("/api/v1/sla/calendars", json={"name": f"Bad {tag()}", "zone": "Europe/Paris", "windows": {
        "mon": [["09:00", "13:00"], ["12:00", "17:00"]]}})
    assert_problem(r, 422, "windows.mon")
    assert_problem(client.post("/api/v1/sla/calendars", json={"name": f"Bad {tag()}", "zone": "Mars/Olympus",
                                                              "windows": ALWAYS}), 422, "zone")
    assert_problem(client.post("/api/v1/sla/calendars", json={"name": f"Bad {tag()}", "zone": "UTC",
                                                              "windows": ALWAYS, "holiday_country": "ZZ"}), 422,
                   "holiday_country")
    today = datetime.now(UTC).date()
    every_monday = [(today + timedelta(days=d)).isoformat() for d in range(-7, 366 * 3 + 7)
                    if (today + timedelta(days=d)).weekday() == 0]
    assert_problem(client.post("/api/v1/sla/calendars", json={"name": f"Bad {tag()}", "zone": "UTC", "windows": {
        "mon": [["09:00", "17:00"]]}, "closed_days": every_monday}), 422, "windows")


def test_only_sla_managers_change_policies(agent, client):
    cal = calendar(client)
    assert_problem(agent.post("/api/v1/sla/policies", json={"name": "x", "position": 1, "calendar_id": cal["id"],
                                                            "resolution_minutes": 5}), 403)


def test_the_sla_report_gives_met_percent_by_category(client, agent, db):
    cal = calendar(client)
    category = f"report-{tag()}"
    policy(client, cal, categories=[category], resolution_minutes=30, first_response_minutes=None)
    ok, late = ticket(agent, category=category), ticket(agent, category=category)
    move(agent, ok, "resolved")
    with db.sessions.begin() as s:
        s.execute(update(TicketFact).where(TicketFact.ticket_id == late["id"])
                  .values(occurred_at=datetime.now(UTC) - timedelta(hours=2)))
    policy(client, cal, categories=[f"unused-{tag()}"])  # a policy change: the worker recomputes open tickets
    SlaRecomputeRunner(db.sessions).run_once()
    rows = client.get("/api/v1/sla/report", query_string={"group_by": "category"}).json
    row = next(r for r in rows if r["key"] == category)
    assert (row["measured"], row["met"], row["breached"], row["met_percent"]) == (2, 1, 1, 50.0)


# -- attachments -------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_limits(app, tmp_path_factory):
    """The CRM with a 2 KB attachment limit, its own storage directory and the EICAR-refusing scan hook."""
    settings = replace(Settings.from_env(), ticket_attachment_max_bytes=2048,
                       ticket_storage_dir=str(tmp_path_factory.mktemp("ticket-files")),
                       ticket_virus_scan="crm.tickets.attachments:refuse_eicar_test_file")
    return create_app(settings), Path(settings.ticket_storage_dir)


def upload(client, t, data, name="file.txt", kind="text/plain"):
    return client.post(f"/api/v1/tickets/{t['id']}/attachments", data={"file": (io.BytesIO(data), name, kind)},
                       content_type="multipart/form-data")


def stored(storage: Path) -> list[str]:
    return sorted(p.name for p in storage.rglob("*") if p.is_file())


def test_attachments_are_stored_once_by_content_and_downloaded_as_sent(small_limits):
    app, storage = small_limits
    agent = client_as(app, auth, audit_log, "crm", ["support_agent"])
    t, other = ticket(agent), ticket(agent)
    data = b"log line\n" * 20
    sha = hashlib.sha256(data).hexdigest()
    for target in (t, other):
        r = upload(agent, target, data, name="crash.log")
        assert r.status_code == 201, r.json
        assert r.json["sha256"] == sha and r.json["size"] == len(data) and r.json["filename"] == "crash.log"
    assert sha in stored(storage) and len([n for n in stored(storage) if n == sha]) == 1
    listed = agent.get(f"/api/v1/tickets/{t['id']}/attachments").json
    got = agent.get(f"/api/v1/tickets/{t['id']}/attachments/{listed[0]['id']}")
    assert got.status_code == 200 and got.data == data and got.mimetype == "text/plain"


def test_an_attachment_over_the_limit_of_a_refused_type_or_infected_is_refused_and_nothing_stored(small_limits):
    app, storage = small_limits
    agent = client_as(app, auth, audit_log, "crm", ["support_agent"])
    t = ticket(agent)
    before = stored(storage)
    assert_problem(upload(agent, t, b"x" * 4096), 413, "file")
    assert_problem(upload(agent, t, b"MZ...", name="setup.exe", kind="application/x-msdownload"), 415, "file")
    assert_problem(upload(agent, t, b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"), 422,
                   "file")
    assert agent.get(f"/api/v1/tickets/{t['id']}/attachments").json == []
    assert stored(storage) == before


# -- warnings and escalations (the worker's job) ------------------------------------------------------------------

def tasks_about(client, t) -> list[dict]:
    r = client.get("/api/v1/tasks", query_string={"record_type": "ticket", "record_id": t["id"], "page_size": 50})
    assert r.status_code == 200, r.json
    return r.json["items"]


def support_team(client, as_user):
    lead, agent = as_user("support_agent"), as_user("support_agent")
    team = client.post("/api/v1/teams", json={"name": f"Support {tag()}"}).json
    client.post(f"/api/v1/teams/{team['id']}/members", json={"user_id": lead.user["id"], "role": "manager"})
    client.post(f"/api/v1/teams/{team['id']}/members", json={"user_id": agent.user["id"], "role": "member"})
    return team, lead, agent


def test_a_breached_ticket_is_escalated_once_to_the_team_lead_and_a_near_one_warns_its_assignee(client, as_user, db):
    team, lead, agent = support_team(client, as_user)
    cal = calendar(client)
    category = f"escalate-{tag()}"
    policy(client, cal, categories=[category], resolution_minutes=30, first_response_minutes=None)
    late = ticket(agent, category=category, team_id=team["id"], assignee_id=agent.user["id"])
    near = ticket(agent, category=category, team_id=team["id"], assignee_id=agent.user["id"])
    with db.sessions.begin() as s:
        s.execute(update(TicketFact).where(TicketFact.ticket_id == late["id"])
                  .values(occurred_at=datetime.now(UTC) - timedelta(hours=2)))
    runner = EscalationRunner(db.sessions, warning_minutes=60)
    runner.run_once()
    runner.run_once()
    escalations = tasks_about(client, late)
    assert [(t["assignee_id"], t["priority"]) for t in escalations] == [(lead.user["id"], "urgent")]
    assert late["number"] in escalations[0]["title"]
    warnings = tasks_about(client, near)
    assert [(t["assignee_id"], t["priority"]) for t in warnings] == [(agent.user["id"], "high")]
    assert "escalated" in [f["kind"] for f in agent.get(f"/api/v1/tickets/{late['id']}/history").json]


def test_an_escalation_waits_for_working_hours(client, as_user, db):
    team, lead, agent = support_team(client, as_user)
    today = datetime.now(UTC).date()
    open_day = today + timedelta(days=1)
    cal = calendar(client, windows={WEEKDAYS[open_day.weekday()]: [["00:00", "24:00"]]})
    category = f"hours-{tag()}"
    policy(client, cal, categories=[category], resolution_minutes=30, first_response_minutes=None)
    t = ticket(agent, category=category, team_id=team["id"])
    runner = EscalationRunner(db.sessions, warning_minutes=0)
    closed_day = datetime.combine(open_day + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=1)
    runner.run_once(now=closed_day)  # past the deadline, but nobody works today
    assert tasks_about(client, t) == []
    runner.run_once(now=datetime.combine(open_day + timedelta(days=7), datetime.min.time(), UTC) + timedelta(hours=1))
    assert [e["assignee_id"] for e in tasks_about(client, t)] == [lead.user["id"]]
