"""A salesperson manages companies and people through the CRM API; every change is announced once."""

import uuid
from datetime import datetime

import pytest
from crm.parties.models import Party
from shared_events import contracts
from sqlalchemy import func, select

pytestmark = pytest.mark.db


def unique(prefix="Acme"):
    return f"{prefix} {uuid.uuid4().hex[:8]}"


def create(client, **body):
    body.setdefault("kind", "company")
    if body["kind"] == "company":
        body.setdefault("legal_name", unique())
    r = client.post("/api/v1/parties", json=body)
    assert r.status_code == 201, r.json
    return r


def count_parties(db):
    with db.sessions() as s:
        return s.execute(select(func.count()).select_from(Party)).scalar_one()


def test_create_a_company_and_a_person_working_there(client, outbox_events):
    name = unique()
    r = create(client, legal_name=name, roles=["customer", "prospect"], tax_id=" FR123 ",
               emails=[{"value": "ap@acme.test", "label": "billing"}, {"value": "info@acme.test"}],
               billing_address={"line1": "1 rue Neuve", "city": "Lyon", "postal_code": "69001", "country": "FR"})
    company = r.json
    assert r.headers["ETag"] == '"1"' and r.headers["Location"] == f"/api/v1/parties/{company['id']}"
    assert company["display_name"] == name and company["tax_id"] == "FR123"
    assert company["roles"] == ["customer", "prospect"]
    assert [e["primary"] for e in company["emails"]] == [True, False]
    person = create(client, kind="person", first_name="Ada", last_name="Lovelace", company_id=company["id"],
                    job_title="CFO", phones=[{"value": "+33 4 72 00 00 00"}]).json
    assert person["display_name"] == "Ada Lovelace" and person["company_id"] == company["id"]
    (etype, payload), = outbox_events(company["id"])
    assert etype == "crm.party.created"
    assert payload["attributes"]["sequence"] == "1" and payload["attributes"]["subject"] == company["id"]
    contracts.validate(etype, payload["data"])
    assert payload["data"]["billing_address"]["city"] == "Lyon"


@pytest.mark.parametrize("body, field", [
    ({"kind": "company"}, "legal_name"),
    ({"kind": "person"}, "last_name"),
    ({"kind": "alien", "legal_name": "X"}, "kind"),
    ({"kind": "company", "legal_name": "X", "roles": ["king"]}, "roles.0"),
    ({"kind": "company", "legal_name": "X", "emails": [{"value": "not-an-email"}]}, "emails.0.value"),
    ({"kind": "company", "legal_name": "X", "billing_address": {"country": "France"}}, "billing_address.country"),
    ({"kind": "company", "legal_name": "X", "billing_address": {"country": "ZZ"}}, "billing_address.country"),
    ({"kind": "company", "legal_name": "X", "emails": ["not-an-email"]}, "emails.0.value"),
    ({"kind": "company", "legal_name": "X", "emails": [42]}, "emails.0"),
    ({"kind": "company", "legal_name": "X", "colour": "red"}, "colour"),
    ({"kind": "company", "legal_name": "X", "first_name": "Bob"}, "first_name"),
    ({"kind": "person", "last_name": "Doe", "company_id": str(uuid.uuid4())}, "company_id"),
    ({"kind": "company", "legal_name": "X", "emails": [{"value": "a@b.co", "primary": True},
                                                      {"value": "c@b.co", "primary": True}]}, "emails"),
])
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(client, db, outbox_size, body, field):
    parties_before, events_before = count_parties(db), outbox_size()
    r = client.post("/api/v1/parties", json=body)
    assert r.status_code == 422
    assert r.content_type == "application/problem+json"
    assert field in [e["field"] for e in r.json["errors"]], r.json
    assert r.json["status"] == 422 and r.json["title"]
    assert count_parties(db) == parties_before and outbox_size() == events_before


def test_emails_and_phones_may_be_plain_strings(client):
    r = create(client, kind="company", legal_name=f"Plain {uuid.uuid4().hex[:6]}", emails=["ap@plain.example"],
               phones=["+33 1 23 45 67 89"])
    assert r.status_code == 201, r.json
    assert [(e["value"], e["primary"]) for e in r.json["emails"]] == [("ap@plain.example", True)]
    assert [p["value"] for p in r.json["phones"]] == ["+33 1 23 45 67 89"]


def test_a_person_cannot_join_a_person(client):
    p = create(client, kind="person", last_name="Solo").json
    r = client.post("/api/v1/parties", json={"kind": "person", "last_name": "Doe", "company_id": p["id"]})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "company_id"


