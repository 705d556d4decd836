"""Quote to cash across both services, real broker and databases, through both HTTP APIs: a customer in the CRM,
a product in stock in the ERP, a deal and an accepted quote in the CRM, then the ERP accepts, reserves, delivers,
invoices and is paid; the CRM's deal and timeline show each step; the books balance and the receivable is
cleared; and every step happens once even when events are delivered again."""

import uuid
from decimal import Decimal

import pytest

from .conftest import wait_until
from .support import messages_about, ok, republish

pytestmark = pytest.mark.integration


def wait_consumed(bootstrap, group, topics, timeout=60):
    """Wait until the consumer group's committed offsets reach the current end of every partition of the topics."""
    from kafka import KafkaConsumer
    from kafka.structs import TopicPartition
    reader = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    offsets = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)  # never joins
    try:
        parts = [TopicPartition(t, p) for t in topics for p in reader.partitions_for_topic(t)]
        end = reader.end_offsets(parts)
        wait_until(lambda: all((offsets.committed(tp) or 0) >= end[tp] for tp in parts), timeout, 0.3,
                   f"consumer group {group} to reach the end of {topics}")
    finally:
        reader.close()
        offsets.close()


def test_quote_to_cash(stack, bootstrap, mailbox):
    crm, erp = stack.crm_http, stack.erp_http
    t = uuid.uuid4().hex[:6].upper()

    # the ERP: a stocked product (20 received at cost 150)
    product = ok(erp.post(stack.erp + "/api/v1/products", json={
        "sku": f"Q2C-{t}", "name": f"Workstation {t}", "sale_price": "400.00", "cost": "150", "tax_rate": "0.2"},
        timeout=10), 201)
    warehouse = ok(erp.post(stack.erp + "/api/v1/warehouses", json={"code": f"Q{t}", "name": f"Depot {t}"},
                            timeout=10), 201)
    ok(erp.post(stack.erp + "/api/v1/stock/moves", json={
        "kind": "receipt", "product_id": product["id"], "warehouse_id": warehouse["id"], "quantity": "20",
        "unit_cost": "150", "reference": "opening stock"}, timeout=10), 201)

    # the CRM: the customer (replicated to the ERP) and the product with its availability (replicated to the CRM)
    party = stack.create_party(kind="company", legal_name=f"Globex {t}", roles=["customer"],
                               emails=[{"value": f"ap-{t.lower()}@globex.test"}],
                               billing_address={"line1": "1 Main St", "city": "Springfield", "country": "US"})
    stack.wait_in_erp(party["id"])
    wait_until(lambda: (r := crm.get(f"{stack.crm}/api/v1/catalog/products/{product['id']}", timeout=5)).status_code
               == 200 and r.json()["availability"]["available"] == "20.0000", 30, 0.2, "stock in the CRM catalog")

    # a deal, a quote for 5 at the list price (5 × 400 = 2000 net, 400 tax, 2400 gross), sent and accepted
    deal = ok(crm.post(stack.crm + "/api/v1/deals", json={"name": f"Workstations {t}", "party_id": party["id"],
                                                          "amount": "2000"}, timeout=10), 201)
    quote = ok(crm.post(stack.crm + "/api/v1/quotes", json={"deal_id": deal["id"], "lines": [
        {"product_id": product["id"], "quantity": "5"}]}, timeout=10), 201)
    assert quote["gross_total"] == "2400.00"
    ok(crm.post(f"{stack.crm}/api/v1/quotes/{quote['id']}/send", json={}, timeout=30))
    accepted = ok(crm.post(f"{stack.crm}/api/v1/quotes/{quote['id']}/accept", json={}, timeout=10))
    crm_order_id = accepted["order_id"]

    # the ERP accepts the order and reserves the stock
    def erp_order():
        page = erp.get(stack.erp + "/api/v1/sales-orders", params={"crm_order_id": crm_order_id}, timeout=5).json()
        return page["items"][0] if page["total"] == 1 and page["items"][0]["status"] == "accepted" else None
    order = wait_until(erp_order, 60, 0.3, "the ERP to accept the order")
    levels = erp.get(stack.erp + "/api/v1/stock/levels", params={"product_id": product["id"]}, timeout=5).json()
    (level,) = levels["items"]
    assert (level["on_hand"], level["reserved"], level["available"]) == ("20.0000", "5.0000", "15.0000")

    def crm_deal_order(status):
        def check():
            orders = crm.get(f"{stack.crm}/api/v1/deals/{deal['id']}/orders", timeout=5).json()
            return orders and orders[0]["status"] == status and orders[0]
        return wait_until(check, 30, 0.3, f"the CRM deal to show the order {status}")
    assert crm_deal_order("accepted")["number"] == order["number"]

    # delivered, invoiced (issued at once), paid in full
    ok(erp.post(f"{stack.erp}/api/v1/sales-orders/{order['id']}/deliveries", json={}, timeout=10), 201)
    crm_deal_order("delivered")
    invoice = ok(erp.post(f"{stack.erp}/api/v1/sales-orders/{order['id']}/invoice", json={}, timeout=10), 201)
    assert invoice["number"] and invoice["status"] == "issued" and invoice["gross_total"] == "2400.00"
    # mailed to the customer by the ERP's worker, the PDF attached; the CRM's timeline says so
    ok(erp.post(f"{stack.erp}/api/v1/invoices/{invoice['id']}/send", json={}, timeout=10))
    (recipients, msg), = wait_until(lambda: [m for m in mailbox.messages if invoice["number"] in m[1]["Subject"]],
                                    30, 0.2, "the invoice's mail at the SMTP server")
    assert recipients == [f"ap-{t.lower()}@globex.test"]
    assert [a.get_filename() for a in msg.iter_attachments()] == [f"{invoice['number']}.pdf"]
    wait_until(lambda: any(e["title"] == f"Invoice {invoice['number']} mailed to ap-{t.lower()}@globex.test"
                           for e in crm.get(f"{stack.crm}/api/v1/parties/{party['id']}/timeline",
                                            params={"kind": "invoice"}, timeout=5).json()["items"]),
               30, 0.3, "the mailing on the customer's timeline")
    billing = wait_until(lambda: (b := crm.get(f"{stack.crm}/api/v1/parties/{party['id']}/billing", timeout=5)
                                  .json())["open_invoices"] and b, 30, 0.3, "the open invoice in the CRM")
    assert billing["balance"] == [{"currency": "EUR", "amount": "2400.00"}]
    bank = ok(erp.post(stack.erp + "/api/v1/bank-accounts", json={"name": f"Main {t}"}, timeout=10), 201)
    payment = ok(erp.post(stack.erp + "/api/v1/payments", json={
        "direction": "in", "party_id": party["id"], "amount": "2400.00", "bank_account_id": bank["id"],
        "reference": f"wire {t}"}, timeout=10), 201)
    assert [a["document_id"] for a in payment["allocations"]] == [invoice["id"]]
    assert ok(erp.get(f"{stack.erp}/api/v1/invoices/{invoice['id']}", timeout=5))["status"] == "paid"
    wait_until(lambda: crm.get(f"{stack.crm}/api/v1/parties/{party['id']}/billing", timeout=5).json()["balance"]
               == [], 30, 0.3, "the CRM to see the invoice paid")

    # the customer's timeline in the CRM tells the story
    def story():
        items = crm.get(f"{stack.crm}/api/v1/parties/{party['id']}/timeline", params={"page_size": 100},
                        timeout=5).json()["items"]
        kinds = [e["kind"] for e in items]
        return {"quote_accepted", "order_status", "delivery", "invoice", "payment"} <= set(kinds) and items
    timeline = wait_until(story, 30, 0.3, "the whole story on the customer's timeline")
    titles = [e["title"] for e in timeline]
    assert any(f"Order {order['number']} accepted" == x for x in titles)
    assert any(x.startswith(f"Invoice {invoice['number']} paid") for x in titles)
    assert any(x.startswith(f"Payment {payment['number']} received") for x in titles)
    assert ok(crm.get(f"{stack.crm}/api/v1/deals/{deal['id']}", timeout=5))["status"] == "won"

    # the books: balanced, and nothing left receivable from this customer
    tb = ok(erp.get(stack.erp + "/api/v1/ledger/reports/trial-balance", timeout=10))
    assert tb["balanced"] and Decimal(tb["totals"]["debit"]) == Decimal(tb["totals"]["credit"])
    statement = ok(erp.get(f"{stack.erp}/api/v1/parties/{party['id']}/statement", timeout=10))
    assert Decimal(str(statement["closing_balance"])) == 0

    # every step once, even when Kafka delivers the events again
    timeline_before = len(timeline)
    for topic, key in (("crm.order.v1", crm_order_id), ("erp.order.v1", order["id"]),
                       ("erp.invoice.v1", invoice["id"]), ("erp.payment.v1", payment["id"])):
        records = messages_about(bootstrap, topic, key.encode())
        assert records, topic
        for r in records:
            republish(bootstrap, r)
    # the barrier: each consumer group has committed offsets up to the end of its topics, so it saw the copies
    wait_consumed(bootstrap, "erp.orders", ["crm.order.v1"])
    wait_consumed(bootstrap, "crm.sales", ["erp.order.v1", "erp.invoice.v1", "erp.payment.v1"])
    orders = erp.get(stack.erp + "/api/v1/sales-orders", params={"crm_order_id": crm_order_id}, timeout=5).json()
    assert orders["total"] == 1
    invoices = erp.get(stack.erp + "/api/v1/invoices", params={"party_id": party["id"]}, timeout=5).json()
    assert invoices["total"] == 1
    after = crm.get(f"{stack.crm}/api/v1/parties/{party['id']}/timeline", params={"page_size": 100},
                    timeout=5).json()["items"]
    assert len(after) == timeline_before


