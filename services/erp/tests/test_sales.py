"""The CRM places an order; the ERP accepts it (reserving stock) or rejects it with a reason; a warehouse clerk
delivers it in parts; an order can be cancelled, or entered at the counter. Through the consumer and the HTTP API."""

import re
import threading
import uuid
from datetime import date
from decimal import Decimal as D

import pytest
from erp.db import processed_events
from erp.sales.models import SalesOrder
from erp.worker import party_handlers
from shared_events import envelope
from shared_events.inbox import InboxConsumer
from shared_events.testing import Record, RecordingProducer, party_state
from sqlalchemy import func, select

from tests.support import erp_sales as t

pytestmark = pytest.mark.db

ORDERS = "/api/v1/sales-orders"


@pytest.fixture
def inbox(sessions, app, world):
    return t.OrderInbox(sessions, app)


@pytest.fixture
def world(sessions, deliver, monkeypatch, app):
    """A customer from the CRM, a sales warehouse holding 10 widgets, a gadget nobody stocked, a service."""
    wh = t.warehouse(sessions)
    t.ship_from(app, monkeypatch, wh["code"])
    widget = t.product(sessions, price="12.50")
    t.stock_up(sessions, widget, wh["id"], 10)
    return {"customer": t.customer(deliver)["id"], "warehouse": wh, "widget": widget,
            "gadget": t.product(sessions), "install": t.product(sessions, kind="service", price="80")}


@pytest.fixture
def clerk(as_user):
    return as_user("warehouse_clerk")


def level(reader, product_id, warehouse_id) -> dict:
    r = reader.get("/api/v1/stock/levels", query_string={"product_id": product_id, "warehouse_id": warehouse_id,
                                                         "include_zero": True})
    assert r.status_code == 200, r.json
    (row,) = r.json["items"]
    return {k: D(row[k]) for k in ("on_hand", "reserved", "available")}


def erp_order(reader, crm_order_id) -> dict:
    r = reader.get(ORDERS, query_string={"crm_order_id": crm_order_id})
    assert r.status_code == 200, r.json
    (item,) = r.json["items"]
    return reader.get(f"{ORDERS}/{item['id']}").json


def place(inbox, world, lines, **over) -> dict:
    data = t.order_placed(over.pop("party_id", world["customer"]), lines, **over)
    assert inbox.place(data)[0] == "applied"
    return data


def test_an_order_placed_in_the_crm_is_accepted_and_its_stock_reserved(inbox, world, clerk, sessions):
    data = place(inbox, world, [{"product_id": world["widget"], "quantity": "4", "unit_price": "12.50"},
                                {"product_id": world["install"], "quantity": "1", "unit_price": "80",
                                 "discount_percent": "10"}],
                 requested_date="2031-01-15", customer_reference="PO 4711", shipping_address={"city": "Lyon"})
    order = erp_order(clerk, data["order_id"])
    assert (order["requested_date"], order["customer_reference"], order["shipping_address"]) == (
        "2031-01-15", "PO 4711", {"city": "Lyon"})
    assert order["status"] == "accepted" and order["source"] == "crm" and order["reason"] is None
    assert re.fullmatch(rf"SO-{date.today().year}-\d{{5,}}", order["number"])
    assert order["deal_id"] == data["deal_id"] and order["quote_number"] == data["quote_number"]
    # 4 x 12.50 = 50.00 (+10.00 tax); 80 - 10 % = 72.00 (+14.40 tax)
    assert (order["net_total"], order["tax_total"], order["gross_total"]) == ("122.00", "24.40", "146.40")
    assert level(clerk, world["widget"], world["warehouse"]["id"]) == {"on_hand": 10, "reserved": 4, "available": 6}
    events = t.outbox_events(sessions, order["id"])
    assert [e for e, _ in events] == ["erp.order.accepted"]
    state = events[0][1]
    assert state["crm_order_id"] == data["order_id"] and state["status"] == "accepted" and state["version"] == 1
    assert {(x["product_id"], x["quantity"], x["delivered_quantity"]) for x in state["lines"]} == {
        (world["widget"], "4", "0"), (world["install"], "1", "0")}


@pytest.mark.parametrize("case", ["unknown_product", "inactive_product", "credit_limit_exceeded",
                                  "insufficient_stock", "customer_archived"])
