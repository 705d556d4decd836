"""The salesperson sees on the deal what the ERP makes and buys for it: each work order and purchase with its
status, expected date and late flag, a sentence to tell the customer, and the timeline entries."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from crm.db import processed_events
from crm.fulfilment.handlers import CONSUMER, HANDLERS
from shared_events import contracts, envelope
from shared_events.inbox import InboxConsumer
from shared_events.testing import Record, RecordingProducer

pytestmark = pytest.mark.db


@pytest.fixture
def erp(app):
    """Delivers erp.fulfilment.v1 events to the CRM's consumer the way the worker does (minus the broker)."""
    inbox = InboxConsumer(CONSUMER, "unused:1", [], HANDLERS, app.extensions["crm.db"].sessions, processed_events,
                          producer_factory=RecordingProducer)
    offsets = iter(range(10**6))

    def send(type_, data, event=None):
        contracts.validate(type_, data)
        ev = event or envelope.new_event(type_, data["id"], data, data["version"])
        topic, key, value, headers = envelope.to_kafka(ev)
        return inbox.handle_message(Record(topic, 0, next(offsets), key, value, headers)), ev
    return send


def work_order(deal_id, party_id, status, version, expected: date, **over) -> dict:
    return {"id": over.pop("id"), "number": "WO-2026-00003", "sales_order_id": over.pop("order_id"),
            "sales_order_number": "SO-2026-00011", "crm_order_id": None, "deal_id": deal_id, "party_id": party_id,
            "product_id": str(uuid.uuid4()), "sku": "OVEN", "product_name": "Baking oven", "quantity": "1",
            "status": status, "assignee": None, "expected_date": expected.isoformat(), "unit_cost": None,
            "started_at": None, "done_at": None, "operations": [
                {"position": 1, "name": "Weld", "planned_hours": "3", "assignee": "Sam", "status": status}],
            "version": version, "updated_at": datetime.now(UTC).isoformat(), **over}


def purchase(deal_id, party_id, status, version, expected: date, **over) -> dict:
    return {"id": over.pop("id"), "sales_order_id": over.pop("order_id"), "sales_order_number": "SO-2026-00011",
            "crm_order_id": None, "deal_id": deal_id, "party_id": party_id, "work_order_id": None,
            "product_id": str(uuid.uuid4()), "sku": "STEEL", "product_name": "Steel sheet", "quantity": "3",
            "status": status, "supplier_id": str(uuid.uuid4()), "purchase_order_id": str(uuid.uuid4()),
            "purchase_order_number": "PO-2026-00005", "expected_date": expected.isoformat(), "reason": None,
            "version": version, "updated_at": datetime.now(UTC).isoformat(), **over}


def test_the_deal_shows_its_work_orders_and_purchases_and_what_to_tell_the_customer(as_user, erp):
    rep = as_user("sales_rep")
    acme = rep.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Acme {uuid.uuid4().hex[:6]}"}).json
    deal = rep.post("/api/v1/deals", json={"name": "Oven", "party_id": acme["id"]}).json
    panel = rep.get(f"/api/v1/deals/{deal['id']}/fulfilment")
    assert panel.status_code == 200 and panel.json["stage"] == "not_ordered", panel.json
    today = datetime.now(UTC).date()
    order_id, wo_id, need_id = (str(uuid.uuid4()) for _ in range(3))
    ids = {"order_id": order_id}
    erp("erp.workorder.changed", work_order(deal["id"], acme["id"], "planned", 1, today + timedelta(days=7),
                                            id=wo_id, **ids))
    _, ordered = erp("erp.purchaseneed.changed", purchase(deal["id"], acme["id"], "ordered", 2,
                                                          today - timedelta(days=1), id=need_id, **ids))
    panel = rep.get(f"/api/v1/deals/{deal['id']}/fulfilment").json
    (wo,), (need,) = panel["work_orders"], panel["purchases"]
    assert (wo["number"], wo["status"], wo["expected_date"], wo["late"]) == (
        "WO-2026-00003", "planned", (today + timedelta(days=7)).isoformat(), False)
    assert (need["number"], need["status"], need["late"]) == ("PO-2026-00005", "ordered", True)
    assert panel["late"] is True and panel["stage"] == "late" and "past their expected date" in panel["summary"]

    # the sheets arrive, the oven goes into production: an older state arriving late changes nothing
    erp("erp.purchaseneed.changed", purchase(deal["id"], acme["id"], "received", 3, today, id=need_id, **ids))
    erp("erp.workorder.changed", work_order(deal["id"], acme["id"], "in_progress", 2, today + timedelta(days=7),
                                            id=wo_id, **ids))
    assert erp("erp.purchaseneed.changed", ordered.get_data(), ordered)[0] == "duplicate"
    erp("erp.purchaseneed.changed", purchase(deal["id"], acme["id"], "ordered", 2, today, id=need_id, **ids))
    panel = rep.get(f"/api/v1/deals/{deal['id']}/fulfilment").json
    assert [p["status"] for p in panel["purchases"]] == ["received"]
    assert panel["stage"] == "in_production" and panel["late"] is False
    assert panel["summary"] == f"In production. Expected ready by {(today + timedelta(days=7)).isoformat()}."
    timeline = rep.get(f"/api/v1/deals/{deal['id']}/timeline").json["items"]
    assert [e["title"] for e in timeline if e["kind"] in ("work_order", "purchase")] == [
        "Work order WO-2026-00003 (Baking oven x 1): in production",
        "Purchase of Steel sheet x 3 (PO-2026-00005): received",
        "Purchase of Steel sheet x 3 (PO-2026-00005): ordered from the supplier",
        "Work order WO-2026-00003 (Baking oven x 1): planned"]


def test_a_deal_the_user_may_not_see_has_no_panel_for_them(as_user, erp):
    owner, other = as_user("sales_rep"), as_user("sales_rep")
    acme = owner.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Acme {uuid.uuid4().hex[:6]}"}).json
    deal = owner.post("/api/v1/deals", json={"name": "Oven", "party_id": acme["id"]}).json
    assert other.get(f"/api/v1/deals/{deal['id']}/fulfilment").status_code == 404