def test_a_refused_order_reopens_the_deal_and_a_prospect_that_buys_becomes_a_customer(stack, mailbox):
    """Over the real broker: the ERP refuses an order it cannot serve, and the CRM's deal leaves 'won' with a task
    for its owner; the revised quote's order is accepted, and the prospect becomes a customer in both services."""
    crm, erp = stack.crm_http, stack.erp_http
    t = uuid.uuid4().hex[:6].upper()
    scarce = ok(erp.post(stack.erp + "/api/v1/products", json={
        "sku": f"RARE-{t}", "name": f"Rare part {t}", "sale_price": "900.00", "tax_rate": "0.2"}, timeout=10), 201)
    service = ok(erp.post(stack.erp + "/api/v1/products", json={
        "sku": f"SVC-{t}", "name": f"Audit {t}", "kind": "service", "sale_price": "700.00", "tax_rate": "0.2"},
        timeout=10), 201)
    party = stack.create_party(kind="company", legal_name=f"Prospect {t}", roles=["prospect"],
                               emails=[{"value": f"buyer-{t.lower()}@prospect.test"}])
    stack.wait_in_erp(party["id"])
    for product in (scarce, service):
        wait_until(lambda p=product: crm.get(f"{stack.crm}/api/v1/catalog/products/{p['id']}", timeout=5)
                   .status_code == 200, 30, 0.2, "the product in the CRM catalog")
    deal = ok(crm.post(stack.crm + "/api/v1/deals", json={"name": f"Parts {t}", "party_id": party["id"],
                                                          "amount": "24000"}, timeout=10), 201)

    def accept(product):
        quote = ok(crm.post(stack.crm + "/api/v1/quotes", json={"deal_id": deal["id"], "lines": [
            {"product_id": product["id"], "quantity": "2"}]}, timeout=10), 201)
        ok(crm.post(f"{stack.crm}/api/v1/quotes/{quote['id']}/send", json={}, timeout=30))
        return ok(crm.post(f"{stack.crm}/api/v1/quotes/{quote['id']}/accept", json={}, timeout=10))

    accept(scarce)  # nothing in stock: the ERP refuses it
    # the quote's net total, not the 24,000 estimate (won until the ERP's answer arrives)
    assert ok(crm.get(f"{stack.crm}/api/v1/deals/{deal['id']}", timeout=5))["amount"] == "1800.00"
    reopened = wait_until(lambda: (d := crm.get(f"{stack.crm}/api/v1/deals/{deal['id']}", timeout=5).json())
                          ["status"] == "open" and d, 30, 0.3, "the deal reopened after the ERP refused its order")
    assert reopened["closed_at"] is None
    tasks = crm.get(f"{stack.crm}/api/v1/tasks", params={"record_id": deal["id"]}, timeout=5).json()["items"]
    assert len(tasks) == 1 and "rejected by the ERP" in tasks[0]["title"] and tasks[0]["priority"] == "high"
    assert ok(crm.get(f"{stack.crm}/api/v1/parties/{party['id']}", timeout=5))["roles"] == ["prospect"]

    accept(service)  # a service needs no stock: accepted
    assert ok(crm.get(f"{stack.crm}/api/v1/deals/{deal['id']}", timeout=5))["amount"] == "1400.00"
    became = wait_until(lambda: (p := crm.get(f"{stack.crm}/api/v1/parties/{party['id']}", timeout=5).json())
                        ["roles"] == ["customer"] and p, 30, 0.3, "the prospect to become a customer in the CRM")
    stack.wait_in_erp(party["id"], version=became["version"])
    customers = ok(erp.get(stack.erp + "/api/v1/customers", params={"q": f"Prospect {t}"}, timeout=5))
    assert [c["id"] for c in customers["items"]] == [party["id"]]
    assert ok(crm.get(f"{stack.crm}/api/v1/deals/{deal['id']}", timeout=5))["status"] == "won"


