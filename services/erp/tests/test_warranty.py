"""Finance sees what the company guarantees: an issued invoice for a product with a warranty creates an entitlement
with the terms in force at the sale, a credit note shortens or voids it, and each change reaches erp.warranty.v1."""

from datetime import date

import pytest
from erp.warranty.service import add_months

from tests.support import erp_sales as t

pytestmark = pytest.mark.db

INVOICES = "/api/v1/invoices"


@pytest.fixture
def world(sessions, deliver):
    return {"customer": t.customer(deliver)["id"], "printer": t.product(sessions, price="200.00"),
            "toner": t.product(sessions, kind="consumable", price="30.00")}


@pytest.fixture
def purchaser(as_user):
    return as_user("purchaser")


def invoice(accountant, party_id, lines) -> dict:
    r = accountant.post(INVOICES, json={"party_id": party_id, "issue": True, "lines": lines})
    assert r.status_code == 201, r.json
    return r.json


def set_terms(purchaser, product_id, status=200, **terms):
    path = f"/api/v1/warranty/terms/{product_id}"
    r = purchaser.put(path, json=terms, headers={"If-Match": purchaser.get(path).headers["ETag"]})
    assert r.status_code == status, r.json
    return r.json


def entitlements(accountant, **query) -> list[dict]:
    r = accountant.get("/api/v1/warranty/entitlements", query_string={"page_size": 100, **query})
    assert r.status_code == 200, r.json
    return r.json["items"]


def test_months_are_added_to_the_calendar_day_or_the_months_last_day():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 5, 15), 24) == date(2028, 5, 15)


def test_an_issued_invoice_entitles_the_customer_with_the_terms_of_the_day(world, accountant, purchaser,
                                                                         sessions):
    assert set_terms(purchaser, world["printer"], months=24, covers_parts=True, covers_labour=False)["explicit"]
    inv = invoice(accountant, world["customer"], [{"product_id": world["printer"], "quantity": "2"},
                                                  {"product_id": world["toner"], "quantity": "5"}])
    (e,) = entitlements(accountant, party_id=world["customer"])
    issued = date.fromisoformat(inv["issue_date"])
    assert (e["product_id"], e["quantity"], e["invoice_number"]) == (world["printer"], "2.0000", inv["number"])
    assert (e["start_date"], e["end_date"]) == (issued.isoformat(), add_months(issued, 24).isoformat())
    assert (e["covers_parts"], e["covers_labour"], e["status"]) == (True, False, "active")
    # new terms apply to later sales; the entitlement keeps those it was sold with
    set_terms(purchaser, world["printer"], months=6)
    again = accountant.get(f"/api/v1/warranty/entitlements/{e['id']}").json
    assert again["end_date"] == e["end_date"] and again["terms"]["months"] == 24
    (event,) = t.outbox_events(sessions, e["id"])
    assert event[0] == "erp.warranty.created" and event[1]["end_date"] == e["end_date"]


def test_a_credit_note_shortens_then_voids_the_entitlement(world, accountant, purchaser, sessions):
    set_terms(purchaser, world["printer"], months=12)
    inv = invoice(accountant, world["customer"], [{"product_id": world["printer"], "quantity": "2"}])
    line = inv["lines"][0]["id"]
    r = accountant.post(f"{INVOICES}/{inv['id']}/credit-notes", json={
        "reason": "one returned", "lines": [{"invoice_line_id": line, "quantity": "1"}]})
    assert r.status_code == 201, r.json
    (e,) = entitlements(accountant, party_id=world["customer"])
    assert (e["quantity"], e["status"]) == ("1.0000", "active")
    accountant.post(f"{INVOICES}/{inv['id']}/credit-notes", json={"reason": "the other one too"})
    (e,) = entitlements(accountant, party_id=world["customer"])
    assert e["status"] == "void"
    assert [x for x, _ in t.outbox_events(sessions, e["id"])] == [
        "erp.warranty.created", "erp.warranty.updated", "erp.warranty.voided"]
    assert entitlements(accountant, party_id=world["customer"], active_on=date.today().isoformat()) == []


def test_a_product_without_warranty_creates_nothing_and_bad_terms_are_refused(world, accountant, purchaser):
    invoice(accountant, world["customer"], [{"product_id": world["toner"], "quantity": "1"}])
    assert entitlements(accountant, party_id=world["customer"]) == []
    r = set_terms(purchaser, world["printer"], 422, months=12, supplier_months=6)
    assert r["errors"][0]["field"] == "supplier_months"
    r = set_terms(purchaser, world["printer"], 422, months=12, covers_parts=False, covers_labour=False)
    assert r["errors"][0]["field"] == "covers_labour"
    stale = purchaser.put(f"/api/v1/warranty/terms/{world['printer']}", json={"months": 3},
                          headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    assert purchaser.get(f"/api/v1/warranty/terms/{world['printer']}").json["explicit"] is False