def test_update_needs_the_current_etag_and_announces_the_new_state(client, outbox_events):
    p = create(client, roles=["prospect"]).json
    url = f"/api/v1/parties/{p['id']}"
    assert client.patch(url, json={"roles": ["customer"]}).status_code == 428
    r = client.patch(url, json={"roles": ["customer"], "tax_id": "DE999"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'
    assert r.json["roles"] == ["customer"] and r.json["version"] == 2
    stale = client.patch(url, json={"tax_id": "DE000"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and stale.content_type == "application/problem+json"
    assert client.get(url).json["tax_id"] == "DE999"
    events = outbox_events(p["id"])
    assert [t for t, _ in events] == ["crm.party.created", "crm.party.updated"]
    assert events[1][1]["attributes"]["sequence"] == "2" and events[1][1]["data"]["tax_id"] == "DE999"


def test_an_update_that_changes_nothing_publishes_nothing(client, outbox_events):
    p = create(client, tax_id="IT1").json
    r = client.patch(f"/api/v1/parties/{p['id']}", json={"tax_id": "IT1"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json["version"] == 1
    assert len(outbox_events(p["id"])) == 1


def test_archive_hides_the_party_from_default_lists_and_restore_brings_it_back(client, outbox_events):
    name = unique("Archivable")
    p = create(client, legal_name=name).json
    url = f"/api/v1/parties/{p['id']}"
    r = client.post(url + "/archive", headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json["status"] == "archived" and r.json["archived_at"]
    assert client.get("/api/v1/parties", query_string={"q": name}).json["total"] == 0
    assert client.get("/api/v1/parties", query_string={"q": name, "status": "archived"}).json["total"] == 1
    edit = client.patch(url, json={"tax_id": "X"}, headers={"If-Match": '"2"'})
    assert edit.status_code == 409
    assert client.post(url + "/restore", headers={"If-Match": '"2"'}).json["status"] == "active"
    assert [t for t, _ in outbox_events(p["id"])] == ["crm.party.created", "crm.party.archived", "crm.party.updated"]


def test_list_filters_sorts_and_paginates(client):
    tag = uuid.uuid4().hex[:8]
    for i, role in enumerate(["customer", "supplier", "customer"]):
        create(client, legal_name=f"{tag} Co {i}", roles=[role], billing_address={"country": "BE" if i else "NL"})
    page = client.get("/api/v1/parties", query_string={"q": tag, "role": "customer", "sort": "-display_name"}).json
    assert [p["display_name"] for p in page["items"]] == [f"{tag} Co 2", f"{tag} Co 0"]
    assert page["total"] == 2
    paged = client.get("/api/v1/parties", query_string={"q": tag, "page_size": 2, "page": 2}).json
    assert paged["total"] == 3 and paged["pages"] == 2 and len(paged["items"]) == 1
    assert client.get("/api/v1/parties", query_string={"q": tag, "country": "be"}).json["total"] == 2
    bad = client.get("/api/v1/parties", query_string={"page_size": 1000})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "page_size"


def test_search_finds_people_by_email(client):
    mail = f"{uuid.uuid4().hex[:10]}@example.test"
    create(client, kind="person", last_name="Mailer", emails=[{"value": mail}])
    assert client.get("/api/v1/parties", query_string={"q": mail.upper()}).json["items"][0]["last_name"] == "Mailer"


def test_a_retried_create_with_the_same_idempotency_key_creates_one_party(client, outbox_size):
    key = str(uuid.uuid4())
    body = {"kind": "company", "legal_name": unique()}
    before = outbox_size()
    first = client.post("/api/v1/parties", json=body, headers={"Idempotency-Key": key})
    again = client.post("/api/v1/parties", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"]
    assert outbox_size() == before + 1
    other = client.post("/api/v1/parties", json={**body, "tax_id": "X"}, headers={"Idempotency-Key": key})
    assert other.status_code == 422 and other.content_type == "application/problem+json"


def test_unknown_party_is_a_problem_404(client):
    r = client.get(f"/api/v1/parties/{uuid.uuid4()}")
    assert r.status_code == 404 and r.content_type == "application/problem+json"


def test_health_readiness_metrics_and_docs(client):
    assert client.get("/healthz").json["status"] == "ok"
    assert client.get("/readyz").json == {"status": "ready", "checks": {"database": "ok"}}
    assert b"python_info" in client.get("/metrics").data
    assert client.get("/docs").status_code == 200
    spec = client.get("/openapi.json").json
    assert "/api/v1/parties/{party_id}" in spec["paths"]
    with client.get("/docs-assets/swagger-ui-bundle.js") as asset:
        assert asset.status_code == 200


def test_a_created_party_answers_as_it_is_stored_published_and_audited(client, outbox_events):
    """The create answers from the values it wrote (no read-back): a later GET, the event and the audit trail
    all tell the same party."""
    made = create(client, legal_name=unique(), roles=["supplier"], emails=["ap@acme.test"],
                  shipping_address={"city": "Porto", "country": "PT"})
    got = client.get(f"/api/v1/parties/{made.json['id']}")
    assert got.status_code == 200 and got.headers["ETag"] == made.headers["ETag"] == '"1"'
    body, stored = dict(made.json), dict(got.json)
    for stamp in ("created_at", "updated_at"):  # the same instant, whatever offset the database session shows
        assert datetime.fromisoformat(body.pop(stamp)) == datetime.fromisoformat(stored.pop(stamp))
    assert body == stored and body["emails"] == [{"value": "ap@acme.test", "primary": True}]
    (etype, payload), = outbox_events(made.json["id"])
    assert etype == "crm.party.created" and payload["data"]["shipping_address"] == {"city": "Porto", "country": "PT"}
    assert payload["data"]["created_at"] == made.json["created_at"] and payload["data"]["status"] == "active"
    contracts.validate(etype, payload["data"])
    trail = client.get("/api/v1/audit", query_string={"entity_type": "party", "entity_id": made.json["id"]}).json
    (entry,) = trail["items"]
    assert entry["action"] == "create" and entry["actor_id"]
    assert entry["changes"]["legal_name"] == {"before": None, "after": made.json["legal_name"]}
    assert entry["changes"]["roles"] == {"before": None, "after": ["supplier"]}
    assert "website" not in entry["changes"]  # fields without a value are not listed
