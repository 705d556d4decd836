"""An SLA manager changes a calendar or a policy: the change answers at once and the worker recomputes every open
ticket's deadlines from its history; a deadline that moves later arms its warning again, and escalations still
happen only within the calendar's working hours."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from crm.tickets.escalation import EscalationRunner
from crm.tickets.sla import SlaRecomputeRunner

pytestmark = pytest.mark.db

ALWAYS = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def tag() -> str:
    return uuid.uuid4().hex[:8]


def created(r, status=201) -> dict:
    assert r.status_code == status, r.json
    return r.json


def setup(client, agent, resolution_minutes: int, **ticket) -> tuple[dict, dict]:
    cal = created(client.post("/api/v1/sla/calendars", json={"name": f"Hours {tag()}", "zone": "UTC",
                                                            "windows": ALWAYS}))
    category = f"recompute-{tag()}"
    pol = created(client.post("/api/v1/sla/policies", json={
        "name": f"Policy {tag()}", "position": uuid.uuid4().int % 9_000 + 1000, "calendar_id": cal["id"],
        "categories": [category], "resolution_minutes": resolution_minutes}))
    party = created(client.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Customer {tag()}",
                                                         "roles": ["customer"]}))
    t = created(agent.post("/api/v1/tickets", json={"subject": f"Slow {tag()}", "party_id": party["id"],
                                                    "category": category, **ticket}))
    return pol, t


def change_policy(client, pol, **changes) -> dict:
    etag = client.get(f"/api/v1/sla/policies/{pol['id']}").headers["ETag"]
    return created(client.patch(f"/api/v1/sla/policies/{pol['id']}", json=changes, headers={"If-Match": etag}), 200)


def due(client, t) -> datetime:
    return datetime.fromisoformat(client.get(f"/api/v1/tickets/{t['id']}").json["sla"]["resolution_due_at"])


def test_a_policy_change_is_recomputed_by_the_worker_keeping_the_time_spent(client, as_user, db):
    agent = as_user("support_agent")
    pol, t = setup(client, agent, 240)
    before = due(client, t)
    change_policy(client, pol, resolution_minutes=600)
    assert due(client, t) == before  # the change only asked
    assert SlaRecomputeRunner(db.sessions).run_once() >= 1
    assert due(client, t) == before + timedelta(minutes=360)
    assert SlaRecomputeRunner(db.sessions).run_once() == -1  # served once


def warnings(client, t) -> list[dict]:
    r = client.get("/api/v1/tasks", query_string={"record_type": "ticket", "record_id": t["id"], "page_size": 50})
    assert r.status_code == 200, r.json
    return [task for task in r.json["items"] if task["priority"] == "high"]


def test_a_deadline_moved_later_warns_again_but_an_unchanged_one_warns_once(client, as_user, db):
    agent = as_user("support_agent")
    pol, t = setup(client, agent, 30, assignee_id=agent.user["id"])
    runner = EscalationRunner(db.sessions, warning_minutes=60)
    runner.run_once()
    runner.run_once()
    assert len(warnings(client, t)) == 1
    change_policy(client, pol, resolution_minutes=24 * 60)
    SlaRecomputeRunner(db.sessions).run_once()
    new_due = due(client, t)
    runner.run_once(now=new_due - timedelta(hours=3))  # not near the new deadline yet
    assert len(warnings(client, t)) == 1
    runner.run_once(now=new_due - timedelta(minutes=30))
    runner.run_once(now=new_due - timedelta(minutes=20))
    again = warnings(client, t)
    assert len(again) == 2 and new_due.strftime("%H:%M") in again[-1]["title"]


def test_an_escalated_ticket_whose_deadline_is_no_longer_missed_is_escalated_again_only_when_it_is(
        client, as_user, db):
    agent = as_user("support_agent")
    pol, t = setup(client, agent, 30)
    runner = EscalationRunner(db.sessions, warning_minutes=0)
    runner.run_once(now=datetime.now(UTC) + timedelta(hours=1))
    history = [f["kind"] for f in client.get(f"/api/v1/tickets/{t['id']}/history").json]
    assert history.count("escalated") == 1
    change_policy(client, pol, resolution_minutes=48 * 60)
    SlaRecomputeRunner(db.sessions).run_once()
    new_due = due(client, t)
    runner.run_once(now=new_due - timedelta(hours=1))
    history = [f["kind"] for f in client.get(f"/api/v1/tickets/{t['id']}/history").json]
    assert history.count("escalated") == 1
    runner.run_once(now=new_due + timedelta(minutes=5))
    history = [f["kind"] for f in client.get(f"/api/v1/tickets/{t['id']}/history").json]
    assert history.count("escalated") == 2
