"""Sales and support see what the ERP reports about orders, invoices and payments: on the deal, on the
customer's timeline and account, and as follow-up tasks for overdue invoices."""

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from crm.billing.handlers import CONSUMER, HANDLERS
from crm.db import processed_events
from shared_events import envelope
from shared_events.inbox import InboxConsumer
from shared_events.testing import Record, RecordingProducer

pytestmark = pytest.mark.db


@pytest.fixture
def erp(app):
    """Delivers ERP events to the CRM's billing consumer the way the worker does (minus the broker)."""
    inbox = InboxConsumer(CONSUMER, "unused:1", [], HANDLERS, app.extensions["crm.db"].sessions, processed_events,
                          producer_factory=RecordingProducer)
    offsets = iter(range(10**6))

    def send(type_, data, sequence):
        ev = envelope.new_event(type_, data["id"], data, sequence, actor_id=str(uuid.uuid4()),
                                actor_name="clerk@erp.test")
        topic, key, value, headers = envelope.to_kafka(ev)
        return inbox.handle_message(Record(topic, 0, next(offsets), key, value, headers))
    return send


def now() -> str:
    return datetime.now(UTC).isoformat()


def order_state(party_id, deal_id, status, version, **over):
    return {"id": over.pop("id"), "number": "SO-2026-00007", "crm_order_id": str(uuid.uuid4()), "deal_id": deal_id,
            "party_id": party_id, "status": status, "reason": over.pop("reason", None), "currency": "EUR",
            "lines": [{"product_id": str(uuid.uuid4()), "quantity": "2", "delivered_quantity":
                       "2" if status == "delivered" else "0", "unit_price": "50"}],
            "net_total": "100", "tax_total": "20", "gross_total": "120", "last_delivery_at":
            now() if status == "delivered" else None, "version": version, "updated_at": now(), **over}


def invoice_state(party_id, status, version, balance, due, **over):
    return {"id": over.pop("id"), "number": over.pop("number", "INV-2026-000031"), "kind": "invoice",
            "party_id": party_id, "status": status, "issue_date": (due - timedelta(days=30)).isoformat(),
            "due_date": due.isoformat(), "currency": "EUR", "net_total": "100", "tax_total": "20",
            "gross_total": "120", "amount_paid": str(Decimal("120") - Decimal(str(balance))),
            "balance_due": str(balance), "version": version,
            "updated_at": now(), **over}


def deal_for(rep, party_id):
    r = rep.post("/api/v1/deals", json={"name": f"Deal {uuid.uuid4().hex[:6]}", "party_id": party_id})
    assert r.status_code == 201, r.json
    return r.json


def test_order_status_shows_on_the_deal_and_the_customers_timeline(as_user, erp):
    rep = as_user("sales_rep")
    acme = rep.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Acme {uuid.uuid4().hex[:6]}"}).json
    deal = deal_for(rep, acme["id"])
    order_id = str(uuid.uuid4())
    assert erp("erp.order.accepted", order_state(acme["id"], deal["id"], "accepted", 1, id=order_id), 1) == "applied"
    assert erp("erp.order.delivered", order_state(acme["id"], deal["id"], "delivered", 3, id=order_id), 3) == "applied"
    late = erp("erp.order.partially_delivered", order_state(acme["id"], deal["id"], "partially_delivered", 2,
                                                             id=order_id), 2)
    assert late == "applied"  # recorded as processed, but older than what we show: no change, no timeline entry
    (order,) = rep.get(f"/api/v1/deals/{deal['id']}/orders").json
    assert order["status"] == "delivered" and order["gross_total"] == "120.00"
    timeline = rep.get(f"/api/v1/parties/{acme['id']}/timeline").json["items"]
    titles = [e["title"] for e in timeline if e["kind"] in ("order_status", "delivery")]
    assert titles == ["Order SO-2026-00007 delivered", "Order SO-2026-00007 accepted"]
    assert rep.get(f"/api/v1/parties/{acme['id']}/billing").json["last_delivery_at"] is not None


