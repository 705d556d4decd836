"""Warehouse staff receive, ship, move, adjust and count goods; finance values the stock; the CRM hears about
availability. Everything through the HTTP API on the real PostgreSQL, as users would."""

import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal as D

import pytest
from erp.catalog.models import Product
from erp.db import outbox
from erp.stock import service
from erp.stock.models import StockMove
from servicekit.problems import Problem
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

pytestmark = pytest.mark.db

MOVES = "/api/v1/stock/moves"
LEVELS = "/api/v1/stock/levels"
RESERVATIONS = "/api/v1/stock/reservations"
VALUATION = "/api/v1/stock/valuation"
COUNTS = "/api/v1/inventory-counts"


@pytest.fixture
def make_product(sessions):
    """Insert a product directly (the catalog API is not what these tests are about)."""
    def make(**over) -> dict:
        values = {"sku": f"SKU-{uuid.uuid4().hex[:10]}", "name": "Widget", "kind": "stockable",
                  "valuation_method": "average", "allow_backorder": False, "cost": D("5"), "sale_price": D("9"),
                  **over}
        with sessions.begin() as session:
            product = Product(**values)
            session.add(product)
            session.flush()
            return {"id": product.id, "sku": product.sku}
    return make


@pytest.fixture
def make_warehouse(client):
    def make(name: str = "Main warehouse") -> dict:
        r = client.post("/api/v1/warehouses", json={"code": f"W{uuid.uuid4().hex[:8]}", "name": name})
        assert r.status_code == 201, r.json
        return r.json
    return make


def move(c, kind, product, quantity, expect=201, **fields):
    r = c.post(MOVES, json={"kind": kind, "product_id": product["id"], "quantity": str(quantity), **fields})
    assert r.status_code == expect, r.json
    return r.json


def receive(c, product, warehouse, quantity, cost, **fields):
    return move(c, "receipt", product, quantity, warehouse_id=warehouse["id"], unit_cost=str(cost), **fields)


def deliver(c, product, warehouse, quantity, expect=201, **fields):
    return move(c, "delivery", product, quantity, expect, warehouse_id=warehouse["id"], **fields)


def level(c, product, warehouse=None, by="warehouse", **query):
    args = {"product_id": product["id"], "by": by, "include_zero": True, **query}
    if warehouse:
        args["warehouse_id"] = warehouse["id"]
    items = c.get(LEVELS, query_string=args).json["items"]
    return [{k: (D(v) if k in ("on_hand", "reserved", "available") and v is not None else v) for k, v in i.items()}
            for i in items]


def availability_events(sessions, product):
    with sessions.begin() as session:
        rows = session.execute(select(outbox.c.payload).where(
            outbox.c.aggregateid == product["id"], outbox.c.type == "erp.stock.availability_changed")
            .order_by(outbox.c.id)).scalars().all()
    return rows


# -- warehouses ----------------------------------------------------------------------------------


def test_a_new_warehouse_comes_with_its_stock_location_and_its_code_is_unique(client, make_warehouse):
    w = make_warehouse()
    assert w["code"] == w["code"].upper() and w["active"] and w["version"] == 1
    (stock,) = client.get(f"/api/v1/warehouses/{w['id']}/locations").json
    assert stock["code"] == "STOCK" and stock["is_default"] and stock["id"] == w["default_location_id"]
    again = client.post("/api/v1/warehouses", json={"code": w["code"].lower(), "name": "Copy"})
    assert again.status_code == 409 and again.json["errors"][0]["field"] == "code"
    bad = client.post("/api/v1/warehouses", json={"code": "no spaces", "name": ""})
    assert bad.status_code == 422 and {e["field"] for e in bad.json["errors"]} == {"code", "name"}
    assert client.get(f"/api/v1/warehouses/{uuid.uuid4()}").status_code == 404


def test_locations_form_a_tree_inside_their_warehouse(client, make_warehouse):
    w = make_warehouse()
    url = f"/api/v1/warehouses/{w['id']}/locations"
    aisle = client.post(url, json={"code": "a", "name": "Aisle A"}).json
    bin_ = client.post(url, json={"code": "A-01", "name": "Bin 1", "parent_id": aisle["id"]}).json
    assert bin_["path"] == "A/A-01" and bin_["parent_id"] == aisle["id"]
    assert [loc["path"] for loc in client.get(url).json] == ["A", "A/A-01", "STOCK"]
    assert client.post(url, json={"code": "A", "name": "Again"}).status_code == 409
    other = make_warehouse()
    r = client.post(f"/api/v1/warehouses/{other['id']}/locations", json={"code": "X", "name": "X",
                                                                      "parent_id": aisle["id"]})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "parent_id"


