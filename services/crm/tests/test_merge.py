"""A sales manager finds duplicate customers and merges them: one survivor keeps every record, the duplicates point
at it, and the other services hear about it."""

import uuid

import pytest
from crm.db import outbox
from shared_events import contracts
from sqlalchemy import func, select

pytestmark = pytest.mark.db


def tag() -> str:
    return uuid.uuid4().hex[:8]


def create(client, status=201, **body):
    body.setdefault("kind", "company")
    r = client.post("/api/v1/parties", json=body)
    assert r.status_code == status, r.json
    return r.json


def merge(client, survivor, *absorbed, version=None, status=200, **extra):
    r = client.post(f"/api/v1/parties/{survivor['id']}/merge", json={"party_ids": [p["id"] for p in absorbed], **extra},
                    headers={"If-Match": f'"{version or survivor["version"]}"'})
    assert r.status_code == status, r.json
    return r


def groups_with(client, *parties, **query):
    """The duplicate groups that contain any of these parties (the caller may see others' groups too)."""
    ids = {p["id"] for p in parties}
    r = client.get("/api/v1/parties/duplicates", query_string={"page_size": 200, **query})
    assert r.status_code == 200, r.json
    return [g for g in r.json["items"] if ids & {p["id"] for p in g["parties"]}]


def outbox_count(db):
    with db.sessions() as s:
        return s.execute(select(func.count()).select_from(outbox)).scalar_one()


def test_duplicates_are_found_across_case_accents_legal_forms_and_phone_formats(as_user):
    rep = as_user("sales_manager")
    t = tag()
    a = create(rep, legal_name=f"Société Générale {t} S.A.", emails=[{"value": f"Info@SocGen-{t}.test"}],
               phones=[{"value": "+33 1 42 14 20 00"}])
    b = create(rep, legal_name=f"societe generale {t}", emails=[{"value": f"info@socgen-{t}.test"}])
    c = create(rep, legal_name=f"Other {t}", phones=[{"value": "01.42.14.20.00"}], tax_id=f"FR {t}")
    d = create(rep, legal_name=f"Yet another {t}", tax_id=f"fr-{t}")
    lone = create(rep, legal_name=f"Lonely {t}", emails=[{"value": f"alone-{t}@x.test"}])
    # people match by name at the same company only
    p1 = create(rep, kind="person", first_name="Élodie", last_name=f"Dürand{t}", company_id=a["id"])
    p2 = create(rep, kind="person", first_name="elodie", last_name=f"DURAND{t}", company_id=a["id"])
    create(rep, kind="person", first_name="Elodie", last_name=f"Durand{t}", company_id=b["id"])

    (group,) = groups_with(rep, a, b, c, d, lone, kind="company")
    assert {p["id"] for p in group["parties"]} == {a["id"], b["id"], c["id"], d["id"]}
    assert {(m["reason"], tuple(m["party_ids"])) for m in group["matches"]} >= {
        ("email", tuple(sorted([a["id"], b["id"]]))), ("name", tuple(sorted([a["id"], b["id"]]))),
        ("phone", tuple(sorted([a["id"], c["id"]]))), ("tax_id", tuple(sorted([c["id"], d["id"]])))}
    assert group["reasons"] == ["email", "name", "phone", "tax_id"]
    assert 0 < group["score"] <= 100 and group["suggested_survivor_id"] == a["id"]
    (people,) = groups_with(rep, p1, kind="person")
    assert {p["id"] for p in people["parties"]} == {p1["id"], p2["id"]} and people["reasons"] == ["name"]

    mine = rep.get(f"/api/v1/parties/{a['id']}/duplicates").json
    assert [(m["id"], m["reasons"]) for m in mine] == [(b["id"], ["email", "name"]), (c["id"], ["phone"])]
    assert mine[0]["score"] > mine[1]["score"]
    assert rep.get(f"/api/v1/parties/{lone['id']}/duplicates").json == []


def test_duplicates_only_among_parties_the_caller_can_see(as_user):
    alice, bob = as_user("sales_rep"), as_user("sales_rep")
    email = f"shared-{tag()}@example.test"
    mine = create(alice, legal_name=f"Mine {tag()}", emails=[{"value": email}])
    create(bob, legal_name=f"His {tag()}", emails=[{"value": email}])
    assert groups_with(alice, mine) == []
    assert alice.get(f"/api/v1/parties/{mine['id']}/duplicates").json == []


