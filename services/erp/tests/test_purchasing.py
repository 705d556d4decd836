"""A purchaser orders from a CRM supplier, a warehouse clerk receives the goods into stock, an accountant checks
the supplier's bill against what was ordered and received, and approves it."""

import re
import threading
import uuid
from datetime import date
from decimal import Decimal

import pytest
from erp.catalog.models import Product
from erp.purchasing.models import GoodsReceiptLine
from erp.stock.models import Location, Warehouse
from shared_events.testing import party_state
from sqlalchemy import select

pytestmark = pytest.mark.db

PO = "/api/v1/purchase-orders"
BILLS = "/api/v1/supplier-bills"


def tag() -> str:
    return uuid.uuid4().hex[:8]


def sessions(app):
    return app.extensions["erp.db"].sessions


def party(deliver, roles=("supplier",), status="active") -> str:
    name = f"Globex {tag()}"
    s = party_state(display_name=name, legal_name=name, version=1, roles=list(roles), status=status)
    assert deliver("created", s)[0] == "applied"
    return s["id"]


def product(app, kind="stockable", cost="5.00", tax_rate="0.2", active=True, currency="EUR") -> str:
    """Products go straight into the table: the catalog API is not what these tests are about."""
    with sessions(app).begin() as s:
        p = Product(sku=f"P-{tag()}", name=f"Part {tag()}", kind=kind, cost=Decimal(cost), tax_rate=Decimal(tax_rate),
                    active=active, currency=currency, sale_price=Decimal("0"), version=1)
        s.add(p)
        s.flush()
        return p.id


def warehouse(app) -> dict:
    with sessions(app).begin() as s:
        w = Warehouse(code=f"W{tag()}".upper(), name="Main", active=True, version=1)
        s.add(w)
        s.flush()
        stock = Location(warehouse_id=w.id, code="STOCK", name="Stock", path="STOCK", is_default=True, active=True)
        shelf = Location(warehouse_id=w.id, code="A1", name="Shelf A1", path="STOCK/A1", active=True)
        s.add_all([stock, shelf])
        s.flush()
        return {"id": w.id, "stock": stock.id, "shelf": shelf.id}


def on_hand(reader, product_id, warehouse_id, location_id=None) -> Decimal:
    """What the stock API says is on hand in a warehouse (or at one of its locations)."""
    args = {"product_id": product_id, "warehouse_id": warehouse_id, "include_zero": True}
    if location_id:
        args.update(by="location", location_id=location_id)
    r = reader.get("/api/v1/stock/levels", query_string=args)
    assert r.status_code == 200, r.json
    return sum((Decimal(row["on_hand"]) for row in r.json["items"]), Decimal("0"))


@pytest.fixture
def world(app, deliver):
    """A supplier replicated from the CRM, a warehouse, a stockable and a consumable product."""
    return {"supplier": party(deliver), "warehouse": warehouse(app),
            "bolt": product(app, cost="0.335", tax_rate="0.21"), "screen": product(app, cost="120.00"),
            "gloves": product(app, kind="consumable", cost="2.50")}


@pytest.fixture
def purchaser(as_user):
    return as_user("purchaser")


@pytest.fixture
def clerk(as_user):
    return as_user("warehouse_clerk")


def order_body(world, **over):
    return {"supplier_id": world["supplier"], "warehouse_id": world["warehouse"]["id"],
            "expected_date": "2031-05-01", "lines": [
                {"product_id": world["bolt"], "quantity": "3"},
                {"product_id": world["screen"], "quantity": "10", "unit_price": "119.99", "tax_rate": "0.2"},
            ], **over}


def sent_order(purchaser, world, **over) -> dict:
    po = purchaser.post(PO, json=order_body(world, **over))
    assert po.status_code == 201, po.json
    sent = purchaser.post(f"{PO}/{po.json['id']}/send")
    assert sent.status_code == 200, sent.json
    return sent.json


def fields_of(r) -> set[str]:
    assert r.status_code == 422 and r.content_type == "application/problem+json", (r.status_code, r.json)
    return {e["field"] for e in r.json["errors"]}


# -- purchase orders -----------------------------------------------------------------------------