def test_a_warehouse_is_renamed_with_if_match_and_cannot_be_closed_while_it_holds_stock(client, make_warehouse,
                                                                                        make_product):
    w, p = make_warehouse(), make_product()
    url = f"/api/v1/warehouses/{w['id']}"
    assert client.get(url).headers["ETag"] == '"1"'
    assert client.patch(url, json={"name": "North"}).status_code == 428
    r = client.patch(url, json={"name": "North"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json["name"] == "North" and r.headers["ETag"] == '"2"'
    assert client.patch(url, json={"name": "South"}, headers={"If-Match": '"1"'}).status_code == 412
    receive(client, p, w, 1, 3)
    closed = client.patch(url, json={"active": False}, headers={"If-Match": '"2"'})
    assert closed.status_code == 409 and closed.json["errors"][0]["field"] == "active"
    deliver(client, p, w, 1)
    assert client.patch(url, json={"active": False}, headers={"If-Match": '"2"'}).json["active"] is False
    refused = receive_raw = client.post(MOVES, json={"kind": "receipt", "product_id": p["id"], "quantity": "1",
                                                     "warehouse_id": w["id"]})
    assert refused.status_code == 422 and receive_raw.json["errors"][0]["field"] == "warehouse_id"


# -- moves and levels ----------------------------------------------------------------------------


def test_goods_received_then_delivered_show_in_levels_and_history(client, make_warehouse, make_product):
    w, p = make_warehouse(), make_product()
    supplier, customer = str(uuid.uuid4()), str(uuid.uuid4())
    r = receive(client, p, w, "10.5", "4.20", party_id=supplier, reference="PO-1", source_type="purchase_receipt",
                source_id="GR-1")
    assert r["kind"] == "receipt" and D(r["quantity"]) == D("10.5") and D(r["value"]) == D("44.1")
    assert r["to_location_id"] == w["default_location_id"] and r["from_location_id"] is None
    assert r["actor"] and r["party_id"] == supplier
    d = deliver(client, p, w, 4, party_id=customer, reference="SO-1")
    assert d["from_location_id"] == w["default_location_id"] and D(d["value"]) == D("16.8")
    (lvl,) = level(client, p, w)
    assert (lvl["on_hand"], lvl["reserved"], lvl["available"]) == (D("6.5"), 0, D("6.5"))
    assert lvl["warehouse_code"] == w["code"] and lvl["sku"] == p["sku"]
    (loc,) = level(client, p, w, by="location")
    assert loc["location"] == "STOCK" and loc["on_hand"] == D("6.5") and loc["reserved"] is None
    (total,) = level(client, p, by="product")
    assert total["on_hand"] == D("6.5")
    history = client.get(MOVES, query_string={"product_id": p["id"]}).json
    assert [m["kind"] for m in history["items"]] == ["delivery", "receipt"] and history["total"] == 2
    by_supplier = client.get(MOVES, query_string={"party_id": supplier}).json["items"]
    assert [m["reference"] for m in by_supplier] == ["PO-1"]
    assert client.get(MOVES, query_string={"product_id": p["id"], "kind": "receipt"}).json["total"] == 1
    assert client.get(MOVES, query_string={"product_id": p["id"], "sort": "quantity"}).json["items"][0]["kind"] == \
        "delivery"
    assert client.get(MOVES, query_string={"sort": "colour"}).json["errors"][0]["field"] == "sort"
    assert client.get(f"{MOVES}/{d['id']}").json["reference"] == "SO-1"


def test_delivering_more_than_there_is_is_refused_with_what_is_available(client, make_warehouse, make_product):
    w, p = make_warehouse(), make_product()
    receive(client, p, w, 3, 2)
    r = client.post(MOVES, json={"kind": "delivery", "product_id": p["id"], "quantity": "5", "warehouse_id": w["id"]})
    assert r.status_code == 409 and r.content_type == "application/problem+json"
    assert r.json["type"].endswith("/insufficient-stock") and r.json["available"] == "3" and r.json["requested"] == "5"
    assert level(client, p, w)[0]["on_hand"] == 3


def test_a_backorderable_product_can_be_delivered_below_zero_and_is_listed_as_such(client, make_warehouse,
                                                                                  make_product):
    w, p = make_warehouse(), make_product(allow_backorder=True)
    receive(client, p, w, 1, 10)
    deliver(client, p, w, 3)
    assert level(client, p, w)[0]["on_hand"] == -2
    below = client.get(LEVELS, query_string={"below_zero": True, "warehouse_id": w["id"]}).json["items"]
    assert [i["product_id"] for i in below] == [p["id"]]
    # the next receipt settles the two units that left at 10, the rest is valued at its own cost
    receive(client, p, w, 5, 16)
    (row,) = client.get(VALUATION, query_string={"product_id": p["id"]}).json["items"]
    assert D(row["quantity"]) == 3 and D(row["value"]) == 48


def test_transfers_move_goods_between_locations_and_warehouses(client, make_warehouse, make_product):
    north, south, p = make_warehouse(), make_warehouse(), make_product()
    shelf = client.post(f"/api/v1/warehouses/{north['id']}/locations", json={"code": "S1", "name": "Shelf"}).json
    receive(client, p, north, 10, 3)
    t = move(client, "transfer", p, 4, from_warehouse_id=north["id"], to_location_id=shelf["id"])
    assert t["from_warehouse_id"] == t["to_warehouse_id"] == north["id"]
    by_location = {row["location"]: row["on_hand"] for row in level(client, p, north, by="location")}
    assert by_location == {"STOCK": 6, "S1": 4}
    move(client, "transfer", p, 3, from_location_id=shelf["id"], to_warehouse_id=south["id"])
    assert {row["warehouse_code"]: row["on_hand"] for row in level(client, p)} == {north["code"]: 7, south["code"]: 3}
    # a transfer does not change what the stock is worth
    (val,) = client.get(VALUATION, query_string={"product_id": p["id"]}).json["items"]
    assert D(val["quantity"]) == 10 and D(val["value"]) == 30
    too_much = client.post(MOVES, json={"kind": "transfer", "product_id": p["id"], "quantity": "2",
                                        "from_location_id": shelf["id"], "to_warehouse_id": south["id"]})
    assert too_much.status_code == 409 and too_much.json["available"] == "1"


def test_adjustments_need_a_reason_and_add_or_remove_stock(client, make_warehouse, make_product):
    w, p = make_warehouse(), make_product(cost=D("7"))
    r = client.post(MOVES, json={"kind": "adjustment", "product_id": p["id"], "quantity": "5", "warehouse_id": w["id"]})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "reason"
    found = move(client, "adjustment", p, "5", warehouse_id=w["id"], reason="found behind the rack")
    assert found["to_location_id"] == w["default_location_id"] and D(found["unit_cost"]) == 7
    lost = move(client, "adjustment", p, "-2", warehouse_id=w["id"], reason="water damage")
    assert lost["from_location_id"] == w["default_location_id"] and lost["to_location_id"] is None
    assert D(lost["quantity"]) == 2 and lost["reason"] == "water damage" and D(lost["value"]) == 14
    assert level(client, p, w)[0]["on_hand"] == 3
    r = client.post(MOVES, json={"kind": "adjustment", "product_id": p["id"], "quantity": "-4", "warehouse_id": w["id"],
                                 "reason": "more than there is"})
    assert r.status_code == 409 and r.json["available"] == "3"


def test_bad_moves_are_refused_naming_the_field(client, make_warehouse, make_product):
    w, p = make_warehouse(), make_product()
    cases = [
        ({"kind": "transfer", "quantity": "1", "from_warehouse_id": w["id"]}, "to_location_id"),
        ({"kind": "delivery", "quantity": "1", "warehouse_id": w["id"], "unit_cost": "3"}, "unit_cost"),
        ({"kind": "receipt", "quantity": "0", "warehouse_id": w["id"]}, "quantity"),
        ({"kind": "receipt", "quantity": "1.00001", "warehouse_id": w["id"]}, "quantity"),
        ({"kind": "receipt", "quantity": "1"}, "warehouse_id"),
        ({"kind": "receipt", "quantity": "1", "warehouse_id": str(uuid.uuid4())}, "warehouse_id"),
        ({"kind": "receipt", "quantity": "1", "location_id": w["id"]}, "location_id"),
        ({"kind": "teleport", "quantity": "1", "warehouse_id": w["id"]}, "kind"),
        ({"kind": "receipt", "quantity": "1", "warehouse_id": w["id"], "reason": "why not"}, "reason"),
        ({"kind": "receipt", "quantity": "1", "warehouse_id": w["id"],
          "done_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}, "done_at"),
    ]
    for body, field in cases:
        r = client.post(MOVES, json={"product_id": p["id"], **body})
        assert r.status_code == 422 and r.content_type == "application/problem+json", (body, r.json)
        assert field in {e["field"] for e in r.json["errors"]}, (body, r.json)
    r = client.post(MOVES, json={"kind": "receipt", "product_id": str(uuid.uuid4()), "quantity": "1",
                                 "warehouse_id": w["id"]})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "product_id"
    assert client.get(MOVES, query_string={"product_id": p["id"]}).json["total"] == 0


def test_services_have_no_moves_and_consumables_ship_without_stock(client, make_warehouse, make_product, sessions):
    w = make_warehouse()
    svc, paper = make_product(kind="service"), make_product(kind="consumable", cost=D("0.5"))
    r = client.post(MOVES, json={"kind": "receipt", "product_id": svc["id"], "quantity": "1", "warehouse_id": w["id"]})
    assert r.status_code == 422 and "service" in r.json["errors"][0]["message"]
    shipped = deliver(client, paper, w, 100)
    assert D(shipped["value"]) == 50
    assert level(client, paper) == [] and availability_events(sessions, paper) == []
    r = client.post(RESERVATIONS, json={"product_id": paper["id"], "warehouse_id": w["id"], "quantity": "1",
                                        "source_type": "sales_order", "source_id": "SO-9"})
    assert r.status_code == 422


def test_moves_are_history_the_database_refuses_to_change_them(client, make_warehouse, make_product, sessions):
    w, p = make_warehouse(), make_product()
    m = receive(client, p, w, 1, 1)
    with pytest.raises(DBAPIError, match="immutable"), sessions.begin() as session:
        session.execute(text("update stock_moves set quantity = 99 where id = :id"), {"id": m["id"]})
    with pytest.raises(DBAPIError, match="immutable"), sessions.begin() as session:
        session.execute(text("delete from stock_moves where id = :id"), {"id": m["id"]})
    assert D(client.get(f"{MOVES}/{m['id']}").json["quantity"]) == 1


def test_a_retried_move_with_the_same_idempotency_key_is_recorded_once(client, make_warehouse, make_product):
    w, p = make_warehouse(), make_product()
    body = {"kind": "receipt", "product_id": p["id"], "quantity": "2", "warehouse_id": w["id"], "unit_cost": "1"}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first, again = client.post(MOVES, json=body, headers=key), client.post(MOVES, json=body, headers=key)
    assert first.status_code == again.status_code == 201 and first.json["id"] == again.json["id"]
    assert level(client, p, w)[0]["on_hand"] == 2


# -- concurrency ---------------------------------------------------------------------------------


def test_concurrent_deliveries_never_oversell(app, client, make_warehouse, make_product):
    w, p = make_warehouse(), make_product()
    receive(client, p, w, 10, 1)
    token = client.environ_base["HTTP_AUTHORIZATION"]
    start, statuses = threading.Barrier(8), []

    def ship():
        c = app.test_client()
        c.environ_base["HTTP_AUTHORIZATION"] = token
        start.wait()
        r = c.post(MOVES, json={"kind": "delivery", "product_id": p["id"], "quantity": "3", "warehouse_id": w["id"]})
        statuses.append(r.status_code)

    threads = [threading.Thread(target=ship) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201] * 3 + [409] * 5
    assert level(client, p, w)[0]["on_hand"] == 1


def test_a_second_delivery_waits_for_the_first_and_then_sees_what_it_left(client, make_warehouse, make_product,
                                                                          sessions):
    w, p = make_warehouse(), make_product()
    receive(client, p, w, 5, 1)
    outcome = {}
    first = sessions()
    first.begin()
    service.deliver_goods(first, product_id=p["id"], warehouse_id=w["id"], quantity=D("4"), reference="A",
                          source_type="manual", source_id="A", party_id=None, actor="test")

    def second():
        with sessions.begin() as session:
            try:
                service.deliver_goods(session, product_id=p["id"], warehouse_id=w["id"], quantity=D("4"),
                                      reference="B", source_type="manual", source_id="B", party_id=None,
                                      actor="test")
                outcome["status"] = "delivered"
            except Exception as exc:  # noqa: BLE001 - the outcome is what the test inspects
                outcome["status"] = getattr(exc, "status", repr(exc))

    t = threading.Thread(target=second)
    t.start()
    t.join(timeout=1)
    assert t.is_alive() and not outcome  # blocked on the product's row lock
    first.commit()
    first.close()
    t.join(timeout=10)
    assert outcome["status"] == 409
    assert level(client, p, w)[0]["on_hand"] == 1


# -- reservations --------------------------------------------------------------------------------


def test_reservations_hold_stock_for_an_order_until_delivered_or_released(client, make_warehouse, make_product):
    w, p = make_warehouse(), make_product()
    receive(client, p, w, 10, 2)
    order = f"SO-{uuid.uuid4().hex[:6]}"
    r = client.post(RESERVATIONS, json={"product_id": p["id"], "warehouse_id": w["id"], "quantity": "6",
                                        "source_type": "sales_order", "source_id": order})
    assert r.status_code == 201 and r.json["status"] == "active" and D(r.json["remaining"]) == 6
    assert (level(client, p, w)[0]["reserved"], level(client, p, w)[0]["available"]) == (6, 4)
    too_much = client.post(RESERVATIONS, json={"product_id": p["id"], "warehouse_id": w["id"], "quantity": "5",
                                               "source_type": "sales_order", "source_id": "other"})
    assert too_much.status_code == 409 and too_much.json["available"] == "4"
    # another order cannot take the reserved goods
    other = deliver(client, p, w, 5, expect=409, source_type="sales_order", source_id="other")
    assert other["available"] == "4"
    # the order's own delivery consumes its reservation
    deliver(client, p, w, 4, source_type="sales_order", source_id=order)
    (lvl,) = level(client, p, w)
    assert (lvl["on_hand"], lvl["reserved"], lvl["available"]) == (6, 2, 4)
    (held,) = client.get(RESERVATIONS, query_string={"source_id": order}).json["items"]
    assert D(held["remaining"]) == 2
    released = client.delete(f"{RESERVATIONS}/{held['id']}")
    assert released.status_code == 200 and released.json["status"] == "released"
    assert client.delete(f"{RESERVATIONS}/{held['id']}").status_code == 409
    assert client.delete(f"{RESERVATIONS}/{uuid.uuid4()}").status_code == 404
    assert level(client, p, w)[0]["available"] == 6
    assert client.get(RESERVATIONS, query_string={"source_id": order}).json["total"] == 0
    assert client.get(RESERVATIONS, query_string={"source_id": order, "status": "all"}).json["total"] == 1


def test_cancelling_an_order_releases_all_its_reservations(client, make_warehouse, make_product, sessions):
    w, p, q = make_warehouse(), make_product(), make_product()
    receive(client, p, w, 5, 1)
    receive(client, q, w, 5, 1)
    order = str(uuid.uuid4())
    with sessions.begin() as session:
        for product in (p, q):
            service.reserve(session, product_id=product["id"], warehouse_id=w["id"], quantity=D("2"),
                            source_type="sales_order", source_id=order, actor="sales-test")
    r = client.post(f"{RESERVATIONS}/release", json={"source_type": "sales_order", "source_id": order})
    assert r.status_code == 200 and {x["product_id"] for x in r.json} == {p["id"], q["id"]}
    assert level(client, p, w)[0]["reserved"] == 0 and level(client, q, w)[0]["reserved"] == 0
    assert client.post(f"{RESERVATIONS}/release", json={"source_type": "sales_order", "source_id": order}).json == []


def test_a_refused_delivery_leaves_the_orders_reservation_whole(client, make_warehouse, make_product, sessions):
    w, p = make_warehouse(), make_product()
    receive(client, p, w, 3, 1)
    order = str(uuid.uuid4())
    with sessions.begin() as session:
        service.reserve(session, product_id=p["id"], warehouse_id=w["id"], quantity=D("2"),
                        source_type="sales_order", source_id=order, actor="sales-test")
        # the sales module asks for more than there is, is refused, and carries on with its transaction
        with pytest.raises(Problem) as refused:
            service.deliver_goods(session, product_id=p["id"], warehouse_id=w["id"], quantity=D("5"),
                                  reference="SO", source_type="sales_order", source_id=order, party_id=None,
                                  actor="sales-test")
        assert refused.value.status == 409 and refused.value.extensions["available"] == "3"
    (held,) = client.get(RESERVATIONS, query_string={"source_id": order}).json["items"]
    assert D(held["remaining"]) == 2 and held["status"] == "active"
    (lvl,) = level(client, p, w)
    assert (lvl["on_hand"], lvl["reserved"]) == (3, 2)


# -- valuation -----------------------------------------------------------------------------------


def test_the_valuation_as_of_a_past_date_comes_from_history(client, make_warehouse, make_product):
    w, p = make_warehouse(), make_product()
    now = datetime.now(UTC)
    receive(client, p, w, 10, 4, done_at=(now - timedelta(days=10)).isoformat())
    deliver(client, p, w, 4, done_at=(now - timedelta(days=5)).isoformat())
    receive(client, p, w, 6, 9)  # today: average (6 × 4 + 6 × 9) / 12 = 6.5
    past = client.get(VALUATION, query_string={"as_of": (now - timedelta(days=8)).date().isoformat(),
                                               "product_id": p["id"]}).json
    (then,) = past["items"]
    assert (D(then["quantity"]), D(then["value"]), D(then["unit_cost"])) == (10, 40, 4)
    (today,) = client.get(VALUATION, query_string={"product_id": p["id"]}).json["items"]
    assert (D(today["quantity"]), D(today["value"]), D(today["unit_cost"])) == (12, 78, D("6.5"))
    before = client.get(VALUATION, query_string={"as_of": (now - timedelta(days=11)).date().isoformat(),
                                                 "product_id": p["id"]}).json
    assert before["items"] == [] and before["totals"] == []
    # a move cannot be slipped in before the product's history
    late = client.post(MOVES, json={"kind": "receipt", "product_id": p["id"], "quantity": "1", "warehouse_id": w["id"],
                                    "done_at": (now - timedelta(days=7)).isoformat()})
    assert late.status_code == 422 and late.json["errors"][0]["field"] == "done_at"


def test_fifo_and_average_value_the_same_moves_differently(client, make_warehouse, make_product):
    w = make_warehouse()
    avg, fifo = make_product(), make_product(valuation_method="fifo")
    for p in (avg, fifo):
        receive(client, p, w, 10, 5)
        receive(client, p, w, 10, 7)
    out_avg, out_fifo = deliver(client, avg, w, 12), deliver(client, fifo, w, 12)
    assert D(out_avg["value"]) == 72  # 12 × 6
    assert D(out_fifo["value"]) == 64  # 10 × 5 + 2 × 7
    report = client.get(VALUATION).json
    rows = {i["product_id"]: i for i in report["items"]}
    assert D(rows[avg["id"]]["value"]) == 48 and D(rows[fifo["id"]]["value"]) == 56
    assert rows[fifo["id"]]["valuation_method"] == "fifo" and D(rows[fifo["id"]]["unit_cost"]) == 7
    eur = {t["currency"]: D(t["value"]) for t in report["totals"]}["EUR"]
    assert eur == sum(D(i["value"]) for i in report["items"] if i["currency"] == "EUR")


def test_a_product_switched_from_average_to_fifo_keeps_its_stock_and_value(client, make_warehouse, make_product,
                                                                           sessions):
    w, p = make_warehouse(), make_product()
    receive(client, p, w, 10, 5)
    receive(client, p, w, 10, 7)  # average 6: 20 units worth 120
    with sessions.begin() as session:
        session.get(Product, p["id"]).valuation_method = "fifo"  # as the catalog would
    out = deliver(client, p, w, 5)
    assert D(out["value"]) == 30  # the average pool is FIFO's opening layer
    receive(client, p, w, 5, 10)
    out = deliver(client, p, w, 16)
    assert D(out["value"]) == 15 * 6 + 10
    (row,) = client.get(VALUATION, query_string={"product_id": p["id"]}).json["items"]
    assert (D(row["quantity"]), D(row["value"])) == (4, 40)


def test_the_valuation_exports_as_csv(client, make_warehouse, make_product):
    w, p = make_warehouse(), make_product()
    receive(client, p, w, 2, "1.25")
    r = client.get(VALUATION, query_string={"format": "csv", "product_id": p["id"]})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    lines = r.get_data(as_text=True).splitlines()
    assert lines[0] == "product_id,sku,product_name,valuation_method,currency,quantity,unit_cost,value"
    assert lines[1] == f"{p['id']},{p['sku']},Widget,average,EUR,2,1.25,2.5"
    assert lines[2] == ",TOTAL,,,EUR,,,2.5"


def test_movements_are_reported_by_product_and_by_supplier(client, make_warehouse, make_product):
    w, p, q = make_warehouse(), make_product(), make_product()
    acme, globex = str(uuid.uuid4()), str(uuid.uuid4())
    receive(client, p, w, 10, 2, party_id=acme)
    receive(client, q, w, 4, 5, party_id=acme)
    receive(client, p, w, 5, 2, party_id=globex)
    deliver(client, p, w, 3)
    by_product = client.get("/api/v1/stock/reports/movements", query_string={"warehouse_id": w["id"]}).json
    rows = {i["product_id"]: i for i in by_product["items"]}
    assert (D(rows[p["id"]]["quantity_in"]), D(rows[p["id"]]["quantity_out"]), D(rows[p["id"]]["net_quantity"])) \
        == (15, 3, 12)
    assert D(rows[p["id"]]["value_in"]) == 30 and D(rows[p["id"]]["value_out"]) == 6 and rows[p["id"]]["moves"] == 3
    assert D(by_product["totals"]["value_in"]) == 50
    by_supplier = client.get("/api/v1/stock/reports/movements",
                             query_string={"group_by": "supplier", "warehouse_id": w["id"]}).json["items"]
    suppliers = {i["party_id"]: i for i in by_supplier}
    assert set(suppliers) == {acme, globex}
    assert suppliers[acme]["products"] == 2 and D(suppliers[acme]["value_in"]) == 40
    assert D(suppliers[globex]["quantity_in"]) == 5
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    empty = client.get("/api/v1/stock/reports/movements",
                       query_string={"warehouse_id": w["id"], "date_to": yesterday}).json
    assert empty["items"] == []
    bad = client.get("/api/v1/stock/reports/movements", query_string={"group_by": "colour"})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "group_by"


# -- inventory counts ----------------------------------------------------------------------------


def test_validating_a_count_posts_the_differences_once(client, make_warehouse, make_product):
    w, p, q = make_warehouse(), make_product(), make_product()
    receive(client, p, w, 10, 3)
    receive(client, q, w, 2, 8)
    count = client.post(COUNTS, json={"warehouse_id": w["id"], "note": "year end"}).json
    assert count["status"] == "draft" and count["reference"].startswith("IC-") and count["lines"] == []
    r = client.post(f"{COUNTS}/{count['id']}/lines", json={"lines": [
        {"product_id": p["id"], "counted_quantity": "7"}, {"product_id": q["id"], "counted_quantity": "5"}]})
    assert r.status_code == 200
    lines = {line["product_id"]: line for line in r.json["lines"]}
    assert D(lines[p["id"]]["system_quantity"]) == 10 and D(lines[p["id"]]["difference"]) == -3
    # goods shipped after counting stay shipped: the count adjusts the difference it found, not the new total
    deliver(client, p, w, 1)
    done = client.post(f"{COUNTS}/{count['id']}/validate")
    assert done.status_code == 200 and done.json["status"] == "validated"
    assert level(client, p, w)[0]["on_hand"] == 6 and level(client, q, w)[0]["on_hand"] == 5
    adjustments = client.get(MOVES, query_string={"source_type": "inventory_count", "source_id": count["id"]}).json
    assert adjustments["total"] == 2
    assert {m["reason"] for m in adjustments["items"]} == {f"inventory count {count['reference']}"}
    assert all(line["move_id"] for line in done.json["lines"])
    again = client.post(f"{COUNTS}/{count['id']}/validate")
    assert again.status_code == 409 and again.json["current_status"] == "validated"
    assert client.get(MOVES, query_string={"source_id": count["id"]}).json["total"] == 2
    assert client.post(f"{COUNTS}/{count['id']}/cancel").status_code == 409


def test_a_cancelled_count_posts_nothing_and_bad_lines_are_refused(client, make_warehouse, make_product):
    w, p, svc = make_warehouse(), make_product(), make_product(kind="service")
    count = client.post(COUNTS, json={"warehouse_id": w["id"]}).json
    bad = client.post(f"{COUNTS}/{count['id']}/lines", json={"lines": [
        {"product_id": p["id"], "counted_quantity": "1"}, {"product_id": svc["id"], "counted_quantity": "1"}]})
    assert bad.status_code == 422 and bad.json["errors"][0]["field"] == "lines.1.product_id"
    neg = client.post(f"{COUNTS}/{count['id']}/lines", json={"lines": [{"product_id": p["id"],
                                                                         "counted_quantity": "-1"}]})
    assert neg.status_code == 422 and neg.json["errors"][0]["field"] == "lines.0.counted_quantity"
    empty = client.post(f"{COUNTS}/{count['id']}/validate")
    assert empty.status_code == 422
    client.post(f"{COUNTS}/{count['id']}/lines", json={"lines": [{"product_id": p["id"], "counted_quantity": "4"}]})
    cancelled = client.post(f"{COUNTS}/{count['id']}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    assert client.post(f"{COUNTS}/{count['id']}/validate").status_code == 409
    assert level(client, p, w) == []
    listed = client.get(COUNTS, query_string={"warehouse_id": w["id"], "status": "cancelled"}).json["items"]
    assert [c["id"] for c in listed] == [count["id"]]


# -- events --------------------------------------------------------------------------------------


def test_every_availability_change_reaches_the_outbox_with_a_growing_version(client, make_warehouse, make_product,
                                                                             sessions):
    w, other, p = make_warehouse(), make_warehouse(), make_product()
    receive(client, p, w, 10, 2)
    client.post(RESERVATIONS, json={"product_id": p["id"], "warehouse_id": w["id"], "quantity": "3",
                                    "source_type": "sales_order", "source_id": "SO-E"})
    move(client, "transfer", p, 2, from_warehouse_id=w["id"], to_warehouse_id=other["id"])
    deliver(client, p, w, 1)
    events = availability_events(sessions, p)
    assert [int(e["attributes"]["sequence"]) for e in events] == [1, 2, 3, 4]
    assert [e["data"]["version"] for e in events] == [1, 2, 3, 4]
    last = events[-1]
    assert last["attributes"]["subject"] == p["id"] and last["attributes"]["actor"]
    data = last["data"]
    assert data["sku"] == p["sku"] and (data["on_hand"], data["reserved"], data["available"]) == ("9", "3", "6")
    per_warehouse = {x["code"]: (x["on_hand"], x["reserved"], x["available"]) for x in data["warehouses"]}
    assert per_warehouse == {w["code"]: ("7", "3", "4"), other["code"]: ("2", "0", "2")}


# -- the function purchasing calls ---------------------------------------------------------------


def test_purchasing_receives_goods_through_receive_goods(client, make_warehouse, make_product, sessions):
    w, p = make_warehouse(), make_product(valuation_method="fifo")
    supplier = str(uuid.uuid4())
    with sessions.begin() as session:
        m = service.receive_goods(session, product_id=p["id"], warehouse_id=w["id"], quantity=D("3"),
                                  unit_cost=D("2.5"), reference="GR-7", source_type="purchase_receipt",
                                  source_id="gr-7", party_id=supplier, actor="purchasing-test")
        assert isinstance(m, StockMove) and m.id
        move_id = m.id
    got = client.get(f"{MOVES}/{move_id}").json
    assert got["to_location_id"] == w["default_location_id"] and got["party_id"] == supplier
    assert got["source_type"] == "purchase_receipt" and D(got["value"]) == D("7.5")
    assert availability_events(sessions, p)[-1]["data"]["on_hand"] == "3"


# -- who may do what -----------------------------------------------------------------------------


def test_a_warehouse_clerk_moves_goods_and_an_accountant_only_reports(as_user, make_warehouse, make_product):
    w, p = make_warehouse(), make_product()
    clerk, accountant, purchaser = as_user("warehouse_clerk"), as_user("accountant"), as_user("purchaser")
    receive(clerk, p, w, 5, 2)
    move(clerk, "adjustment", p, "-1", warehouse_id=w["id"], reason="broken")
    assert clerk.post(COUNTS, json={"warehouse_id": w["id"]}).status_code == 201
    for c in (accountant, purchaser):
        r = c.post(MOVES, json={"kind": "receipt", "product_id": p["id"], "quantity": "1", "warehouse_id": w["id"]})
        assert r.status_code == 403
        assert c.post(COUNTS, json={"warehouse_id": w["id"]}).status_code == 403
        assert c.get(LEVELS, query_string={"product_id": p["id"]}).status_code == 200
    r = accountant.post(RESERVATIONS, json={"product_id": p["id"], "warehouse_id": w["id"], "quantity": "1",
                                            "source_type": "sales_order", "source_id": "x"})
    assert r.status_code == 403
    assert accountant.get(VALUATION).status_code == 200
    assert accountant.get("/api/v1/stock/reports/movements").status_code == 200
    assert purchaser.get(VALUATION).status_code == 403
    assert as_user("auditor").get(VALUATION).status_code == 200
    assert accountant.post("/api/v1/warehouses", json={"code": "NOPE", "name": "x"}).status_code == 403
