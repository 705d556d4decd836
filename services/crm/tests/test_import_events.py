"""The events and audit rows an import builds in SQL are the ones the API writes for the same party: every one
valid against the event's contract, with the data, attributes and audit changes a POST /parties of the same person
produces (ids and times apart), and published by the relay as any other event."""

import csv
import io
import uuid

import pytest
from crm.db import audit_log, outbox
from crm.parties.models import Party
from servicekit import audit
from shared_events import contracts, envelope
from sqlalchemy import String, func, select

pytestmark = pytest.mark.db

VARIABLE = ("id", "company_id", "created_at", "updated_at")  # differ between any two creates


def _csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


def _import(client, content: bytes) -> dict:
    r = client.post("/api/v1/imports", data={"file": (io.BytesIO(content), "people.csv"), "target": "parties"},
                    content_type="multipart/form-data")
    assert r.status_code == 201, r.json
    return r.json


def _stored(db, batch_id: str):
    """(events by party id, audit changes by party id) of the parties an import created."""
    with db.sessions() as s:
        ids = select(func.cast(Party.id, String)).where(Party.import_batch_id == batch_id).scalar_subquery()
        events = s.execute(select(outbox.c.aggregateid, outbox.c.type, outbox.c.topic, outbox.c.event_id,
                                  outbox.c.payload).where(outbox.c.aggregateid.in_(ids))).all()
        audited = s.execute(select(audit_log.c.entity_id, audit_log.c.changes, audit_log.c.actor,
                                   audit_log.c.actor_id).where(audit_log.c.entity_id.in_(ids),
                                                                audit_log.c.action == "import")).all()
    return events, audited


def test_imported_parties_events_match_the_contract_and_what_post_parties_publishes(as_user, db, outbox_events):
    manager = as_user("sales_manager")
    t = uuid.uuid4().hex[:8]
    rows = [["first_name", "last_name", "email", "phone", "company_name", "job_title", "roles", "billing_city",
             "billing_country", "website", "tax_id"]]
    rows += [[f"Ann{i}", f"Sql{t}", f"ann{i}.{t}@sql.test", f"+33 1 {i:04d} 0000", f"Sql {t} Co {i % 3}",
              "Buyer\tin chief" if i == 0 else "", "customer; prospect" if i % 2 else "", "Lyon", "fr",
              "https://sql.test" if i == 1 else "", f"FR{t}{i}" if i == 2 else ""] for i in range(40)]
    report = _import(manager, _csv(rows))
    assert report["to_create"] == 43 and report["error_rows"] == 0  # 40 people and their 3 new companies

    events, audited = _stored(db, report["id"])
    assert len(events) == 43 and len(audited) == 43
    for subject, etype, topic, event_id, payload in events:
        assert (etype, topic) == ("crm.party.created", "crm.party.v1")
        contracts.validate(etype, payload["data"])
        attributes = payload["attributes"]
        assert attributes["id"] == event_id and attributes["subject"] == subject == payload["data"]["id"]
        assert attributes["sequence"] == "1" and attributes["actor"] == manager.user["id"]
        # the relay's encoding works on it as on any outbox row: binary-mode headers, key = the party
        out_topic, key, value, headers = envelope.record_to_kafka(payload)
        assert (out_topic, key) == ("crm.party.v1", subject.encode())
        parsed = envelope.from_kafka(key, value, headers)
        assert parsed.get_data() == payload["data"] and envelope.sequence_of(parsed) == 1
    assert len({e[3] for e in events}) == 43  # one event id each

    # the same person created through the API: the same event, ids and times apart
    imported = next(p for s, *_, p in events if p["data"].get("first_name") == "Ann1")
    company_id = imported["data"]["company_id"]
    r = manager.post("/api/v1/parties", json={
        "kind": "person", "first_name": "Ann1", "last_name": f"Sql{t}", "company_id": company_id,
        "emails": [{"value": f"ann1.{t}@sql.test"}], "phones": [{"value": "+33 1 0001 0000"}],
        "roles": ["customer", "prospect"], "billing_address": {"city": "Lyon", "country": "FR"},
        "website": "https://sql.test"}, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert r.status_code == 201, r.json
    ((etype, api_event),) = outbox_events(r.json["id"])
    assert etype == "crm.party.created"
    assert {k: v for k, v in imported["data"].items() if k not in VARIABLE} == {
        k: v for k, v in api_event["data"].items() if k not in VARIABLE}
    assert imported["data"]["company_id"] == api_event["data"]["company_id"]
    assert set(imported["data"]) == set(api_event["data"])
    same_attributes = ("source", "type", "datacontenttype", "dataschema", "sequence", "actor", "actorname",
                       "specversion")
    assert {k: imported["attributes"].get(k) for k in same_attributes} == {
        k: api_event["attributes"].get(k) for k in same_attributes}
    assert set(imported["attributes"]) == set(api_event["attributes"])

    # each audit row is the diff the API would record for a new party of that state, by the importer
    by_id = {s: p["data"] for s, *_, p in events}
    for entity_id, changes, actor, actor_id in audited:
        assert changes == audit.diff(None, by_id[entity_id])
        assert actor_id == manager.user["id"] and actor.startswith(manager.user["email"])