def test_a_purchaser_orders_from_a_supplier_replicated_from_the_crm(as_user, purchaser, world):
    r = purchaser.post(PO, json=order_body(world))
    assert r.status_code == 201, r.json
    po = r.json
    assert re.fullmatch(rf"PO-{date.today().year}-\d{{5,}}", po["number"])
    assert r.headers["Location"] == f"{PO}/{po['id']}" and r.headers["ETag"] == '"1"'
    assert po["state"] == "draft" and po["supplier"]["id"] == world["supplier"]
    assert po["supplier"]["display_name"].startswith("Globex") and po["currency"] == "EUR"
    bolt, screen = po["lines"]
    # unit price and tax rate default to the product's cost and tax rate; 3 x 0.335 = 1.005 rounds up to 1.01
    assert (bolt["unit_price"], bolt["tax_rate"], bolt["subtotal"], bolt["tax"], bolt["total"]) == (
        "0.3350", "0.2100", "1.01", "0.21", "1.22")
    assert bolt["description"].startswith("Part ") and bolt["quantity_remaining"] == "3.0000"
    assert (screen["subtotal"], screen["tax"], screen["total"]) == ("1199.90", "239.98", "1439.88")
    assert (po["subtotal"], po["tax_total"], po["total"]) == ("1200.91", "240.19", "1441.10")
    assert "send" in po["allowed_actions"] and "receive" not in po["allowed_actions"]

    got = purchaser.get(f"{PO}/{po['id']}")
    assert got.status_code == 200 and got.headers["ETag"] == '"1"' and got.json["lines"] == po["lines"]
    page = purchaser.get(PO, query_string={"supplier_id": world["supplier"]}).json
    assert [p["number"] for p in page["items"]] == [po["number"]] and page["items"][0]["total"] == "1441.10"

    trail = as_user("auditor").get("/api/v1/audit", query_string={"entity_type": "purchase_order",
                                                                 "entity_id": po["id"]}).json["items"]
    assert [(e["action"], e["actor_id"]) for e in trail] == [("create", purchaser.user["id"])]


def test_only_active_suppliers_and_purchasable_products_are_accepted(app, deliver, purchaser, world):
    customer = party(deliver, roles=["customer"])
    r = purchaser.post(PO, json=order_body(world, supplier_id=customer))
    assert fields_of(r) == {"supplier_id"} and "not a supplier" in r.json["detail"]
    archived = party(deliver, status="archived")
    assert fields_of(purchaser.post(PO, json=order_body(world, supplier_id=archived))) == {"supplier_id"}
    unknown = purchaser.post(PO, json=order_body(world, supplier_id=str(uuid.uuid4())))
    assert fields_of(unknown) == {"supplier_id"} and "created in the CRM" in unknown.json["detail"]

    service = product(app, kind="service")
    inactive = product(app, active=False)
    lines = [{"product_id": world["bolt"], "quantity": "1"}, {"product_id": service, "quantity": "1"}]
    r = purchaser.post(PO, json=order_body(world, lines=lines))
    assert fields_of(r) == {"lines.1.product_id"} and "service" in r.json["detail"]
    r = purchaser.post(PO, json=order_body(world, lines=[{"product_id": inactive, "quantity": "1"}]))
    assert fields_of(r) == {"lines.0.product_id"} and "inactive" in r.json["detail"]
    usd = product(app, currency="USD")
    r = purchaser.post(PO, json=order_body(world, lines=[{"product_id": usd, "quantity": "1", "unit_price": "9"}]))
    assert fields_of(r) == {"lines.0.product_id"} and "valued in USD" in r.json["detail"]
    usd_consumable = product(app, kind="consumable", currency="USD")
    r = purchaser.post(PO, json=order_body(world, lines=[{"product_id": usd_consumable, "quantity": "1"}]))
    assert fields_of(r) == {"lines.0.unit_price"}
    assert purchaser.post(PO, json=order_body(world, lines=[{"product_id": usd_consumable, "quantity": "1",
                                                             "unit_price": "9"}])).status_code == 201

    bad = purchaser.post(PO, json=order_body(world, currency="euro", warehouse_id=str(uuid.uuid4()), lines=[
        {"product_id": world["bolt"], "quantity": "0", "unit_price": "-1", "tax_rate": "1.5"},
        {"product_id": world["bolt"], "quantity": "1.00001"}], extra="x"))
    assert fields_of(bad) == {"currency", "lines.0.quantity", "lines.0.unit_price", "lines.0.tax_rate",
                              "lines.1.quantity", "extra"}
    assert fields_of(purchaser.post(PO, json=order_body(world, warehouse_id=str(uuid.uuid4())))) == {"warehouse_id"}
    r = purchaser.post(PO, json=order_body(world, order_date="2031-06-01", expected_date="2031-05-01"))
    assert fields_of(r) == {"expected_date"}
    assert fields_of(purchaser.post(PO, json=order_body(world, lines=[]))) == {"lines"}
    assert purchaser.get(PO, query_string={"supplier_id": world["supplier"]}).json["total"] == 1