def test_merge_moves_every_record_to_the_survivor_and_announces_it(as_user, db, outbox_events):
    manager, colleague = as_user("sales_manager"), as_user("sales_rep")
    t = tag()
    a = create(manager, legal_name=f"Acme {t}", emails=[{"value": f"sales@acme-{t}.test"}], roles=["prospect"],
               tax_id=None)
    b = create(manager, legal_name=f"ACME {t} GmbH", emails=[{"value": f"SALES@acme-{t}.test", "label": "x"},
                                                             {"value": f"ap@acme-{t}.test"}],
               phones=[{"value": "+49 30 1234567"}], roles=["customer"], tax_id="DE999",
               billing_address={"city": "Berlin", "country": "DE"}, website="https://acme.test")
    c = create(manager, legal_name=f"Acme {t} AG", roles=["supplier"], billing_address={"city": "Bonn"})
    person = create(manager, kind="person", first_name="Ada", last_name=f"Doe {t}", company_id=b["id"])
    deal = manager.post("/api/v1/deals", json={"name": f"Deal {t}", "party_id": b["id"],
                                               "contact_person_id": person["id"]}).json
    activity = manager.post("/api/v1/activities", json={"type": "note", "subject": f"Met {t}",
                                                        "party_id": c["id"]}).json
    task = manager.post("/api/v1/tasks", json={"title": f"Call {t}", "record_type": "party", "record_id": b["id"]}).json
    assert manager.post(f"/api/v1/parties/{b['id']}/shares",
                        json={"user_id": colleague.user["id"], "access": "read"}).status_code == 201

    r = merge(manager, a, b, c, field_choices={"billing_address": c["id"]})
    survivor = r.json
    assert r.headers["ETag"] == f'"{survivor["version"]}"' and survivor["version"] == 2
    assert survivor["display_name"] == f"Acme {t}" and survivor["tax_id"] == "DE999"
    assert survivor["roles"] == ["customer", "prospect", "supplier"]
    assert [e["value"] for e in survivor["emails"]] == [f"sales@acme-{t}.test", f"ap@acme-{t}.test"]
    assert [e["primary"] for e in survivor["emails"]] == [True, False]
    assert survivor["phones"][0]["value"] == "+49 30 1234567" and survivor["website"] == "https://acme.test"
    assert survivor["billing_address"] == {"city": "Bonn"}  # chosen, although b had one too

    assert manager.get(f"/api/v1/deals/{deal['id']}").json["party_id"] == a["id"]
    assert manager.get(f"/api/v1/activities/{activity['id']}").json["party_id"] == a["id"]
    assert manager.get(f"/api/v1/tasks/{task['id']}").json["record_id"] == a["id"]
    moved_person = manager.get(f"/api/v1/parties/{person['id']}").json
    assert moved_person["company_id"] == a["id"] and moved_person["version"] == 2
    timeline = manager.get(f"/api/v1/parties/{a['id']}/timeline", query_string={"page_size": 100}).json["items"]
    kinds = [e["kind"] for e in timeline]
    assert "party_merged" in kinds and "activity" in kinds and "deal_created" in kinds
    assert colleague.get(f"/api/v1/parties/{a['id']}").status_code == 200  # b's share now grants the survivor

    for absorbed in (b, c):
        got = manager.get(f"/api/v1/parties/{absorbed['id']}")
        assert got.status_code == 200
        assert got.json["status"] == "merged" and got.json["merged_into_id"] == a["id"]
        events = outbox_events(absorbed["id"])
        assert events[-1][0] == "crm.party.merged"
        data = events[-1][1]["data"]
        contracts.validate("crm.party.merged", data)
        assert data["merged_into_id"] == a["id"] and data["status"] == "merged"
        assert events[-1][1]["attributes"]["sequence"] == str(got.json["version"])
    types = [t_ for t_, _ in outbox_events(a["id"])]
    assert types == ["crm.party.created", "crm.party.updated"]
    contracts.validate("crm.party.updated", outbox_events(a["id"])[-1][1]["data"])
    assert [t_ for t_, _ in outbox_events(person["id"])] == ["crm.party.created", "crm.party.updated"]

    listed = manager.get("/api/v1/parties", query_string={"q": t, "kind": "company"}).json
    assert [p["id"] for p in listed["items"]] == [a["id"]]
    merged = manager.get("/api/v1/parties", query_string={"q": t, "status": "merged"}).json
    assert {p["id"] for p in merged["items"]} == {b["id"], c["id"]}
    audit = manager.get("/api/v1/audit", query_string={"entity_type": "party", "entity_id": a["id"], "action": "merge"})
    (entry,) = audit.json["items"]
    assert entry["changes"]["merged_party_ids"]["after"] == [b["id"], c["id"]]
    assert entry["changes"]["relinked"]["after"]["deals.party_id"] == [deal["id"]]


