"""Managers look at their team's deals, activities and leads from different points of view: by owner, stage,
month, type, source; counts and sums per currency, only over the records they may see, as JSON or CSV."""

import csv
import io
import uuid
from datetime import UTC, datetime

import pytest
from crm.catalog.handlers import CONSUMER, HANDLERS, TOPICS
from crm.db import processed_events
from crm.deals.models import Deal
from crm.quotes.models import Quote
from shared_events import envelope
from shared_events.inbox import InboxConsumer
from shared_events.testing import Record, RecordingProducer
from sqlalchemy import update

pytestmark = pytest.mark.db


def tag() -> str:
    return uuid.uuid4().hex[:8]


def party(client) -> dict:
    r = client.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Customer {tag()}"})
    assert r.status_code == 201, r.json
    return r.json


def pipeline(client) -> dict:
    r = client.post("/api/v1/pipelines", json={"name": f"Funnel {tag()}"})
    assert r.status_code == 201, r.json
    return r.json


def stage_id(pipe: dict, name: str) -> str:
    return next(s["id"] for s in pipe["stages"] if s["name"] == name)


def open_deal(client, customer: dict, pipe: dict, amount: str, **body) -> dict:
    r = client.post("/api/v1/deals", json={"name": f"Deal {tag()}", "party_id": customer["id"],
                                           "pipeline_id": pipe["id"], "amount": amount, **body})
    assert r.status_code == 201, r.json
    return r.json


def created_at(db, deal: dict, when: str) -> None:
    """Deals are created now; these stories need deals from other months."""
    with db.sessions.begin() as s:
        s.execute(update(Deal).where(Deal.id == deal["id"]).values(created_at=when))


def statistics(client, subject: str, expect=200, **query):
    r = client.get(f"/api/v1/statistics/{subject}", query_string=query)
    assert r.status_code == expect, r.json
    return r.json


def sales_team(as_user):
    """A manager and two reps in one team: the manager sees the reps' records."""
    admin, manager, alice, bob = as_user("admin"), as_user("sales_manager"), as_user("sales_rep"), as_user("sales_rep")
    team = admin.post("/api/v1/teams", json={"name": f"Team {tag()}"}).json
    for member, role in ((manager, "manager"), (alice, "member"), (bob, "member")):
        r = admin.post(f"/api/v1/teams/{team['id']}/members", json={"user_id": member.user["id"], "role": role})
        assert r.status_code == 200, r.json
    return manager, alice, bob


def with_statistics(as_user, admin, *roles):
    """A user with these roles who may also read statistics (no built-in sales_rep grant has it)."""
    name = f"stats_{tag()}"
    r = admin.post("/api/v1/roles", json={"name": name, "permissions": ["statistics:read"]})
    assert r.status_code == 201, r.json
    return as_user(*roles, name)