def test_an_order_that_cannot_be_served_is_rejected_with_a_reason_and_reserves_nothing(
        case, inbox, world, clerk, sessions, deliver):
    lines = [{"product_id": world["widget"], "quantity": "2", "unit_price": "12.50"}]
    over = {}
    if case == "unknown_product":
        lines.append({"product_id": str(uuid.uuid4()), "quantity": "1", "unit_price": "1"})
    elif case == "inactive_product":
        lines.append({"product_id": t.product(sessions, active=False), "quantity": "1", "unit_price": "1"})
    elif case == "credit_limit_exceeded":
        t.set_terms(sessions, world["customer"], credit_limit=D("20.00"))  # the order is 30.00 gross
    elif case == "insufficient_stock":
        lines.append({"product_id": world["gadget"], "quantity": "1", "unit_price": "10"})  # none in stock
    else:
        over["party_id"] = t.customer(deliver, status="archived")["id"]
    data = place(inbox, world, lines, **over)
    with sessions.begin() as s:
        order = s.execute(select(SalesOrder).where(SalesOrder.crm_order_id == data["order_id"])).scalar_one()
        order_id = order.id
    order = clerk.get(f"{ORDERS}/{order_id}").json
    assert order["status"] == "rejected" and order["reason_code"] == case
    assert order["reason"].startswith(case + ": ")
    assert len(order["lines"]) == len(lines) and order["allowed_actions"] == []
    assert level(clerk, world["widget"], world["warehouse"]["id"])["reserved"] == 0
    r = clerk.get("/api/v1/stock/reservations", query_string={"source_type": "sales_order", "source_id": order_id})
    assert r.json["total"] == 0
    (event,) = t.outbox_events(sessions, order_id)
    assert event[0] == "erp.order.rejected" and event[1]["reason"] == order["reason"]


def waiting(reader, party_id=None) -> list[dict]:
    r = reader.get(f"{ORDERS}/waiting", query_string={"party_id": party_id} if party_id else {})
    assert r.status_code == 200, r.json
    return r.json["items"]


def test_an_order_that_overtakes_its_customer_waits_and_is_placed_when_the_party_arrives(
        inbox, world, clerk, sessions, deliver):
    party_id = str(uuid.uuid4())
    data = place(inbox, world, [{"product_id": world["widget"], "quantity": "3", "unit_price": "12.50"}],
                 party_id=party_id)
    # not rejected: it waits, reserves nothing, publishes nothing, and says so
    assert clerk.get(ORDERS, query_string={"crm_order_id": data["order_id"]}).json["total"] == 0
    (w,) = waiting(clerk, party_id)
    assert (w["crm_order_id"], w["quote_number"], w["gross_total"], w["lines"]) == (
        data["order_id"], data["quote_number"], "45.00", 1)
    assert level(clerk, world["widget"], world["warehouse"]["id"])["reserved"] == 0
    assert inbox.place(data)[0] == "applied"  # a second copy of the order (another event id) waits once
    assert len(waiting(clerk, party_id)) == 1

    t.customer(deliver, id=party_id)  # the party arrives: the order is accepted in the same transaction
    order = erp_order(clerk, data["order_id"])
    assert order["status"] == "accepted" and order["party_id"] == party_id and order["gross_total"] == "45.00"
    assert level(clerk, world["widget"], world["warehouse"]["id"])["reserved"] == 3
    assert waiting(clerk, party_id) == []
    assert [e for e, _ in t.outbox_events(sessions, order["id"])] == ["erp.order.accepted"]
    assert inbox.place(data)[0] == "applied"  # one more copy now finds the order: still one
    assert clerk.get(ORDERS, query_string={"crm_order_id": data["order_id"]}).json["total"] == 1


def test_an_order_waiting_for_an_archived_party_is_rejected_when_it_arrives(inbox, world, clerk, deliver):
    party_id = str(uuid.uuid4())
    data = place(inbox, world, [{"product_id": world["widget"], "quantity": "1", "unit_price": "12.50"}],
                 party_id=party_id)
    t.customer(deliver, id=party_id, status="archived")
    order = erp_order(clerk, data["order_id"])
    assert order["status"] == "rejected" and order["reason_code"] == "customer_archived"
    assert waiting(clerk, party_id) == []