def test_a_merged_party_cannot_be_changed_or_merged_again(as_user):
    manager = as_user("sales_manager")
    a, b, c = (create(manager, legal_name=f"Dup {tag()}") for _ in range(3))
    merge(manager, a, b)
    again = merge(manager, c, b, status=409).json
    assert again["merged_into_id"] == a["id"]
    assert manager.patch(f"/api/v1/parties/{b['id']}", json={"tax_id": "X"},
                         headers={"If-Match": '"2"'}).status_code == 409
    assert manager.post(f"/api/v1/parties/{b['id']}/restore", headers={"If-Match": '"2"'}).status_code == 409
    into_merged = merge(manager, {"id": b["id"], "version": 2}, c, status=409).json
    assert into_merged["merged_into_id"] == a["id"]


def test_an_earlier_merge_follows_the_new_survivor(as_user, outbox_events):
    manager = as_user("sales_manager")
    a, b, c = (create(manager, legal_name=f"Chain {tag()}") for _ in range(3))
    merge(manager, b, c)
    merge(manager, a, {"id": b["id"], "version": 2})
    assert manager.get(f"/api/v1/parties/{c['id']}").json["merged_into_id"] == a["id"]
    assert outbox_events(c["id"])[-1][1]["data"]["merged_into_id"] == a["id"]


def test_a_merge_that_fails_half_way_changes_nothing(as_user, db, outbox_events):
    manager, other = as_user("sales_manager"), as_user("sales_rep")
    a = create(manager, legal_name=f"Keep {tag()}")
    c = create(manager, legal_name=f"Mine {tag()}", tax_id="IT123")
    deal = manager.post("/api/v1/deals", json={"name": "On C", "party_id": c["id"]}).json
    theirs = create(other, legal_name=f"Theirs {tag()}")
    other.post(f"/api/v1/parties/{theirs['id']}/shares", json={"user_id": manager.user["id"], "access": "read"})
    events_before = outbox_count(db)

    refused = merge(manager, a, c, theirs, status=403).json
    assert refused["party_id"] == theirs["id"]
    assert outbox_count(db) == events_before
    assert manager.get(f"/api/v1/parties/{c['id']}").json["status"] == "active"
    assert manager.get(f"/api/v1/parties/{a['id']}").json["version"] == 1
    assert manager.get(f"/api/v1/deals/{deal['id']}").json["party_id"] == c["id"]
    assert [t for t, _ in outbox_events(c["id"])] == ["crm.party.created"]


@pytest.mark.parametrize("case", ["stale", "no_if_match", "self", "kind", "unknown", "bad_choice", "no_permission"])
def test_merge_refusals(as_user, case):
    manager = as_user("sales_manager")
    a = create(manager, legal_name=f"A {tag()}")
    b = create(manager, legal_name=f"B {tag()}")
    url = f"/api/v1/parties/{a['id']}/merge"
    if case == "stale":
        assert merge(manager, a, b, version=7, status=412)
    elif case == "no_if_match":
        assert manager.post(url, json={"party_ids": [b["id"]]}).status_code == 428
    elif case == "self":
        assert merge(manager, a, a, status=422).json["errors"][0]["field"] == "party_ids"
    elif case == "kind":
        person = create(manager, kind="person", last_name="Solo")
        assert merge(manager, a, person, status=422).json["errors"][0]["field"] == "party_ids"
    elif case == "unknown":
        assert merge(manager, a, {"id": str(uuid.uuid4())}, status=404)
    elif case == "bad_choice":
        r = merge(manager, a, b, field_choices={"tax_id": str(uuid.uuid4())}, status=422)
        assert r.json["errors"][0]["field"] == "field_choices.tax_id"
    else:
        rep = as_user("sales_rep")
        mine, dup = create(rep, legal_name="R1"), create(rep, legal_name="R2")
        assert merge(rep, mine, dup, status=403).json["missing_permission"] == "parties:merge"
