"""A customer's credit position (limit, open balance, overdue) follows every document and new terms, and is
published on erp.credit.v1 only when it moved, so the CRM can warn on a quote before the ERP rejects its order."""

from datetime import date, timedelta

import pytest
from erp.invoicing.service import mark_overdue

from tests.support import erp_sales as t

pytestmark = pytest.mark.db


def credit_events(sessions, party_id) -> list[dict]:
    return [data for kind, data in t.outbox_events(sessions, party_id) if kind == "erp.credit.changed"]


def test_the_position_follows_terms_invoices_receipts_and_overdue(deliver, accountant, sessions):
    party = t.customer(deliver)["id"]
    current = accountant.get(f"/api/v1/parties/{party}")
    r = accountant.patch(f"/api/v1/parties/{party}", json={"credit_limit": "1000.00", "payment_terms_days": 10},
                         headers={"If-Match": current.headers["ETag"]})
    assert r.status_code == 200, r.json
    (first,) = credit_events(sessions, party)
    assert (first["credit_limit"], first["open_balance"], first["available_credit"], first["version"]) == (
        "1000.00", "0.00", "1000.00", 1)

    inv = accountant.post("/api/v1/invoices", json={"party_id": party, "issue": True, "issue_date": (
        date.today() - timedelta(days=20)).isoformat(), "series": f"C{t.tag()[:6].upper()}", "lines": [
        {"description": "Audit", "quantity": "1", "unit_price": "500", "tax_rate": "0.2"}]}).json  # 600.00
    bank = accountant.post("/api/v1/bank-accounts", json={"name": f"Bank {t.tag()}"}).json
    assert accountant.post("/api/v1/payments", json={"direction": "in", "party_id": party, "amount": "100.00",
                                                     "bank_account_id": bank["id"]}).status_code == 201
    # due 10 days after an issue 20 days ago: overdue from the start; marking it so moves nothing
    with sessions.begin() as s:
        assert inv["number"] in mark_overdue(s)
    events = credit_events(sessions, party)
    assert [(e["open_balance"], e["overdue_amount"], e["available_credit"]) for e in events] == [
        ("0.00", "0.00", "1000.00"), ("600.00", "600.00", "400.00"), ("500.00", "500.00", "500.00")]
    assert [e["version"] for e in events] == [1, 2, 3]
    view = accountant.get(f"/api/v1/parties/{party}/credit").json
    assert (view["credit_limit"], view["open_balance"], view["overdue_amount"], view["available_credit"]) == (
        "1000.00", "500.00", "500.00", "500.00")


def test_what_does_not_move_the_position_publishes_nothing(deliver, accountant, sessions):
    party = t.customer(deliver, emails=[{"value": "ap@quiet.test"}])["id"]
    inv = accountant.post("/api/v1/invoices", json={"party_id": party, "issue": True, "lines": [
        {"description": "Audit", "quantity": "1", "unit_price": "50", "tax_rate": "0"}]}).json
    before = credit_events(sessions, party)
    assert [e["open_balance"] for e in before] == ["50.00"] and before[0]["credit_limit"] is None
    assert accountant.post(f"/api/v1/invoices/{inv['id']}/send", json={}).status_code == 200  # a mailing
    current = accountant.get(f"/api/v1/parties/{party}")
    accountant.patch(f"/api/v1/parties/{party}", json={"payment_terms_days": 45},
                     headers={"If-Match": current.headers["ETag"]})  # terms, not the limit
    assert credit_events(sessions, party) == before


def test_an_unknown_party_has_no_credit_position(accountant):
    assert accountant.get(f"/api/v1/parties/{t.uuid.uuid4()}/credit").status_code == 404
