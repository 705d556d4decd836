"""An accountant sees the CRM's customers and suppliers in the ERP, edits only what the ERP owns."""

import uuid

import pytest
from shared_events.testing import party_state
from sqlalchemy import text

pytestmark = pytest.mark.db


def state(**over):
    name = over.pop("name", f"Initech {uuid.uuid4().hex[:8]}")
    return party_state(display_name=name, legal_name=name, version=over.pop("version", 1),
                       updated_at=over.pop("updated_at", "2026-11-01T09:00:00+00:00"), **over)


def test_a_customer_created_in_the_crm_is_listed_with_default_terms(client, deliver):
    s = state(roles=["customer"], billing_address={"city": "Gent", "country": "BE"}, tax_id="BE0123")
    assert deliver("created", s)[0] == "applied"
    page = client.get("/api/v1/customers", query_string={"q": s["display_name"]}).json
    (c,) = page["items"]
    assert c["id"] == s["id"] and c["tax_id"] == "BE0123" and c["billing_address"]["city"] == "Gent"
    assert c["crm_version"] == 1
    assert c["account"] == {"payment_terms_days": 30, "credit_limit": None, "currency": "EUR", "customer_group": None,
                            "version": 0}
    assert c["master_data"]["owner"] == "crm" and c["master_data"]["edit_url"].endswith(f"/api/v1/parties/{s['id']}")
    assert client.get("/api/v1/suppliers", query_string={"q": s["display_name"]}).json["total"] == 0


def test_newer_states_replace_older_ones_and_late_old_ones_are_ignored(client, deliver):
    s = state(roles=["supplier"])
    deliver("created", s)
    v3 = {**s, "version": 3, "display_name": s["display_name"] + " GmbH", "legal_name": "x", "tax_id": "DE3"}
    assert deliver("updated", v3)[0] == "applied"
    v2 = {**s, "version": 2, "tax_id": "DE2"}
    assert deliver("updated", v2)[0] == "applied"  # processed (recorded once) but not newer: no change
    got = client.get(f"/api/v1/parties/{s['id']}").json
    assert got["crm_version"] == 3 and got["tax_id"] == "DE3"
    changes = client.get(f"/api/v1/parties/{s['id']}/changes").json["items"]
    assert [c["sequence"] for c in changes] == [3, 1]
    assert {"display_name", "legal_name", "tax_id"} <= set(changes[0]["changed_fields"])


def test_the_same_event_twice_is_applied_once(client, deliver):
    s = state(roles=["customer"])
    outcome, ev = deliver("created", s)
    # the same event id again, as Kafka redelivers after a crash before the offset commit
    again = deliver.again(ev)
    assert outcome == "applied" and again == "duplicate"
    assert len(client.get(f"/api/v1/parties/{s['id']}/changes").json["items"]) == 1


def test_master_data_cannot_be_changed_in_the_erp(client, deliver):
    s = state(roles=["customer"])
    deliver("created", s)
    url = f"/api/v1/parties/{s['id']}"
    r = client.patch(url, json={"legal_name": "Hacked", "billing_address": {"city": "Nowhere"}},
                     headers={"If-Match": '"0"'})
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    fields = {e["field"]: e["message"] for e in r.json["errors"]}
    assert set(fields) == {"legal_name", "billing_address"}
    assert "owned by the CRM" in fields["legal_name"] and f"/api/v1/parties/{s['id']}" in fields["legal_name"]
    got = client.get(url).json
    assert got["legal_name"] == s["legal_name"] and got["account"]["version"] == 0


def test_erp_terms_are_edited_with_if_match(client, deliver):
    s = state(roles=["customer"])
    deliver("created", s)
    url = f"/api/v1/parties/{s['id']}"
    assert client.get(url).headers["ETag"] == '"0"'
    assert client.patch(url, json={"payment_terms_days": 45}).status_code == 428
    r = client.patch(url, json={"payment_terms_days": 45, "credit_limit": "15000.50", "currency": "CHF"},
                     headers={"If-Match": '"0"'})
    assert r.status_code == 200 and r.headers["ETag"] == '"1"'
    assert r.json["account"] == {"payment_terms_days": 45, "credit_limit": "15000.50", "currency": "CHF",
                                 "customer_group": None, "version": 1}
    assert client.patch(url, json={"payment_terms_days": 60}, headers={"If-Match": '"0"'}).status_code == 412
    bad = client.patch(url, json={"credit_limit": "-5", "currency": "euro"}, headers={"If-Match": '"1"'})
    assert bad.status_code == 422 and {e["field"] for e in bad.json["errors"]} == {"credit_limit", "currency"}
    # a later CRM update leaves the ERP-owned terms alone
    deliver("updated", {**s, "version": 2, "tax_id": "NEW"})
    got = client.get(url).json
    assert got["tax_id"] == "NEW" and got["account"]["payment_terms_days"] == 45


def test_archived_parties_leave_the_default_list(client, deliver):
    s = state(roles=["customer"])
    deliver("created", s)
    deliver("archived", {**s, "version": 2, "status": "archived"})
    assert client.get("/api/v1/customers", query_string={"q": s["display_name"]}).json["total"] == 0
    archived = client.get("/api/v1/customers", query_string={"q": s["display_name"], "status": "archived"}).json
    assert archived["items"][0]["status"] == "archived"


def test_an_unknown_party_is_a_problem_404(client):
    r = client.get(f"/api/v1/parties/{uuid.uuid4()}")
    assert r.status_code == 404 and r.content_type == "application/problem+json"


def test_an_absent_address_is_sql_null_in_the_replica_as_in_the_crm(app, deliver):
    """The same SQL question (`shipping_address IS NULL`) gets the same answer on both sides."""
    s = state(roles=["customer"], billing_address={"city": "Gent", "country": "BE"}, shipping_address=None)
    assert deliver("created", s)[0] == "applied"
    with app.extensions["erp.db"].sessions() as session:
        row = session.execute(text("SELECT shipping_address IS NULL AS sql_null, billing_address IS NULL AS none "
                                   "FROM party_replicas WHERE party_id = :id"), {"id": s["id"]}).one()
    assert row.sql_null and not row.none
