"""Issue #14 item 9 over the real broker: a product with a 24-month parts warranty (12 months back-to-back from its
supplier) is sold, delivered with a serial and invoiced; the CRM ticket for that serial shows it covered; the agent
resolves it under warranty with one part and two hours of labour; the ERP issues the part from stock, books the
cost (balanced: warranty expense, stock, accrued labour, the supplier's receivable), reports it, and the ticket
shows the claim accepted. Delivering every event of the story again changes nothing, and the CRM's warranty
replica rebuilt from its topic ends in the same state. Named to run before the fuzzer, which closes the books."""

import subprocess
import uuid
from decimal import Decimal as D

import pytest

from .conftest import BIN, wait_until
from .support import messages_about, ok, republish
from .test_quote_to_cash import wait_consumed

pytestmark = pytest.mark.integration


def test_a_ticket_resolved_under_warranty_reaches_the_books_once(stack, bootstrap):
    crm, erp = stack.crm_http, stack.erp_http
    t = uuid.uuid4().hex[:6].upper()
    serial = f"SN-{t}"

    def product(sku, name, cost):
        return ok(erp.post(stack.erp + "/api/v1/products", json={
            "sku": sku, "name": name, "sale_price": "300.00", "cost": cost, "tax_rate": "0.2"}, timeout=10), 201)

    machine, pump = product(f"ESP-{t}", f"Espresso machine {t}", "120"), product(f"PMP-{t}", f"Pump {t}", "25")
    supplier = stack.create_party(kind="company", legal_name=f"Machines Inc {t}", roles=["supplier"])
    customer = stack.create_party(kind="company", legal_name=f"Cafe {t}", roles=["customer"])
    stack.wait_in_erp(supplier["id"])
    stack.wait_in_erp(customer["id"])
    terms_url = f"{stack.erp}/api/v1/warranty/terms/{machine['id']}"
    ok(erp.put(terms_url, json={"months": 24, "covers_parts": True, "covers_labour": False, "serial_tracked": True,
                                "supplier_party_id": supplier["id"], "supplier_months": 12},
               headers={"If-Match": erp.get(terms_url, timeout=5).headers["ETag"]}, timeout=10))

    # stock: machines in a shop warehouse; pumps where warranty parts are issued from (the oldest warehouse,
    # ERP_SALES_WAREHOUSE being unset)
    shop = ok(erp.post(stack.erp + "/api/v1/warehouses", json={"code": f"W{t}", "name": f"Shop {t}"}, timeout=10),
              201)
    warehouses = ok(erp.get(stack.erp + "/api/v1/warehouses", params={"page_size": 200, "active": True},
                            timeout=5))["items"]
    parts_from = min(warehouses, key=lambda w: (w["created_at"], w["code"]))
    for item, where, qty, cost in ((machine, shop, "3", "120"), (pump, parts_from, "5", "25")):
        ok(erp.post(stack.erp + "/api/v1/stock/moves", json={
            "kind": "receipt", "product_id": item["id"], "warehouse_id": where["id"], "quantity": qty,
            "unit_cost": cost, "reference": "opening stock"}, timeout=10), 201)

    def pumps_on_hand():
        levels = ok(erp.get(stack.erp + "/api/v1/stock/levels", params={
            "product_id": pump["id"], "warehouse_id": parts_from["id"]}, timeout=5))["items"]
        return D(levels[0]["on_hand"])

    # sold, delivered with its serial, invoiced: one entitlement for that serial
    order = ok(erp.post(stack.erp + "/api/v1/sales-orders", json={
        "party_id": customer["id"], "warehouse_id": shop["id"],
        "lines": [{"product_id": machine["id"], "quantity": "1"}]}, timeout=10), 201)
    no_serial = erp.post(f"{stack.erp}/api/v1/sales-orders/{order['id']}/deliveries", json={}, timeout=10)
    assert no_serial.status_code == 422 and no_serial.json()["errors"][0]["field"] == "lines"
    delivery = ok(erp.post(f"{stack.erp}/api/v1/sales-orders/{order['id']}/deliveries", json={"lines": [
        {"line_id": order["lines"][0]["id"], "quantity": "1", "serials": [serial]}]}, timeout=10), 201)
    assert delivery["lines"][0]["serials"] == [serial]
    ok(erp.post(f"{stack.erp}/api/v1/sales-orders/{order['id']}/invoice", json={}, timeout=10), 201)
    (entitlement,) = ok(erp.get(stack.erp + "/api/v1/warranty/entitlements", params={"party_id": customer["id"]},
                                timeout=5))["items"]
    assert entitlement["serial_number"] == serial and entitlement["supplier_party_id"] == supplier["id"]

    # the CRM: the ticket for that serial shows it covered
    for item in (machine, pump):
        wait_until(lambda i=item: crm.get(f"{stack.crm}/api/v1/catalog/products/{i['id']}",
                                          timeout=5).status_code == 200, 30, 0.2, "the product in the CRM catalog")
    ticket = ok(crm.post(stack.crm + "/api/v1/tickets", json={
        "subject": "No pressure", "party_id": customer["id"], "product_id": machine["id"], "serial_number": serial,
        "channel": "phone"}, timeout=10), 201)

    def covered():
        seen = crm.get(f"{stack.crm}/api/v1/tickets/{ticket['id']}/coverage", timeout=5).json()
        return seen if seen["state"] == "covered" else None

    seen = wait_until(covered, 60, 0.3, "the ticket to show covered")
    assert seen["entitlement"]["entitlement_id"] == entitlement["id"]
    assert seen["entitlement"]["serial_number"] == serial

    # resolved under warranty: one pump, two hours at 45.00
    etag = crm.get(f"{stack.crm}/api/v1/tickets/{ticket['id']}", timeout=5).headers["ETag"]
    claim = ok(crm.post(f"{stack.crm}/api/v1/tickets/{ticket['id']}/warranty-claim", json={
        "entitlement_id": entitlement["id"], "parts": [{"product_id": pump["id"], "quantity": "1"}],
        "labour_hours": "2", "labour_rate": "45.00", "resolution": "pump replaced"},
        headers={"If-Match": etag}, timeout=10))
    assert claim["labour_cost"] == "90.00"

    def accepted():
        seen = crm.get(f"{stack.crm}/api/v1/tickets/{ticket['id']}", timeout=5).json()["warranty_claim"]
        return seen if seen["status"] == "accepted" else None

    shown = wait_until(accepted, 60, 0.3, "the ticket to show the claim accepted")
    assert shown["erp_total_cost"] == "115.00" and shown["erp_number"].startswith("WC-")

    def books():
        """The ERP's state a replay must not change: stock, the claim, its entries (each balanced), the report."""
        booked = ok(erp.get(f"{stack.erp}/api/v1/warranty/claims/{claim['id']}", timeout=5))
        moves = ok(erp.get(stack.erp + "/api/v1/stock/moves", params={
            "source_type": "warranty_claim", "source_id": claim["id"]}, timeout=5))["items"]
        entries = ok(erp.get(stack.erp + "/api/v1/journal-entries", params={
            "source_type": "warranty_claim", "source_id": claim["id"], "page_size": 50}, timeout=5))["items"]
        for move in moves:
            entries += ok(erp.get(stack.erp + "/api/v1/journal-entries", params={
                "source_type": "stock_move", "source_id": move["id"]}, timeout=5))["items"]
        entries = [ok(erp.get(f"{stack.erp}/api/v1/journal-entries/{e['id']}", timeout=5)) for e in entries]
        net: dict[str, D] = {}
        for entry in entries:
            assert sum(D(x["debit"]) for x in entry["lines"]) == sum(D(x["credit"]) for x in entry["lines"])
            for line in entry["lines"]:
                net[line["account"]] = net.get(line["account"], D(0)) + D(line["debit"]) - D(line["credit"])
        report = ok(erp.get(stack.erp + "/api/v1/warranty/reports/costs", params={
            "group_by": "product", "product_id": machine["id"]}, timeout=5))
        return {"on_hand": pumps_on_hand(), "claim": {k: booked[k] for k in (
                    "status", "revision", "parts_cost", "labour_cost", "supplier_receivable", "version")},
                "moves": len(moves), "entries": sorted(e["id"] for e in entries),
                "net": {k: v for k, v in net.items() if v}, "report": report["items"]}

    before = books()
    assert before["on_hand"] == 4 and before["moves"] == 1
    assert before["claim"] == {"status": "accepted", "revision": 1, "parts_cost": "25.00", "labour_cost": "90.00",
                               "supplier_receivable": "25.00", "version": 1}
    # warranty expense 25 + 90 - 25 recoverable; stock -25; labour accrued -90; the supplier owes 25
    assert before["net"] == {"615000": D("90.00"), "310000": D("-25.00"), "428600": D("-90.00"),
                             "467100": D("25.00")}
    (row,) = before["report"]
    assert (row["claims"], row["total_cost"], row["supplier_receivable"], row["net_cost"]) == (
        1, "115.00", "25.00", "90.00")

    # every event of the story delivered again: nothing changes on either side
    for topic, key in (("crm.ticket.v1", claim["id"]), ("erp.warranty.v1", claim["id"]),
                       ("erp.warranty.v1", entitlement["id"])):
        records = messages_about(bootstrap, topic, key.encode())
        assert records, (topic, key)
        for r in records:
            republish(bootstrap, r)
    wait_consumed(bootstrap, "erp.warranty-claims", ["crm.ticket.v1"])
    wait_consumed(bootstrap, "crm.warranty", ["erp.warranty.v1"])
    assert books() == before
    history = ok(crm.get(f"{stack.crm}/api/v1/tickets/{ticket['id']}/history", timeout=5))
    assert [f["kind"] for f in history].count("warranty_claim_accepted") == 1

    # the CRM's warranty replica rebuilt from its topic: coverage and the claim read the same
    claim_before = ok(crm.get(f"{stack.crm}/api/v1/tickets/{ticket['id']}/warranty-claim", timeout=5))
    result = subprocess.run([str(BIN / "crm"), "rebuild-replica", "warranty"], env=stack.env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert wait_until(covered, 30, 0.3, "coverage after the rebuild")["entitlement"]["entitlement_id"] == \
        entitlement["id"]
    assert ok(crm.get(f"{stack.crm}/api/v1/tickets/{ticket['id']}/warranty-claim", timeout=5)) == claim_before