def test_a_manager_sees_the_team_deals_by_owner_and_stage_with_sums_per_currency(as_user):
    manager, alice, bob = sales_team(as_user)
    pipe = pipeline(manager)
    customer = party(manager)
    qualification, proposal = stage_id(pipe, "Qualification"), stage_id(pipe, "Proposal")
    for owner, stage, amount, currency in ((alice, qualification, "100.00", "EUR"),
                                           (alice, qualification, "250.50", "EUR"),
                                           (alice, qualification, "40", "USD"),
                                           (alice, proposal, "1000", "EUR"),
                                           (bob, proposal, "300", "EUR"),
                                           (bob, qualification, "70.25", "EUR")):
        open_deal(manager, customer, pipe, amount, currency=currency, owner_id=owner.user["id"], stage_id=stage)
    outsider = as_user("sales_rep")  # not in the team: the manager cannot see their deals
    open_deal(outsider, party(outsider), pipe, "5000")

    r = statistics(manager, "deals", group_by="owner,stage", pipeline_id=pipe["id"])
    assert r["subject"] == "deals" and r["group_by"] == ["owner", "stage"]
    assert r["columns"] == ["owner_id", "owner_name", "owner_email", "stage_id", "stage_name", "currency", "count",
                            "sum_amount", "avg_amount", "weighted_amount"]
    cells = {(row["owner_email"], row["stage_name"], row["currency"]): (
        row["count"], row["sum_amount"], row["avg_amount"], row["weighted_amount"]) for row in r["rows"]}
    a, b = alice.user["email"], bob.user["email"]
    assert cells == {
        (a, "Qualification", "EUR"): (2, "350.50", "175.25", "35.05"),
        (a, "Qualification", "USD"): (1, "40.00", "40.00", "4.00"),
        (a, "Proposal", "EUR"): (1, "1000.00", "1000.00", "400.00"),
        (b, "Qualification", "EUR"): (1, "70.25", "70.25", "7.03"),
        (b, "Proposal", "EUR"): (1, "300.00", "300.00", "120.00"),
    }
    alice_rows = [row for row in r["rows"] if row["owner_email"] == a]
    assert [row["stage_name"] for row in alice_rows] == ["Qualification", "Qualification", "Proposal"]
    assert {row["owner_name"] for row in alice_rows} == {alice.user["name"]}
    assert r["totals"] == {"count": 6, "by_currency": [
        {"currency": "EUR", "count": 5, "sum_amount": "1720.75", "avg_amount": "344.15", "weighted_amount": "562.08"},
        {"currency": "USD", "count": 1, "sum_amount": "40.00", "avg_amount": "40.00", "weighted_amount": "4.00"}]}

    counted = statistics(manager, "deals", group_by="owner", measures="count", pipeline_id=pipe["id"])
    assert counted["columns"] == ["owner_id", "owner_name", "owner_email", "count"]
    assert {row["owner_email"]: row["count"] for row in counted["rows"]} == {a: 4, b: 2}
    assert counted["totals"] == {"count": 6}
    assert statistics(manager, "deals", pipeline_id=pipe["id"], owner_id=bob.user["id"],
                      measures="sum_amount")["rows"] == [{"currency": "EUR", "count": 2, "sum_amount": "370.25"}]


def test_deals_by_month_of_creation_are_cut_in_utc_and_bounded_by_date(client, db):
    pipe = pipeline(client)
    customer = party(client)
    for when, amount, currency in (("2024-01-15T12:00:00+00:00", "100", "EUR"),
                                   ("2024-01-31T23:59:00+00:00", "20", "USD"),
                                   ("2024-02-10T08:00:00+00:00", "300", "EUR"),
                                   ("2024-02-29T23:30:00-05:00", "7", "EUR")):  # 1 March in UTC
        created_at(db, open_deal(client, customer, pipe, amount, currency=currency), when)

    r = statistics(client, "deals", group_by="created_period", period="month", pipeline_id=pipe["id"],
                   measures="sum_amount")
    assert r["period"] == "month" and r["columns"] == ["created_period", "currency", "count", "sum_amount"]
    assert [(row["created_period"], row["currency"], row["count"], row["sum_amount"]) for row in r["rows"]] == [
        ("2024-01", "EUR", 1, "100.00"), ("2024-01", "USD", 1, "20.00"), ("2024-02", "EUR", 1, "300.00"),
        ("2024-03", "EUR", 1, "7.00")]
    quarters = statistics(client, "deals", group_by="created_period", period="quarter", pipeline_id=pipe["id"],
                          measures="sum_amount")["rows"]
    assert [(row["created_period"], row["currency"], row["sum_amount"]) for row in quarters] == [
        ("2024-Q1", "EUR", "407.00"), ("2024-Q1", "USD", "20.00")]
    february = statistics(client, "deals", group_by="created_period", pipeline_id=pipe["id"], measures="",
                          date_from="2024-02-01", date_to="2024-02-29")
    assert february["rows"] == [{"created_period": "2024-02", "count": 1}]
    weeks = statistics(client, "deals", group_by="created_period", period="week", pipeline_id=pipe["id"],
                       measures="")
    assert [row["created_period"] for row in weeks["rows"]] == ["2024-W03", "2024-W05", "2024-W06", "2024-W09"]
    won = statistics(client, "deals", group_by="status,closed_period", pipeline_id=pipe["id"], measures="")
    assert won["rows"] == [{"status": "open", "closed_period": None, "count": 4}]


