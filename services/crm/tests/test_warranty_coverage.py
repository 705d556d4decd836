"""A support agent sees on the ticket whether the customer's product is under warranty, from the ERP's entitlements
replicated on erp.warranty.v1: covered, expired or not found, and it follows the ERP's changes."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from crm.catalog.handlers import CONSUMER as CATALOG_CONSUMER
from crm.catalog.handlers import HANDLERS as CATALOG_HANDLERS
from crm.catalog.handlers import TOPICS as CATALOG_TOPICS
from crm.db import processed_events
from crm.warranty.handlers import CONSUMER, HANDLERS, TOPICS
from shared_events import envelope
from shared_events.inbox import InboxConsumer
from shared_events.testing import Record, RecordingProducer

pytestmark = pytest.mark.db


@pytest.fixture
def erp(db):
    """Delivers erp.warranty.v1 events to the CRM's inbox as the worker does (minus the broker)."""
    inbox = InboxConsumer(CONSUMER, "unused:1", TOPICS, HANDLERS, db.sessions, processed_events,
                          producer_factory=RecordingProducer)
    offsets = iter(range(10**6))

    def publish(verb, state):
        topic, key, value, headers = envelope.to_kafka(envelope.new_event(f"erp.warranty.{verb}", state["id"], state,
                                                                          state["version"]))
        publish.last = Record(topic, 0, next(offsets), key, value, headers)
        return inbox.handle_message(publish.last)

    publish.again = lambda record: inbox.handle_message(record)
    return publish


def entitlement(party_id, product_id, start: date, months_days: int, **over) -> dict:
    return {"id": str(uuid.uuid4()), "party_id": party_id, "product_id": product_id, "invoice_id": str(uuid.uuid4()),
            "invoice_number": f"INV-2026-{uuid.uuid4().int % 99999:05d}", "invoice_line_id": str(uuid.uuid4()),
            "quantity": "1", "serial_number": None, "start_date": start.isoformat(),
            "end_date": (start + timedelta(days=months_days)).isoformat(), "covers_parts": True,
            "covers_labour": False, "supplier_party_id": None, "supplier_end_date": None, "status": "active",
            "version": 1, "updated_at": datetime.now(UTC).isoformat(), **over}


@pytest.fixture
def catalog(db):
    """Announces a new product on erp.product.v1 to the CRM's catalog replica; returns its id."""
    inbox = InboxConsumer(CATALOG_CONSUMER, "unused:1", CATALOG_TOPICS, CATALOG_HANDLERS, db.sessions,
                          processed_events, producer_factory=RecordingProducer)

    def product() -> str:
        state = {"id": str(uuid.uuid4()), "sku": f"SKU-{uuid.uuid4().hex[:8]}", "name": "Coffee machine",
                 "description": None, "category_id": None, "category_path": None, "uom": "unit", "kind": "stockable",
                 "currency": "EUR", "sale_price": "300", "tax_rate": "0.2", "warranty_months": 24,
                 "allow_backorder": False, "active": True, "version": 1, "updated_at": datetime.now(UTC).isoformat()}
        ev = envelope.new_event("erp.product.created", state["id"], state, 1)
        topic, key, value, headers = envelope.to_kafka(ev)
        assert inbox.handle_message(Record(topic, 0, 0, key, value, headers)) == "applied"
        return state["id"]
    return product


@pytest.fixture
def sold(client, catalog):
    customer = client.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Acme {uuid.uuid4().hex[:6]}"})
    return customer.json["id"], catalog()


def ticket(client, party_id, product_id=None, serial=None) -> dict:
    body = {"subject": "It does not start", "party_id": party_id, "product_id": product_id, "serial_number": serial}
    r = client.post("/api/v1/tickets", json=body)
    assert r.status_code == 201, r.json
    return r.json


def coverage(client, t, **query) -> dict:
    r = client.get(f"/api/v1/tickets/{t['id']}/coverage", query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def test_a_ticket_shows_covered_with_the_entitlement_then_expired_when_voided(client, erp, sold):
    party_id, product_id = sold
    state = entitlement(party_id, product_id, date.today() - timedelta(days=30), 700, serial_number="SN-42")
    assert erp("created", state) == "applied"
    created = erp.last
    t = ticket(client, party_id, product_id, serial="SN-42")
    seen = coverage(client, t)
    assert seen["state"] == "covered" and seen["entitlement"]["entitlement_id"] == state["id"]
    assert seen["entitlement"]["end_date"] == state["end_date"] and seen["entitlement"]["covers_parts"] is True
    assert seen["entitlement"]["covers_labour"] is False
    assert erp("voided", {**state, "status": "void", "version": 2}) == "applied"
    assert erp.again(created) == "duplicate"  # Kafka delivering the first event again changes nothing
    gone = coverage(client, t)
    assert gone["state"] == "expired" and "credit note" in gone["reason"]


def test_an_older_state_arriving_late_does_not_undo_a_newer_one(client, erp, sold):
    party_id, product_id = sold
    state = entitlement(party_id, product_id, date.today() - timedelta(days=10), 365)
    erp("voided", {**state, "status": "void", "version": 2})
    erp("created", state)
    assert coverage(client, ticket(client, party_id, product_id))["state"] == "expired"


def test_expired_and_not_found(client, erp, sold, catalog):
    party_id, product_id = sold
    erp("created", entitlement(party_id, product_id, date(2020, 1, 1), 365))
    t = ticket(client, party_id, product_id)
    old = coverage(client, t)
    assert old["state"] == "expired" and old["entitlement"]["end_date"] == "2020-12-31"
    assert coverage(client, t, on="2020-06-01")["state"] == "covered"
    assert coverage(client, ticket(client, party_id, catalog()))["state"] == "not_found"
    assert coverage(client, ticket(client, party_id))["state"] == "not_found"


def test_a_ticket_with_a_serial_sees_that_units_entitlement_and_its_replacement(client, erp, sold):
    party_id, product_id = sold
    start = date.today() - timedelta(days=30)
    mine = entitlement(party_id, product_id, start, 700, serial_number="SN-A")
    other = entitlement(party_id, product_id, start, 900, serial_number="SN-B")
    erp("created", mine)
    erp("created", other)
    seen = coverage(client, ticket(client, party_id, product_id, serial="SN-A"))
    assert seen["state"] == "covered" and seen["entitlement"]["entitlement_id"] == mine["id"]
    assert coverage(client, ticket(client, party_id, product_id, serial="SN-Z"))["state"] == "not_found"
    erp("updated", {**mine, "status": "replaced", "version": 2})
    spare = entitlement(party_id, product_id, start, 700, serial_number="SN-C", replaces_entitlement_id=mine["id"])
    erp("created", spare)
    faulty = coverage(client, ticket(client, party_id, product_id, serial="SN-A"))
    assert faulty["state"] == "expired" and "replaced" in faulty["reason"]
    assert coverage(client, ticket(client, party_id, product_id, serial="SN-C"))["state"] == "covered"
