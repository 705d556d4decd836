"""A purchaser keeps the catalog: categories, products, price lists, imports; every change is announced."""

import io
import uuid

import pytest
from erp.db import outbox
from shared_events import contracts
from sqlalchemy import select

pytestmark = pytest.mark.db


def tag() -> str:
    return uuid.uuid4().hex[:8]


def events_about(app, aggregate_id):
    with app.extensions["erp.db"].sessions() as s:
        rows = s.execute(select(outbox.c.type, outbox.c.payload).where(outbox.c.aggregateid == str(aggregate_id))
                         .order_by(outbox.c.id)).all()
    for r in rows:
        contracts.validate(r.type, r.payload["data"])  # what the CRM will receive follows the contract
    return [(r.type, r.payload) for r in rows]


def product(client, **over):
    body = {"sku": f"SKU-{tag()}", "name": f"Widget {tag()}", "sale_price": "10.00", **over}
    r = client.post("/api/v1/products", json=body)
    assert r.status_code == 201, r.json
    return r.json


def test_a_category_tree_whose_paths_follow_renames_and_moves(app, client):
    root = client.post("/api/v1/categories", json={"name": f"Hardware {tag()}"}).json
    laptops = client.post("/api/v1/categories", json={"name": "Laptops", "parent_id": root["id"]}).json
    gaming = client.post("/api/v1/categories", json={"name": "Gaming", "parent_id": laptops["id"]}).json
    assert gaming["path"] == f"{root['name']} / Laptops / Gaming"
    p = product(client, category_id=gaming["id"])
    dup = client.post("/api/v1/categories", json={"name": "laptops", "parent_id": root["id"]})
    assert dup.status_code == 409
    cycle = client.patch(f"/api/v1/categories/{root['id']}", json={"parent_id": gaming["id"]},
                         headers={"If-Match": '"1"'})
    assert cycle.status_code == 422 and cycle.json["errors"][0]["field"] == "parent_id"
    renamed = client.patch(f"/api/v1/categories/{laptops['id']}", json={"name": "Notebooks"},
                           headers={"If-Match": '"1"'})
    assert renamed.status_code == 200 and renamed.json["path"] == f"{root['name']} / Notebooks"
    assert client.get(f"/api/v1/categories/{gaming['id']}").json["path"] == f"{root['name']} / Notebooks / Gaming"
    # the product's announced state carries the new path, so the CRM's copy follows
    last_type, last = events_about(app, p["id"])[-1]
    assert last_type == "erp.product.updated" and last["data"]["category_path"].endswith("Notebooks / Gaming")
    assert [t for t, _ in events_about(app, gaming["id"])] == ["erp.category.created", "erp.category.updated"]