def test_a_rep_counts_only_the_deals_they_may_see(as_user):
    admin = as_user("admin")
    rep, other = with_statistics(as_user, admin, "sales_rep"), as_user("sales_rep")
    pipe = pipeline(admin)
    mine = party(rep)
    open_deal(rep, mine, pipe, "100")
    open_deal(rep, mine, pipe, "50", stage_id=stage_id(pipe, "Proposal"))
    theirs = party(other)
    open_deal(other, theirs, pipe, "9000")
    shared = open_deal(other, theirs, pipe, "1")
    assert statistics(rep, "deals", pipeline_id=pipe["id"], measures="sum_amount")["rows"] == [
        {"currency": "EUR", "count": 2, "sum_amount": "150.00"}]
    by_owner = statistics(rep, "deals", group_by="owner", pipeline_id=pipe["id"], owner_id=other.user["id"])
    assert by_owner["rows"] == [] and by_owner["totals"] == {"count": 0, "by_currency": []}
    assert other.post(f"/api/v1/deals/{shared['id']}/shares", json={"user_id": rep.user["id"]}).status_code == 201
    assert statistics(rep, "deals", pipeline_id=pipe["id"], measures="sum_amount")["rows"] == [
        {"currency": "EUR", "count": 3, "sum_amount": "151.00"}]
    everything = statistics(admin, "deals", pipeline_id=pipe["id"], measures="sum_amount")
    assert everything["totals"]["by_currency"][0]["sum_amount"] == "9151.00"

    # every rep reads statistics, of their own records only
    assert statistics(other, "deals", pipeline_id=pipe["id"], measures="sum_amount")["rows"] == [
        {"currency": "EUR", "count": 2, "sum_amount": "9001.00"}]
    support = as_user("support_agent").get("/api/v1/statistics/deals")
    assert support.status_code == 403 and support.json["missing_permission"] == "statistics:read"
    marketing = as_user("marketing")  # may read statistics, but not deals
    refused = marketing.get("/api/v1/statistics/deals")
    assert refused.status_code == 403 and refused.json["missing_permission"] == "deals:read"


def test_activities_by_type_and_month_with_the_time_spent(as_user):
    admin = as_user("admin")
    manager, alice, _ = sales_team(as_user)
    customer = party(alice)
    for kind, when, minutes in (("call", "2024-01-05T10:00:00Z", 10), ("call", "2024-01-20T10:00:00Z", 25),
                                ("meeting", "2024-01-22T09:00:00Z", 60), ("call", "2024-02-01T10:00:00Z", None),
                                ("email", "2024-02-02T10:00:00Z", None)):
        r = alice.post("/api/v1/activities", json={"type": kind, "subject": f"{kind} {tag()}", "occurred_at": when,
                                                   "duration_minutes": minutes, "party_id": customer["id"]})
        assert r.status_code == 201, r.json
    r = statistics(manager, "activities", group_by="type,occurred_period", owner_id=alice.user["id"])
    assert r["columns"] == ["type", "type_label", "occurred_period", "count", "sum_duration_minutes"]
    assert [(row["type"], row["type_label"], row["occurred_period"], row["count"], row["sum_duration_minutes"])
            for row in r["rows"]] == [
        ("call", "Call", "2024-01", 2, 35), ("call", "Call", "2024-02", 1, 0), ("email", "Email", "2024-02", 1, 0),
        ("meeting", "Meeting", "2024-01", 1, 60)]
    assert r["totals"] == {"count": 5, "sum_duration_minutes": 95}
    january = statistics(manager, "activities", group_by="occurred_period", owner_id=alice.user["id"],
                         date_from="2024-01-01", date_to="2024-01-31")
    assert january["rows"] == [{"occurred_period": "2024-01", "count": 3, "sum_duration_minutes": 95}]
    assert statistics(with_statistics(as_user, admin, "sales_rep"), "activities",
                      owner_id=alice.user["id"])["totals"]["count"] == 0