def test_open_invoices_balance_and_overdue_follow_up(as_user, erp):
    rep, other = as_user("sales_rep"), as_user("sales_rep")
    acme = rep.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Late {uuid.uuid4().hex[:6]}"}).json
    inv = str(uuid.uuid4())
    due = date.today() - timedelta(days=5)
    erp("erp.invoice.issued", invoice_state(acme["id"], "issued", 1, 120, due, id=inv), 1)
    erp("erp.invoice.partially_paid", invoice_state(acme["id"], "partially_paid", 2, 70, due, id=inv), 2)
    billing = rep.get(f"/api/v1/parties/{acme['id']}/billing").json
    assert billing["balance"] == [{"currency": "EUR", "amount": "70.00"}]
    assert billing["open_invoices"][0]["status"] == "partially_paid" and billing["overdue_count"] == 1
    overdue = invoice_state(acme["id"], "overdue", 3, 70, due, id=inv)
    assert erp("erp.invoice.overdue", overdue, 3) == "applied"
    assert erp("erp.invoice.overdue", overdue, 3) == "applied"  # a second copy (new id) is older-or-equal: no effect
    tasks = rep.get("/api/v1/tasks", query_string={"mine": "true", "record_id": acme["id"]}).json["items"]
    assert len([t for t in tasks if "Follow up overdue invoice" in t["title"]]) == 1
    assert tasks[0]["priority"] == "high"
    listed = rep.get("/api/v1/billing/overdue-customers").json["items"]
    mine = [c for c in listed if c["party_id"] == acme["id"]]
    assert mine and mine[0]["overdue_amount"] == "70.00" and mine[0]["days_overdue"] == 5
    assert all(c["party_id"] != acme["id"] for c in other.get("/api/v1/billing/overdue-customers").json["items"])
    assert other.get(f"/api/v1/parties/{acme['id']}/billing").status_code == 404
    erp("erp.invoice.paid", invoice_state(acme["id"], "paid", 4, 0, due, id=inv), 4)
    assert rep.get(f"/api/v1/parties/{acme['id']}/billing").json["balance"] == []


def test_payments_appear_on_the_timeline(as_user, erp):
    rep = as_user("sales_rep")
    acme = rep.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Pay {uuid.uuid4().hex[:6]}"}).json
    pay = {"id": str(uuid.uuid4()), "number": "PAY-2026-000004", "direction": "in", "party_id": acme["id"],
           "amount": "500.00", "currency": "EUR", "payment_date": date.today().isoformat(), "method": "bank_transfer",
           "allocations": [{"document_id": str(uuid.uuid4()), "document_number": "INV-1", "amount": "500.00"}],
           "unallocated": "0", "party_balance": "0", "version": 1, "updated_at": now()}
    assert erp("erp.payment.received", pay, 1) == "applied"
    timeline = rep.get(f"/api/v1/parties/{acme['id']}/timeline", query_string={"kind": "payment"}).json["items"]
    assert [e["title"] for e in timeline] == ["Payment PAY-2026-000004 received (500.00 EUR)"]
    assert rep.get(f"/api/v1/parties/{acme['id']}/billing").json["recent_payments"][0]["amount"] == "500.00"


def test_documents_of_a_merged_party_land_on_the_survivor(as_user, erp):
    manager = as_user("sales_manager")  # merging duplicates is a manager's job
    name = f"Twin {uuid.uuid4().hex[:6]}"
    keep = manager.post("/api/v1/parties", json={"kind": "company", "legal_name": name}).json
    dup = manager.post("/api/v1/parties", json={"kind": "company", "legal_name": name + " SA"}).json
    merged = manager.post(f"/api/v1/parties/{keep['id']}/merge", json={"party_ids": [dup["id"]]},
                          headers={"If-Match": f'"{keep["version"]}"'})
    assert merged.status_code == 200, merged.json
    # the ERP still knows the absorbed party's id on an invoice issued before it heard of the merge
    inv = invoice_state(dup["id"], "issued", 1, 120, date.today() + timedelta(days=20), id=str(uuid.uuid4()))
    assert erp("erp.invoice.issued", inv, 1) == "applied"
    billing = manager.get(f"/api/v1/parties/{keep['id']}/billing").json
    assert [i["id"] for i in billing["open_invoices"]] == [inv["id"]]
    assert any(e["kind"] == "invoice" for e in manager.get(f"/api/v1/parties/{keep['id']}/timeline").json["items"])


