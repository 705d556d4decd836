"""Sales reps log calls, meetings and notes on their customers and read each customer's timeline."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.db


def unique(prefix="Acme"):
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def ago(**delta) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


def company(client, **over):
    r = client.post("/api/v1/parties", json={"kind": "company", "legal_name": unique(), **over})
    assert r.status_code == 201, r.json
    return r.json


def person(client, company_id=None, **over):
    r = client.post("/api/v1/parties", json={"kind": "person", "first_name": "Ada", "last_name": unique("Doe"),
                                             "company_id": company_id, **over})
    assert r.status_code == 201, r.json
    return r.json


def log(client, status=201, **body):
    r = client.post("/api/v1/activities", json=body)
    assert r.status_code == status, r.json
    return r.json


def timeline(client, party_id, **query):
    r = client.get(f"/api/v1/parties/{party_id}/timeline", query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def test_a_rep_logs_a_call_and_a_meeting_and_the_company_timeline_shows_them_newest_first(as_user):
    rep = as_user("sales_rep")
    acme = company(rep)
    ada = person(rep, acme["id"])
    call = log(rep, type="call", subject="Renewal terms", direction="outbound", occurred_at=ago(days=2),
               duration_minutes=12, outcome="reached", party_id=acme["id"], body="They want 3 years.")
    meeting = log(rep, type="meeting", subject="Kick-off", occurred_at=ago(days=1, hours=1), ends_at=ago(days=1),
                  party_id=acme["id"], participants=[rep.user["id"]])
    note = log(rep, type="note", subject="Prefers email", occurred_at=ago(hours=1), party_id=ada["id"])

    assert call["owner_id"] == rep.user["id"] and call["type_label"] == "Call" and call["party_name"]
    assert meeting["duration_minutes"] == 60  # from its start and end
    page = timeline(rep, acme["id"])
    assert [e["title"] for e in page["items"]] == ["Note: Prefers email", "Meeting: Kick-off", "Call: Renewal terms"]
    assert page["total"] == 3
    first, _, last = page["items"]
    assert first["party_name"] == ada["display_name"] and first["ref_id"] == note["id"]
    assert last["summary"] == "They want 3 years." and last["data"]["activity_type"] == "call"
    assert last["data"]["direction"] == "outbound" and last["actor_id"] == rep.user["id"]

    assert [e["ref_id"] for e in timeline(rep, acme["id"], activity_type="call,meeting")["items"]] == [
        meeting["id"], call["id"]]
    assert timeline(rep, acme["id"], since=ago(days=1, hours=12), until=ago(hours=2))["total"] == 1
    assert timeline(rep, acme["id"], people="false")["total"] == 2
    assert [e["ref_id"] for e in timeline(rep, ada["id"])["items"]] == [note["id"]]
    paged = timeline(rep, acme["id"], page=2, page_size=2)
    assert paged["pages"] == 2 and [e["ref_id"] for e in paged["items"]] == [call["id"]]

    listed = rep.get("/api/v1/activities", query_string={"party_id": acme["id"]}).json
    assert [a["id"] for a in listed["items"]] == [meeting["id"], call["id"]]
    assert rep.get("/api/v1/activities", query_string={"party_id": acme["id"], "sort": "occurred_at"}
                   ).json["items"][0]["id"] == call["id"]
    assert rep.get("/api/v1/activities", query_string={"q": "3 YEARS"}).json["total"] == 1


def test_another_rep_neither_sees_nor_lists_nor_logs_on_a_customer_that_is_not_theirs(as_user, client):
    alice, bob = as_user("sales_rep"), as_user("sales_rep")
    acme = company(alice)
    call = log(alice, type="call", subject="Private", party_id=acme["id"])
    assert bob.get(f"/api/v1/activities/{call['id']}").status_code == 404
    assert bob.get("/api/v1/activities", query_string={"party_id": acme["id"]}).json["total"] == 0
    assert bob.get(f"/api/v1/parties/{acme['id']}/timeline").status_code == 404
    refused = bob.post("/api/v1/activities", json={"type": "note", "subject": "Sneaky", "party_id": acme["id"]})
    assert refused.status_code == 422 and refused.json["errors"][0]["field"] == "party_id"
    assert bob.patch(f"/api/v1/activities/{call['id']}", json={"subject": "x"},
                     headers={"If-Match": '"1"'}).status_code == 404

    # shared read-only (the built-in sales roles have no activities:share yet): bob sees it but may not change it
    assert client.post(f"/api/v1/activities/{call['id']}/shares", json={"user_id": bob.user["id"]}).status_code == 201
    assert bob.get(f"/api/v1/activities/{call['id']}").status_code == 200
    assert bob.patch(f"/api/v1/activities/{call['id']}", json={"subject": "x"},
                     headers={"If-Match": '"1"'}).status_code == 403


def test_participants_and_team_managers_see_an_activity(as_user, client):
    alice, carol, manager = as_user("sales_rep"), as_user("sales_rep"), as_user("sales_manager")
    team = client.post("/api/v1/teams", json={"name": unique("Team")}).json
    for member, role in ((alice, "member"), (manager, "manager")):
        assert client.post(f"/api/v1/teams/{team['id']}/members",
                           json={"user_id": member.user["id"], "role": role}).status_code == 200
    meeting = log(alice, type="meeting", subject="Demo", party_id=company(alice)["id"],
                  participants=[carol.user["id"]])
    assert carol.get(f"/api/v1/activities/{meeting['id']}").status_code == 200
    assert carol.get("/api/v1/activities", query_string={"participant_id": carol.user["id"]}).json["total"] == 1
    assert manager.get("/api/v1/activities", query_string={"owner_id": alice.user["id"]}).json["total"] == 1
    moved = manager.post(f"/api/v1/activities/{meeting['id']}/assign", json={"owner_id": carol.user["id"]})
    assert moved.status_code == 200 and moved.json["owner_id"] == carol.user["id"]
    assert alice.post(f"/api/v1/activities/{meeting['id']}/assign",
                      json={"owner_id": alice.user["id"]}).status_code == 403  # reps cannot assign


def test_a_custom_activity_type_created_by_a_manager_is_usable_by_reps(as_user, client):
    role = f"activity_admin_{uuid.uuid4().hex[:6]}"
    assert client.post("/api/v1/roles", json={"name": role, "permissions": ["activity_types:manage"]}
                       ).status_code == 201
    manager, rep = as_user("sales_manager", role), as_user("sales_rep")
    key = f"site_visit_{uuid.uuid4().hex[:6]}"
    assert rep.post("/api/v1/activity-types", json={"key": key, "label": "Site visit"}).status_code == 403
    created = manager.post("/api/v1/activity-types", json={"key": key, "label": "Site visit", "icon": "map-pin",
                                                           "color": "#00aa55"})
    assert created.status_code == 201 and created.json["builtin"] is False
    again = manager.post("/api/v1/activity-types", json={"key": key, "label": "Again"})
    assert again.status_code == 409 and again.json["errors"][0]["field"] == "key"

    keys = [t["key"] for t in rep.get("/api/v1/activity-types").json]
    assert keys[:6] == ["call", "email", "sms", "messenger", "meeting", "note"] and key in keys
    acme = company(rep)
    visit = log(rep, type=key, subject="Visited the plant", party_id=acme["id"])
    assert visit["type_label"] == "Site visit"
    assert timeline(rep, acme["id"])["items"][0]["title"] == "Site visit: Visited the plant"
    no_direction = rep.post("/api/v1/activities", json={"type": key, "subject": "x", "party_id": acme["id"],
                                                        "direction": "inbound"})
    assert no_direction.status_code == 422 and no_direction.json["errors"][0]["field"] == "direction"

    assert manager.patch(f"/api/v1/activity-types/{key}", json={"active": False}).status_code == 428
    off = manager.patch(f"/api/v1/activity-types/{key}", json={"active": False}, headers={"If-Match": '"1"'})
    assert off.status_code == 200 and off.headers["ETag"] == '"2"'
    assert key not in [t["key"] for t in rep.get("/api/v1/activity-types").json]
    assert key in [t["key"] for t in rep.get("/api/v1/activity-types?include_inactive=true").json]
    retired = rep.post("/api/v1/activities", json={"type": key, "subject": "Again", "party_id": acme["id"]})
    assert retired.status_code == 422 and retired.json["errors"][0]["field"] == "type"
    assert rep.get(f"/api/v1/activities/{visit['id']}").json["type"] == key  # old ones keep their type


def test_editing_an_activity_moves_its_timeline_entry_and_deleting_removes_it(as_user, client):
    rep = as_user("sales_rep")
    acme, other = company(rep), company(rep)
    call = log(rep, type="call", subject="First try", party_id=acme["id"], occurred_at=ago(hours=3))
    url = f"/api/v1/activities/{call['id']}"
    assert rep.patch(url, json={"subject": "x"}).status_code == 428
    assert rep.patch(url, json={"subject": "x"}, headers={"If-Match": '"7"'}).status_code == 412
    r = rep.patch(url, json={"subject": "Second try", "type": "note", "party_id": other["id"]},
                  headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"' and r.json["direction"] is None
    assert timeline(rep, acme["id"])["total"] == 0
    (entry,) = timeline(rep, other["id"])["items"]
    assert entry["title"] == "Note: Second try" and entry["data"]["activity_type"] == "note"

    assert rep.delete(url, headers={"If-Match": '"1"'}).status_code == 412
    assert rep.delete(url).status_code == 204
    assert rep.get(url).status_code == 404
    assert timeline(rep, other["id"])["total"] == 0
    trail = client.get("/api/v1/audit", query_string={"entity_type": "activity", "entity_id": call["id"]}).json
    assert [e["action"] for e in trail["items"]] == ["delete", "update", "create"]
    assert trail["items"][0]["changes"]["subject"] == {"before": "Second try", "after": None}


def test_only_assigners_log_activities_for_someone_else(as_user):
    rep, manager, other = as_user("sales_rep"), as_user("sales_manager"), as_user("sales_rep")
    acme = company(manager)
    body = {"type": "call", "subject": "For you", "party_id": acme["id"], "owner_id": other.user["id"]}
    denied = rep.post("/api/v1/activities", json={**body, "party_id": company(rep)["id"]})
    assert denied.status_code == 403 and denied.json["missing_permission"] == "activities:assign"
    done = log(manager, **body)
    assert done["owner_id"] == other.user["id"]
    assert other.get(f"/api/v1/activities/{done['id']}").status_code == 200


def test_idempotency_key_makes_a_retried_log_answer_the_first_activity(as_user):
    rep = as_user("sales_rep")
    body = {"type": "email", "subject": "Offer sent", "direction": "outbound", "party_id": company(rep)["id"]}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = rep.post("/api/v1/activities", json=body, headers=key)
    second = rep.post("/api/v1/activities", json=body, headers=key)
    assert first.status_code == second.status_code == 201 and first.json["id"] == second.json["id"]
    assert rep.get("/api/v1/activities", query_string={"party_id": body["party_id"]}).json["total"] == 1


@pytest.mark.parametrize("body, field", [
    ({"subject": "No type"}, "type"),
    ({"type": "carrier_pigeon", "subject": "x"}, "type"),
    ({"type": "call"}, "subject"),
    ({"type": "call", "subject": "  "}, "subject"),
    ({"type": "call", "subject": "Unlinked", "party_id": None}, "party_id"),
    ({"type": "note", "subject": "x", "direction": "inbound"}, "direction"),
    ({"type": "call", "subject": "x", "direction": "sideways"}, "direction"),
    ({"type": "meeting", "subject": "x", "occurred_at": "2026-01-02T10:00:00+00:00",
      "ends_at": "2026-01-02T09:00:00+00:00"}, "ends_at"),
    ({"type": "call", "subject": "x", "occurred_at": "2026-01-02T10:00:00"}, "occurred_at"),
    ({"type": "call", "subject": "x", "duration_minutes": -1}, "duration_minutes"),
    ({"type": "call", "subject": "x", "participants": [str(uuid.uuid4())]}, "participants"),
    ({"type": "call", "subject": "x", "mood": "great"}, "mood"),
])
def test_bad_input_is_refused_naming_the_field(as_user, body, field):
    rep = as_user("sales_rep")
    if "party_id" not in body:
        body = {**body, "party_id": company(rep)["id"]}
    r = rep.post("/api/v1/activities", json=body)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert field in [e["field"] for e in r.json["errors"]], r.json


def test_bad_list_and_timeline_arguments_name_the_field(as_user):
    rep = as_user("sales_rep")
    acme = company(rep)
    r = rep.get("/api/v1/activities", query_string={"sort": "mood"})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "sort"
    r = rep.get(f"/api/v1/parties/{acme['id']}/timeline", query_string={"since": ago(hours=1), "until": ago(hours=2)})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "until"


def test_activities_on_a_deal_and_a_lead_show_on_their_timelines_and_the_customers(app, as_user):
    rep, other = as_user("sales_rep"), as_user("sales_rep")
    acme = company(rep)
    deal = rep.post("/api/v1/deals", json={"name": unique("Deal"), "party_id": acme["id"]}).json
    lead = rep.post("/api/v1/leads", json={"last_name": unique("Lead"), "company_name": unique()}).json
    call = log(rep, type="call", subject="Pricing", deal_id=deal["id"])
    assert call["party_id"] == acme["id"]  # an activity on a deal is with the deal's customer
    log(rep, type="email", subject="Welcome", direction="outbound", lead_id=lead["id"])

    assert "Call: Pricing" in [e["title"] for e in rep.get(f"/api/v1/deals/{deal['id']}/timeline").json["items"]]
    assert "Call: Pricing" in [e["title"] for e in timeline(rep, acme["id"])["items"]]
    lead_entries = rep.get(f"/api/v1/leads/{lead['id']}/timeline", query_string={"kind": "activity"}).json
    assert [e["title"] for e in lead_entries["items"]] == ["Email: Welcome"]
    assert other.get(f"/api/v1/deals/{deal['id']}/timeline").status_code == 404
    assert other.get(f"/api/v1/leads/{lead['id']}/timeline").status_code == 404
    for field, value in (("deal_id", deal["id"]), ("lead_id", lead["id"])):
        r = other.post("/api/v1/activities", json={"type": "note", "subject": "Sneaky", field: value})
        assert r.status_code == 422 and r.json["errors"][0]["field"] == field
