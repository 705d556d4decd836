"""Finance sees the cost of warranty repairs: a claim from a CRM ticket issues its parts from stock, books parts and
labour against the warranty expense (accrued labour), records what the supplier's back-to-back term covers as a
receivable from that supplier, answers the CRM, books a correction as a difference only, and refuses a claim it
cannot serve (no stock, someone else's warranty) without touching stock or books. The reports add it up."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal as D

import pytest
from erp.db import processed_events
from erp.ledger.models import Account, JournalEntry, JournalLine
from erp.stock.models import StockMove, Warehouse
from erp.warranty.handlers import CONSUMER, TOPICS, claim_handlers
from shared_events import envelope
from shared_events.inbox import InboxConsumer
from shared_events.testing import Record, RecordingProducer
from sqlalchemy import String, and_, cast, or_, select

from tests.support import erp_sales as t

pytestmark = pytest.mark.db


@pytest.fixture
def world(sessions, deliver, monkeypatch, app, as_user, accountant):
    """A printer sold with 24 months of parts warranty (12 months back-to-back from its supplier), invoiced to a
    customer; pumps in stock at 25.00 each; a fuse nobody stocked."""
    wh = t.warehouse(sessions)
    t.ship_from(app, monkeypatch, wh["code"])
    printer, pump, fuse = (t.product(sessions, price="200.00"), t.product(sessions, cost="25.00"),
                           t.product(sessions, cost="2.00"))
    t.stock_up(sessions, pump, wh["id"], 5, unit_cost="25.00")
    supplier = t.customer(deliver, roles=("supplier",))["id"]
    purchaser = as_user("purchaser")
    path = f"/api/v1/warranty/terms/{printer}"
    r = purchaser.put(path, json={"months": 24, "covers_parts": True, "covers_labour": False,
                                  "supplier_party_id": supplier, "supplier_months": 12},
                      headers={"If-Match": purchaser.get(path).headers["ETag"]})
    assert r.status_code == 200, r.json
    customer = t.customer(deliver)["id"]
    inv = accountant.post("/api/v1/invoices", json={"party_id": customer, "issue": True, "lines": [
        {"product_id": printer, "quantity": "1"}]})
    assert inv.status_code == 201, inv.json
    (e,) = accountant.get("/api/v1/warranty/entitlements", query_string={"party_id": customer}).json["items"]
    inbox = InboxConsumer(CONSUMER, "unused:1", TOPICS, claim_handlers(wh["code"]), sessions, processed_events,
                          producer_factory=RecordingProducer)
    return {"warehouse": wh, "printer": printer, "pump": pump, "fuse": fuse, "supplier": supplier,
            "customer": customer, "entitlement": e, "inbox": inbox, "offsets": iter(range(10**6))}


def claimed(world, revision=1, parts=None, hours="2", rate="40.00", claim_id=None, **over) -> dict:
    data = {"claim_id": claim_id or str(uuid.uuid4()), "revision": revision, "ticket_id": str(uuid.uuid4()),
            "ticket_number": f"T-2026-{uuid.uuid4().int % 99999:05d}", "party_id": world["customer"],
            "product_id": world["printer"], "entitlement_id": world["entitlement"]["id"], "faulty_serial": None,
            "replacement_serial": None,
            "parts": parts if parts is not None else [{"product_id": world["pump"], "sku": None, "quantity": "1"}],
            "labour_hours": hours, "labour_rate": rate, "labour_cost": str(D(hours) * D(rate)), "currency": "EUR",
            "resolution": None, "resolved_at": datetime.now(UTC).isoformat(), "claimed_by": "ada@crm.test", **over}
    return data


def send(world, data):
    event = envelope.new_event("crm.ticket.warranty_claimed", data["claim_id"], data, data["revision"])
    topic, key, value, headers = envelope.to_kafka(event)
    record = Record(topic, 0, next(world["offsets"]), key, value, headers)
    return world["inbox"].handle_message(record), record


def on_hand(reader, world, product) -> D:
    r = reader.get("/api/v1/stock/levels", query_string={"product_id": product,
                                                         "warehouse_id": world["warehouse"]["id"],
                                                         "include_zero": True})
    return D(r.json["items"][0]["on_hand"])


def booked(sessions, claim_id) -> dict[str, D]:
    """Net debit per account code of every entry the claim caused (its own and its stock moves' valuations)."""
    with sessions.begin() as s:
        moves = select(cast(StockMove.id, String)).where(StockMove.source_type == "warranty_claim",
                                                        StockMove.source_id == claim_id)
        entries = select(JournalEntry.id).where(or_(
            and_(JournalEntry.source_type == "warranty_claim", JournalEntry.source_id == claim_id),
            and_(JournalEntry.source_type == "stock_move", JournalEntry.source_id.in_(moves))))
        out: dict[str, D] = {}
        for code, debit, credit in s.execute(select(Account.code, JournalLine.debit, JournalLine.credit)
                                             .join(Account, Account.id == JournalLine.account_id)
                                             .where(JournalLine.entry_id.in_(entries))):
            out[code] = out.get(code, D(0)) + debit - credit
        return {k: v for k, v in out.items() if v}


def answers(sessions, claim_id) -> list[tuple[str, dict]]:
    return t.outbox_events(sessions, claim_id)


def test_a_claim_issues_its_parts_books_the_cost_and_the_suppliers_share(world, accountant, sessions):
    data = claimed(world)
    outcome, record = send(world, data)
    assert outcome == "applied"
    assert on_hand(accountant, world, world["pump"]) == 4
    claim = accountant.get(f"/api/v1/warranty/claims/{data['claim_id']}").json
    assert (claim["status"], claim["parts_cost"], claim["labour_cost"], claim["supplier_receivable"]) == (
        "accepted", "25.00", "80.00", "25.00")
    assert claim["number"].startswith("WC-")
    # warranty expense 25 (part) + 80 (labour) - 25 (the supplier's share); stock -25; labour accrued; receivable
    assert booked(sessions, data["claim_id"]) == {"615000": D("80.00"), "310000": D("-25.00"),
                                                  "428600": D("-80.00"), "467100": D("25.00")}
    with sessions.begin() as s:
        line = s.execute(select(JournalLine).join(Account, Account.id == JournalLine.account_id)
                         .where(Account.code == "467100", JournalLine.party_id == world["supplier"])).scalar()
        assert line is not None and line.debit == D("25.00")
    (answer,) = answers(sessions, data["claim_id"])
    assert answer[0] == "erp.warranty.claim_accepted"
    assert (answer[1]["total_cost"], answer[1]["supplier_receivable"], answer[1]["version"]) == ("105.00", "25.00", 1)

    # Kafka redelivers, then the CRM re-sends the same revision: nothing moves twice
    assert world["inbox"].handle_message(record) == "duplicate"
    send(world, data)
    assert on_hand(accountant, world, world["pump"]) == 4
    assert len(answers(sessions, data["claim_id"])) == 1

    # the agent corrects the claim: two pumps and three hours; only the difference is booked
    send(world, {**data, "revision": 2, "labour_hours": "3",
                 "parts": [{"product_id": world["pump"], "sku": None, "quantity": "2"}]})
    assert on_hand(accountant, world, world["pump"]) == 3
    claim = accountant.get(f"/api/v1/warranty/claims/{data['claim_id']}").json
    assert (claim["revision"], claim["parts_cost"], claim["labour_cost"], claim["supplier_receivable"]) == (
        2, "50.00", "120.00", "50.00")
    assert booked(sessions, data["claim_id"]) == {"615000": D("120.00"), "310000": D("-50.00"),
                                                  "428600": D("-120.00"), "467100": D("50.00")}
    # and back to one pump: the other returns to stock
    send(world, {**data, "revision": 3, "labour_hours": "3"})
    assert on_hand(accountant, world, world["pump"]) == 4
    assert booked(sessions, data["claim_id"])["310000"] == D("-25.00")
    assert [v["revision"] for _, v in answers(sessions, data["claim_id"])] == [1, 2, 3]


def test_a_claim_that_cannot_be_served_is_rejected_with_a_reason_and_changes_nothing(world, accountant, sessions,
                                                                                    deliver):
    short = claimed(world, parts=[{"product_id": world["pump"], "sku": None, "quantity": "1"},
                                  {"product_id": world["fuse"], "sku": None, "quantity": "1"}])
    send(world, short)
    claim = accountant.get(f"/api/v1/warranty/claims/{short['claim_id']}").json
    assert claim["status"] == "rejected" and "stock" in claim["reason"].lower(), claim
    assert on_hand(accountant, world, world["pump"]) == 5  # the pump issued before the fuse failed went back
    assert booked(sessions, short["claim_id"]) == {}
    (answer,) = answers(sessions, short["claim_id"])
    assert answer[0] == "erp.warranty.claim_rejected" and answer[1]["reason"] == claim["reason"]

    stranger = t.customer(deliver)["id"]
    foreign = claimed(world, party_id=stranger)
    send(world, foreign)
    got = accountant.get(f"/api/v1/warranty/claims/{foreign['claim_id']}").json
    assert (got["status"], got["reason"]) == ("rejected", "the entitlement belongs to another customer")
    late = claimed(world, resolved_at=datetime(2099, 1, 1, tzinfo=UTC).isoformat())
    send(world, late)
    assert "not in force" in accountant.get(f"/api/v1/warranty/claims/{late['claim_id']}").json["reason"]
    assert on_hand(accountant, world, world["pump"]) == 5


def test_the_reports_add_up_claims_by_product_customer_supplier_and_month(world, accountant, sessions):
    first, second = claimed(world), claimed(world, hours="1", rate="50.00", parts=[])
    send(world, first)
    send(world, second)
    today = date.today().isoformat()
    r = accountant.get("/api/v1/warranty/reports/costs", query_string={"group_by": "product", "date_from": today,
                                                                        "date_to": today,
                                                                        "product_id": world["printer"]})
    assert r.status_code == 200, r.json
    (row,) = r.json["items"]
    assert (row["key"], row["claims"], row["parts_cost"], row["labour_cost"], row["total_cost"],
            row["supplier_receivable"], row["net_cost"]) == (world["printer"], 2, "25.00", "130.00", "155.00",
                                                             "25.00", "130.00")
    assert r.json["totals"]["total_cost"] == "155.00"
    by_supplier = accountant.get("/api/v1/warranty/reports/costs", query_string={
        "group_by": "supplier", "supplier_party_id": world["supplier"]}).json
    assert [(x["key"], x["supplier_receivable"]) for x in by_supplier["items"]] == [(world["supplier"], "25.00")]
    by_customer = accountant.get("/api/v1/warranty/reports/costs", query_string={
        "group_by": "customer", "party_id": world["customer"]}).json
    assert by_customer["items"][0]["label"].startswith("Initech")
    month = accountant.get("/api/v1/warranty/reports/costs", query_string={
        "group_by": "month", "party_id": world["customer"]}).json
    assert [x["key"] for x in month["items"]] == [today[:7]]
    per = accountant.get("/api/v1/warranty/reports/claims-per-entitlement",
                         query_string={"party_id": world["customer"]}).json
    assert [(x["entitlement_id"], x["claims"], x["total_cost"]) for x in per["items"]] == [
        (world["entitlement"]["id"], 2, "155.00")]
    still = accountant.get("/api/v1/warranty/reports/open-entitlements",
                           query_string={"party_id": world["customer"]}).json
    assert [x["entitlement_id"] for x in still["items"]] == [world["entitlement"]["id"]]
    assert still["items"][0]["days_left"] > 700
    assert accountant.get("/api/v1/warranty/reports/costs", query_string={"group_by": "colour"}).status_code == 422


def test_warranty_parts_leave_the_warehouse_the_settings_name(world, accountant, sessions, as_user):
    """A company keeps its spare parts apart from what it sells: once the warranty settings name that warehouse,
    a claim's parts leave from it and the sales warehouse keeps its stock. A warehouse that does not exist or is
    inactive is refused naming the field, and the settings stay as they were."""
    admin = as_user("admin")
    spares = t.warehouse(sessions)
    t.stock_up(sessions, world["pump"], spares["id"], 3, unit_cost="25.00")

    def put(body):
        return admin.put("/api/v1/warranty/settings", json={"replacement_policy": "keep", **body},
                         headers={"If-Match": admin.get("/api/v1/warranty/settings").headers["ETag"]})

    def spare_pumps():
        return on_hand(accountant, {"warehouse": spares}, world["pump"])

    try:
        closed = t.warehouse(sessions)["id"]
        with sessions.begin() as s:
            s.get(Warehouse, closed).active = False
        for wrong in (str(uuid.uuid4()), closed):
            before = admin.get("/api/v1/warranty/settings").json
            r = put({"parts_warehouse_id": wrong})
            assert r.status_code == 422 and r.content_type == "application/problem+json", r.json
            assert "parts_warehouse_id" in str(r.json), r.json
            assert admin.get("/api/v1/warranty/settings").json == before

        r = put({"parts_warehouse_id": spares["id"]})
        assert r.status_code == 200 and r.json["parts_warehouse_id"] == spares["id"], r.json
        assert admin.get("/api/v1/warranty/settings").json["parts_warehouse_id"] == spares["id"]
        data = claimed(world)
        assert send(world, data)[0] == "applied"
        assert (spare_pumps(), on_hand(accountant, world, world["pump"])) == (2, 5)
        assert booked(sessions, data["claim_id"])["310000"] == D("-25.00")
    finally:
        assert put({"parts_warehouse_id": None}).json["parts_warehouse_id"] is None

    # back to the default: the next claim takes its part from the sales warehouse again
    assert send(world, claimed(world))[0] == "applied"
    assert (spare_pumps(), on_hand(accountant, world, world["pump"])) == (2, 4)