def test_a_retried_create_with_the_same_idempotency_key_makes_one_order(purchaser, world):
    key = {"Idempotency-Key": f"po-{tag()}"}
    first = purchaser.post(PO, json=order_body(world), headers=key)
    again = purchaser.post(PO, json=order_body(world), headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json["id"] == first.json["id"] and again.json["number"] == first.json["number"]
    assert purchaser.get(PO, query_string={"supplier_id": world["supplier"]}).json["total"] == 1
    other = purchaser.post(PO, json=order_body(world, notes="different"), headers=key)
    assert other.status_code == 422 and other.json["type"].endswith("idempotency-key-reused")


def test_a_draft_is_edited_with_if_match_and_its_lines_are_fixed_once_sent(purchaser, world):
    po = purchaser.post(PO, json=order_body(world)).json
    url = f"{PO}/{po['id']}"
    assert purchaser.patch(url, json={"notes": "x"}).status_code == 428
    r = purchaser.patch(url, json={"lines": [{"product_id": world["screen"], "quantity": "2", "unit_price": "100"}],
                                   "notes": "call before delivery"}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.headers["ETag"] == '"2"'
    assert [(line["quantity"], line["total"]) for line in r.json["lines"]] == [("2.0000", "240.00")]
    assert r.json["total"] == "240.00" and r.json["notes"] == "call before delivery"
    stale = purchaser.patch(url, json={"notes": "y"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and stale.headers["ETag"] == '"2"'
    usd = purchaser.patch(url, json={"currency": "USD"}, headers={"If-Match": '"2"'})
    assert fields_of(usd) == {"lines.0.product_id"} and "valued in EUR" in usd.json["detail"]

    assert purchaser.post(f"{url}/send", headers={"If-Match": '"1"'}).status_code == 412
    sent = purchaser.post(f"{url}/send", headers={"If-Match": '"2"'})
    assert sent.status_code == 200 and sent.json["state"] == "sent" and sent.json["sent_at"]
    r = purchaser.patch(url, json={"lines": [{"product_id": world["screen"], "quantity": "5"}]},
                        headers={"If-Match": '"3"'})
    assert r.status_code == 409 and r.content_type == "application/problem+json"
    assert r.json["current_state"] == "sent" and r.json["allowed_states"] == ["draft"]
    assert "is sent" in r.json["detail"] and "draft" in r.json["detail"]
    # the supplier confirms a later date: that may still change
    r = purchaser.patch(url, json={"expected_date": "2031-06-15"}, headers={"If-Match": '"3"'})
    assert r.status_code == 200 and r.json["expected_date"] == "2031-06-15"
    assert r.json["lines"][0]["quantity"] == "2.0000"
    again = purchaser.post(f"{url}/send")
    assert again.status_code == 409 and again.json["current_state"] == "sent"


def test_cancelling_a_draft_a_sent_order_or_what_has_not_arrived(purchaser, clerk, world):
    draft = purchaser.post(PO, json=order_body(world)).json
    r = purchaser.post(f"{PO}/{draft['id']}/cancel", json={"reason": "duplicate"})
    assert r.status_code == 200 and r.json["state"] == "cancelled" and r.json["cancel_reason"] == "duplicate"
    assert purchaser.post(f"{PO}/{draft['id']}/send").json["current_state"] == "cancelled"

    sent = sent_order(purchaser, world)
    assert purchaser.post(f"{PO}/{sent['id']}/cancel").json["state"] == "cancelled"

    partly = sent_order(purchaser, world)
    bolt, screen = partly["lines"]
    assert clerk.post(f"{PO}/{partly['id']}/receipts", json={"lines": [
        {"po_line_id": screen["id"], "quantity": "4"}]}).status_code == 201
    r = purchaser.post(f"{PO}/{partly['id']}/cancel", json={"reason": "supplier out of stock"})
    assert r.status_code == 200 and r.json["state"] == "received"
    got = {line["id"]: line for line in r.json["lines"]}
    assert (got[screen["id"]]["quantity_cancelled"], got[screen["id"]]["quantity_remaining"]) == ("6.0000", "0.0000")
    assert got[bolt["id"]]["quantity_cancelled"] == "3.0000"
    late = clerk.post(f"{PO}/{partly['id']}/receipts", json={"lines": [{"po_line_id": screen["id"], "quantity": "1"}]})
    assert late.status_code == 409 and late.json["current_state"] == "received"
    again = purchaser.post(f"{PO}/{partly['id']}/cancel")
    assert again.status_code == 409 and again.json["allowed_states"] == ["draft", "sent", "partially_received"]


# -- goods receipts ------------------------------------------------------------------------------

def test_goods_are_received_in_parts_into_stock_at_the_order_price(app, as_user, purchaser, clerk, world):
    lines = [{"product_id": world["screen"], "quantity": "10", "unit_price": "119.99"},
             {"product_id": world["gloves"], "quantity": "100"}]
    po = sent_order(purchaser, world, lines=lines)
    screen, gloves = po["lines"]
    wh = world["warehouse"]
    url = f"{PO}/{po['id']}/receipts"

    first = clerk.post(url, json={"lines": [{"po_line_id": screen["id"], "quantity": "4", "location_id": wh["shelf"]},
                                            {"po_line_id": gloves["id"], "quantity": "100"}], "note": "2 pallets"},
                       headers={"Idempotency-Key": f"gr-{tag()}"})
    assert first.status_code == 201, first.json
    assert re.fullmatch(rf"GR-{date.today().year}-\d{{5,}}", first.json["number"])
    got = {line["po_line_id"]: line for line in first.json["lines"]}
    assert got[screen["id"]]["stock_move_id"] and got[screen["id"]]["unit_cost"] == "119.9900"
    assert got[gloves["id"]]["stock_move_id"] is None  # consumables are received without stock
    assert on_hand(clerk, world["screen"], wh["id"]) == Decimal("4")
    assert on_hand(clerk, world["screen"], wh["id"], wh["shelf"]) == Decimal("4")
    assert on_hand(clerk, world["gloves"], wh["id"]) == Decimal("0")
    move = clerk.get(f"/api/v1/stock/moves/{got[screen['id']]['stock_move_id']}").json
    assert (move["kind"], Decimal(move["quantity"]), Decimal(move["unit_cost"]), move["to_location_id"]) == (
        "receipt", Decimal("4"), Decimal("119.99"), wh["shelf"])
    assert move["source_type"] == "purchase_receipt" and move["source_id"] == got[screen["id"]]["id"]
    assert move["party_id"] == world["supplier"] and move["reference"] == f"{po['number']} / {first.json['number']}"
    assert Decimal(move["value"]) == Decimal("479.96")

    state = purchaser.get(f"{PO}/{po['id']}").json
    assert state["state"] == "partially_received" and state["version"] == 3
    assert [(line["quantity_received"], line["quantity_remaining"]) for line in state["lines"]] == [
        ("4.0000", "6.0000"), ("100.0000", "0.0000")]

    too_many = clerk.post(url, json={"lines": [{"po_line_id": screen["id"], "quantity": "7"}]})
    assert fields_of(too_many) == {"lines.0.quantity"} and "at most 6 remain" in too_many.json["detail"]
    other = sent_order(purchaser, world)
    foreign = clerk.post(url, json={"lines": [{"po_line_id": other["lines"][0]["id"], "quantity": "1"}]})
    assert fields_of(foreign) == {"lines.0.po_line_id"}
    elsewhere = warehouse(app)
    r = clerk.post(url, json={"lines": [{"po_line_id": screen["id"], "quantity": "1",
                                         "location_id": elsewhere["shelf"]}]})
    assert fields_of(r) == {"lines.0.location_id"}

    rest = clerk.post(url, json={"lines": [{"po_line_id": screen["id"], "quantity": "6"}]})
    assert rest.status_code == 201
    assert rest.json["lines"][0]["location_id"] == wh["stock"]  # the warehouse's default location
    assert on_hand(clerk, world["screen"], wh["id"]) == Decimal("10")
    valuation = as_user("accountant").get("/api/v1/stock/valuation", query_string={"product_id": world["screen"]})
    (row,) = valuation.json["items"]
    assert (Decimal(row["quantity"]), Decimal(row["value"])) == (Decimal("10"), Decimal("1199.90"))
    done = purchaser.get(f"{PO}/{po['id']}").json
    assert done["state"] == "received" and "receive" not in done["allowed_actions"]
    receipts = clerk.get(url).json
    assert [r["number"] for r in receipts] == [first.json["number"], rest.json["number"]]
    more = clerk.post(url, json={"lines": [{"po_line_id": screen["id"], "quantity": "1"}]})
    assert more.status_code == 409 and more.json["current_state"] == "received"
    assert more.json["allowed_states"] == ["sent", "partially_received"]


def test_a_retried_receipt_does_not_receive_twice(app, purchaser, clerk, world):
    po = sent_order(purchaser, world)
    screen = po["lines"][1]
    key = {"Idempotency-Key": f"gr-{tag()}"}
    body = {"lines": [{"po_line_id": screen["id"], "quantity": "5"}]}
    first = clerk.post(f"{PO}/{po['id']}/receipts", json=body, headers=key)
    again = clerk.post(f"{PO}/{po['id']}/receipts", json=body, headers=key)
    assert first.status_code == again.status_code == 201 and again.json["id"] == first.json["id"]
    assert on_hand(clerk, world["screen"], world["warehouse"]["id"]) == Decimal("5")
    with sessions(app)() as s:
        assert len(s.execute(select(GoodsReceiptLine).where(GoodsReceiptLine.po_line_id == screen["id"])).all()) == 1


def test_two_clerks_receiving_the_same_goods_at_once_cannot_receive_them_twice(as_user, purchaser, world):
    po = sent_order(purchaser, world)
    screen = po["lines"][1]
    clerks = [as_user("warehouse_clerk") for _ in range(2)]
    start = threading.Barrier(2)
    answers = []

    def receive(c):
        start.wait()
        answers.append(c.post(f"{PO}/{po['id']}/receipts", json={"lines": [{"po_line_id": screen["id"],
                                                                           "quantity": "10"}]}).status_code)

    threads = [threading.Thread(target=receive, args=(c,)) for c in clerks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) == [201, 422]  # the second waits for the first, then finds nothing left
    assert on_hand(clerks[0], world["screen"], world["warehouse"]["id"]) == Decimal("10")


def test_goods_cannot_arrive_for_a_draft(purchaser, clerk, world):
    po = purchaser.post(PO, json=order_body(world)).json
    r = clerk.post(f"{PO}/{po['id']}/receipts", json={"lines": [{"po_line_id": po["lines"][0]["id"], "quantity": "1"}]})
    assert r.status_code == 409 and r.json["current_state"] == "draft"
    assert "receive is allowed only when sent or partially_received" in r.json["detail"]


# -- supplier bills ------------------------------------------------------------------------------

def bill_body(world, lines, **over):
    return {"supplier_id": world["supplier"], "supplier_invoice_number": f"INV-{tag()}", "bill_date": "2031-05-10",
            "currency": "EUR", "lines": lines, **over}


def test_from_order_to_approved_bill_with_a_price_difference(as_user, purchaser, clerk, accountant, world):
    po = sent_order(purchaser, world)
    bolt, screen = po["lines"]
    url = f"{PO}/{po['id']}/receipts"
    clerk.post(url, json={"lines": [{"po_line_id": screen["id"], "quantity": "10"}]})
    clerk.post(url, json={"lines": [{"po_line_id": bolt["id"], "quantity": "3"}]})
    assert purchaser.get(f"{PO}/{po['id']}").json["state"] == "received"

    # the supplier bills the screens 1.01 above the order price
    r = accountant.post(BILLS, json=bill_body(world, [
        {"po_line_id": bolt["id"], "quantity": "3", "unit_price": "0.335"},
        {"po_line_id": screen["id"], "quantity": "10", "unit_price": "121.00"}]))
    assert r.status_code == 201, r.json
    bill = r.json
    assert re.fullmatch(rf"BILL-{date.today().year}-\d{{5,}}", bill["number"])
    assert bill["status"] == "awaiting_approval" and bill["match_status"] == "discrepancy"
    assert bill["due_date"] == "2031-06-09"  # 30 days of default payment terms
    assert (bill["subtotal"], bill["tax_total"], bill["total"]) == ("1211.01", "242.21", "1453.22")
    ok, off = bill["match"]["lines"]
    assert ok["status"] == "matched" and ok["differences"] == []
    assert off["status"] == "discrepancy" and off["purchase_order_number"] == po["number"]
    assert off["ordered"] == {"quantity": "10.0000", "unit_price": "119.9900", "amount": "1199.90"}
    assert off["received"] == {"quantity": "10.0000", "amount": "1199.90"}
    assert off["billed"] == {"quantity": "10.0000", "unit_price": "121.0000", "amount": "1210.00",
                             "previously_billed": "0.0000"}
    (diff,) = off["differences"]
    assert diff["code"] == "price_differs" and (diff["expected"], diff["actual"]) == ("119.9900", "121.0000")
    assert bill["match"]["tolerance"] == {"per_unit": "0.01", "percent": "0"}
    lines = {line["id"]: line for line in purchaser.get(f"{PO}/{po['id']}").json["lines"]}
    assert lines[screen["id"]]["quantity_billed"] == "10.0000"
    assert lines[screen["id"]]["quantity_billed_approved"] == "0.0000"

    approve = f"{BILLS}/{bill['id']}/approve"
    no_reason = accountant.post(approve, json={})
    assert fields_of(no_reason) == {"reason"} and "price_differs" in no_reason.json["detail"]
    ok = accountant.post(approve, json={"reason": "price increase agreed by phone"})
    assert ok.status_code == 200 and ok.json["status"] == "approved" and ok.headers["ETag"] == '"2"'
    assert ok.json["decision_reason"] == "price increase agreed by phone"
    assert ok.json["decided_by"].startswith("accountant-")
    assert purchaser.get(f"{PO}/{po['id']}").json["state"] == "billed"
    again = accountant.post(approve, json={"reason": "again"})
    assert again.status_code == 409 and again.json["current_state"] == "approved"
    assert again.json["allowed_states"] == ["awaiting_approval"]

    trail = as_user("auditor").get("/api/v1/audit", query_string={"entity_type": "supplier_bill",
                                                                 "entity_id": bill["id"]}).json["items"]
    assert [e["action"] for e in trail] == ["approve", "create"]
    assert trail[0]["changes"]["status"] == {"before": "awaiting_approval", "after": "approved"}
    assert trail[0]["actor_id"] == accountant.user["id"]


def test_a_bill_for_goods_not_yet_received_is_flagged_and_matches_once_they_arrive(purchaser, clerk, accountant,
                                                                                    world):
    po = sent_order(purchaser, world)
    bolt, screen = po["lines"]
    clerk.post(f"{PO}/{po['id']}/receipts", json={"lines": [{"po_line_id": screen["id"], "quantity": "6"}]})
    bill = accountant.post(BILLS, json=bill_body(world, [
        {"po_line_id": screen["id"], "quantity": "10", "unit_price": "119.99"},
        {"description": "Freight", "quantity": "1", "unit_price": "35"}])).json
    short, freight = bill["match"]["lines"]
    assert [d["code"] for d in short["differences"]] == ["quantity_exceeds_received"]
    assert "only 6 received of 10 ordered" in short["differences"][0]["message"]
    assert [d["code"] for d in freight["differences"]] == ["no_purchase_order"] and freight["po_line_id"] is None
    assert accountant.get(BILLS, query_string={"supplier_id": world["supplier"], "match_status": "discrepancy"}
                          ).json["total"] == 1

    # a second bill for the same screens claims what the first already claims
    dup = accountant.post(BILLS, json=bill_body(world, [{"po_line_id": screen["id"], "quantity": "1",
                                                          "unit_price": "119.99"}])).json
    assert [d["code"] for d in dup["match"]["lines"][0]["differences"]] == ["quantity_exceeds_received"]
    assert dup["match"]["lines"][0]["billed"]["previously_billed"] == "10.0000"
    assert accountant.post(f"{BILLS}/{dup['id']}/reject", json={}).status_code == 422
    rejected = accountant.post(f"{BILLS}/{dup['id']}/reject", json={"reason": "double entry"})
    assert rejected.status_code == 200 and rejected.json["status"] == "rejected"

    clerk.post(f"{PO}/{po['id']}/receipts", json={"lines": [{"po_line_id": screen["id"], "quantity": "4"}]})
    # approval checks again: the screens now match; the freight still has no order, so a reason is needed
    r = accountant.post(f"{BILLS}/{bill['id']}/approve", json={"reason": "freight agreed on the quote"})
    assert r.status_code == 200
    assert [line["status"] for line in r.json["match"]["lines"]] == ["matched", "discrepancy"]
    # bolts are not received nor billed yet: the order stays partially received
    assert purchaser.get(f"{PO}/{po['id']}").json["state"] == "partially_received"


def test_a_matching_bill_is_approved_without_a_reason(purchaser, clerk, accountant, world):
    po = sent_order(purchaser, world, lines=[{"product_id": world["screen"], "quantity": "2", "unit_price": "100"}])
    clerk.post(f"{PO}/{po['id']}/receipts", json={"lines": [{"po_line_id": po["lines"][0]["id"], "quantity": "2"}]})
    bill = accountant.post(BILLS, json=bill_body(world, [{"po_line_id": po["lines"][0]["id"], "quantity": "2",
                                                          "unit_price": "100.01"}]), headers={"Idempotency-Key": tag()})
    assert bill.status_code == 201 and bill.json["match_status"] == "matched"  # within a cent per unit
    assert bill.json["lines"][0]["description"] == po["lines"][0]["description"]
    assert bill.json["lines"][0]["tax_rate"] == "0.2000"
    r = accountant.post(f"{BILLS}/{bill.json['id']}/approve")
    assert r.status_code == 200 and r.json["status"] == "approved" and r.json["decision_reason"] is None
    assert purchaser.get(f"{PO}/{po['id']}").json["state"] == "billed"
    assert accountant.get(f"{BILLS}/{bill.json['id']}").json["status"] == "approved"


def test_bills_are_checked_against_the_supplier_the_currency_and_their_invoice_number(deliver, purchaser, clerk,
                                                                                      accountant, world):
    po = sent_order(purchaser, world)
    line = po["lines"][1]
    body = bill_body(world, [{"po_line_id": line["id"], "quantity": "1", "unit_price": "119.99"}])
    assert accountant.post(BILLS, json=body).status_code == 201
    dup = accountant.post(BILLS, json={**body, "supplier_invoice_number": body["supplier_invoice_number"].lower()})
    assert dup.status_code == 409 and dup.json["errors"][0]["field"] == "supplier_invoice_number"

    other_supplier = party(deliver)
    r = accountant.post(BILLS, json=bill_body(world, body["lines"], supplier_id=other_supplier))
    assert fields_of(r) == {"lines.0.po_line_id"} and "another supplier" in r.json["detail"]
    assert fields_of(accountant.post(BILLS, json=bill_body(world, body["lines"], currency="USD"))) == {"currency"}
    r = accountant.post(BILLS, json=bill_body(world, body["lines"], due_date="2031-01-01"))
    assert fields_of(r) == {"due_date"}
    assert fields_of(accountant.post(BILLS, json=bill_body(world, [{"quantity": "1", "unit_price": "5"}]))) == {
        "lines.0.description"}
    customer = party(deliver, roles=["customer"])
    assert fields_of(accountant.post(BILLS, json=bill_body(world, body["lines"], supplier_id=customer))) == {
        "supplier_id"}
    draft = purchaser.post(PO, json=order_body(world)).json
    r = accountant.post(BILLS, json=bill_body(world, [{"po_line_id": draft["lines"][0]["id"], "quantity": "1",
                                                       "unit_price": "1"}]))
    assert r.status_code == 409 and r.json["current_state"] == "draft"


# -- lists ---------------------------------------------------------------------------------------

def test_orders_and_bills_are_listed_filtered_sorted_and_paginated(purchaser, clerk, accountant, world):
    a = purchaser.post(PO, json=order_body(world, order_date="2031-01-10")).json
    b = sent_order(purchaser, world, order_date="2031-02-10")
    c = sent_order(purchaser, world, order_date="2031-03-10")
    clerk.post(f"{PO}/{c['id']}/receipts", json={"lines": [{"po_line_id": c["lines"][0]["id"], "quantity": "1"}]})
    mine = {"supplier_id": world["supplier"]}

    page = purchaser.get(PO, query_string=mine).json
    assert [p["number"] for p in page["items"]] == [c["number"], b["number"], a["number"]]  # newest first
    assert "lines" not in page["items"][0]
    states = purchaser.get(PO, query_string={**mine, "state": ["draft", "partially_received"], "sort": "order_date"})
    assert [p["number"] for p in states.json["items"]] == [a["number"], c["number"]]
    ranged = purchaser.get(PO, query_string={**mine, "date_from": "2031-02-01", "date_to": "2031-02-28"}).json
    assert [p["number"] for p in ranged["items"]] == [b["number"]]
    assert purchaser.get(PO, query_string={**mine, "q": b["number"][-5:]}).json["items"][0]["id"] == b["id"]
    paged = purchaser.get(PO, query_string={**mine, "page_size": 2, "page": 2, "sort": "number"}).json
    assert (paged["total"], paged["pages"], [p["number"] for p in paged["items"]]) == (3, 2, [c["number"]])
    assert fields_of(purchaser.get(PO, query_string={"sort": "supplier"})) == {"sort"}
    assert fields_of(purchaser.get(PO, query_string={"state": "lost"})) == {"state.0"}

    line = c["lines"][0]["id"]
    first = accountant.post(BILLS, json=bill_body(world, [{"po_line_id": line, "quantity": "1",
                                                           "unit_price": "0.335"}])).json
    second = accountant.post(BILLS, json=bill_body(world, [{"po_line_id": line, "quantity": "1",
                                                            "unit_price": "0.335"}], bill_date="2031-05-11")).json
    assert first["match_status"] == "matched" and second["match_status"] == "discrepancy"
    bills = accountant.get(BILLS, query_string=mine).json
    assert [x["number"] for x in bills["items"]] == [second["number"], first["number"]]
    assert "match" not in bills["items"][0] and bills["items"][0]["supplier"]["id"] == world["supplier"]
    matched = accountant.get(BILLS, query_string={**mine, "match_status": "matched"}).json["items"]
    assert [x["id"] for x in matched] == [first["id"]]
    by_order = accountant.get(BILLS, query_string={"purchase_order_id": c["id"], "status": "awaiting_approval"})
    assert by_order.json["total"] == 2
    found = accountant.get(BILLS, query_string={"q": second["supplier_invoice_number"]}).json["items"]
    assert [x["id"] for x in found] == [second["id"]]


# -- who may do what -----------------------------------------------------------------------------

def test_purchasers_order_clerks_receive_accountants_bill(purchaser, clerk, accountant, as_user, world):
    assert clerk.post(PO, json=order_body(world)).status_code == 403
    assert accountant.post(PO, json=order_body(world)).status_code == 403
    po = sent_order(purchaser, world)
    receipt = {"lines": [{"po_line_id": po["lines"][1]["id"], "quantity": "1"}]}
    r = purchaser.post(f"{PO}/{po['id']}/receipts", json=receipt)
    assert r.status_code == 403 and r.json["missing_permission"] == "purchasing:receive"
    assert accountant.post(f"{PO}/{po['id']}/receipts", json=receipt).status_code == 403
    assert clerk.post(f"{PO}/{po['id']}/receipts", json=receipt).status_code == 201
    assert clerk.post(f"{PO}/{po['id']}/cancel").status_code == 403

    body = bill_body(world, [{"po_line_id": po["lines"][1]["id"], "quantity": "1", "unit_price": "119.99"}])
    assert purchaser.post(BILLS, json=body).status_code == 403
    assert clerk.post(BILLS, json=body).status_code == 403
    bill = accountant.post(BILLS, json=body)
    assert bill.status_code == 201
    assert purchaser.post(f"{BILLS}/{bill.json['id']}/approve").status_code == 403
    auditor = as_user("auditor")
    for reader in (purchaser, clerk, accountant, auditor):
        assert reader.get(f"{PO}/{po['id']}").status_code == 200
        assert reader.get(f"{BILLS}/{bill.json['id']}").status_code == 200
    assert auditor.post(f"{PO}/{po['id']}/cancel").status_code == 403
