"""Salespeople move deals through pipelines; managers shape the funnels and read the board and the forecast."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from crm.deals.models import Deal
from crm.timeline.models import TimelineEntry
from sqlalchemy import func, select, update

pytestmark = pytest.mark.db


def tag() -> str:
    return uuid.uuid4().hex[:8]


def party(client, **over) -> dict:
    r = client.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Customer {tag()}", **over})
    assert r.status_code == 201, r.json
    return r.json


def pipeline(client, **over) -> dict:
    r = client.post("/api/v1/pipelines", json={"name": f"Funnel {tag()}", **over})
    assert r.status_code == 201, r.json
    return r.json


def stage(pipe: dict, name: str) -> dict:
    return next(s for s in pipe["stages"] if s["name"] == name)


def open_deal(client, customer=None, **body) -> dict:
    body.setdefault("name", f"Deal {tag()}")
    body.setdefault("party_id", (customer or party(client))["id"])
    r = client.post("/api/v1/deals", json=body)
    assert r.status_code == 201, r.json
    return r.json


def months_ahead(n: int) -> date:
    today = datetime.now(UTC).date()
    index = today.month - 1 + n
    return date(today.year + index // 12, index % 12 + 1, 1)


def count_deals(db) -> int:
    with db.sessions() as s:
        return s.execute(select(func.count()).select_from(Deal)).scalar_one()


def test_the_default_sales_pipeline_is_there_with_its_five_stages(as_user):
    pipes = as_user("sales_rep").get("/api/v1/pipelines").json
    sales = pipes[0]
    assert sales["name"] == "Sales" and sales["is_default"] and sales["currency"] == "EUR"
    assert [(s["name"], s["probability"], s["kind"]) for s in sales["stages"]] == [
        ("Qualification", 10, "open"), ("Proposal", 40, "open"), ("Negotiation", 70, "open"),
        ("Won", 100, "won"), ("Lost", 0, "lost")]


def test_a_new_deal_starts_in_the_first_stage_of_the_default_pipeline_with_its_amount_to_the_cent(as_user):
    rep = as_user("sales_rep")
    deal = open_deal(rep, amount="1234.565", expected_close_date="2031-01-31")
    assert deal["stage"]["name"] == "Qualification" and deal["status"] == "open"
    assert deal["amount"] == "1234.57" and deal["currency"] == "EUR" and deal["owner_id"] == rep.user["id"]
    history = rep.get(f"/api/v1/deals/{deal['id']}/history").json
    assert [(h["from_stage_name"], h["to_stage_name"]) for h in history] == [(None, "Qualification")]


@pytest.mark.parametrize("body, field", [
    ({"party_id": None}, "party_id"),
    ({"name": ""}, "name"),
    ({"amount": "-5"}, "amount"),
    ({"amount": "lots"}, "amount"),
    ({"currency": "euro"}, "currency"),
    ({"expected_close_date": "next week"}, "expected_close_date"),
    ({"stage_id": str(uuid.uuid4())}, "stage_id"),
    ({"pipeline_id": str(uuid.uuid4())}, "pipeline_id"),
    ({"party_id": str(uuid.uuid4())}, "party_id"),
    ({"probability": 50}, "probability"),
])
def test_bad_deal_input_is_refused_naming_the_field_and_changes_nothing(client, db, body, field):
    customer = party(client)
    before = count_deals(db)
    r = client.post("/api/v1/deals", json={"name": "Deal", "party_id": customer["id"], **body})
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert field in [e["field"] for e in r.json["errors"]], r.json
    assert count_deals(db) == before


def test_moving_a_deal_records_its_stage_history_with_timestamps(as_user, db):
    rep = as_user("sales_rep")
    pipe = pipeline(as_user("sales_manager"))
    deal = open_deal(rep, pipeline_id=pipe["id"])
    url = f"/api/v1/deals/{deal['id']}"
    with db.sessions.begin() as s:  # it sat in Qualification for an hour
        s.execute(update(Deal).where(Deal.id == deal["id"])
                  .values(stage_entered_at=datetime.now(UTC) - timedelta(hours=1)))
    moved = rep.post(url + "/move", json={"stage_id": stage(pipe, "Proposal")["id"]})
    assert moved.status_code == 200 and moved.json["stage"]["name"] == "Proposal" and moved.json["version"] == 2
    stale = rep.post(url + "/move", json={"stage_id": stage(pipe, "Negotiation")["id"]}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    rep.post(url + "/move", json={"stage_id": stage(pipe, "Negotiation")["id"]}, headers={"If-Match": '"2"'})
    history = rep.get(url + "/history").json
    assert [(h["from_stage_name"], h["to_stage_name"]) for h in history] == [
        (None, "Qualification"), ("Qualification", "Proposal"), ("Proposal", "Negotiation")]
    assert 3590 <= history[1]["seconds_in_previous"] <= 3700 and history[2]["seconds_in_previous"] < 60
    times = [datetime.fromisoformat(h["changed_at"]) for h in history]
    assert times == sorted(times) and all(t.tzinfo is not None for t in times)
    assert history[1]["actor_id"] == rep.user["id"]
    other_pipe = as_user("sales_rep").get(f"/api/v1/pipelines/{pipe['id']}").json
    assert stage(other_pipe, "Negotiation")["deal_count"] == 1
    with db.sessions() as s:
        kinds = s.execute(select(TimelineEntry.kind).where(TimelineEntry.deal_id == deal["id"])
                          .order_by(TimelineEntry.occurred_at)).scalars().all()
    assert kinds == ["deal_created", "stage_changed", "stage_changed"]


def test_losing_needs_a_reason_a_closed_deal_stays_put_until_reopened(client, db):
    pipe = pipeline(client)
    deal = open_deal(client, pipeline_id=pipe["id"])
    url = f"/api/v1/deals/{deal['id']}"
    client.post(url + "/move", json={"stage_id": stage(pipe, "Proposal")["id"]})
    no_reason = client.post(url + "/lost", json={})
    assert no_reason.status_code == 422 and no_reason.json["errors"][0]["field"] == "reason"
    via_move = client.post(url + "/move", json={"stage_id": stage(pipe, "Lost")["id"]})
    assert via_move.status_code == 422 and via_move.json["errors"][0]["field"] == "reason"
    lost = client.post(url + "/lost", json={"reason": "Too expensive"})
    assert lost.status_code == 200
    assert (lost.json["status"], lost.json["close_reason"], lost.json["stage"]["name"]) == (
        "lost", "Too expensive", "Lost")
    assert lost.json["closed_at"]
    assert client.post(url + "/move", json={"stage_id": stage(pipe, "Negotiation")["id"]}).status_code == 409
    assert client.post(url + "/won", json={}).status_code == 409
    back = client.post(url + "/reopen", json={})
    assert back.status_code == 200 and back.json["stage"]["name"] == "Proposal" and back.json["status"] == "open"
    assert back.json["closed_at"] is None and back.json["close_reason"] is None
    assert client.post(url + "/reopen", json={}).status_code == 409
    won = client.post(url + "/move", json={"stage_id": stage(pipe, "Won")["id"]})
    assert won.json["status"] == "won" and won.json["closed_at"]
    trail = client.get("/api/v1/audit", query_string={"entity_type": "deal", "entity_id": deal["id"]}).json["items"]
    assert [e["action"] for e in trail] == ["won", "reopen", "lost", "move", "create"]
    with db.sessions() as s:
        kinds = s.execute(select(TimelineEntry.kind).where(TimelineEntry.deal_id == deal["id"])
                          .order_by(TimelineEntry.occurred_at)).scalars().all()
    assert kinds == ["deal_created", "stage_changed", "deal_lost", "deal_reopened", "deal_won"]


def test_changing_a_deal_needs_the_current_etag(client):
    deal = open_deal(client, amount=100)
    url = f"/api/v1/deals/{deal['id']}"
    assert client.patch(url, json={"amount": 200}).status_code == 428
    r = client.patch(url, json={"amount": "199.999", "name": "Bigger"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json["amount"] == "200.00" and r.headers["ETag"] == '"2"'
    owner = client.patch(url, json={"owner_id": str(uuid.uuid4())}, headers={"If-Match": '"2"'})
    assert owner.status_code == 422 and owner.json["errors"][0]["field"] == "owner_id"


def test_a_retried_create_with_the_same_idempotency_key_opens_one_deal(client, db):
    customer = party(client)
    key = str(uuid.uuid4())
    body = {"name": f"Once {tag()}", "party_id": customer["id"]}
    before = count_deals(db)
    first = client.post("/api/v1/deals", json=body, headers={"Idempotency-Key": key})
    again = client.post("/api/v1/deals", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201 and again.json["id"] == first.json["id"]
    assert count_deals(db) == before + 1


def test_reps_see_only_their_own_deals_and_only_deal_with_parties_they_see(as_user):
    rep, other, admin = as_user("sales_rep"), as_user("sales_rep"), as_user("admin")
    mine = open_deal(rep, name=f"Mine {tag()}")
    url = f"/api/v1/deals/{mine['id']}"
    assert other.get(url).status_code == 404
    assert other.get("/api/v1/deals", query_string={"q": mine["name"]}).json["total"] == 0
    assert other.post(url + "/won", json={}).status_code == 404
    theirs = party(other)
    r = rep.post("/api/v1/deals", json={"name": "Poach", "party_id": theirs["id"]})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "party_id"
    for_other = rep.post("/api/v1/deals", json={"name": "Gift", "party_id": party(rep)["id"],
                                                "owner_id": other.user["id"]})
    assert for_other.status_code == 403 and for_other.json["missing_permission"] == "deals:assign"
    assert rep.post(url + "/shares", json={"user_id": other.user["id"], "access": "write"}).status_code == 201
    assert other.post(url + "/won", json={"reason": "shared"}).status_code == 200
    assert admin.get(url).json["status"] == "won"


def test_lists_filter_by_pipeline_stage_status_owner_and_close_dates(client):
    pipe = pipeline(client)
    customer = party(client)
    a = open_deal(client, customer, pipeline_id=pipe["id"], amount=10, expected_close_date="2031-03-10")
    b = open_deal(client, customer, pipeline_id=pipe["id"], amount=30, expected_close_date="2031-04-10")
    c = open_deal(client, customer, pipeline_id=pipe["id"], amount=20, expected_close_date="2031-05-10")
    client.post(f"/api/v1/deals/{c['id']}/lost", json={"reason": "gone"})
    q = {"pipeline_id": pipe["id"]}
    assert [d["id"] for d in client.get("/api/v1/deals", query_string={**q, "sort": "-amount"}).json["items"]] == [
        b["id"], c["id"], a["id"]]
    assert client.get("/api/v1/deals", query_string={**q, "status": "open"}).json["total"] == 2
    ranged = client.get("/api/v1/deals", query_string={**q, "expected_close_from": "2031-04-01",
                                                       "expected_close_to": "2031-05-31"}).json
    assert {d["id"] for d in ranged["items"]} == {b["id"], c["id"]}
    by_stage = client.get("/api/v1/deals", query_string={**q, "stage_id": stage(pipe, "Lost")["id"]}).json
    assert [d["id"] for d in by_stage["items"]] == [c["id"]]
    assert client.get("/api/v1/deals", query_string={**q, "party_id": customer["id"], "page_size": 2}).json[
        "pages"] == 2


def test_the_board_groups_open_deals_by_stage_with_totals_per_currency(as_user):
    manager, rep = as_user("sales_manager"), as_user("sales_rep")
    pipe = pipeline(manager)
    open_deal(manager, pipeline_id=pipe["id"], amount="100.10")
    open_deal(manager, pipeline_id=pipe["id"], amount="200.20")
    open_deal(manager, pipeline_id=pipe["id"], amount="50", currency="USD")
    proposal = open_deal(manager, pipeline_id=pipe["id"], amount="1000", stage_id=stage(pipe, "Proposal")["id"])
    lost = open_deal(manager, pipeline_id=pipe["id"], amount="999")
    manager.post(f"/api/v1/deals/{lost['id']}/lost", json={"reason": "no"})
    open_deal(rep, pipeline_id=pipe["id"], amount="7")  # not the manager's to see
    board = manager.get(f"/api/v1/pipelines/{pipe['id']}/board").json
    columns = {s["name"]: s for s in board["stages"]}
    assert [s["name"] for s in board["stages"]] == ["Qualification", "Proposal", "Negotiation", "Won", "Lost"]
    assert columns["Qualification"]["count"] == 3 and len(columns["Qualification"]["deals"]) == 3
    assert columns["Qualification"]["totals"] == [
        {"currency": "EUR", "count": 2, "amount": "300.30", "weighted_amount": "30.03"},
        {"currency": "USD", "count": 1, "amount": "50.00", "weighted_amount": "5.00"}]
    assert columns["Proposal"]["totals"] == [{"currency": "EUR", "count": 1, "amount": "1000.00",
                                              "weighted_amount": "400.00"}]
    assert [d["id"] for d in columns["Proposal"]["deals"]] == [proposal["id"]]
    assert columns["Lost"]["count"] == 0 and columns["Negotiation"]["deals"] == []
    with_closed = manager.get(f"/api/v1/pipelines/{pipe['id']}/board", query_string={"include_closed": "true"}).json
    assert next(s for s in with_closed["stages"] if s["name"] == "Lost")["count"] == 1
    limited = manager.get(f"/api/v1/pipelines/{pipe['id']}/board", query_string={"limit": 1}).json
    assert len(limited["stages"][0]["deals"]) == 1 and limited["stages"][0]["count"] == 3
    mine = rep.get(f"/api/v1/pipelines/{pipe['id']}/board", query_string={"owner_id": rep.user["id"]}).json
    assert [s["count"] for s in mine["stages"]] == [1, 0, 0, 0, 0]


def test_the_forecast_weighs_open_deals_by_stage_probability_per_expected_close_month(client):
    pipe = pipeline(client, stages=[{"name": "Lead", "probability": 20}, {"name": "Offer", "probability": 75},
                                    {"name": "Signed", "kind": "won"}, {"name": "Dropped", "kind": "lost"}])
    m1, m2 = months_ahead(1), months_ahead(2)
    open_deal(client, pipeline_id=pipe["id"], amount="1000", expected_close_date=str(m1))
    open_deal(client, pipeline_id=pipe["id"], amount="500", expected_close_date=str(m1 + timedelta(days=10)),
              stage_id=stage(pipe, "Offer")["id"])
    open_deal(client, pipeline_id=pipe["id"], amount="300", expected_close_date=str(m2))
    open_deal(client, pipeline_id=pipe["id"], amount="999", expected_close_date="2090-01-01")  # out of range
    open_deal(client, pipeline_id=pipe["id"], amount="50", currency="USD", expected_close_date=str(m2))
    won = open_deal(client, pipeline_id=pipe["id"], amount="400", expected_close_date=str(m2))
    client.post(f"/api/v1/deals/{won['id']}/won", json={})  # counts in the month it was won: this one
    r = client.get("/api/v1/deals/forecast", query_string={"pipeline_id": pipe["id"]})
    assert r.status_code == 200
    rows = {(row["period"], row["currency"]): row for row in r.json["rows"]}
    this_month = datetime.now(UTC).strftime("%Y-%m")
    assert set(rows) == {(this_month, "EUR"), (m1.strftime("%Y-%m"), "EUR"), (m2.strftime("%Y-%m"), "EUR"),
                         (m2.strftime("%Y-%m"), "USD")}
    first = rows[(m1.strftime("%Y-%m"), "EUR")]
    assert (first["open_count"], first["open_amount"], first["weighted_amount"]) == (2, "1500.00", "575.00")
    assert first["committed_amount"] == "500.00" and first["best_case_amount"] == "1500.00"
    assert rows[(m2.strftime("%Y-%m"), "EUR")]["weighted_amount"] == "60.00"
    assert rows[(this_month, "EUR")]["won_amount"] == "400.00" and rows[(this_month, "EUR")]["open_count"] == 0
    totals = {t["currency"]: t for t in r.json["totals"]}
    assert totals["EUR"]["weighted_amount"] == "635.00" and totals["EUR"]["won_amount"] == "400.00"
    assert totals["USD"]["weighted_amount"] == "10.00"
    by_owner = client.get("/api/v1/deals/forecast", query_string={"pipeline_id": pipe["id"], "group_by": "owner",
                                                                  "from": str(m1), "to": str(m2)}).json
    assert [(row["owner_id"], row["currency"], row["weighted_amount"]) for row in by_owner["rows"]] == [
        (client.user["id"], "EUR", "635.00"), (client.user["id"], "USD", "10.00")]
    backwards = client.get("/api/v1/deals/forecast", query_string={"from": str(m2), "to": str(m1)})
    assert backwards.status_code == 422 and backwards.json["errors"][0]["field"] == "to"


def test_the_forecast_counts_only_deals_the_caller_can_see(as_user):
    rep, other = as_user("sales_rep"), as_user("sales_rep")
    pipe = pipeline(as_user("admin"))
    m1 = months_ahead(1)
    open_deal(rep, pipeline_id=pipe["id"], amount="100", expected_close_date=str(m1))
    open_deal(other, pipeline_id=pipe["id"], amount="900", expected_close_date=str(m1))
    totals = rep.get("/api/v1/deals/forecast", query_string={"pipeline_id": pipe["id"]}).json["totals"]
    assert totals == [{"currency": "EUR", "open_count": 1, "open_amount": "100.00", "weighted_amount": "10.00",
                       "committed_amount": "0.00", "best_case_amount": "100.00", "won_count": 0,
                       "won_amount": "0.00"}]


def test_managers_shape_pipelines_and_stages_holding_deals_stay(as_user):
    manager, rep = as_user("sales_manager"), as_user("sales_rep")
    assert rep.post("/api/v1/pipelines", json={"name": "Nope"}).status_code == 403
    pipe = pipeline(manager, currency="USD")
    assert pipe["currency"] == "USD" and not pipe["is_default"] and pipe["version"] == 1
    dup = manager.post("/api/v1/pipelines", json={"name": pipe["name"].upper()})
    assert dup.status_code == 409 and dup.json["errors"][0]["field"] == "name"
    bad = manager.post("/api/v1/pipelines", json={"name": f"Bad {tag()}", "stages": [
        {"name": "A"}, {"name": "B"}, {"name": "Won", "kind": "won"}]})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "stages"
    url = f"/api/v1/pipelines/{pipe['id']}"
    assert manager.post(url + "/stages", json={"name": "Demo", "probability": 55}).status_code == 428
    added = manager.post(url + "/stages", json={"name": "Demo", "probability": 55, "position": 2},
                         headers={"If-Match": f'"{pipe["version"]}"'})
    assert added.status_code == 201
    assert [s["name"] for s in added.json["stages"]] == ["Qualification", "Demo", "Proposal", "Negotiation", "Won",
                                                         "Lost"]
    ids = {s["name"]: s["id"] for s in added.json["stages"]}
    order = [ids[n] for n in ("Demo", "Qualification", "Proposal", "Negotiation", "Won", "Lost")]
    stale = {"If-Match": f'"{pipe["version"]}"'}
    assert manager.put(url + "/stages/order", json={"stage_ids": order}, headers=stale).status_code == 412
    reordered = manager.put(url + "/stages/order", json={"stage_ids": order}, headers=etag(added))
    assert [s["position"] for s in reordered.json["stages"]] == [1, 2, 3, 4, 5, 6]
    assert reordered.json["stages"][0]["name"] == "Demo"
    partial = manager.put(url + "/stages/order", json={"stage_ids": order[:2]}, headers=etag(reordered))
    assert partial.status_code == 422 and partial.json["errors"][0]["field"] == "stage_ids"
    assert manager.patch(f"{url}/stages/{ids['Demo']}", json={"name": "Live demo"}).status_code == 428
    renamed = manager.patch(f"{url}/stages/{ids['Demo']}", json={"name": "Live demo", "probability": 60},
                            headers=etag(reordered))
    assert stage(renamed.json, "Live demo")["probability"] == 60
    won_prob = manager.patch(f"{url}/stages/{ids['Won']}", json={"probability": 90}, headers=etag(renamed))
    assert won_prob.status_code == 422 and won_prob.json["errors"][0]["field"] == "probability"
    deal = open_deal(manager, pipeline_id=pipe["id"], stage_id=ids["Demo"])
    held = manager.delete(f"{url}/stages/{ids['Demo']}", headers=etag(renamed))
    assert held.status_code == 409 and held.json["deal_count"] == 1
    assert manager.delete(f"{url}/stages/{ids['Won']}", headers=etag(renamed)).status_code == 409
    manager.post(f"/api/v1/deals/{deal['id']}/move", json={"stage_id": ids["Proposal"]})
    assert manager.delete(f"{url}/stages/{ids['Demo']}").status_code == 428
    gone = manager.delete(f"{url}/stages/{ids['Demo']}", headers=etag(renamed))
    assert gone.status_code == 200 and "Live demo" not in [s["name"] for s in gone.json["stages"]]
    history = manager.get(f"/api/v1/deals/{deal['id']}/history").json
    assert history[0]["to_stage_name"] == "Live demo" and history[0]["to_stage_id"] is None  # the name stays
    current = manager.get(url)
    assert manager.patch(url, json={"name": "x"}).status_code == 428
    r = manager.patch(url, json={"name": f"Renamed {tag()}"}, headers={"If-Match": current.headers["ETag"]})
    assert r.status_code == 200 and r.json["version"] == current.json["version"] + 1


def etag(response) -> dict:
    return {"If-Match": response.headers["ETag"]}


def test_there_is_always_exactly_one_default_pipeline(client):
    sales = next(p for p in client.get("/api/v1/pipelines").json if p["is_default"])
    pipe = pipeline(client)
    try:
        made = client.patch(f"/api/v1/pipelines/{pipe['id']}", json={"is_default": True},
                            headers={"If-Match": f'"{pipe["version"]}"'})
        assert made.status_code == 200 and made.json["is_default"]
        defaults = [p["id"] for p in client.get("/api/v1/pipelines").json if p["is_default"]]
        assert defaults == [pipe["id"]]
        deal = open_deal(client)
        assert deal["pipeline_id"] == pipe["id"]
        off = client.patch(f"/api/v1/pipelines/{pipe['id']}", json={"active": False},
                           headers={"If-Match": made.headers["ETag"]})
        assert off.status_code == 409
        unset = client.patch(f"/api/v1/pipelines/{pipe['id']}", json={"is_default": False},
                             headers={"If-Match": made.headers["ETag"]})
        assert unset.status_code == 422 and unset.json["errors"][0]["field"] == "is_default"
    finally:
        current = client.get(f"/api/v1/pipelines/{sales['id']}")
        client.patch(f"/api/v1/pipelines/{sales['id']}", json={"is_default": True},
                     headers={"If-Match": current.headers["ETag"]})
    assert next(p for p in client.get("/api/v1/pipelines").json if p["is_default"])["id"] == sales["id"]