def test_marketing_counts_leads_by_source_and_status(as_user):
    marketing = as_user("marketing")
    campaign = f"fair-{tag()}"
    leads = [marketing.post("/api/v1/leads", json={"last_name": f"Lead {tag()}", "source": source,
                                                   "campaign": campaign}).json
             for source in ("event", "event", "referral")]
    assert marketing.post(f"/api/v1/leads/{leads[1]['id']}/disqualify", json={"reason": "No budget"}
                          ).status_code == 200
    r = statistics(marketing, "leads", group_by="source,status,campaign", owner_id=marketing.user["id"])
    assert [(row["source"], row["status"], row["campaign"], row["count"]) for row in r["rows"]] == [
        ("event", "disqualified", campaign, 1), ("event", "new", campaign, 1), ("referral", "new", campaign, 1)]
    assert statistics(marketing, "leads", owner_id=marketing.user["id"], source="event")["totals"] == {"count": 2}
    closed = statistics(marketing, "leads", group_by="closed_period", period="year", owner_id=marketing.user["id"],
                        status="disqualified")["rows"]
    assert len(closed) == 1 and closed[0]["count"] == 1 and len(closed[0]["closed_period"]) == 4


def test_statistics_as_csv_parse_with_one_column_per_dimension_and_measure(client):
    pipe = pipeline(client)
    customer = party(client)
    for amount, currency in (("10.10", "EUR"), ("20.20", "EUR"), ("5", "CHF")):
        open_deal(client, customer, pipe, amount, currency=currency)
    r = client.get("/api/v1/statistics/deals", query_string={"group_by": "pipeline,status", "format": "csv",
                                                             "pipeline_id": pipe["id"]})
    assert r.status_code == 200 and r.mimetype == "text/csv"
    assert r.headers["Content-Disposition"] == 'attachment; filename="statistics-deals.csv"'
    rows = list(csv.DictReader(io.StringIO(r.get_data(as_text=True))))
    assert list(rows[0]) == ["pipeline_id", "pipeline_name", "status", "currency", "count", "sum_amount",
                             "avg_amount", "weighted_amount"]
    assert [(r["pipeline_name"], r["status"], r["currency"], r["count"], r["sum_amount"]) for r in rows] == [
        (pipe["name"], "open", "CHF", "1", "5.00"), (pipe["name"], "open", "EUR", "2", "30.30")]


def catalog_product(db, price: str, currency: str) -> dict:
    """A product as the ERP's catalog event delivers it into the CRM's replica (as the worker would)."""
    t = tag()
    product = {"id": str(uuid.uuid4()), "sku": f"KIT-{t}", "name": f"Kit {t}", "description": None,
               "category_id": None, "category_path": None, "uom": "unit", "kind": "service", "currency": currency,
               "sale_price": price, "tax_rate": "0.2", "warranty_months": 0, "allow_backorder": False,
               "active": True, "version": 1, "updated_at": datetime.now(UTC).isoformat()}
    inbox = InboxConsumer(CONSUMER, "unused:1", TOPICS, HANDLERS, db.sessions, processed_events,
                          producer_factory=RecordingProducer)
    topic, key, value, headers = envelope.to_kafka(envelope.new_event("erp.product.created", product["id"], product, 1))
    assert inbox.handle_message(Record(topic, 0, 0, key, value, headers)) == "applied"
    return product


def quote(client, deal: dict, product: dict, quantity: int, **body) -> dict:
    r = client.post("/api/v1/quotes", json={"deal_id": deal["id"], "currency": product["currency"], **body,
                                            "lines": [{"product_id": product["id"], "quantity": str(quantity)}]})
    assert r.status_code == 201, r.json
    return r.json


