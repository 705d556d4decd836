"""Quote to order over the real broker: a quote priced from the ERP's catalog, accepted in the CRM, is on
crm.order.v1 as crm.order.placed with the agreed lines, valid against its contract."""

import io
import uuid

import pytest
from pypdf import PdfReader
from shared_events import contracts, envelope, kafka_clients
from shared_events.testing import party_state

from tests.support.erp_sales import order_placed

from .conftest import wait_until
from .support import messages_about, ok

pytestmark = pytest.mark.integration

TOPIC = "crm.order.v1"


def test_an_accepted_quote_is_on_the_order_topic_with_the_agreed_lines(stack, bootstrap, mailbox):
    crm, erp = stack.crm_http, stack.erp_http
    t = uuid.uuid4().hex[:8]
    # the ERP owns the catalog: a product and a volume price from 10 up
    product = ok(erp.post(stack.erp + "/api/v1/products", json={
        "sku": f"MON-{t}", "name": f"Monitor 27 {t}", "sale_price": "240.00", "tax_rate": "0.2"}, timeout=10), 201)
    ok(erp.post(stack.erp + "/api/v1/price-lists", json={"name": f"Volume {t}", "items": [
        {"product_id": product["id"], "min_quantity": "10", "price": "200.00"}]}, timeout=10), 201)
    wait_until(lambda: (r := crm.get(f"{stack.crm}/api/v1/catalog/products/{product['id']}/price",
                                     params={"quantity": "12"}, timeout=5)).status_code == 200
               and r.json()["source"] == "general", 30, 0.2, "the product and its price list in the CRM catalog")

    # the CRM quotes it on a deal: 12 × 200.00 × 95 % = 2280.00, tax 20 % = 456.00
    party = stack.create_party(kind="company", legal_name=f"Initech {t}", roles=["customer"],
                               emails=[{"value": f"buyer-{t}@initech.test"}])
    deal = ok(crm.post(stack.crm + "/api/v1/deals", json={"name": f"Monitors {t}", "party_id": party["id"]},
                       timeout=10), 201)
    quote = ok(crm.post(stack.crm + "/api/v1/quotes", json={"deal_id": deal["id"], "customer_reference": f"PO-{t}",
                                                            "requested_date": "2030-01-15", "lines": [
        {"product_id": product["id"], "quantity": "12", "discount_percent": "5"}]}, timeout=10), 201)
    assert (quote["lines"][0]["unit_price"], quote["gross_total"]) == ("200.0000", "2736.00")
    ok(crm.post(f"{stack.crm}/api/v1/quotes/{quote['id']}/send", json={}, timeout=30))
    # the worker mails it after the commit
    (recipients, msg), = wait_until(lambda: [m for m in mailbox.messages if f"buyer-{t}@initech.test" in m[0]], 30,
                                    0.2, "the quote's mail at the SMTP server")
    assert recipients == [f"buyer-{t}@initech.test"] and quote["number"] in msg["Subject"]
    accepted = ok(crm.post(f"{stack.crm}/api/v1/quotes/{quote['id']}/accept", json={}, timeout=10))

    # the relay publishes the order; the ERP (or anyone) reads it from the topic
    (record,) = wait_until(lambda: messages_about(bootstrap, TOPIC, accepted["order_id"].encode()), 30, 0.5,
                           f"order {accepted['order_id']} on {TOPIC}")
    event = envelope.from_kafka(record.key, record.value, record.headers)
    assert (event.get_type(), event.get_subject(), event.get_source()) == (
        "crm.order.placed", accepted["order_id"], "/crm")
    data = event.get_data()
    contracts.validate("crm.order.placed", data)
    assert (data["quote_id"], data["quote_number"], data["deal_id"], data["party_id"]) == (
        quote["id"], quote["number"], deal["id"], party["id"])
    assert (data["currency"], data["requested_date"], data["customer_reference"]) == ("EUR", "2030-01-15", f"PO-{t}")
    assert data["lines"] == [{"line_no": 1, "product_id": product["id"], "sku": f"MON-{t}",
                              "description": f"Monitor 27 {t}", "quantity": "12.0000", "unit_price": "200.0000",
                              "discount_percent": "5.00", "tax_rate": "0.2000", "line_total": "2280.00"}]
    assert (data["net_total"], data["tax_total"], data["gross_total"]) == ("2280.00", "456.00", "2736.00")
    # the acceptance won the deal (the ERP, with no monitor in stock, may since have refused the order and reopened it)
    history = ok(crm.get(f"{stack.crm}/api/v1/deals/{deal['id']}/history", timeout=5))
    assert "Won" in [h["to_stage_name"] for h in history]


