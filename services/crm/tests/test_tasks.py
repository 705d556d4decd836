"""Users plan their work as tasks: what is pending, what is overdue, what is due today, for them and their team."""

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

pytestmark = pytest.mark.db


def unique(prefix="Task"):
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def at(**delta) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def today() -> str:
    return datetime.now(UTC).date().isoformat()


def task(client, status=201, **body):
    body.setdefault("title", unique())
    r = client.post("/api/v1/tasks", json=body)
    assert r.status_code == status, r.json
    return r.json


def titles(client, **query) -> list[str]:
    r = client.get("/api/v1/tasks", query_string=query)
    assert r.status_code == 200, r.json
    return [t["title"] for t in r.json["items"]]


def summary(client, **query) -> list[dict]:
    r = client.get("/api/v1/tasks/summary", query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def test_pending_and_overdue_lists_and_the_summary_follow_the_clock_and_completion(as_user):
    rep = as_user("sales_rep")
    late = task(rep, title="Call back (late)", due_at=at(days=-1))
    soon = task(rep, title="Send offer", due_at=at(days=1))
    task(rep, title="Today's report", due_date=today())
    task(rep, title="Someday")
    done = task(rep, title="Old and done", due_at=at(days=-2))
    assert rep.post(f"/api/v1/tasks/{done['id']}/complete").status_code == 200

    assert late["overdue"] is True and soon["overdue"] is False and late["assignee_id"] == rep.user["id"]
    assert titles(rep, mine="true", due="overdue") == ["Call back (late)"]
    assert titles(rep, mine="true", status="pending") == ["Call back (late)", "Today's report", "Send offer",
                                                          "Someday"]  # soonest due first, undated last
    assert titles(rep, mine="true", due="today") == ["Today's report"]
    assert titles(rep, mine="true", due="week", status="pending") == ["Today's report", "Send offer"]
    assert titles(rep, mine="true", due="none") == ["Someday"]
    assert summary(rep) == [{"user_id": rep.user["id"], "email": rep.user["email"], "name": rep.user["name"],
                             "pending": 4, "overdue": 1, "due_today": 1}]

    r = rep.post(f"/api/v1/tasks/{late['id']}/complete", headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json["status"] == "done" and r.json["completed_at"]
    assert r.json["overdue"] is False and r.headers["ETag"] == '"2"'
    assert titles(rep, mine="true", due="overdue") == []
    assert "Call back (late)" not in titles(rep, mine="true", status="pending")
    assert titles(rep, mine="true", status="done", sort="-completed_at") == ["Call back (late)", "Old and done"]
    assert summary(rep)[0] | {"user_id": None} == {"user_id": None, "email": rep.user["email"],
                                                    "name": rep.user["name"], "pending": 3, "overdue": 0,
                                                    "due_today": 1}
    reopened = rep.post(f"/api/v1/tasks/{late['id']}/reopen")
    assert reopened.json["status"] == "open" and reopened.json["completed_at"] is None
    assert reopened.json["overdue"] is True and summary(rep)[0]["overdue"] == 1


def test_priority_sort_puts_the_most_urgent_first(as_user):
    rep = as_user("sales_rep")
    for priority in ("normal", "urgent", "low", "high"):
        task(rep, title=priority, priority=priority)
    assert titles(rep, mine="true", sort="priority") == ["urgent", "high", "normal", "low"]
    assert titles(rep, mine="true", sort="-priority") == ["low", "normal", "high", "urgent"]
    assert titles(rep, mine="true", priority="urgent,high", sort="priority") == ["urgent", "high"]
    assert task(rep)["priority"] == "normal"


def test_assigning_a_task_to_someone_else_needs_tasks_assign(as_user):
    rep, manager, other = as_user("sales_rep"), as_user("sales_manager"), as_user("sales_rep")
    denied = rep.post("/api/v1/tasks", json={"title": "For you", "assignee_id": other.user["id"]})
    assert denied.status_code == 403 and denied.json["missing_permission"] == "tasks:assign"
    mine = task(rep, title="Mine")
    moved = rep.patch(f"/api/v1/tasks/{mine['id']}", json={"assignee_id": other.user["id"]},
                      headers={"If-Match": '"1"'})
    assert moved.status_code == 403

    delegated = task(manager, title="Delegated", assignee_id=other.user["id"], due_at=at(days=-1))
    assert delegated["created_by"] == manager.user["id"]
    assert titles(other, mine="true") == ["Delegated"] and summary(other)[0]["overdue"] == 1
    assert titles(manager, created_by=manager.user["id"]) == ["Delegated"]  # the creator keeps an eye on it
    handed = manager.patch(f"/api/v1/tasks/{mine['id']}", json={"assignee_id": other.user["id"]},
                           headers={"If-Match": '"1"'})
    assert handed.status_code == 404  # a manager outside rep's team does not see rep's task
    bad = manager.post("/api/v1/tasks", json={"title": "Ghost", "assignee_id": str(uuid.uuid4())})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "assignee_id"


def test_another_user_cannot_see_or_change_a_task(as_user):
    alice, bob = as_user("sales_rep"), as_user("sales_rep")
    t = task(alice, title="Secret plan")
    assert bob.get(f"/api/v1/tasks/{t['id']}").status_code == 404
    assert bob.post(f"/api/v1/tasks/{t['id']}/complete").status_code == 404
    assert "Secret plan" not in titles(bob, q="secret plan")
    assert titles(alice, q="SECRET PLAN") == ["Secret plan"]


def test_completing_a_task_about_a_customer_shows_on_its_timeline(as_user):
    rep = as_user("sales_rep")
    acme = rep.post("/api/v1/parties", json={"kind": "company", "legal_name": unique("Acme")}).json
    t = task(rep, title="Chase the signature", record_type="party", record_id=acme["id"], priority="high")
    assert titles(rep, record_type="party", record_id=acme["id"]) == ["Chase the signature"]
    assert rep.get(f"/api/v1/parties/{acme['id']}/timeline").json["total"] == 0
    rep.post(f"/api/v1/tasks/{t['id']}/complete")
    (entry,) = rep.get(f"/api/v1/parties/{acme['id']}/timeline").json["items"]
    assert entry["kind"] == "task_completed" and entry["title"] == "Task done: Chase the signature"
    assert entry["ref_type"] == "task" and entry["ref_id"] == t["id"]
    rep.post(f"/api/v1/tasks/{t['id']}/reopen")
    assert rep.get(f"/api/v1/parties/{acme['id']}/timeline").json["total"] == 0  # the completion is taken back
    patched = rep.patch(f"/api/v1/tasks/{t['id']}", json={"status": "done"}, headers={"If-Match": '"3"'})
    assert patched.status_code == 200 and patched.json["completed_at"]
    assert rep.get(f"/api/v1/parties/{acme['id']}/timeline").json["total"] == 1


def test_managers_see_their_team_summary_and_members_do_not(as_user, client):
    alice, bob, manager = as_user("sales_rep"), as_user("sales_rep"), as_user("sales_manager")
    team = client.post("/api/v1/teams", json={"name": unique("Team")}).json
    for member, role in ((alice, "member"), (bob, "member"), (manager, "manager")):
        assert client.post(f"/api/v1/teams/{team['id']}/members",
                           json={"user_id": member.user["id"], "role": role}).status_code == 200
    task(alice, due_at=at(days=-1))
    task(alice, due_at=at(days=1))
    task(bob, due_date=today())
    rows = {r["user_id"]: r for r in summary(manager, team_id=team["id"])}
    assert (rows[alice.user["id"]]["pending"], rows[alice.user["id"]]["overdue"]) == (2, 1)
    assert (rows[bob.user["id"]]["pending"], rows[bob.user["id"]]["due_today"]) == (1, 1)
    assert rows[manager.user["id"]]["pending"] == 0
    assert len(titles(manager, assignee_id=alice.user["id"])) == 2  # managers see their members' tasks
    assert alice.get("/api/v1/tasks/summary", query_string={"team_id": team["id"]}).status_code == 403
    assert manager.get("/api/v1/tasks/summary", query_string={"team_id": str(uuid.uuid4())}).status_code == 404


def test_due_dates_follow_the_callers_time_zone(as_user):
    rep = as_user("sales_rep")
    # a task due on the date it is now in Kiritimati (UTC+14) is due today there, whatever the date in UTC
    kiritimati_today = datetime.now(ZoneInfo("Pacific/Kiritimati")).date()
    task(rep, title="Island call", due_date=kiritimati_today.isoformat())
    assert titles(rep, mine="true", due="today", tz="Pacific/Kiritimati") == ["Island call"]
    r = rep.get("/api/v1/tasks", query_string={"tz": "Mars/Olympus"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "tz"


def test_changes_need_the_current_etag_and_are_audited(as_user, client):
    rep = as_user("sales_rep")
    t = task(rep, title="Draft", due_at=at(days=3))
    url = f"/api/v1/tasks/{t['id']}"
    assert rep.patch(url, json={"title": "x"}).status_code == 428
    assert rep.patch(url, json={"title": "x"}, headers={"If-Match": '"9"'}).status_code == 412
    r = rep.patch(url, json={"title": "Final", "due_date": today(), "status": "in_progress"},
                  headers={"If-Match": rep.get(url).headers["ETag"]})
    assert r.status_code == 200 and r.json["due_at"] is None and r.json["due_date"] == today()
    assert r.json["status"] == "in_progress"
    trail = client.get("/api/v1/audit", query_string={"entity_type": "task", "entity_id": t["id"]}).json["items"]
    assert [e["action"] for e in trail] == ["update", "create"]
    assert trail[0]["changes"]["title"] == {"before": "Draft", "after": "Final"}


@pytest.mark.parametrize("body, field", [
    ({}, "title"),
    ({"title": "  "}, "title"),
    ({"due_at": "2026-01-01T10:00:00+00:00", "due_date": "2026-01-01"}, "due_date"),
    ({"due_at": "2026-01-01T10:00:00"}, "due_at"),
    ({"priority": "asap"}, "priority"),
    ({"record_type": "party"}, "record_id"),
    ({"record_type": "planet", "record_id": str(uuid.uuid4())}, "record_type"),
    ({"record_type": "party", "record_id": str(uuid.uuid4())}, "record_id"),
    ({"colour": "red"}, "colour"),
])
def test_bad_input_is_refused_naming_the_field(as_user, body, field):
    r = as_user("sales_rep").post("/api/v1/tasks", json=body if "title" in body or body == {} else
                                  {"title": "x", **body})
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert field in [e["field"] for e in r.json["errors"]], r.json


def test_a_task_can_be_about_a_deal_only_if_you_see_the_deal(app, as_user):
    rep, other = as_user("sales_rep"), as_user("sales_rep")
    acme = rep.post("/api/v1/parties", json={"kind": "company", "legal_name": unique("Acme")}).json
    deal = rep.post("/api/v1/deals", json={"name": unique("Deal"), "party_id": acme["id"]}).json
    t = task(rep, title="Send the contract", record_type="deal", record_id=deal["id"])
    refused = other.post("/api/v1/tasks", json={"title": "x", "record_type": "deal", "record_id": deal["id"]})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "record_id"
    rep.post(f"/api/v1/tasks/{t['id']}/complete")
    entries = rep.get(f"/api/v1/deals/{deal['id']}/timeline", query_string={"kind": "task_completed"}).json
    assert [e["title"] for e in entries["items"]] == ["Task done: Send the contract"]