def test_products_are_created_validated_searched_and_announced(app, client):
    cat = client.post("/api/v1/categories", json={"name": f"Tools {tag()}"}).json
    sku = f"DRL-{tag()}"
    p = product(client, sku=sku, name="Cordless drill", category_id=cat["id"], cost="55.5", sale_price="99.90",
                tax_rate="0.2", warranty_months=24, uom="unit")
    assert p["sale_price"] == "99.9000" and p["tax_rate"] == "0.2000" and p["version"] == 1
    assert client.post("/api/v1/products", json={"sku": sku.lower(), "name": "Dup"}).status_code == 409
    bad = client.post("/api/v1/products", json={"sku": "bad sku!", "name": "", "sale_price": "-1",
                                                "tax_rate": "1.5", "kind": "gift"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json["errors"]} >= {"sku", "name", "sale_price", "tax_rate", "kind"}
    found = client.get("/api/v1/products", query_string={"q": sku.lower(), "category_id": cat["id"]}).json
    assert [x["id"] for x in found["items"]] == [p["id"]]
    (etype, payload), = events_about(app, p["id"])
    assert etype == "erp.product.created" and payload["data"]["sale_price"] == "99.9"
    assert payload["data"]["category_path"] == cat["path"] and payload["attributes"]["sequence"] == "1"


def test_deactivating_a_product_needs_if_match_and_hides_it(app, client):
    p = product(client)
    url = f"/api/v1/products/{p['id']}"
    assert client.patch(url, json={"active": False}).status_code == 428
    r = client.patch(url, json={"active": False}, headers={"If-Match": '"1"'})
    assert r.status_code == 200 and r.json["version"] == 2
    assert client.get("/api/v1/products", query_string={"q": p["sku"]}).json["total"] == 0
    assert client.get("/api/v1/products", query_string={"q": p["sku"], "active": "false"}).json["total"] == 1
    assert [t for t, _ in events_about(app, p["id"])] == ["erp.product.created", "erp.product.updated"]


def test_price_lists_resolve_customer_group_and_quantity_breaks(client, deliver):
    from shared_events.testing import party_state
    p = product(client, sale_price="100")
    customer = party_state(roles=["customer"], version=1)
    deliver("created", customer)
    assert client.patch(f"/api/v1/parties/{customer['id']}", json={"customer_group": "wholesale"},
                        headers={"If-Match": '"0"'}).status_code == 200
    group = "wholesale"
    client.post("/api/v1/price-lists", json={"name": "Wholesale", "customer_group": group, "items": [
        {"product_id": p["id"], "min_quantity": "1", "price": "90"},
        {"product_id": p["id"], "min_quantity": "50", "price": "80"}]})
    own = client.post("/api/v1/price-lists", json={"name": "Deal", "party_id": customer["id"],
                                                   "valid_from": "2020-01-01", "valid_to": "2020-12-31",
                                                   "items": [{"product_id": p["id"], "price": "70"}]}).json

    def price(**q):
        return client.get(f"/api/v1/products/{p['id']}/price", query_string=q).json

    assert price(quantity=5)["unit_price"] == "100.0000"  # nobody in particular: base price
    assert price(party_id=customer["id"], quantity=5)["source"] == "group"
    assert price(party_id=customer["id"], quantity=60)["unit_price"] == "80.0000"
    deal = price(party_id=customer["id"], quantity=1, date="2020-06-01")  # inside the deal's validity
    assert (deal["unit_price"], deal["source"], deal["price_list_id"]) == ("70.0000", "customer", own["id"])
    both = client.post("/api/v1/price-lists", json={"name": "x", "customer_group": "a", "party_id": customer["id"]})
    assert both.status_code == 422


def test_import_products_from_csv_with_mapping_dry_run_and_row_errors(client):
    t = tag()
    csv_text = (f"Article;Designation;Price;Category\n"
                f"A-{t};Stapler;12,50;Office {t} / Desk\n"
                f"B-{t};;3;Office {t} / Desk\n"
                f"C-{t};Paper;not-a-price;\n")
    mapping = '{"Article": "sku", "Designation": "name", "Price": "sale_price", "Category": "category"}'

    def upload(**q):
        return client.post("/api/v1/products/import", query_string={"mapping": mapping, **q},
                           data={"file": (io.BytesIO(csv_text.encode()), "products.csv")},
                           content_type="multipart/form-data")

    no_categories = upload(dry_run="true")
    assert no_categories.json["created"] == 0 and no_categories.json["errors"][0]["field"] == "category"
    dry = upload(dry_run="true", create_categories="true").json
    assert dry["created"] == 1 and {(e["row"], e["field"]) for e in dry["errors"]} == {(3, "name"), (4, "sale_price")}
    assert client.get("/api/v1/products", query_string={"q": f"A-{t}"}).json["total"] == 0  # a dry run changes nothing
    real = upload(create_categories="true").json
    assert real["created"] == 1
    (stapler,) = client.get("/api/v1/products", query_string={"q": f"A-{t}"}).json["items"]
    assert stapler["sale_price"] == "12.5000"
    again = upload(on_duplicate="skip").json
    assert again["skipped"] == 1 and again["created"] == 0


def test_import_from_xlsx_updates_existing_products(client):
    from openpyxl import Workbook
    p = product(client, sale_price="5")
    wb = Workbook()
    ws = wb.active
    ws.append(["sku", "name", "sale_price", "warranty_months"])
    ws.append([p["sku"], "Renamed", 7.25, 12])
    buf = io.BytesIO()
    wb.save(buf)
    r = client.post("/api/v1/products/import", query_string={"on_duplicate": "update"},
                    data={"file": (io.BytesIO(buf.getvalue()), "p.xlsx")}, content_type="multipart/form-data")
    assert r.status_code == 200 and r.json["updated"] == 1, r.json
    got = client.get(f"/api/v1/products/{p['id']}").json
    assert got["name"] == "Renamed" and got["sale_price"] == "7.2500" and got["warranty_months"] == 12


def test_catalog_permissions(as_user):
    clerk, purchaser, auditor = as_user("warehouse_clerk"), as_user("purchaser"), as_user("auditor")
    body = {"sku": f"P-{tag()}", "name": "x"}
    assert clerk.post("/api/v1/products", json=body).status_code == 403
    assert purchaser.post("/api/v1/products", json=body).status_code == 201
    assert auditor.get("/api/v1/products").status_code == 200
    assert auditor.post("/api/v1/categories", json={"name": "no"}).status_code == 403