def won_deal(rep, party_id):
    """A deal moved to the second open stage of its pipeline, then won from there."""
    deal = deal_for(rep, party_id)
    stages = rep.get(f"/api/v1/pipelines/{deal['pipeline_id']}").json["stages"]
    second = [st for st in stages if st["kind"] == "open"][1]
    assert rep.post(f"/api/v1/deals/{deal['id']}/move", json={"stage_id": second["id"]}).status_code == 200
    won = rep.post(f"/api/v1/deals/{deal['id']}/won", json={"reason": "Quote accepted"})
    assert won.status_code == 200 and won.json["status"] == "won"
    return won.json, second


def test_an_order_the_erp_rejects_reopens_its_won_deal_and_gives_the_owner_a_task(as_user, erp):
    rep = as_user("sales_rep")
    acme = rep.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Refused {uuid.uuid4().hex[:6]}"}).json
    deal, stage = won_deal(rep, acme["id"])
    reason = "credit_limit_exceeded: open balance 900.00 + this order 120.00 exceeds the credit limit 1000.00"
    order = order_state(acme["id"], deal["id"], "rejected", 1, id=str(uuid.uuid4()), reason=reason)
    assert erp("erp.order.rejected", order, 1) == "applied"
    assert erp("erp.order.rejected", order, 1) == "applied"  # a second copy (new event id): nothing more

    after = rep.get(f"/api/v1/deals/{deal['id']}").json
    assert (after["status"], after["stage"]["id"], after["closed_at"]) == ("open", stage["id"], None)
    won = rep.get("/api/v1/deals", query_string={"status": "won", "party_id": acme["id"]}).json
    assert won["total"] == 0  # the forecast and the statistics no longer count it as won
    history = rep.get(f"/api/v1/deals/{deal['id']}/history").json
    assert history[-1]["to_stage_id"] == stage["id"] and history[-1]["actor"].startswith("erp:clerk@erp.test (")
    tasks = rep.get("/api/v1/tasks", query_string={"mine": "true", "record_id": deal["id"]}).json["items"]
    assert [(t["title"], t["priority"]) for t in tasks] == [
        (f"Order SO-2026-00007 rejected by the ERP: {reason} (deal {deal['name']})", "high")]
    timeline = rep.get(f"/api/v1/deals/{deal['id']}/timeline").json["items"]
    reopened = [e for e in timeline if e["kind"] == "deal_reopened"]
    assert len(reopened) == 1 and reason in reopened[0]["summary"]


def test_a_rejected_order_of_an_open_deal_leaves_the_deal_and_still_tells_its_owner(as_user, erp):
    rep = as_user("sales_rep")
    acme = rep.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Open {uuid.uuid4().hex[:6]}"}).json
    deal = deal_for(rep, acme["id"])
    erp("erp.order.rejected", order_state(acme["id"], deal["id"], "rejected", 1, id=str(uuid.uuid4()),
                                          reason="insufficient_stock: 2 wanted, 0 available"), 1)
    after = rep.get(f"/api/v1/deals/{deal['id']}").json
    assert (after["status"], after["version"]) == ("open", deal["version"])
    tasks = rep.get("/api/v1/tasks", query_string={"mine": "true", "record_id": deal["id"]}).json["items"]
    assert len(tasks) == 1 and "insufficient_stock" in tasks[0]["title"]


