"""From won deal to finished product in the ERP: a product made to order gets a work order when an order from a deal
is accepted; a material short of stock becomes a purchase need on a draft purchase order to its preferred supplier;
the purchaser sends it, the clerk receives it; the workshop completes the work order, which consumes the materials
and puts the finished product in stock at their cost, with the books balanced. Through the consumer and the API."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from erp.ledger.models import JournalEntry, JournalLine
from erp.stock.models import StockMove
from erp.worker import installation_consumer
from shared_events import contracts, envelope
from shared_events.testing import Record, RecordingProducer
from sqlalchemy import func, select

from tests.support import erp_sales as t

pytestmark = pytest.mark.db


def today():
    return datetime.now(UTC).date()


@pytest.fixture
def inbox(sessions, app, world):
    return t.OrderInbox(sessions, app)


@pytest.fixture
def world(sessions, deliver, monkeypatch, app, client):
    """A workshop making ovens to order from 2 frames (2 in stock, 4.00 each) and 3 steel sheets (none in stock,
    bought from a supplier at 7.50 within 5 days); an oven takes 2 days once its materials are there."""
    wh = t.warehouse(sessions)
    t.ship_from(app, monkeypatch, wh["code"])
    supplier = t.customer(deliver, roles=("supplier",))["id"]
    frame, sheet = t.product(sessions, cost="4.00"), t.product(sessions, cost="6.00")
    oven = t.product(sessions, price="900", allow_backorder=True)
    t.stock_up(sessions, frame, wh["id"], 2, unit_cost="4.00")
    r = client.put(f"/api/v1/products/{sheet}/supply", json={
        "procurement": "buy", "preferred_supplier_id": supplier, "supplier_price": "7.50", "lead_time_days": 5})
    assert r.status_code == 200, r.json
    r = client.put(f"/api/v1/products/{oven}/supply", json={
        "procurement": "make_to_order", "lead_time_days": 2,
        "components": [{"component_id": frame, "quantity": "2"}, {"component_id": sheet, "quantity": "3"}],
        "operations": [{"name": "Cut", "planned_hours": "2"}, {"name": "Weld", "planned_hours": "3.5"}]})
    assert r.status_code == 200, r.json
    return {"customer": t.customer(deliver)["id"], "warehouse": wh, "supplier": supplier, "frame": frame,
            "sheet": sheet, "oven": oven}


@pytest.fixture
def workshop(as_user):
    return as_user("production")


def level(reader, product_id, warehouse_id) -> dict:
    r = reader.get("/api/v1/stock/levels", query_string={"product_id": product_id, "warehouse_id": warehouse_id,
                                                         "include_zero": True})
    assert r.status_code == 200, r.json
    (row,) = r.json["items"]
    return {k: D(row[k]) for k in ("on_hand", "reserved")}


def won_deal_order(inbox, world) -> dict:
    data = t.order_placed(world["customer"], [{"product_id": world["oven"], "quantity": "1", "unit_price": "900"}])
    assert inbox.place(data)[0] == "applied"
    return data


def work_orders_of(reader, deal_id) -> list[dict]:
    r = reader.get("/api/v1/work-orders", query_string={"deal_id": deal_id})
    assert r.status_code == 200, r.json
    return r.json["items"]


def needs_of(reader, deal_id) -> list[dict]:
    r = reader.get("/api/v1/purchase-needs", query_string={"deal_id": deal_id})
    assert r.status_code == 200, r.json
    return r.json["items"]


def test_a_won_deal_becomes_a_work_order_and_a_draft_purchase_order_then_a_finished_oven_at_cost(
        inbox, world, client, workshop, sessions, as_user):
    data = won_deal_order(inbox, world)
    (wo,) = work_orders_of(workshop, data["deal_id"])
    assert (wo["status"], wo["sku"], wo["quantity"], wo["late"]) == ("planned", wo["sku"], "1", False)
    assert [(o["name"], o["planned_hours"], o["status"]) for o in wo["operations"]] == [
        ("Cut", "2", "planned"), ("Weld", "3.5", "planned")]
    # the frames in stock are held for the work order; the sheets are short and drafted on a purchase order
    assert level(client, world["frame"], world["warehouse"]["id"]) == {"on_hand": 2, "reserved": 2}
    (need,) = needs_of(client, data["deal_id"])
    assert (need["product_id"], need["quantity"], need["status"], need["supplier_id"]) == (
        world["sheet"], "3", "draft", world["supplier"])
    assert need["expected_date"] == (today() + timedelta(days=5)).isoformat()
    assert wo["expected_date"] == (today() + timedelta(days=7)).isoformat()  # sheets in 5 days, then 2 to make
    po = client.get(f"/api/v1/purchase-orders/{need['purchase_order_id']}").json
    assert (po["state"], po["supplier"]["id"], [(x["product_id"], x["quantity"], x["unit_price"])
                                                for x in po["lines"]]) == (
        "draft", world["supplier"], [(world["sheet"], "3.0000", "7.5000")])

    # the same order delivered again plans nothing more
    inbox.place(data)
    assert len(work_orders_of(workshop, data["deal_id"])) == 1 and len(needs_of(client, data["deal_id"])) == 1

    # the workshop starts; completing before the sheets arrive is refused and changes nothing
    r = workshop.post(f"/api/v1/work-orders/{wo['id']}/start", headers={"If-Match": f'"{wo["version"]}"'})
    assert r.status_code == 200 and r.json["status"] == "in_progress", r.json
    etag = r.headers["ETag"]
    r = workshop.post(f"/api/v1/work-orders/{wo['id']}/complete", headers={"If-Match": etag})
    assert r.status_code == 409 and r.json["type"].endswith("insufficient-stock"), r.json
    assert workshop.get(f"/api/v1/work-orders/{wo['id']}").json["status"] == "in_progress"
    assert level(client, world["frame"], world["warehouse"]["id"]) == {"on_hand": 2, "reserved": 2}

    # the purchaser confirms the draft, the clerk receives it: the need follows
    purchaser, clerk = as_user("purchaser"), as_user("warehouse_clerk")
    assert purchaser.post(f"/api/v1/purchase-orders/{po['id']}/send").status_code == 200
    assert needs_of(client, data["deal_id"])[0]["status"] == "ordered"
    r = clerk.post(f"/api/v1/purchase-orders/{po['id']}/receipts",
                   json={"lines": [{"po_line_id": po["lines"][0]["id"], "quantity": "3"}]})
    assert r.status_code == 201, r.json
    assert needs_of(client, data["deal_id"])[0]["status"] == "received"

    r = workshop.patch(f"/api/v1/work-orders/{wo['id']}/operations/1", json={"assignee": "Sam", "status": "done"},
                       headers={"If-Match": etag})
    assert r.status_code == 200 and r.json["operations"][0]["assignee"] == "Sam", r.json
    r = workshop.post(f"/api/v1/work-orders/{wo['id']}/complete", headers={"If-Match": r.headers["ETag"]})
    assert r.status_code == 200, r.json
    done = r.json
    # 2 frames x 4.00 + 3 sheets x 7.50 = 30.50 for the oven
    assert (done["status"], done["unit_cost"], {o["status"] for o in done["operations"]}) == ("done", "30.5",
                                                                                              {"done"})
    assert level(client, world["frame"], world["warehouse"]["id"]) == {"on_hand": 0, "reserved": 0}
    assert level(client, world["sheet"], world["warehouse"]["id"]) == {"on_hand": 0, "reserved": 0}
    assert level(client, world["oven"], world["warehouse"]["id"]) == {"on_hand": 1, "reserved": 1}  # for the order
    valuation = client.get("/api/v1/stock/valuation", query_string={"product_id": world["oven"]})
    assert valuation.status_code == 200, valuation.json
    with sessions.begin() as s:
        moves = s.execute(select(StockMove).where(StockMove.source_id == wo["id"])).scalars().all()
        assert sorted((m.product_id, m.quantity, abs(m.value)) for m in moves) == sorted([
            (world["frame"], D("2"), D("8.0000")), (world["sheet"], D("3"), D("22.5000")),
            (world["oven"], D("1"), D("30.5000"))])
        lines = s.execute(select(func.sum(JournalLine.debit), func.sum(JournalLine.credit)).join(
            JournalEntry, JournalEntry.id == JournalLine.entry_id).where(
            JournalEntry.source_type == "stock_move", JournalEntry.source_id.in_([m.id for m in moves]))).one()
        assert lines == (D("61.00"), D("61.00"))  # 30.50 out of stock, 30.50 back in: balanced
    # every change went out as the work order's and the need's whole state, in version order
    wo_events = t.outbox_events(sessions, wo["id"])
    assert [e["status"] for _, e in wo_events] == ["planned", "in_progress", "in_progress", "done"]
    assert [e["version"] for _, e in wo_events] == [1, 2, 3, 4]
    assert {e["deal_id"] for _, e in wo_events} == {data["deal_id"]}
    assert [e["status"] for _, e in t.outbox_events(sessions, need["id"])] == ["draft", "ordered", "received"]
    # done is final
    r = workshop.post(f"/api/v1/work-orders/{wo['id']}/start", headers={"If-Match": f'"{done["version"]}"'})
    assert r.status_code == 409


def test_a_stale_etag_or_none_changes_nothing(inbox, world, workshop):
    data = won_deal_order(inbox, world)
    (wo,) = work_orders_of(workshop, data["deal_id"])
    assert workshop.post(f"/api/v1/work-orders/{wo['id']}/start").status_code == 428
    assert workshop.post(f"/api/v1/work-orders/{wo['id']}/start", headers={"If-Match": '"99"'}).status_code == 412
    assert workshop.get(f"/api/v1/work-orders/{wo['id']}").json["status"] == "planned"


def test_a_bill_of_materials_with_a_cycle_or_a_bad_quantity_is_refused_and_nothing_changes(world, client, sessions):
    # a cabinet holds a drawer, a drawer holds a handle: a handle holding a cabinet would hold itself
    cabinet, drawer, handle = (t.product(sessions, allow_backorder=True) for _ in range(3))
    for product, component in ((cabinet, drawer), (drawer, handle)):
        r = client.put(f"/api/v1/products/{product}/supply", json={
            "procurement": "make_to_order", "components": [{"component_id": component, "quantity": "1"}]})
        assert r.status_code == 200, r.json
    before = client.get(f"/api/v1/products/{handle}/supply").json
    r = client.put(f"/api/v1/products/{handle}/supply", json={
        "procurement": "make_to_order", "components": [{"component_id": world["frame"], "quantity": "1"},
                                                       {"component_id": cabinet, "quantity": "1"}]})
    assert r.status_code == 422, r.json
    assert r.headers["Content-Type"].startswith("application/problem+json")
    assert r.json["errors"][0]["field"] == "components" and "cycle" in r.json["errors"][0]["message"]
    assert client.get(f"/api/v1/products/{handle}/supply").json == before
    for bad in ("-1", "0"):
        r = client.put(f"/api/v1/products/{world['oven']}/supply", json={
            "procurement": "make_to_order", "components": [{"component_id": world["frame"], "quantity": bad}]})
        assert r.status_code == 422, r.json
        assert "components" in str(r.json)
    r = client.put(f"/api/v1/products/{world['oven']}/supply", json={
        "procurement": "make_to_order", "components": [{"component_id": world["oven"], "quantity": "1"}]})
    assert r.status_code == 422 and "itself" in str(r.json)
    oven = client.get(f"/api/v1/products/{world['oven']}/supply").json
    assert [(c["component_id"], c["quantity"]) for c in oven["components"]] == [
        (world["frame"], "2.0000"), (world["sheet"], "3.0000")]


def test_a_product_without_a_usable_supplier_is_a_need_nobody_has_ordered(inbox, world, client, sessions):
    lamp = t.product(sessions, cost="1.00")
    desk = t.product(sessions, price="300", allow_backorder=True)
    assert client.put(f"/api/v1/products/{lamp}/supply", json={"procurement": "buy"}).status_code == 200
    assert client.put(f"/api/v1/products/{desk}/supply", json={
        "procurement": "make_to_order", "components": [{"component_id": lamp, "quantity": "2"}]}).status_code == 200
    data = t.order_placed(world["customer"], [{"product_id": desk, "quantity": "2", "unit_price": "300"}])
    assert inbox.place(data)[0] == "applied"
    (need,) = needs_of(client, data["deal_id"])
    assert (need["status"], need["quantity"], need["purchase_order_id"]) == ("no_supplier", "4", None)


def test_the_serials_an_installer_reports_in_the_crm_are_recorded_once_for_the_order(
        inbox, world, app, client, sessions):
    data = won_deal_order(inbox, world)
    (wo,) = work_orders_of(client, data["deal_id"])
    consumer = installation_consumer(t.web_settings(app), sessions, producer_factory=RecordingProducer)
    report = {"id": str(uuid.uuid4()), "deal_id": data["deal_id"], "party_id": world["customer"],
              "sales_order_id": wo["sales_order_id"], "sales_order_number": wo["sales_order_number"],
              "result": "done", "serials": [f"OV-{t.tag()}", f"OV-{t.tag()}"], "signed_by": "Jane Baker",
              "notes": None, "photos": 1, "completed_at": datetime.now(UTC).isoformat(), "version": 2}
    contracts.validate("crm.installation.completed", report)
    event = envelope.new_event("crm.installation.completed", report["id"], report, 2)
    _, key, value, headers = envelope.to_kafka(event)
    assert consumer.handle_message(Record("crm.installation.v1", 0, 1, key, value, headers)) == "applied"
    assert consumer.handle_message(Record("crm.installation.v1", 0, 2, key, value, headers)) == "duplicate"
    r = client.get("/api/v1/installation-records", query_string={"serial": report["serials"][1]})
    assert r.status_code == 200, r.json
    (record,) = r.json["items"]
    assert (record["sales_order_id"], record["serials"], record["signed_by"]) == (
        wo["sales_order_id"], report["serials"], "Jane Baker")