def test_orders_and_their_parties_arriving_at_the_same_moment_are_all_placed(world, clerk, sessions, app):
    """The party and order consumers run side by side: whichever commits first, no order is left waiting."""
    parties = InboxConsumer("erp.parties", "unused:1", ["crm.party.v1"], party_handlers(), sessions,
                            processed_events, producer_factory=RecordingProducer)
    orders = [t.order_placed(str(uuid.uuid4()), [{"product_id": world["install"], "quantity": "1",
                                                   "unit_price": "80"}]) for _ in range(12)]
    start = threading.Barrier(2)

    def feed_orders():
        start.wait()
        order_inbox = t.OrderInbox(sessions, app)
        for data in orders:
            order_inbox.place(data)

    def feed_parties():
        start.wait()
        for i, data in enumerate(orders):
            ev = envelope.new_event("crm.party.created", data["party_id"], party_state(
                id=data["party_id"], display_name=f"Race {i}", version=1), 1)
            _, key, value, headers = envelope.to_kafka(ev)
            parties.handle_message(Record("crm.party.v1", 0, i, key, value, headers))

    threads = [threading.Thread(target=feed_orders), threading.Thread(target=feed_parties)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    statuses = [erp_order(clerk, data["order_id"])["status"] for data in orders]
    assert statuses == ["accepted"] * len(orders)
    assert not [w for w in waiting(clerk) if w["crm_order_id"] in {d["order_id"] for d in orders}]


def test_the_credit_limit_counts_what_the_customer_already_owes(inbox, world, clerk, sessions, accountant):
    t.set_terms(sessions, world["customer"], credit_limit=D("100.00"))
    r = accountant.post("/api/v1/invoices", json={"party_id": world["customer"], "issue": True, "lines": [
        {"description": "Consulting", "quantity": "1", "unit_price": "60", "tax_rate": "0.2"}]})
    assert r.status_code == 201, r.json  # owes 72.00
    ok = place(inbox, world, [{"product_id": world["widget"], "quantity": "2", "unit_price": "10"}])  # 24.00
    assert erp_order(clerk, ok["order_id"])["status"] == "accepted"
    refused = place(inbox, world, [{"product_id": world["widget"], "quantity": "3", "unit_price": "10"}])  # 36.00
    order = erp_order(clerk, refused["order_id"])
    assert order["status"] == "rejected"
    assert order["reason"] == ("credit_limit_exceeded: open balance 72.00 + this order 36.00 exceeds the credit "
                               "limit 100.00")


def test_a_product_with_backorders_is_accepted_without_stock(inbox, world, clerk, sessions):
    preorder = t.product(sessions, allow_backorder=True)
    data = place(inbox, world, [{"product_id": preorder, "quantity": "5", "unit_price": "3"}])
    assert erp_order(clerk, data["order_id"])["status"] == "accepted"
    assert level(clerk, preorder, world["warehouse"]["id"])["reserved"] == 5


def test_the_same_order_delivered_twice_or_placed_again_makes_one_order(inbox, world, clerk, sessions):
    data = t.order_placed(world["customer"], [{"product_id": world["widget"], "quantity": "3", "unit_price": "9"}])
    outcome, event = inbox.place(data)
    assert outcome == "applied"
    assert inbox.redeliver(event) == "duplicate"  # Kafka redelivered the same event
    assert inbox.place(data)[0] == "applied"  # the CRM sent it again as a new event: the order is found, not redone
    with sessions.begin() as s:
        assert s.execute(select(func.count()).select_from(SalesOrder)
                         .where(SalesOrder.crm_order_id == data["order_id"])).scalar_one() == 1
    assert level(clerk, world["widget"], world["warehouse"]["id"])["reserved"] == 3


def test_a_clerk_delivers_part_then_the_rest(inbox, world, clerk, sessions):
    data = place(inbox, world, [{"product_id": world["widget"], "quantity": "6", "unit_price": "12.50"},
                                {"product_id": world["install"], "quantity": "1", "unit_price": "80"}])
    order = erp_order(clerk, data["order_id"])
    widget_line, install_line = order["lines"]
    r = clerk.post(f"{ORDERS}/{order['id']}/deliveries", json={"lines": [
        {"line_id": widget_line["id"], "quantity": "2"}]}, headers={"Idempotency-Key": f"d-{t.tag()}"})
    assert r.status_code == 201, r.json
    assert re.fullmatch(rf"DL-{date.today().year}-\d{{5,}}", r.json["number"])
    assert r.json["lines"][0]["stock_move_id"]
    order = clerk.get(f"{ORDERS}/{order['id']}").json
    assert order["status"] == "partially_delivered" and order["last_delivery_at"]
    assert order["lines"][0]["delivered_quantity"] == "2.0000" and order["lines"][0]["remaining_quantity"] == "4.0000"
    assert level(clerk, world["widget"], world["warehouse"]["id"]) == {"on_hand": 8, "reserved": 4, "available": 4}

    too_much = clerk.post(f"{ORDERS}/{order['id']}/deliveries", json={"lines": [
        {"line_id": widget_line["id"], "quantity": "5"}]})
    assert too_much.status_code == 422 and too_much.json["errors"][0]["field"] == "lines.0.quantity"

    rest = clerk.post(f"{ORDERS}/{order['id']}/deliveries", json={})  # everything that remains
    assert rest.status_code == 201, rest.json
    assert {x["order_line_id"]: x["quantity"] for x in rest.json["lines"]} == {
        widget_line["id"]: "4.0000", install_line["id"]: "1.0000"}
    order = clerk.get(f"{ORDERS}/{order['id']}").json
    assert order["status"] == "delivered" and order["allowed_actions"] == ["invoice"]
    assert level(clerk, world["widget"], world["warehouse"]["id"]) == {"on_hand": 4, "reserved": 0, "available": 4}
    assert len(clerk.get(f"{ORDERS}/{order['id']}/deliveries").json) == 2
    again = clerk.post(f"{ORDERS}/{order['id']}/deliveries", json={})
    assert again.status_code == 409 and again.json["current_state"] == "delivered"
    types = [e for e, _ in t.outbox_events(sessions, order["id"])]
    assert types == ["erp.order.accepted", "erp.order.partially_delivered", "erp.order.delivered"]
    states = [d for _, d in t.outbox_events(sessions, order["id"])]
    assert [s["version"] for s in states] == [1, 2, 3]
    assert states[1]["lines"][0]["delivered_quantity"] == "2"


def test_cancelling_an_order_releases_its_reservation(inbox, world, clerk, as_user, sessions):
    data = place(inbox, world, [{"product_id": world["widget"], "quantity": "5", "unit_price": "12.50"}])
    order = erp_order(clerk, data["order_id"])
    assert clerk.post(f"{ORDERS}/{order['id']}/cancel", json={}).status_code == 403  # clerks deliver, not cancel
    admin = as_user("admin")
    r = admin.post(f"{ORDERS}/{order['id']}/cancel", json={"reason": "customer changed their mind"})
    assert r.status_code == 200, r.json
    assert r.json["status"] == "cancelled" and r.json["reason"] == "customer changed their mind"
    assert level(clerk, world["widget"], world["warehouse"]["id"])["reserved"] == 0
    assert admin.post(f"{ORDERS}/{order['id']}/cancel", json={}).status_code == 409
    assert clerk.post(f"{ORDERS}/{order['id']}/deliveries", json={}).status_code == 409
    assert [e for e, _ in t.outbox_events(sessions, order["id"])] == ["erp.order.accepted", "erp.order.cancelled"]


def test_a_counter_sale_is_entered_once_per_idempotency_key(world, as_user, clerk):
    seller = as_user("admin")
    body = {"party_id": world["customer"], "lines": [{"product_id": world["widget"], "quantity": "2"}]}
    key = {"Idempotency-Key": f"counter-{t.tag()}"}
    first = seller.post(ORDERS, json=body, headers=key)
    assert first.status_code == 201, first.json
    assert first.json["source"] == "erp" and first.json["status"] == "accepted"
    assert first.json["lines"][0]["unit_price"] == "12.5000"  # the catalog price
    assert first.json["gross_total"] == "30.00"
    again = seller.post(ORDERS, json=body, headers=key)
    assert again.status_code == 201 and again.json["id"] == first.json["id"]
    assert level(clerk, world["widget"], world["warehouse"]["id"])["reserved"] == 2
    assert clerk.post(ORDERS, json=body).status_code == 403


def test_a_counter_sale_that_cannot_be_served_is_refused_and_leaves_nothing(world, as_user, clerk):
    seller = as_user("admin")
    short = seller.post(ORDERS, json={"party_id": world["customer"], "lines": [
        {"product_id": world["widget"], "quantity": "1"}, {"product_id": world["widget"], "quantity": "10"}]})
    assert short.status_code == 409 and short.content_type == "application/problem+json"
    assert short.json["reason_code"] == "insufficient_stock" and short.json["errors"][0]["field"] == "lines.0.quantity"
    unknown = seller.post(ORDERS, json={"party_id": world["customer"], "lines": [
        {"product_id": str(uuid.uuid4()), "quantity": "1"}]})
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "lines.0.product_id"
    nobody = seller.post(ORDERS, json={"party_id": str(uuid.uuid4()), "lines": [
        {"product_id": world["widget"], "quantity": "1"}]})
    assert nobody.status_code == 422 and nobody.json["errors"][0]["field"] == "party_id"
    bad = seller.post(ORDERS, json={"party_id": world["customer"], "lines": [
        {"product_id": world["widget"], "quantity": "-1"}], "colour": "red"})
    assert bad.status_code == 422 and {e["field"] for e in bad.json["errors"]} == {"lines.0.quantity", "colour"}
    assert level(clerk, world["widget"], world["warehouse"]["id"])["reserved"] == 0
    assert seller.get(f"{ORDERS}/{uuid.uuid4()}").status_code == 404


def test_the_worker_consumes_crm_orders_beside_the_parties(sessions):
    from erp.config import Settings
    from erp.worker import ORDER_CONSUMER, PARTY_CONSUMER, order_consumer

    consumer = order_consumer(Settings.from_env(), sessions)
    assert consumer.name == ORDER_CONSUMER == "erp.orders" != PARTY_CONSUMER
    assert consumer.topics == ["crm.order.v1"] and set(consumer.handlers) == {"crm.order.placed"}
