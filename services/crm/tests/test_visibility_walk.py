"""No list, search, export, statistic or audit entry shows a record to someone who gets 404 for it directly.

Two reps and the manager of one team look at everything a rep of another team owns: each record answers them 404,
and no GET endpoint without a record in its path (walked from the URL map, so a new one is covered as it lands)
mentions its id or its name.
"""

import uuid

import pytest
from servicekit.testing import is_public

# GET routes that list no CRM records, with the reason
NOT_RECORD_LISTINGS = {
    "/api/v1/me": "the caller's own profile",
    "/api/v1/me/tokens": "the caller's own tokens",
    "/api/v1/roles": "the permission catalogue",
    "/api/v1/roles/permissions": "the permission catalogue",
    "/api/v1/catalog": "answers 405: the catalog is the ERP's",
}

STATISTICS = ("deals", "activities", "leads", "quotes")


def _ok(r, status=201):
    assert r.status_code == status, r.json
    return r.json


@pytest.fixture
def outsider_records(as_user):
    """Everything a rep of another team owns, each named with one marker."""
    outsider = as_user("sales_rep")
    marker = f"Zq{uuid.uuid4().hex[:10]}"
    company = _ok(outsider.post("/api/v1/parties", json={
        "kind": "company", "legal_name": f"{marker} Holdings", "tax_id": f"TX{marker}",
        "emails": [{"value": f"{marker.lower()}@outsider.example"}]}))
    person = _ok(outsider.post("/api/v1/parties", json={
        "kind": "person", "first_name": "Ada", "last_name": marker, "company_id": company["id"]}))
    lead = _ok(outsider.post("/api/v1/leads", json={"last_name": marker, "company_name": f"{marker} Lead Co",
                                                    "email": f"lead-{marker.lower()}@outsider.example"}))
    deal = _ok(outsider.post("/api/v1/deals", json={"name": f"{marker} deal", "party_id": company["id"],
                                                    "amount": "12345.67", "currency": "EUR"}))
    task = _ok(outsider.post("/api/v1/tasks", json={"title": f"{marker} task", "record_type": "deal",
                                                    "record_id": deal["id"]}))
    activity = _ok(outsider.post("/api/v1/activities", json={"type": "call", "subject": f"{marker} call",
                                                             "party_id": company["id"]}))
    # a change, so the audit trail has more than creations about them
    _ok(outsider.patch(f"/api/v1/parties/{company['id']}", json={"tax_id": f"TY{marker}"},
                       headers={"If-Match": '"1"'}), 200)
    urls = {
        f"/api/v1/parties/{company['id']}": company["id"], f"/api/v1/parties/{person['id']}": person["id"],
        f"/api/v1/leads/{lead['id']}": lead["id"], f"/api/v1/deals/{deal['id']}": deal["id"],
        f"/api/v1/tasks/{task['id']}": task["id"], f"/api/v1/activities/{activity['id']}": activity["id"],
    }
    return marker, urls


@pytest.fixture
def one_team(as_user):
    admin = as_user("admin")
    alice, bob, manager = as_user("sales_rep"), as_user("sales_rep"), as_user("sales_manager")
    team = _ok(admin.post("/api/v1/teams", json={"name": f"West {uuid.uuid4().hex[:6]}"}))
    for member, role in ((alice, "member"), (bob, "member"), (manager, "manager")):
        _ok(admin.post(f"/api/v1/teams/{team['id']}/members", json={"user_id": member.user["id"], "role": role}),
            200)
    # their own work, so the lists they read are not empty
    mine = _ok(alice.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Alice's {uuid.uuid4().hex}"}))
    _ok(alice.post("/api/v1/deals", json={"name": "Alice's deal", "party_id": mine["id"], "amount": "10"}))
    return {"alice": alice, "bob": bob, "manager": manager}


def _listing_routes(app):
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.arguments - {"subject"} or is_public(rule.endpoint):
            continue
        if not rule.rule.startswith("/api/") or rule.rule in NOT_RECORD_LISTINGS:
            continue
        yield rule.rule


def _requests_for(route, pipeline_id):
    """Every way of asking the route that might show records: default query, each export format, groupings."""
    if route == "/api/v1/statistics/<subject>":
        for subject in STATISTICS:
            for group in ("party", "owner", "stage", "status"):
                yield f"/api/v1/statistics/{subject}", {"group_by": group}
        return
    if route.endswith("/export"):
        yield route, {"format": "csv"}
        return
    yield route, {"page_size": 100}
    yield route, {"q": "Zq", "page_size": 100}
    if route == "/api/v1/audit":
        for entity_type in ("party", "deal", "lead", "task", "activity"):
            yield route, {"entity_type": entity_type, "page_size": 100}


def test_no_listing_shows_a_record_its_caller_gets_404_for(app, one_team, outsider_records, as_user):
    marker, urls = outsider_records
    admin = as_user("admin")
    pipelines = admin.get("/api/v1/pipelines").json
    routes = sorted(set(_listing_routes(app)))
    assert "/api/v1/audit" in routes and "/api/v1/parties/export" in routes and "/api/v1/parties" in routes
    checked = 0
    for who, caller in one_team.items():
        for url in urls:
            assert caller.get(url).status_code == 404, f"{who} may see {url}: the test's premise is wrong"
        asks = [(r, q) for route in routes for r, q in _requests_for(route, None)]
        asks += [(f"/api/v1/pipelines/{p['id']}/board", {}) for p in pipelines]
        for path, query in asks:
            r = caller.get(path, query_string=query)
            if r.status_code != 200:
                continue
            body = r.get_data(as_text=True)
            leaked = [rid for rid in urls.values() if rid in body] + ([marker] if marker in body else [])
            assert not leaked, f"{who} reads {path}?{query} and sees {leaked}"
            checked += 1
    assert checked > 3 * 20  # every caller read every listing that answered


def test_a_manager_reads_the_audit_trail_of_their_team_only_and_no_login_address(one_team, outsider_records,
                                                                                 as_user, anonymous):
    marker, urls = outsider_records
    manager, alice = one_team["manager"], one_team["alice"]
    credentials = {"email": alice.user["email"], "password": alice.user["password"]}
    login = anonymous.post("/api/v1/auth/login", json=credentials, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert login.status_code == 200, login.json
    party_id = next(v for k, v in urls.items() if "/parties/" in k)
    about_outsider = manager.get("/api/v1/audit", query_string={"entity_type": "party", "entity_id": party_id})
    assert about_outsider.status_code == 200 and about_outsider.json["items"] == []
    # the same manager does read the history of a record of their own team
    mine = _ok(alice.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Team {uuid.uuid4().hex}"}))
    trail = manager.get("/api/v1/audit", query_string={"entity_type": "party", "entity_id": mine["id"]}).json
    assert [e["action"] for e in trail["items"]] == ["create"]
    # logins are recorded with the client address, which only administrators read
    everything = manager.get("/api/v1/audit", query_string={"page_size": 100}).json["items"]
    assert all("address" not in (e["changes"] or {}) for e in everything)
    assert all(e["entity_type"] not in ("user", "api_token", "role") for e in everything)
    admin = as_user("admin")
    logins = admin.get("/api/v1/audit", query_string={"action": "login", "entity_id": alice.user["id"]}).json["items"]
    assert [e["changes"]["address"] for e in logins] == ["198.51.100.7"]
