"""Hostile input gets a clear 4xx naming the field, never a 500, and changes nothing (issue: hardening).

Each case here was a 500 found by fuzzing the API (schemathesis) or by hand.
"""

import json
import uuid
from dataclasses import replace

import pytest
from crm.app import create_app
from crm.config import Settings
from crm.db import audit_log, auth
from crm.leads.models import Lead
from servicekit.testing import assert_problem, user_with_token
from sqlalchemy import func, select


def _count(client, **query):
    return client.get("/api/v1/parties", query_string={"page_size": 1, "status": "all", **query}).json["total"]


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("levels", [40, 5000])
def test_deeply_nested_json_is_refused_everywhere_even_without_a_token(client, anonymous, levels):
    body = '{"kind": "company", "legal_name": "Deep", "emails": ' + deep(levels) + "}"
    assert_problem(client.post("/api/v1/parties", data=body, content_type="application/json"), 422)
    login = '{"email": "a@b.test", "password": ' + deep(levels) + "}"
    assert_problem(anonymous.post("/api/v1/auth/login", data=login, content_type="application/json"), 422)


def test_numbers_no_column_can_hold_are_refused(client):
    marker = uuid.uuid4().hex
    for number in ("9" * 5000, "1e400", "NaN", str(2**64)):
        body = f'{{"kind": "company", "legal_name": "{marker}", "page_size": {number}}}'
        r = client.post("/api/v1/parties", data=body, content_type="application/json")
        assert 400 <= r.status_code < 500, (number, r.status_code)
    assert_problem(client.get("/api/v1/parties", query_string={"page": "99999999999999999999"}), 422, "page")
    assert_problem(client.get("/api/v1/tasks", query_string={"page_size": "-1"}), 422, "page_size")
    assert _count(client, q=marker) == 0


def test_nul_characters_are_refused_with_the_field_named_in_bodies_queries_and_paths(client):
    marker = uuid.uuid4().hex
    assert_problem(client.post("/api/v1/parties", json={"kind": "company", "legal_name": f"{marker}\u0000"}), 422,
             "legal_name")
    assert_problem(client.post("/api/v1/parties", json={"kind": "company", "legal_name": marker,
                                                  "emails": [{"value": "a\u0000@b.test"}]}), 422, "emails.0.value")
    assert_problem(client.get("/api/v1/parties", query_string={"q": "a\u0000"}), 422, "q")
    assert_problem(client.get("/api/v1/parties", query_string={"tax_id": "\u0000"}), 422, "tax_id")
    assert_problem(client.get("/api/v1/deals", query_string={"unknown\u0000": "x"}), 422)
    assert_problem(client.get("/api/v1/roles/ad%00min"), 404)
    assert_problem(client.post("/api/v1/tasks", data=b'{"title": "\\ud800"}', content_type="application/json"), 422,
             "title")
    assert _count(client, q=marker) == 0


def test_the_public_lead_form_refuses_nul_and_deep_json_without_storing_anything(client, anonymous, db):
    form = client.post("/api/v1/lead-forms", json={"name": f"Form {uuid.uuid4().hex[:6]}"}).json
    env = {"REMOTE_ADDR": f"10.9.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}"}
    assert_problem(anonymous.post(form["submit_url"], json={"first_name": "a\u0000", "email": "x@y.test"},
                            environ_base=env), 422, "first_name")
    assert_problem(anonymous.post(form["submit_url"], data="first_name=a%00&email=x%40y.test",
                            content_type="application/x-www-form-urlencoded", environ_base=env), 422, "first_name")
    assert_problem(anonymous.post(form["submit_url"], data='{"first_name": ' + deep(3000) + "}",
                            content_type="application/json", environ_base=env), 422)
    with db.sessions() as s:
        assert s.execute(select(func.count()).select_from(Lead).where(Lead.form_id == form["id"])).scalar_one() == 0


def test_time_zone_offsets_postgresql_cannot_store_and_bad_uuids_are_422(client):
    assert_problem(client.get("/api/v1/audit", query_string={"since": "2026-01-01T00:00:00+20:00"}), 422, "since")
    assert_problem(client.post("/api/v1/me/tokens", json={"name": "far", "expires_at": "2030-01-01T00:00:00-23:59"}),
             422, "expires_at")
    assert_problem(client.get("/api/v1/parties", query_string={"owner_id": "abc"}), 422, "owner_id")
    assert client.get("/api/v1/audit", query_string={"since": "2026-01-01T00:00:00+14:00"}).status_code == 200