@pytest.mark.parametrize("fact", ["erp.order.accepted", "erp.invoice.issued"])
def test_a_prospect_that_buys_becomes_a_customer_and_the_erp_hears_it(as_user, erp, fact, outbox_events):
    rep = as_user("sales_rep")
    prospect = rep.post("/api/v1/parties", json={"kind": "company", "roles": ["prospect", "partner"],
                                                 "legal_name": f"Buyer {uuid.uuid4().hex[:6]}"}).json
    if fact == "erp.order.accepted":
        state = order_state(prospect["id"], None, "accepted", 1, id=str(uuid.uuid4()))
    else:
        state = invoice_state(prospect["id"], "issued", 1, 120, date.today() + timedelta(days=30),
                              id=str(uuid.uuid4()))
    assert erp(fact, state, 1) == "applied"
    party = rep.get(f"/api/v1/parties/{prospect['id']}").json
    assert (party["roles"], party["version"]) == (["partner", "customer"], 2)
    events = outbox_events(prospect["id"])
    assert [t for t, _ in events] == ["crm.party.created", "crm.party.updated"]
    assert events[-1][1]["data"]["roles"] == ["partner", "customer"]
    # a second fact changes nothing more
    second = {**state, "id": str(uuid.uuid4()), "number": "X-2"}
    erp(fact, second, 1)
    assert rep.get(f"/api/v1/parties/{prospect['id']}").json["version"] == 2
    kinds = [e["kind"] for e in rep.get(f"/api/v1/parties/{prospect['id']}/timeline").json["items"]]
    assert kinds.count("became_customer") == 1


def test_the_timeline_tells_each_money_fact_with_its_own_amount(as_user, erp):
    rep = as_user("sales_rep")
    acme = rep.post("/api/v1/parties", json={"kind": "company", "roles": ["customer"],
                                             "legal_name": f"Facts {uuid.uuid4().hex[:6]}"}).json
    inv, cn, pay = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    due = date.today() + timedelta(days=30)

    def invoice(status, version, paid, balance, **over):
        return invoice_state(acme["id"], status, version, balance, due, id=inv, number="INV-2026-000040",
                             gross_total="6840.00", amount_paid=str(paid), **over)

    def payment(status, version, allocations):
        return {"id": pay, "number": "RC-2026-000005", "direction": "in", "party_id": acme["id"], "amount": "2000.00",
                "currency": "EUR", "payment_date": date.today().isoformat(), "method": "cheque", "status": status,
                "allocations": allocations, "unallocated": "0.00", "party_balance": "0", "version": version,
                "updated_at": now()}

    erp("erp.invoice.issued", invoice("issued", 1, 0, "6840.00"), 1)
    # a partial credit note: 1,368.00 of 6,840.00
    erp("erp.invoice.issued", invoice_state(acme["id"], "issued", 1, "0.00", due, id=cn, number="CN-2026-000003",
                                            kind="credit_note", credited_invoice_id=inv, gross_total="1368.00",
                                            amount_paid="1368.00"), 1)
    erp("erp.invoice.credited", invoice("issued", 2, 0, "5472.00"), 2)
    # a cheque pays 2,000.00, then bounces
    erp("erp.payment.received", payment("posted", 1, [{"document_id": inv, "document_number": "INV-2026-000040",
                                                       "amount": "2000.00"}]), 1)
    erp("erp.invoice.partially_paid", invoice("partially_paid", 3, "2000.00", "3472.00"), 3)
    erp("erp.invoice.issued", invoice("issued", 4, "0.00", "5472.00"), 4)
    erp("erp.payment.allocated", payment("bounced", 2, []), 2)

    titles = [e["title"] for e in rep.get(f"/api/v1/parties/{acme['id']}/timeline",
                                          query_string={"page_size": 50}).json["items"]]
    assert titles[::-1] == [
        f"Invoice INV-2026-000040 issued (6,840.00 EUR, due {due.isoformat()})",
        "Credit note CN-2026-000003 issued (1,368.00 EUR) for invoice INV-2026-000040",
        "Invoice INV-2026-000040 credited in part (1,368.00 EUR credited, 5,472.00 EUR still due)",
        "Payment RC-2026-000005 received (2,000.00 EUR)",
        "Invoice INV-2026-000040 partially paid (2,000.00 EUR of 6,840.00 EUR, 3,472.00 EUR due)",
        "Invoice INV-2026-000040: payment of 2,000.00 EUR taken back, 5,472.00 EUR due again",
        "Payment RC-2026-000005 bounced (2,000.00 EUR): the bank returned the cheque",
    ]
    billing = rep.get(f"/api/v1/parties/{acme['id']}/billing").json
    assert [(p["number"], p["status"]) for p in billing["recent_payments"]] == [("RC-2026-000005", "bounced")]
    # the fully applied credit note is not an open document; the invoice is, for what is left
    assert [(i["number"], i["balance_due"]) for i in billing["open_invoices"]] == [("INV-2026-000040", "5472.00")]
    assert billing["open_credits"] == []
    assert billing["balance"] == [{"currency": "EUR", "amount": "5472.00"}]


