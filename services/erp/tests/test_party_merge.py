"""The CRM merged two duplicate customers: the ERP's copy of the duplicate says so and points at the survivor, and
the duplicate's payment terms follow it unless the survivor has its own."""

import uuid

import pytest
from shared_events.testing import party_state

pytestmark = pytest.mark.db


def state(**over):
    name = over.pop("name", f"Dup {uuid.uuid4().hex[:8]}")
    return party_state(display_name=name, legal_name=name, version=over.pop("version", 1),
                       updated_at="2026-11-01T09:00:00+00:00", **over)


def set_terms(client, party_id, **terms):
    r = client.patch(f"/api/v1/parties/{party_id}", json=terms, headers={"If-Match": '"0"'})
    assert r.status_code == 200, r.json


def merged(absorbed, survivor, version=2):
    return {**absorbed, "version": version, "status": "merged", "merged_into_id": survivor["id"]}


def test_the_absorbed_party_shows_where_it_went_and_its_terms_move_to_the_survivor(client, deliver):
    survivor, absorbed = state(roles=["customer"]), state(roles=["customer"])
    deliver("created", survivor)
    deliver("created", absorbed)
    set_terms(client, absorbed["id"], payment_terms_days=60, credit_limit="5000.00", customer_group="wholesale")

    assert deliver("merged", merged(absorbed, survivor))[0] == "applied"
    got = client.get(f"/api/v1/parties/{absorbed['id']}").json
    assert got["status"] == "merged" and got["merged_into_id"] == survivor["id"] and got["crm_version"] == 2
    terms = client.get(f"/api/v1/parties/{survivor['id']}").json["account"]
    assert terms["payment_terms_days"] == 60 and terms["credit_limit"] == "5000.00"
    assert terms["customer_group"] == "wholesale"
    assert client.get("/api/v1/customers", query_string={"q": absorbed["display_name"]}).json["total"] == 0
    listed = client.get("/api/v1/customers", query_string={"q": absorbed["display_name"], "status": "merged"}).json
    assert [p["id"] for p in listed["items"]] == [absorbed["id"]]
    refused = client.patch(f"/api/v1/parties/{absorbed['id']}", json={"payment_terms_days": 10},
                           headers={"If-Match": '"0"'})
    assert refused.status_code == 409 and refused.json["merged_into_id"] == survivor["id"]
    changes = client.get(f"/api/v1/parties/{absorbed['id']}/changes").json["items"]
    assert changes[0]["event_type"] == "crm.party.merged" and "merged_into_id" in changes[0]["changed_fields"]


def test_the_survivors_own_terms_win(client, deliver):
    survivor, absorbed = state(), state()
    deliver("created", survivor)
    deliver("created", absorbed)
    set_terms(client, survivor["id"], payment_terms_days=15)
    set_terms(client, absorbed["id"], payment_terms_days=90)
    deliver("merged", merged(absorbed, survivor))
    assert client.get(f"/api/v1/parties/{survivor['id']}").json["account"]["payment_terms_days"] == 15


def test_a_redelivered_or_late_merge_changes_nothing_twice(client, deliver):
    survivor, absorbed = state(), state()
    deliver("created", survivor)
    deliver("created", absorbed)
    set_terms(client, absorbed["id"], payment_terms_days=45)
    outcome, event = deliver("merged", merged(absorbed, survivor))
    assert outcome == "applied" and deliver.again(event) == "duplicate"
    # an older state arriving late does not undo the merge
    deliver("updated", {**absorbed, "version": 1, "tax_id": "LATE"})
    got = client.get(f"/api/v1/parties/{absorbed['id']}").json
    assert got["status"] == "merged" and got["tax_id"] != "LATE"
    account = client.get(f"/api/v1/parties/{survivor['id']}").json["account"]
    assert account["payment_terms_days"] == 45 and account["version"] == 2