def test_bodies_over_the_limit_are_413_before_parsing_and_non_json_is_415(client, anonymous):
    marker = uuid.uuid4().hex
    big = json.dumps({"kind": "company", "legal_name": marker, "notes": "x" * (1024 * 1024)})
    assert_problem(client.post("/api/v1/parties", data=big, content_type="application/json"), 413)
    huge = '{"email": "a@b.test", "password": [' + ",".join(["1"] * 600_000) + "]}"
    assert_problem(anonymous.post("/api/v1/auth/login", data=huge, content_type="application/json"), 413)
    assert_problem(client.post("/api/v1/parties", data=f"kind=company&legal_name={marker}",
                         content_type="application/x-www-form-urlencoded"), 415)
    assert_problem(client.post("/api/v1/parties", data="{}", content_type="text/plain"), 415)
    assert_problem(client.post("/api/v1/parties", data='{"kind": ', content_type="application/json"), 400)
    assert _count(client, q=marker) == 0


def test_empty_updates_are_422_and_unknown_sort_fields_are_422_on_every_list(app, client):
    p = client.post("/api/v1/parties", json={"kind": "company", "legal_name": f"E {uuid.uuid4().hex}"}).json
    assert_problem(client.patch(f"/api/v1/parties/{p['id']}", json={}, headers={"If-Match": '"1"'}), 422, "(body)")
    doc = client.get("/openapi.json").json
    lists = [path for path, ops in doc["paths"].items() if "{" not in path and "get" in ops
             and any(prm["name"] == "sort" for prm in ops["get"].get("parameters", []))]
    assert len(lists) >= 10
    for path in lists:
        query = {"sort": "no_such_field", **({"format": "csv"} if path.endswith("/export") else {})}
        assert_problem(client.get(path, query_string=query), 422, "sort")


def test_a_lost_database_answers_503_with_retry_after(app):
    """The web process whose database is gone tells clients to retry, instead of a 500."""
    settings = replace(Settings.from_env(), database_url="postgresql+psycopg2://postgres@127.0.0.1:9/crm")
    down = create_app(settings).test_client()
    r = down.get("/api/v1/parties", headers={"Authorization": "Bearer whatever"})
    body = assert_problem(r, 503)
    assert r.headers["Retry-After"].isdigit() and "retry" in body["detail"]


def test_a_unique_violation_is_409_naming_the_field(app, client):
    user = user_with_token(app.extensions["crm.db"].sessions, auth, audit_log, "crm", ["sales_rep"])
    dup = client.post("/api/v1/users", json={"email": user["email"].upper(), "name": "Dup",
                                             "password": "a-strong-password"})
    assert_problem(dup, 409, "email")


def test_an_activity_ending_centuries_later_is_refused_instead_of_a_duration_no_client_expects(client):
    """Found by schemathesis: ends_at in 4314 made a duration of 1.2 billion minutes, beyond what the API says."""
    party = client.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Far {uuid.uuid4().hex}"}).json
    far = client.post("/api/v1/activities", json={"type": "meeting", "subject": "Forever", "party_id": party["id"],
                                                  "occurred_at": "2026-12-01T09:00:00Z",
                                                  "ends_at": "4314-11-15T04:26:53Z"})
    assert_problem(far, 422, "ends_at")
    ok = client.post("/api/v1/activities", json={"type": "meeting", "subject": "Workshop", "party_id": party["id"],
                                                 "occurred_at": "2026-12-01T09:00:00Z",
                                                 "ends_at": "2026-12-01T11:30:00Z"})
    assert ok.status_code == 201 and ok.json["duration_minutes"] == 150


def test_a_query_string_too_long_to_be_a_real_search_is_a_414(client):
    r = client.get("/api/v1/parties", query_string={"q": "x" * 5000})
    assert r.status_code == 414 and r.content_type == "application/problem+json"
    assert r.json["type"].endswith("/uri-too-long")