def test_credit_not_yet_applied_is_listed_as_credit_and_lowers_the_balance(as_user, erp):
    rep = as_user("sales_rep")
    acme = rep.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Credit {uuid.uuid4().hex[:6]}"}).json
    due = date.today() + timedelta(days=30)
    erp("erp.invoice.issued", invoice_state(acme["id"], "issued", 1, 120, due, id=str(uuid.uuid4())), 1)
    erp("erp.invoice.issued", invoice_state(acme["id"], "issued", 1, "-50.00", due, id=str(uuid.uuid4()),
                                            number="CN-2026-000009", kind="credit_note", gross_total="50.00",
                                            amount_paid="0.00"), 1)
    billing = rep.get(f"/api/v1/parties/{acme['id']}/billing").json
    assert [i["number"] for i in billing["open_invoices"]] == ["INV-2026-000031"]
    assert [(c["number"], c["balance_due"]) for c in billing["open_credits"]] == [("CN-2026-000009", "-50.00")]
    assert billing["balance"] == [{"currency": "EUR", "amount": "70.00"}]


def test_an_order_invoiced_without_a_new_delivery_adds_no_second_entry(as_user, erp):
    rep = as_user("sales_rep")
    acme = rep.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Once {uuid.uuid4().hex[:6]}"}).json
    order_id, product = str(uuid.uuid4()), str(uuid.uuid4())

    def state(version, delivered):
        return order_state(acme["id"], None, "partially_delivered", version, id=order_id, lines=[
            {"product_id": product, "quantity": "5", "delivered_quantity": delivered, "unit_price": "50"}])
    erp("erp.order.partially_delivered", state(2, "2"), 2)
    erp("erp.order.partially_delivered", state(3, "2"), 3)  # invoiced: same status, same deliveries
    erp("erp.order.partially_delivered", state(4, "3"), 4)  # a second delivery: news
    titles = [e["title"] for e in rep.get(f"/api/v1/parties/{acme['id']}/timeline").json["items"]]
    assert titles == ["Order SO-2026-00007 partially delivered"] * 2


def test_mailings_and_reminders_of_the_erp_land_on_the_timeline(as_user, erp):
    rep = as_user("sales_rep")
    acme = rep.post("/api/v1/parties", json={"kind": "company", "roles": ["customer"],
                                             "legal_name": f"Mailed {uuid.uuid4().hex[:6]}"}).json
    inv, due = str(uuid.uuid4()), date.today() - timedelta(days=3)
    erp("erp.invoice.issued", invoice_state(acme["id"], "issued", 1, 120, due, id=inv), 1)
    erp("erp.invoice.sent", invoice_state(acme["id"], "issued", 2, 120, due, id=inv, sent_to=["ap@m.test"]), 2)
    erp("erp.invoice.dunned", invoice_state(acme["id"], "overdue", 3, 120, due, id=inv, dunning_level=2), 3)
    titles = [e["title"] for e in rep.get(f"/api/v1/parties/{acme['id']}/timeline").json["items"]]
    assert titles[:2] == [f"Invoice INV-2026-000031: reminder 2 sent (120.00 EUR due since {due.isoformat()})",
                          "Invoice INV-2026-000031 mailed to ap@m.test"]
