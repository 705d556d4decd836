"""Tasks follow the deal through its stages: a stage's templates become tasks on every deal entering it, for the
deal's owner, a user or a team's lead; an estimate request brings production's hours and materials back onto the
deal. Task lists filter by department (team), overdue tasks escalate to the team lead, and the deal shows its tasks
beside its work orders and purchases."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

pytestmark = pytest.mark.db


def team_with(client, lead, *members):
    team = client.post("/api/v1/teams", json={"name": f"Production {uuid.uuid4().hex[:6]}"})
    assert team.status_code == 201, team.json
    for user, role in ((lead, "manager"), *((m, "member") for m in members)):
        r = client.post(f"/api/v1/teams/{team.json['id']}/members", json={"user_id": user.user["id"], "role": role})
        assert r.status_code == 200, r.json
    return team.json


@pytest.fixture
def pipeline(client):
    r = client.post("/api/v1/pipelines", json={"name": f"Ovens {uuid.uuid4().hex[:6]}"})
    assert r.status_code == 201, r.json
    return r.json


def test_entering_a_stage_creates_its_tasks_and_production_answers_the_estimate(client, as_user, pipeline):
    rep, maker = as_user("sales_rep"), as_user("sales_rep")
    production = team_with(client, maker)
    first, second = pipeline["stages"][0], pipeline["stages"][1]
    url = f"/api/v1/pipelines/{pipeline['id']}/stages/{second['id']}/task-templates"
    r = client.put(url, json={"templates": [
        {"title": "Call the client about the kitchen plan", "assignee_kind": "deal_owner", "due_in_days": 2,
         "priority": "high"},
        {"kind": "estimate_request", "title": "Estimate the oven", "assignee_kind": "team",
         "assignee_id": production["id"], "due_in_days": 5}]})
    assert r.status_code == 200 and len(r.json) == 2, r.json
    assert client.get(url).json == r.json

    acme = rep.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Acme {uuid.uuid4().hex[:6]}"}).json
    deal = rep.post("/api/v1/deals", json={"name": "Oven", "party_id": acme["id"],
                                           "pipeline_id": pipeline["id"], "stage_id": first["id"]}).json
    assert rep.get("/api/v1/tasks", query_string={"record_id": deal["id"]}).json["total"] == 0
    moved = rep.post(f"/api/v1/deals/{deal['id']}/move", json={"stage_id": second["id"]},
                     headers={"If-Match": f'"{deal["version"]}"'})
    assert moved.status_code == 200, moved.json
    tasks = rep.get("/api/v1/tasks", query_string={"record_id": deal["id"]}).json["items"]
    today = datetime.now(UTC).date()
    assert sorted((t["title"], t["assignee_id"], t["due_date"], t["priority"]) for t in tasks) == sorted([
        ("Call the client about the kitchen plan (Oven)", rep.user["id"], (today + timedelta(days=2)).isoformat(),
         "high"),
        ("Estimate the oven (Oven)", maker.user["id"], (today + timedelta(days=5)).isoformat(), "normal")])
    # the production department sees its work in its list
    mine = maker.get("/api/v1/tasks", query_string={"team_id": production["id"]}).json["items"]
    assert [t["title"] for t in mine] == ["Estimate the oven (Oven)"]

    (estimate,) = rep.get(f"/api/v1/deals/{deal['id']}/estimates").json
    assert estimate["status"] == "requested" and estimate["requested_from"] == maker.user["id"]
    etag = maker.get(f"/api/v1/estimates/{estimate['id']}").headers["ETag"]
    bad = maker.post(f"/api/v1/estimates/{estimate['id']}/submit", json={"hours": "-3"}, headers={"If-Match": etag})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "hours", bad.json
    r = maker.post(f"/api/v1/estimates/{estimate['id']}/submit", headers={"If-Match": etag}, json={
        "hours": "12.5", "materials": [{"description": "Steel sheet 2 mm", "quantity": "3"}], "notes": "2 days"})
    assert r.status_code == 200, r.json
    (answered,) = rep.get(f"/api/v1/deals/{deal['id']}/estimates").json
    assert (answered["status"], answered["hours"], answered["materials"]) == (
        "submitted", "12.50", [{"description": "Steel sheet 2 mm", "quantity": "3.0000", "unit": "unit"}])
    timeline = rep.get(f"/api/v1/deals/{deal['id']}/timeline").json["items"]
    assert any(e["title"] == "Estimate: 12.50 h, Steel sheet 2 mm x 3.0000" for e in timeline)
    assert maker.post(f"/api/v1/estimates/{estimate['id']}/submit", headers={"If-Match": r.headers["ETag"]},
                      json={"hours": "1"}).status_code == 409
    # the deal's one view: its tasks beside its work orders and purchases
    panel = rep.get(f"/api/v1/deals/{deal['id']}/fulfilment").json
    assert sorted((t["title"], t["status"]) for t in panel["tasks"]) == [
        ("Call the client about the kitchen plan (Oven)", "open"), ("Estimate the oven (Oven)", "done")]


def test_a_template_naming_someone_who_does_not_exist_is_refused(client, pipeline):
    url = f"/api/v1/pipelines/{pipeline['id']}/stages/{pipeline['stages'][1]['id']}/task-templates"
    for bad in ({"assignee_kind": "user", "assignee_id": str(uuid.uuid4())},
                {"assignee_kind": "team", "assignee_id": str(uuid.uuid4())},
                {"assignee_kind": "deal_owner", "assignee_id": str(uuid.uuid4())}):
        r = client.put(url, json={"templates": [{"title": "Call", **bad}]})
        assert r.status_code == 422 and r.json["errors"][0]["field"] == "templates.0.assignee_id", r.json
    assert client.get(url).json == []


def test_an_overdue_task_escalates_to_the_team_lead_once(client, as_user):
    lead, member = as_user("sales_rep"), as_user("sales_rep")
    team_with(client, lead, member)
    late = member.post("/api/v1/tasks", json={"title": f"Send the drawings {uuid.uuid4().hex[:4]}",
                                              "due_date": (datetime.now(UTC).date() - timedelta(days=2)).isoformat()})
    assert late.status_code == 201, late.json
    on_time = member.post("/api/v1/tasks", json={"title": "Not yet", "due_date": datetime.now(UTC).date().isoformat()})
    assert on_time.status_code == 201
    run = client.post("/api/v1/tasks/escalations")
    assert run.status_code == 200 and late.json["id"] in run.json["escalated"], run.json
    assert on_time.json["id"] not in run.json["escalated"]
    follow = [t for t in lead.get("/api/v1/tasks", query_string={"mine": True}).json["items"]
              if t["title"].startswith(f"Overdue: {late.json['title']}")]
    assert len(follow) == 1 and follow[0]["priority"] == "high"
    assert late.json["id"] not in client.post("/api/v1/tasks/escalations").json["escalated"]
    assert len([t for t in lead.get("/api/v1/tasks", query_string={"mine": True}).json["items"]
                if t["title"].startswith("Overdue:")]) == 1