def test_a_quote_warns_when_the_erp_says_the_customer_would_pass_its_credit_limit(stack):
    crm, erp = stack.crm_http, stack.erp_http
    t = uuid.uuid4().hex[:6].upper()
    service = ok(erp.post(stack.erp + "/api/v1/products", json={
        "sku": f"CR-{t}", "name": f"Review {t}", "kind": "service", "sale_price": "700.00", "tax_rate": "0.2"},
        timeout=10), 201)
    party = stack.create_party(kind="company", legal_name=f"Stretched {t}", roles=["customer"])
    stack.wait_in_erp(party["id"])
    terms = erp.get(f"{stack.erp}/api/v1/parties/{party['id']}", timeout=5)
    ok(erp.patch(f"{stack.erp}/api/v1/parties/{party['id']}", json={"credit_limit": "1000.00"},
                 headers={"If-Match": terms.headers["ETag"]}, timeout=10))
    wait_until(lambda: crm.get(f"{stack.crm}/api/v1/catalog/products/{service['id']}", timeout=5).status_code == 200,
               30, 0.2, "the product in the CRM catalog")
    deal = ok(crm.post(stack.crm + "/api/v1/deals", json={"name": f"Review {t}", "party_id": party["id"]},
                       timeout=10), 201)
    quote = ok(crm.post(stack.crm + "/api/v1/quotes", json={"deal_id": deal["id"], "lines": [
        {"product_id": service["id"], "quantity": "2"}]}, timeout=10), 201)  # 1,680.00 gross
    warnings = wait_until(lambda: [w for w in crm.get(f"{stack.crm}/api/v1/quotes/{quote['id']}", timeout=5).json()
                                   ["warnings"] if w.startswith("credit:")], 30, 0.3,
                          "the credit warning on the quote")
    assert warnings == ["credit: open balance 0.00 + this quote 1,680.00 exceeds the credit limit 1,000.00 EUR: "
                        "the ERP would reject the order"]