def test_quotes_by_status_sum_their_totals_per_currency_and_leave_superseded_versions_out(as_user, db):
    admin = as_user("admin")
    manager, alice, _ = sales_team(as_user)
    pipe = pipeline(manager)
    euro, dollar = catalog_product(db, "100.00", "EUR"), catalog_product(db, "40.00", "USD")
    mine = party(alice)
    deal = open_deal(alice, mine, pipe, "1000")
    dollar_deal = open_deal(alice, mine, pipe, "80", currency="USD")
    quote(alice, deal, euro, 2)  # net 200.00, tax 40.00
    lapsed = quote(alice, deal, euro, 1)
    old = quote(alice, deal, euro, 5)
    quote(alice, dollar_deal, dollar, 3)  # 120.00, 24.00
    with db.sessions.begin() as s:  # as if sent long ago (now past its validity), and as if revised since
        s.execute(update(Quote).where(Quote.id == lapsed["id"]).values(
            status="sent", sent_at="2024-05-20T10:00:00+00:00", valid_until="2024-06-19"))
        s.execute(update(Quote).where(Quote.id == old["id"]).values(status="superseded"))

    r = statistics(manager, "quotes", group_by="status", pipeline_id=pipe["id"])
    assert r["columns"] == ["status", "currency", "count", "sum_net_total", "sum_tax_total", "sum_gross_total"]
    assert [(row["status"], row["currency"], row["count"], row["sum_net_total"], row["sum_gross_total"])
            for row in r["rows"]] == [("draft", "EUR", 1, "200.00", "240.00"), ("draft", "USD", 1, "120.00", "144.00"),
                                      ("expired", "EUR", 1, "100.00", "120.00")]
    assert r["totals"]["count"] == 3 and [(t["currency"], t["sum_tax_total"]) for t in r["totals"]["by_currency"]] == [
        ("EUR", "60.00"), ("USD", "24.00")]
    superseded = statistics(manager, "quotes", status="superseded", group_by="owner", pipeline_id=pipe["id"])
    assert [(row["owner_email"], row["count"], row["sum_net_total"]) for row in superseded["rows"]] == [
        (alice.user["email"], 1, "500.00")]
    sent = statistics(manager, "quotes", group_by="sent_period", pipeline_id=pipe["id"], status="expired",
                      measures="")["rows"]
    assert sent == [{"sent_period": "2024-05", "count": 1}]
    outsider = with_statistics(as_user, admin, "sales_rep")
    assert statistics(outsider, "quotes", pipeline_id=pipe["id"])["totals"] == {"count": 0, "by_currency": []}


@pytest.mark.parametrize("subject, query, field", [
    ("deals", {"group_by": "owner,colour"}, "group_by"),
    ("deals", {"group_by": "owner,stage,status,currency"}, "group_by"),
    ("deals", {"group_by": "owner,owner"}, "group_by"),
    ("activities", {"group_by": "stage"}, "group_by"),
    ("activities", {"status": "open"}, "status"),
    ("deals", {"status": "pending"}, "status"),
    ("deals", {"measures": "sum_gold"}, "measures"),
    ("leads", {"period": "decade", "group_by": "created_period"}, "period"),
    ("deals", {"date_from": "2024-02-01", "date_to": "2024-01-01"}, "date_to"),
    ("deals", {"format": "xml"}, "format"),
])
def test_what_a_subject_cannot_be_grouped_or_filtered_by_is_refused_naming_the_field(client, subject, query, field):
    r = client.get(f"/api/v1/statistics/{subject}", query_string=query)
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert [e["field"] for e in r.json["errors"]] == [field], r.json


def test_a_bad_dimension_is_answered_with_the_allowed_ones(client):
    r = client.get("/api/v1/statistics/deals", query_string={"group_by": "colour"})
    assert r.status_code == 422
    message = r.json["errors"][0]["message"]
    assert "'colour'" in message and "owner, stage, pipeline, status, source, party, currency, created_period, " \
                                     "closed_period" in message
    unknown = client.get("/api/v1/statistics/invoices")
    assert unknown.status_code == 404 and "deals, activities, leads" in unknown.json["detail"]
