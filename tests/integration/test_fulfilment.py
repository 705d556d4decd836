"""From won deal to installed product, across both services over the real broker: a deal for an oven made to order
from frames (in stock) and steel sheets (none, bought from a supplier) is won; the ERP accepts the order and plans
a work order and a draft purchase order; the purchaser sends it, the clerk receives it; the workshop makes the oven
(materials consumed, the oven received at their cost, the books balanced); it is delivered; the installation task's
public form is submitted; the deal shows it installed and the serials reach the ERP. Every event delivered again
changes nothing, and neither does rebuilding the CRM's fulfilment replica from its topic."""

import subprocess
import uuid
from decimal import Decimal

import pytest
import requests

from .conftest import BIN, wait_until
from .support import messages_about, ok, republish
from .test_quote_to_cash import wait_consumed

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 128


def test_a_won_deal_is_made_bought_delivered_and_installed(stack, bootstrap, mailbox):
    crm, erp = stack.crm_http, stack.erp_http
    t = uuid.uuid4().hex[:6].upper()

    # the ERP ships orders from its oldest active warehouse when no stock decides: the frames are there
    warehouses = ok(erp.get(stack.erp + "/api/v1/warehouses", params={"sort": "created_at", "page_size": 200},
                            timeout=10))["items"]
    warehouse = next((w for w in warehouses if w["active"]), None) or ok(erp.post(
        stack.erp + "/api/v1/warehouses", json={"code": f"F{t}", "name": f"Workshop {t}"}, timeout=10), 201)

    def product(sku, **body):
        return ok(erp.post(stack.erp + "/api/v1/products", json={"sku": f"{sku}-{t}", "name": f"{sku} {t}",
                                                                  "tax_rate": "0.2", **body}, timeout=10), 201)
    frame, sheet = product("FRAME", cost="4.00"), product("SHEET", cost="6.00")
    oven = product("OVEN", sale_price="900.00", allow_backorder=True)
    ok(erp.post(stack.erp + "/api/v1/stock/moves", json={
        "kind": "receipt", "product_id": frame["id"], "warehouse_id": warehouse["id"], "quantity": "2",
        "unit_cost": "4.00", "reference": "opening stock"}, timeout=10), 201)

    supplier = stack.create_party(kind="company", legal_name=f"Steelworks {t}", roles=["supplier"])
    customer = stack.create_party(kind="company", legal_name=f"Bakery {t}", roles=["customer"],
                                  emails=[{"value": f"chef-{t.lower()}@bakery.test"}])
    stack.wait_in_erp(supplier["id"])
    stack.wait_in_erp(customer["id"])
    ok(erp.put(f"{stack.erp}/api/v1/products/{sheet['id']}/supply", json={
        "procurement": "buy", "preferred_supplier_id": supplier["id"], "supplier_price": "7.50",
        "lead_time_days": 5}, timeout=10))
    ok(erp.put(f"{stack.erp}/api/v1/products/{oven['id']}/supply", json={
        "procurement": "make_to_order", "lead_time_days": 2,
        "components": [{"component_id": frame["id"], "quantity": "2"}, {"component_id": sheet["id"], "quantity": "3"}],
        "operations": [{"name": "Cut", "planned_hours": "2"}, {"name": "Weld", "planned_hours": "3"}]}, timeout=10))
    wait_until(lambda: crm.get(f"{stack.crm}/api/v1/catalog/products/{oven['id']}", timeout=5).status_code == 200,
               30, 0.2, "the oven in the CRM catalog")

    # the deal is won: a quote for one oven, sent and accepted
    deal = ok(crm.post(stack.crm + "/api/v1/deals", json={"name": f"Oven {t}", "party_id": customer["id"]},
                       timeout=10), 201)
    quote = ok(crm.post(stack.crm + "/api/v1/quotes", json={"deal_id": deal["id"], "lines": [
        {"product_id": oven["id"], "quantity": "1"}]}, timeout=10), 201)
    ok(crm.post(f"{stack.crm}/api/v1/quotes/{quote['id']}/send", json={}, timeout=30))
    crm_order_id = ok(crm.post(f"{stack.crm}/api/v1/quotes/{quote['id']}/accept", json={}, timeout=10))["order_id"]

    # the ERP accepts it and plans: a work order for the oven, the sheets on a draft purchase order
    (wo,) = wait_until(lambda: ok(erp.get(stack.erp + "/api/v1/work-orders", params={"deal_id": deal["id"]},
                                          timeout=5))["items"], 60, 0.3, "the work order in the ERP")
    (need,) = ok(erp.get(stack.erp + "/api/v1/purchase-needs", params={"deal_id": deal["id"]}, timeout=5))["items"]
    assert (wo["status"], need["status"], need["product_id"], need["quantity"]) == ("planned", "draft", sheet["id"],
                                                                                    "3")
    po = ok(erp.get(f"{stack.erp}/api/v1/purchase-orders/{need['purchase_order_id']}", timeout=5))
    assert (po["state"], po["supplier"]["id"], po["lines"][0]["unit_price"]) == ("draft", supplier["id"], "7.5000")

    # the salesperson sees it on the deal
    def panel(check, what):
        return wait_until(lambda: (p := ok(crm.get(f"{stack.crm}/api/v1/deals/{deal['id']}/fulfilment",
                                                   timeout=5))) and check(p) and p, 30, 0.3, what)
    seen = panel(lambda p: len(p["work_orders"]) == 1 and len(p["purchases"]) == 1, "the fulfilment panel")
    assert seen["work_orders"][0]["expected_date"] == wo["expected_date"]
    assert seen["stage"] == "waiting_for_materials"

    # bought and received; made: materials consumed, the oven received at their cost
    ok(erp.post(f"{stack.erp}/api/v1/purchase-orders/{po['id']}/send", json={}, timeout=10))
    ok(erp.post(f"{stack.erp}/api/v1/purchase-orders/{po['id']}/receipts", json={
        "lines": [{"po_line_id": po["lines"][0]["id"], "quantity": "3"}]}, timeout=10), 201)
    started = erp.post(f"{stack.erp}/api/v1/work-orders/{wo['id']}/start", headers={"If-Match": f'"{wo["version"]}"'},
                       timeout=10)
    assert started.status_code == 200, started.text
    done = ok(erp.post(f"{stack.erp}/api/v1/work-orders/{wo['id']}/complete",
                       headers={"If-Match": started.headers["ETag"]}, timeout=30))
    assert (done["status"], done["unit_cost"]) == ("done", "30.5")
    valuation = ok(erp.get(stack.erp + "/api/v1/stock/levels", params={"product_id": oven["id"]}, timeout=5))
    assert [(x["on_hand"], x["reserved"]) for x in valuation["items"]] == [("1.0000", "1.0000")]
    tb = ok(erp.get(stack.erp + "/api/v1/ledger/reports/trial-balance", timeout=10))
    assert tb["balanced"] and Decimal(tb["totals"]["debit"]) == Decimal(tb["totals"]["credit"])
    panel(lambda p: p["work_orders"][0]["status"] == "done" and p["purchases"][0]["status"] == "received"
          and p["stage"] == "ready", "the oven made, on the deal")

    # delivered: the installation starts, with a task
    order = ok(erp.get(stack.erp + "/api/v1/sales-orders", params={"crm_order_id": crm_order_id}, timeout=5))
    ok(erp.post(f"{stack.erp}/api/v1/sales-orders/{order['items'][0]['id']}/deliveries", json={}, timeout=10), 201)
    (inst,) = wait_until(lambda: ok(crm.get(f"{stack.crm}/api/v1/installations", params={"deal_id": deal["id"]},
                                            timeout=5)), 30, 0.3, "the installation to start")
    tasks = ok(crm.get(f"{stack.crm}/api/v1/tasks", params={"record_id": deal["id"]}, timeout=5))["items"]
    assert [x["status"] for x in tasks if x["id"] == inst["task_id"]] == ["open"]

    # the installer, without an account, submits the form through its link
    link = ok(crm.post(f"{stack.crm}/api/v1/installations/{inst['id']}/link", timeout=10))
    phone = requests.Session()
    assert phone.get(link["url"], headers={"Accept": "text/html"}, timeout=10).status_code == 200
    serials = [f"OV-{t}-1"]
    sent = phone.post(link["url"], data={"result": "done", "signed_by": "Jane Baker", "serials": serials[0]},
                      files={"photos": ("oven.png", PNG, "image/png")}, timeout=10)
    assert sent.status_code == 200, sent.text
    assert phone.post(link["url"], data={"result": "done", "signed_by": "Again"}, timeout=10).status_code == 404
    panel(lambda p: p["stage"] == "installed", "the deal installed")
    assert [x["status"] for x in ok(crm.get(f"{stack.crm}/api/v1/tasks", params={"record_id": deal["id"]},
                                            timeout=5))["items"] if x["id"] == inst["task_id"]] == ["done"]
    (record,) = wait_until(lambda: ok(erp.get(stack.erp + "/api/v1/installation-records",
                                              params={"serial": serials[0]}, timeout=5))["items"], 30, 0.3,
                           "the serials in the ERP")
    assert (record["sales_order_id"], record["serials"]) == (order["items"][0]["id"], serials)

    # every event again: nothing changes on either side
    timeline = ok(crm.get(f"{stack.crm}/api/v1/deals/{deal['id']}/timeline", params={"page_size": 100},
                          timeout=5))["items"]
    tasks = ok(crm.get(f"{stack.crm}/api/v1/tasks", params={"record_id": deal["id"]}, timeout=5))["items"]
    for topic, key in (("crm.order.v1", crm_order_id), ("erp.order.v1", order["items"][0]["id"]),
                       ("erp.fulfilment.v1", wo["id"]), ("erp.fulfilment.v1", need["id"]),
                       ("crm.installation.v1", inst["id"])):
        records = messages_about(bootstrap, topic, key.encode())
        assert records, topic
        for r in records:
            republish(bootstrap, r)
    wait_consumed(bootstrap, "erp.orders", ["crm.order.v1"])
    wait_consumed(bootstrap, "crm.sales", ["erp.order.v1"])
    wait_consumed(bootstrap, "crm.fulfilment", ["erp.fulfilment.v1"])
    wait_consumed(bootstrap, "erp.installations", ["crm.installation.v1"])
    assert ok(erp.get(stack.erp + "/api/v1/work-orders", params={"deal_id": deal["id"]}, timeout=5))["total"] == 1
    assert ok(erp.get(stack.erp + "/api/v1/purchase-needs", params={"deal_id": deal["id"]}, timeout=5))["total"] == 1
    assert ok(erp.get(stack.erp + "/api/v1/purchase-orders", params={"supplier_id": supplier["id"]},
                      timeout=5))["total"] == 1
    assert ok(erp.get(stack.erp + "/api/v1/installation-records", params={"deal_id": deal["id"]},
                      timeout=5))["total"] == 1
    assert len(ok(crm.get(f"{stack.crm}/api/v1/installations", params={"deal_id": deal["id"]}, timeout=5))) == 1
    assert ok(crm.get(f"{stack.crm}/api/v1/deals/{deal['id']}/timeline", params={"page_size": 100},
                      timeout=5))["items"] == timeline
    assert ok(crm.get(f"{stack.crm}/api/v1/tasks", params={"record_id": deal["id"]}, timeout=5))["items"] == tasks
    assert ok(crm.get(f"{stack.crm}/api/v1/deals/{deal['id']}/fulfilment", timeout=5))["stage"] == "installed"

    # the fulfilment replica dropped and rebuilt from erp.fulfilment.v1: the same panel, no second timeline entry
    fulfilment = ok(crm.get(f"{stack.crm}/api/v1/deals/{deal['id']}/fulfilment", timeout=5))
    result = subprocess.run([str(BIN / "crm"), "rebuild-replica", "fulfilment"], env=stack.env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "replica rebuilt from" in result.stdout
    assert ok(crm.get(f"{stack.crm}/api/v1/deals/{deal['id']}/fulfilment", timeout=5)) == fulfilment
    assert ok(crm.get(f"{stack.crm}/api/v1/deals/{deal['id']}/timeline", params={"page_size": 100},
                      timeout=5))["items"] == timeline
    assert len(ok(crm.get(f"{stack.crm}/api/v1/installations", params={"deal_id": deal["id"]}, timeout=5))) == 1
