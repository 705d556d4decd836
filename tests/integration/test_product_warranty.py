"""Warranty coverage across both services over the real broker: the ERP sells a product with a 24-month parts
warranty (invoice issued), the entitlement reaches the CRM on erp.warranty.v1, and a support agent's ticket for that
customer and product shows it covered until the right day; a credit note voids it and the ticket shows it expired;
delivering every warranty event again changes nothing."""

import uuid
from datetime import date

import pytest

from .conftest import wait_until
from .support import messages_about, ok, republish
from .test_quote_to_cash import wait_consumed

pytestmark = pytest.mark.integration


def test_an_invoiced_product_is_covered_on_the_crm_ticket_until_a_credit_note_voids_it(stack, bootstrap):
    crm, erp = stack.crm_http, stack.erp_http
    t = uuid.uuid4().hex[:6].upper()
    product = ok(erp.post(stack.erp + "/api/v1/products", json={
        "sku": f"WAR-{t}", "name": f"Espresso machine {t}", "sale_price": "300.00", "cost": "120",
        "tax_rate": "0.2"}, timeout=10), 201)
    terms_url = f"{stack.erp}/api/v1/warranty/terms/{product['id']}"
    etag = erp.get(terms_url, timeout=5).headers["ETag"]
    ok(erp.put(terms_url, json={"months": 24, "covers_parts": True, "covers_labour": False},
               headers={"If-Match": etag}, timeout=10))
    party = stack.create_party(kind="company", legal_name=f"Cafe {t}", roles=["customer"])
    stack.wait_in_erp(party["id"])
    wait_until(lambda: crm.get(f"{stack.crm}/api/v1/catalog/products/{product['id']}", timeout=5).status_code == 200,
               30, 0.2, "the product in the CRM catalog")

    invoice = ok(erp.post(stack.erp + "/api/v1/invoices", json={
        "party_id": party["id"], "issue": True, "lines": [{"product_id": product["id"], "quantity": "1"}]},
        timeout=10), 201)
    issued = date.fromisoformat(invoice["issue_date"])
    (entitlement,) = ok(erp.get(stack.erp + "/api/v1/warranty/entitlements", params={"party_id": party["id"]},
                                timeout=5))["items"]
    expected_end = date(issued.year + 2, issued.month, issued.day).isoformat() if not (
        issued.month == 2 and issued.day == 29) else date(issued.year + 2, 2, 28).isoformat()
    assert entitlement["end_date"] == expected_end

    ticket = ok(crm.post(stack.crm + "/api/v1/tickets", json={
        "subject": "Leaks water", "party_id": party["id"], "product_id": product["id"], "channel": "phone"},
        timeout=10), 201)

    def coverage(state):
        def check():
            seen = crm.get(f"{stack.crm}/api/v1/tickets/{ticket['id']}/coverage", timeout=5).json()
            return seen if seen["state"] == state else None
        return wait_until(check, 60, 0.3, f"the ticket to show {state}")

    covered = coverage("covered")
    assert covered["entitlement"]["entitlement_id"] == entitlement["id"]
    assert covered["entitlement"]["end_date"] == expected_end and covered["entitlement"]["covers_labour"] is False
    assert invoice["number"] in covered["reason"]

    ok(erp.post(f"{stack.erp}/api/v1/invoices/{invoice['id']}/credit-notes", json={"reason": "returned"},
                timeout=10), 201)
    assert "credit note" in coverage("expired")["reason"]

    records = messages_about(bootstrap, "erp.warranty.v1", entitlement["id"].encode())
    assert [dict(r.headers)["ce_type"].decode() for r in records] == ["erp.warranty.created", "erp.warranty.voided"]
    for r in records:
        republish(bootstrap, r)
    wait_consumed(bootstrap, "crm.warranty", ["erp.warranty.v1"])
    assert crm.get(f"{stack.crm}/api/v1/tickets/{ticket['id']}/coverage", timeout=5).json()["state"] == "expired"
