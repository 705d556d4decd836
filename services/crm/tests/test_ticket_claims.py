"""A support agent resolves a ticket under warranty with what the repair took: the claim (parts, labour hours x
rate, serials) is recorded on the ticket and announced to the ERP on crm.ticket.v1, a correction is a new revision,
a claim on someone else's or an expired warranty is refused, and the ERP's answer shows on the ticket."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from crm.catalog.handlers import CONSUMER as CATALOG_CONSUMER
from crm.catalog.handlers import HANDLERS as CATALOG_HANDLERS
from crm.catalog.handlers import TOPICS as CATALOG_TOPICS
from crm.db import outbox, processed_events
from crm.warranty.handlers import CONSUMER, HANDLERS, TOPICS
from shared_events import contracts, envelope
from shared_events.inbox import InboxConsumer
from shared_events.testing import Record, RecordingProducer
from sqlalchemy import select

pytestmark = pytest.mark.db


def inbox(db, consumer, topics, handlers):
    box = InboxConsumer(consumer, "unused:1", topics, handlers, db.sessions, processed_events,
                        producer_factory=RecordingProducer)
    offsets = iter(range(10**6))

    def deliver(type_, key, state, sequence):
        topic, k, value, headers = envelope.to_kafka(envelope.new_event(type_, key, state, sequence))
        deliver.last = Record(topic, 0, next(offsets), k, value, headers)
        return box.handle_message(deliver.last)

    deliver.again = lambda record: box.handle_message(record)
    return deliver


@pytest.fixture
def erp(db):
    return inbox(db, CONSUMER, TOPICS, HANDLERS)


@pytest.fixture
def product(db):
    catalog = inbox(db, CATALOG_CONSUMER, CATALOG_TOPICS, CATALOG_HANDLERS)

    def new(name="Coffee machine") -> str:
        state = {"id": str(uuid.uuid4()), "sku": f"SKU-{uuid.uuid4().hex[:8]}", "name": name, "description": None,
                 "category_id": None, "category_path": None, "uom": "unit", "kind": "stockable", "currency": "EUR",
                 "sale_price": "300", "tax_rate": "0.2", "warranty_months": 24, "allow_backorder": False,
                 "active": True, "version": 1, "updated_at": datetime.now(UTC).isoformat()}
        assert catalog("erp.product.created", state["id"], state, 1) == "applied"
        return state["id"]
    return new


def customer(client) -> str:
    r = client.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Acme {uuid.uuid4().hex[:6]}"})
    assert r.status_code == 201, r.json
    return r.json["id"]


def entitled(erp, party_id, product_id, start: date, days: int, serial=None, **over) -> dict:
    state = {"id": str(uuid.uuid4()), "party_id": party_id, "product_id": product_id,
             "invoice_id": str(uuid.uuid4()), "invoice_number": f"INV-2026-{uuid.uuid4().int % 99999:05d}",
             "invoice_line_id": str(uuid.uuid4()), "quantity": "1", "serial_number": serial,
             "start_date": start.isoformat(), "end_date": (start + timedelta(days=days)).isoformat(),
             "covers_parts": True, "covers_labour": False, "supplier_party_id": None, "supplier_end_date": None,
             "status": "active", "version": 1, "updated_at": datetime.now(UTC).isoformat(), **over}
    assert erp("erp.warranty.created", state["id"], state, state["version"]) == "applied"
    return state


@pytest.fixture
def case(client, erp, product):
    """A customer's coffee machine SN-1 under warranty, a ticket about it, and a spare part in the catalog."""
    party_id, machine = customer(client), product()
    serial = f"SN-{uuid.uuid4().hex[:6]}"
    e = entitled(erp, party_id, machine, date.today() - timedelta(days=60), 700, serial=serial)
    r = client.post("/api/v1/tickets", json={"subject": "Leaks water", "party_id": party_id, "product_id": machine,
                                             "serial_number": serial})
    assert r.status_code == 201, r.json
    return {"party": party_id, "machine": machine, "serial": serial, "entitlement": e, "ticket": r.json,
            "pump": product("Pump")}


def claim(client, ticket_id, body, status=200):
    etag = client.get(f"/api/v1/tickets/{ticket_id}").headers["ETag"]
    r = client.post(f"/api/v1/tickets/{ticket_id}/warranty-claim", json=body, headers={"If-Match": etag})
    assert r.status_code == status, r.json
    return r.json


def claimed_events(db, claim_id) -> list[dict]:
    with db.sessions.begin() as s:
        rows = s.execute(select(outbox.c.type, outbox.c.payload).where(outbox.c.aggregateid == claim_id)
                         .order_by(outbox.c.id)).all()
    for type_, payload in rows:
        assert type_ == "crm.ticket.warranty_claimed"
        contracts.validate(type_, payload["data"])
    return [payload["data"] for _, payload in rows]