def test_an_order_published_before_its_party_is_placed_when_the_party_arrives(stack, bootstrap):
    """The party and the order travel on different topics: an order that overtakes its customer waits in the ERP
    instead of being rejected, and is accepted as soon as the party reaches the replica."""
    erp = stack.erp_http
    t = uuid.uuid4().hex[:8]
    product = ok(erp.post(stack.erp + "/api/v1/products", json={
        "sku": f"SETUP-{t}", "name": f"Setup {t}", "kind": "service", "sale_price": "150.00", "tax_rate": "0.2"},
        timeout=10), 201)
    party_id = str(uuid.uuid4())
    data = order_placed(party_id, [{"product_id": product["id"], "quantity": "2", "unit_price": "150.00"}])
    producer = kafka_clients.producer(bootstrap)
    try:
        topic, key, value, headers = envelope.to_kafka(
            envelope.new_event("crm.order.placed", data["order_id"], data, 1))
        producer.send(TOPIC, key=key, value=value, headers=headers).get(timeout=30)
        waiting = wait_until(lambda: ok(erp.get(stack.erp + "/api/v1/sales-orders/waiting",
                                                params={"party_id": party_id}, timeout=5))["items"], 30, 0.2,
                             "the order in the ERP's waiting list")
        assert waiting[0]["crm_order_id"] == data["order_id"] and waiting[0]["gross_total"] == "360.00"

        party = party_state(id=party_id, display_name=f"Late Party {t}", version=1)
        topic, key, value, headers = envelope.to_kafka(
            envelope.new_event("crm.party.created", party_id, party, 1))
        producer.send("crm.party.v1", key=key, value=value, headers=headers).get(timeout=30)
    finally:
        producer.close()
    (order,) = wait_until(lambda: ok(erp.get(stack.erp + "/api/v1/sales-orders",
                                             params={"crm_order_id": data["order_id"]}, timeout=5))["items"], 30, 0.2,
                          "the order accepted once its party arrived")
    assert (order["status"], order["party_id"], order["gross_total"]) == ("accepted", party_id, "360.00")
    assert ok(erp.get(stack.erp + "/api/v1/sales-orders/waiting", params={"party_id": party_id}, timeout=5)
              )["items"] == []


def test_the_company_set_in_the_erp_is_the_seller_on_the_crms_quotes(stack):
    """The ERP owns the company's identity; the CRM's quotes print what erp.company.v1 announced."""
    crm, erp = stack.crm_http, stack.erp_http
    t = uuid.uuid4().hex[:6]
    current = erp.get(stack.erp + "/api/v1/company", timeout=5)
    ok(erp.patch(stack.erp + "/api/v1/company", json={
        "legal_name": f"Nordwind Łódź {t} GmbH", "vat_id": "DE136695976",
        "address": {"line1": "Hafenstraße 1", "postal_code": "20457", "city": "Hamburg", "country": "DE"}},
        headers={"If-Match": current.headers["ETag"]}, timeout=10))
    product = ok(erp.post(stack.erp + "/api/v1/products", json={
        "sku": f"DAY-{t}", "name": f"Consulting day {t}", "kind": "service", "sale_price": "900.00",
        "tax_rate": "0.19"}, timeout=10), 201)
    wait_until(lambda: crm.get(f"{stack.crm}/api/v1/catalog/products/{product['id']}", timeout=5).status_code == 200,
               30, 0.2, "the product in the CRM catalog")
    party = stack.create_party(kind="company", legal_name=f"Buyer {t}", roles=["customer"])
    deal = ok(crm.post(stack.crm + "/api/v1/deals", json={"name": f"Deal {t}", "party_id": party["id"]},
                       timeout=10), 201)
    quote = ok(crm.post(stack.crm + "/api/v1/quotes", json={"deal_id": deal["id"], "lines": [
        {"product_id": product["id"], "quantity": "1"}]}, timeout=10), 201)

    def seller_printed():
        pdf = crm.get(f"{stack.crm}/api/v1/quotes/{quote['id']}/pdf", timeout=10)
        text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        return f"Nordwind Łódź {t} GmbH" in text and "VAT number: DE136695976" in text
    wait_until(seller_printed, 30, 0.3, "the ERP's company as the seller on the CRM's quote")
