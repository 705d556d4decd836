"""The catalog flows ERP → CRM over the real broker: the CRM quotes from the ERP's products, prices and stock
without owning them."""

import uuid

import pytest

from .conftest import wait_until

pytestmark = pytest.mark.integration


def erp_post(stack, path, body, expect=201):
    r = stack.erp_http.post(stack.erp + path, json=body, timeout=10)
    assert r.status_code == expect, r.text
    return r.json()


def crm_product(stack, product_id, version=1):
    def seen():
        r = stack.crm_http.get(f"{stack.crm}/api/v1/catalog/products/{product_id}", timeout=5)
        return r.json() if r.status_code == 200 and r.json()["version"] >= version else None
    return wait_until(seen, 30, 0.1, f"product {product_id} v{version} in the CRM catalog")


def test_a_product_created_in_the_erp_is_quoted_from_in_the_crm(stack):
    t = uuid.uuid4().hex[:8]
    root = erp_post(stack, "/api/v1/categories", {"name": f"Furniture {t}"})
    chairs = erp_post(stack, "/api/v1/categories", {"name": "Chairs", "parent_id": root["id"]})
    p = erp_post(stack, "/api/v1/products", {"sku": f"CH-{t}", "name": "Ergonomic chair", "category_id": chairs["id"],
                                             "sale_price": "240.00", "tax_rate": "0.2", "warranty_months": 36})
    got = crm_product(stack, p["id"])
    assert got["sku"] == f"CH-{t}" and got["category_path"] == f"Furniture {t} / Chairs"
    assert got["price"]["sale_price"] == "240.0000" and got["warranty_months"] == 36
    assert got["availability"]["available"] == "0.0000"  # nothing in stock yet
    found = stack.crm_http.get(stack.crm + "/api/v1/catalog/products",
                               params={"category_id": root["id"], "q": t}, timeout=5).json()
    assert [x["id"] for x in found["items"]] == [p["id"]]

    # a price list with a quantity break in the ERP is what the CRM quotes with
    erp_post(stack, "/api/v1/price-lists", {"name": f"Volume {t}", "items": [
        {"product_id": p["id"], "min_quantity": "10", "price": "200.00"}]})
    quote = wait_until(lambda: (r := stack.crm_http.get(f"{stack.crm}/api/v1/catalog/products/{p['id']}/price",
                                                        params={"quantity": "12"}, timeout=5).json())
                       and r.get("source") == "general" and r, 30, 0.2, "the price list in the CRM")
    assert quote["unit_price"] == "200.0000"

    # renaming the category in the ERP re-announces the product with its new path
    r = stack.erp_http.patch(f"{stack.erp}/api/v1/categories/{root['id']}", json={"name": f"Office {t}"},
                             headers={"If-Match": '"1"'}, timeout=10)
    assert r.status_code == 200
    assert crm_product(stack, p["id"], 2)["category_path"] == f"Office {t} / Chairs"

    # and the CRM refuses to edit what it does not own, pointing at the ERP
    refused = stack.crm_http.patch(f"{stack.crm}/api/v1/catalog/products/{p['id']}", json={"name": "x"}, timeout=5)
    assert refused.status_code == 405 and refused.headers["content-type"] == "application/problem+json"
    assert f"{stack.erp}/api/v1/products/{p['id']}" in refused.json()["detail"]


def test_restocking_in_the_erp_shows_availability_in_the_crm_catalog(stack):
    t = uuid.uuid4().hex[:6].upper()
    p = erp_post(stack, "/api/v1/products", {"sku": f"DESK-{t}", "name": "Standing desk", "sale_price": "499"})
    wh = erp_post(stack, "/api/v1/warehouses", {"code": f"W{t}", "name": f"Warehouse {t}"})
    erp_post(stack, "/api/v1/stock/moves", {"kind": "receipt", "product_id": p["id"], "warehouse_id": wh["id"],
                                            "quantity": "12", "unit_cost": "300", "reference": "restock"})
    erp_post(stack, "/api/v1/stock/moves", {"kind": "delivery", "product_id": p["id"], "warehouse_id": wh["id"],
                                            "quantity": "2", "reference": "counter sale"})

    def stocked():
        r = stack.crm_http.get(f"{stack.crm}/api/v1/catalog/products/{p['id']}", timeout=5)
        return r.status_code == 200 and r.json()["availability"]["available"] == "10.0000" and r.json()
    got = wait_until(stocked, 30, 0.2, "10 available in the CRM catalog")
    (per_warehouse,) = got["availability"]["warehouses"]
    assert per_warehouse["code"] == f"W{t}" and per_warehouse["on_hand"] == "10.0000"
    listed = stack.crm_http.get(stack.crm + "/api/v1/catalog/products", params={"q": f"DESK-{t}",
                                                                                "available_only": "true"}, timeout=5)
    assert [x["id"] for x in listed.json()["items"]] == [p["id"]]