def test_resolving_under_warranty_records_the_claim_and_announces_it(client, db, case):
    t = case["ticket"]
    body = {"entitlement_id": case["entitlement"]["id"], "parts": [{"product_id": case["pump"], "quantity": "1"}],
            "labour_hours": "2", "labour_rate": "45.50", "resolution": "pump replaced"}
    c = claim(client, t["id"], body)
    assert (c["revision"], c["status"], c["labour_cost"], c["faulty_serial"]) == (1, "submitted", "91.00",
                                                                                case["serial"])
    assert c["parts"][0]["name"] == "Pump" and c["parts"][0]["quantity"] == "1"
    ticket = client.get(f"/api/v1/tickets/{t['id']}").json
    assert ticket["status"] == "resolved"
    assert ticket["warranty_claim"]["status"] == "submitted" and ticket["warranty_claim"]["labour_cost"] == "91.00"
    (event,) = claimed_events(db, c["id"])
    assert (event["revision"], event["labour_cost"], event["ticket_number"]) == (1, "91.00", t["number"])
    assert event["parts"] == [{"product_id": case["pump"], "sku": c["parts"][0]["sku"], "quantity": "1"}]
    history = [f["kind"] for f in client.get(f"/api/v1/tickets/{t['id']}/history").json]
    assert "warranty_claim" in history

    fixed = claim(client, t["id"], {**body, "labour_hours": "3"})  # the agent corrects the hours
    assert (fixed["id"], fixed["revision"], fixed["labour_cost"]) == (c["id"], 2, "136.50")
    assert [e["revision"] for e in claimed_events(db, c["id"])] == [1, 2]


def test_a_claim_on_a_foreign_or_expired_entitlement_is_refused_and_nothing_changes(client, db, erp, case,
                                                                                  product):
    t = case["ticket"]
    stranger = entitled(erp, customer(client), case["machine"], date.today() - timedelta(days=10), 700)
    other_product = entitled(erp, case["party"], product(), date.today() - timedelta(days=10), 700)
    old = entitled(erp, case["party"], case["machine"], date(2020, 1, 1), 365, serial=case["serial"])
    cases = [(stranger["id"], "another customer"), (other_product["id"], "another product"),
             (old["id"], "expired on 2020-12-31"), (str(uuid.uuid4()), "no such")]
    for entitlement_id, why in cases:
        r = claim(client, t["id"], {"entitlement_id": entitlement_id, "labour_hours": "1", "labour_rate": "10"}, 422)
        assert r["errors"][0]["field"] == "entitlement_id" and why in r["errors"][0]["message"], r
    r = claim(client, t["id"], {"entitlement_id": case["entitlement"]["id"],
                                "parts": [{"product_id": str(uuid.uuid4()), "quantity": "1"}]}, 422)
    assert r["errors"][0]["field"] == "parts.0.product_id"
    r = claim(client, t["id"], {"entitlement_id": case["entitlement"]["id"], "faulty_serial": "SN-OTHER",
                                "labour_hours": "1"}, 422)
    assert r["errors"][0]["field"] == "faulty_serial"
    ticket = client.get(f"/api/v1/tickets/{t['id']}").json
    assert ticket["status"] == t["status"] and ticket["warranty_claim"] is None
    assert client.get(f"/api/v1/tickets/{t['id']}/warranty-claim").status_code == 404
    no_etag = client.post(f"/api/v1/tickets/{t['id']}/warranty-claim",
                          json={"entitlement_id": case["entitlement"]["id"], "labour_hours": "1"})
    assert no_etag.status_code == 428


def test_the_erps_answer_shows_on_the_ticket_once_and_in_order(client, db, erp, case):
    t = case["ticket"]
    c = claim(client, t["id"], {"entitlement_id": case["entitlement"]["id"], "labour_hours": "2",
                                "labour_rate": "40", "parts": [{"product_id": case["pump"], "quantity": "1"}]})

    def answer(status, version, revision=1, reason=None):
        data = {"claim_id": c["id"], "revision": revision, "ticket_id": t["id"], "number": "WC-2026-00001",
                "entitlement_id": case["entitlement"]["id"], "status": status, "reason": reason,
                "parts_cost": "25.00", "labour_cost": "80.00", "total_cost": "105.00",
                "supplier_receivable": "0.00", "supplier_party_id": None, "currency": "EUR", "version": version,
                "updated_at": datetime.now(UTC).isoformat()}
        return erp(f"erp.warranty.claim_{status}", c["id"], data, version)

    assert answer("rejected", 1, reason="no stock of the part") == "applied"
    rejected = erp.last
    seen = client.get(f"/api/v1/tickets/{t['id']}").json["warranty_claim"]
    assert (seen["status"], seen["status_reason"]) == ("rejected", "no stock of the part")
    assert answer("accepted", 2) == "applied"
    assert erp.again(rejected) == "duplicate"
    assert answer("rejected", 1, reason="no stock of the part") == "applied"  # an older answer, re-sent: ignored
    got = client.get(f"/api/v1/tickets/{t['id']}/warranty-claim").json
    assert (got["status"], got["erp_number"], got["erp_total_cost"]) == ("accepted", "WC-2026-00001", "105.00")
    kinds = [f["kind"] for f in client.get(f"/api/v1/tickets/{t['id']}/history").json]
    assert kinds.count("warranty_claim_rejected") == 1 and kinds.count("warranty_claim_accepted") == 1
    timeline = client.get(f"/api/v1/parties/{case['party']}/timeline").json
    titles = [e["title"] for e in timeline["items"]]
    assert any("accepted by finance" in x for x in titles), titles
