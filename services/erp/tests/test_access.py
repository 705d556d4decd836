"""Finance and warehouse staff get in with their own ERP accounts and do only what their roles allow."""

import uuid

import pytest
from servicekit.testing import every_route, is_public
from shared_events.testing import party_state

pytestmark = pytest.mark.db


def test_every_route_but_health_metrics_docs_and_login_answers_401_without_a_token(app, anonymous):
    checked = 0
    for url, method, endpoint in every_route(app):
        r = anonymous.open(url, method=method, json={} if method in ("POST", "PATCH", "PUT") else None)
        r.close()
        if is_public(endpoint):
            assert r.status_code != 401, (method, url)
        else:
            assert r.status_code == 401, (method, url, r.status_code)
            assert r.content_type == "application/problem+json"
            checked += 1
    assert checked >= 15


@pytest.fixture
def customer(deliver):
    name = f"Wayne {uuid.uuid4().hex[:8]}"
    s = party_state(display_name=name, legal_name=name, version=1, roles=["customer", "supplier"])
    deliver("created", s)
    return s


MATRIX = [
    ("GET", "/api/v1/customers", None, {"admin", "accountant", "warehouse_clerk", "purchaser", "auditor"}),
    ("GET", "/api/v1/suppliers", None, {"admin", "accountant", "warehouse_clerk", "purchaser", "auditor"}),
    ("PATCH", "/api/v1/parties/{id}", {"payment_terms_days": 10}, {"admin", "accountant", "purchaser"}),
    ("GET", "/api/v1/audit", None, {"admin", "accountant", "auditor"}),
    ("GET", "/api/v1/users", None, {"admin", "auditor"}),
    ("POST", "/api/v1/users", {"email": "x@x.test", "name": "x", "password": "short"}, {"admin"}),
    ("GET", "/api/v1/roles", None, {"admin", "auditor"}),
]


@pytest.mark.parametrize("role", ["admin", "accountant", "warehouse_clerk", "purchaser", "auditor"])
def test_role_matrix(as_user, customer, role):
    c = as_user(role)
    for method, path, body, allowed in MATRIX:
        r = c.open(path.format(id=customer["id"]), method=method, json=body, headers={"If-Match": '"0"'})
        if role in allowed:
            assert r.status_code not in (401, 403), (role, method, path, r.status_code, r.json)
        else:
            assert r.status_code == 403, (role, method, path, r.status_code)


def test_terms_changes_are_audited_with_before_and_after(as_user, customer):
    accountant, auditor = as_user("accountant"), as_user("auditor")
    url = f"/api/v1/parties/{customer['id']}"
    assert accountant.patch(url, json={"credit_limit": "2500.00"}, headers={"If-Match": '"0"'}).status_code == 200
    trail = auditor.get("/api/v1/audit", query_string={"entity_type": "party", "entity_id": customer["id"]}).json
    (entry,) = trail["items"]
    assert entry["action"] == "update_terms" and entry["actor_id"] == accountant.user["id"]
    assert entry["changes"] == {"credit_limit": {"before": None, "after": "2500.00"}}


def test_replicated_changes_name_the_crm_user_who_caused_them(client, deliver):
    from shared_events import envelope
    s = party_state(version=1, roles=["customer"])
    ev = envelope.new_event("crm.party.created", s["id"], s, 1, actor_id="5b0f7d3e-0000-4000-8000-000000000001",
                            actor_name="ada@crm.test")
    deliver.again(ev)
    (change,) = client.get(f"/api/v1/parties/{s['id']}/changes").json["items"]
    assert change["actor"] == "crm:ada@crm.test (5b0f7d3e-0000-4000-8000-000000000001)"
