"""A serial-tracked product ships with one serial number per unit: the delivery refuses a wrong count or a serial
already shipped, the invoice entitles each serial on its own, and a unit replaced under warranty keeps or renews
its term by the company's policy."""

from datetime import date, timedelta

import pytest
from erp.warranty import service as warranty
from erp.warranty.models import Entitlement
from sqlalchemy import select

from tests.support import erp_sales as t

pytestmark = pytest.mark.db

ORDERS = "/api/v1/sales-orders"


@pytest.fixture
def world(sessions, deliver, monkeypatch, app, as_user):
    wh = t.warehouse(sessions)
    t.ship_from(app, monkeypatch, wh["code"])
    printer = t.product(sessions, price="200.00")
    t.stock_up(sessions, printer, wh["id"], 10)
    purchaser = as_user("purchaser")
    path = f"/api/v1/warranty/terms/{printer}"
    r = purchaser.put(path, json={"months": 24, "starts_from": "delivery", "covers_labour": False,
                                  "serial_tracked": True},
                      headers={"If-Match": purchaser.get(path).headers["ETag"]})
    assert r.status_code == 200 and r.json["serial_tracked"] is True, r.json
    return {"customer": t.customer(deliver)["id"], "warehouse": wh, "printer": printer}


@pytest.fixture
def clerk(as_user):
    return as_user("warehouse_clerk")


def placed_order(sessions, app, world, clerk, quantity) -> dict:
    data = t.order_placed(world["customer"], [{"product_id": world["printer"], "quantity": str(quantity),
                                               "unit_price": "200"}])
    assert t.OrderInbox(sessions, app).place(data)[0] == "applied"
    (item,) = clerk.get(ORDERS, query_string={"crm_order_id": data["order_id"]}).json["items"]
    return clerk.get(f"{ORDERS}/{item['id']}").json


def ship(clerk, order, serials, quantity=None):
    line = order["lines"][0]
    return clerk.post(f"{ORDERS}/{order['id']}/deliveries", json={"lines": [
        {"line_id": line["id"], "quantity": str(quantity if quantity is not None else len(serials)),
         "serials": serials}]}, headers={"Idempotency-Key": f"d-{t.tag()}"})


def on_hand(clerk, world) -> str:
    r = clerk.get("/api/v1/stock/levels", query_string={"product_id": world["printer"],
                                                         "warehouse_id": world["warehouse"]["id"]})
    return r.json["items"][0]["on_hand"]


def test_a_delivery_records_one_serial_per_unit_and_the_invoice_entitles_each(world, clerk, sessions, app,
                                                                              accountant):
    order = placed_order(sessions, app, world, clerk, 2)
    a, b = f"SN-{t.tag()}", f"SN-{t.tag()}"
    for serials, quantity, why in (([a], 2, "one serial per unit"), ([a, a], 2, "appears twice"),
                                   ([a, " "], 2, "blank")):
        r = ship(clerk, order, serials, quantity)
        assert r.status_code == 422 and r.json["errors"][0]["field"] == "lines.0.serials", r.json
        assert why in r.json["errors"][0]["message"]
    everything = clerk.post(f"{ORDERS}/{order['id']}/deliveries", json={})
    assert everything.status_code == 422 and everything.json["errors"][0]["field"] == "lines"
    assert on_hand(clerk, world) == "10.0000"  # nothing left the warehouse

    r = ship(clerk, order, [a, b])
    assert r.status_code == 201, r.json
    assert r.json["lines"][0]["serials"] == sorted([a, b])
    assert on_hand(clerk, world) == "8.0000"

    again = placed_order(sessions, app, world, clerk, 1)
    r = ship(clerk, again, [b])  # a serial is one unit of one product: it cannot ship twice
    assert r.status_code == 422 and b in r.json["errors"][0]["message"]

    inv = accountant.post(f"{ORDERS}/{order['id']}/invoice", json={"issue_date": date.today().isoformat()},
                          headers={"Idempotency-Key": f"i-{t.tag()}"})
    assert inv.status_code == 201, inv.json
    found = accountant.get("/api/v1/warranty/entitlements", query_string={"party_id": world["customer"]}).json
    assert sorted((e["serial_number"], e["quantity"]) for e in found["items"]) == sorted([(a, "1.0000"),
                                                                                        (b, "1.0000")])
    e = found["items"][0]
    assert e["end_date"] == warranty.add_months(date.fromisoformat(e["start_date"]), 24).isoformat()
    assert e["covers_parts"] is True and e["covers_labour"] is False
    by_serial = accountant.get("/api/v1/warranty/entitlements", query_string={"serial_number": a}).json["items"]
    assert [x["serial_number"] for x in by_serial] == [a]
    (event,) = t.outbox_events(sessions, by_serial[0]["id"])
    assert event[0] == "erp.warranty.created" and event[1]["serial_number"] == a


@pytest.mark.parametrize("policy", ["keep", "renew"])
def test_a_replacement_keeps_or_renews_the_term_by_the_company_policy(world, clerk, sessions, app, accountant,
                                                                      as_user, policy):
    admin = as_user("admin")
    r = admin.put("/api/v1/warranty/settings", json={"replacement_policy": policy},
                  headers={"If-Match": admin.get("/api/v1/warranty/settings").headers["ETag"]})
    assert r.status_code == 200 and r.json["replacement_policy"] == policy, r.json
    order = placed_order(sessions, app, world, clerk, 1)
    serial, spare = f"SN-{t.tag()}", f"SN-{t.tag()}"
    assert ship(clerk, order, [serial]).status_code == 201
    accountant.post(f"{ORDERS}/{order['id']}/invoice", json={}, headers={"Idempotency-Key": f"i-{t.tag()}"})
    (faulty,) = accountant.get("/api/v1/warranty/entitlements", query_string={"serial_number": serial}).json["items"]
    later = date.today() + timedelta(days=100)
    with sessions.begin() as s:
        e = s.get(Entitlement, faulty["id"])
        new = warranty.replace_unit(s, e, spare, later, "tech@test")
        new_id = new.id
    got = accountant.get(f"/api/v1/warranty/entitlements/{new_id}").json
    assert got["serial_number"] == spare and got["replaces_entitlement_id"] == faulty["id"]
    if policy == "keep":
        assert (got["start_date"], got["end_date"]) == (faulty["start_date"], faulty["end_date"])
    else:
        assert (got["start_date"], got["end_date"]) == (later.isoformat(),
                                                        warranty.add_months(later, 24).isoformat())
    assert accountant.get(f"/api/v1/warranty/entitlements/{faulty['id']}").json["status"] == "replaced"
    with sessions.begin() as s, pytest.raises(Exception, match="already known"):
        warranty.replace_unit(s, s.execute(select(Entitlement).where(Entitlement.id == new_id)).scalar_one(),
                              spare, later, "tech@test")
    admin.put("/api/v1/warranty/settings", json={"replacement_policy": "keep"},
              headers={"If-Match": admin.get("/api/v1/warranty/settings").headers["ETag"]})
