"""A sales rep quotes a deal from the ERP's catalog, sends the quote as a PDF by email, revises it, and the
customer's acceptance places the order with the ERP (crm.order.placed in the outbox)."""

import io
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta

import pytest
from crm.billing.handlers import HANDLERS as BILLING_HANDLERS
from crm.billing.handlers import TOPICS as BILLING_TOPICS
from crm.catalog.handlers import CONSUMER, HANDLERS, TOPICS
from crm.company.handlers import HANDLERS as COMPANY_HANDLERS
from crm.company.handlers import TOPICS as COMPANY_TOPICS
from crm.company.models import CompanyReplica
from crm.db import audit_log, mail_outbox, processed_events
from crm.quotes.api import QuoteContext
from crm.quotes.models import Quote
from crm.timeline.models import TimelineEntry
from pypdf import PdfReader
from servicekit.mail_outbox import Mailer, MailSender
from shared_events import contracts, envelope
from shared_events.inbox import InboxConsumer
from shared_events.testing import Record, RecordingProducer
from sqlalchemy import delete, func, select, update

from tests.support.smtp import Inbox, free_port, start_server

pytestmark = pytest.mark.db

QUOTES = "/api/v1/quotes"
SELLER = ("Northwind Supplies Ltd", "12 Harbour Road", "Bristol BS1 4DJ, GB")


def tag() -> str:
    return uuid.uuid4().hex[:8]


# -- the ERP's catalog, delivered into the CRM's replica as the worker would --------------------------------------

@pytest.fixture
def erp(db):
    inbox = InboxConsumer(CONSUMER, "unused:1", TOPICS, HANDLERS, db.sessions, processed_events,
                          producer_factory=RecordingProducer)
    offsets = iter(range(10**6))
    stamp = datetime.now(UTC).isoformat()

    def publish(type_, state):
        ev = envelope.new_event(type_, state.get("id") or state["product_id"], state, state["version"])
        topic, key, value, headers = envelope.to_kafka(ev)
        assert inbox.handle_message(Record(topic, 0, next(offsets), key, value, headers)) == "applied"
        return state

    class Catalog:
        def product(self, name, sale_price, tax_rate="0.2", kind="stockable", **over):
            t = tag()
            return publish("erp.product.created", {
                "id": str(uuid.uuid4()), "sku": f"{name[:4].upper()}-{t}", "name": f"{name} {t}",
                "description": f"The {name.lower()}", "category_id": None, "category_path": None, "uom": "unit",
                "kind": kind, "currency": "EUR", "sale_price": sale_price, "tax_rate": tax_rate,
                "warranty_months": 12, "allow_backorder": False, "active": True, "version": 1, "updated_at": stamp,
                **over})

        def withdraw(self, product):
            return publish("erp.product.updated", {**product, "active": False, "version": product["version"] + 1})

        def price_list(self, items, party_id=None):
            return publish("erp.pricelist.created", {
                "id": str(uuid.uuid4()), "name": f"List {tag()}", "currency": "EUR", "customer_group": None,
                "party_id": party_id, "valid_from": None, "valid_to": None, "active": True,
                "items": [{"product_id": p["id"], "min_quantity": str(q), "price": str(price)}
                          for p, q, price in items],
                "version": 1, "updated_at": stamp})

        def stock(self, product, available):
            return publish("erp.stock.availability_changed", {
                "product_id": product["id"], "sku": product["sku"], "on_hand": str(available), "reserved": "0",
                "available": str(available), "warehouses": [], "version": 1, "updated_at": stamp})

    return Catalog()


@pytest.fixture
def products(erp):
    """A laptop cheaper from 5 up (general list), 5 in stock; a support contract (a service); plenty of cables
    at a reduced tax rate."""
    laptop = erp.product("Laptop", "1200.00")
    support = erp.product("Support", "150.00", kind="service")
    cable = erp.product("Cable", "3.33", tax_rate="0.055")
    erp.price_list([(laptop, 5, "1100.00")])
    erp.stock(laptop, 5)
    erp.stock(cable, 1000)
    return {"laptop": laptop, "support": support, "cable": cable}


# -- a real SMTP server on loopback ------------------------------------------------------------------------------

def mail_sender(db, mailer: Mailer, since: datetime) -> MailSender:
    """The worker's mail sender, limited to the mail queued since `since` (this test's)."""
    return MailSender(db.engine, mail_outbox, mailer.transport(), scope=mail_outbox.c.created_at >= since)


@pytest.fixture
def smtp(app, monkeypatch, db):
    """A real SMTP server (aiosmtpd) on a free loopback port; .deliver() sends what the quotes queued, as the
    worker does after the commit; .messages holds what the server took."""
    inbox = Inbox()
    controller = start_server(inbox)
    mailer = Mailer("127.0.0.1", controller.port, "Northwind Sales <sales@northwind.test>")
    monkeypatch.setitem(app.extensions, "crm.quotes", QuoteContext(mailer, SELLER))
    inbox.deliver = mail_sender(db, mailer, datetime.now(UTC) - timedelta(seconds=1)).send_due
    yield inbox
    controller.stop()


# -- what a rep does ---------------------------------------------------------------------------------------------

@pytest.fixture
def rep(as_user):
    return as_user("sales_rep")


def created(r, status=201):
    assert r.status_code == status, r.json
    return r.json


def customer(client) -> dict:
    """A company with an accounts email and a buyer (a person) with their own."""
    company = created(client.post("/api/v1/parties", json={
        "kind": "company", "legal_name": f"Umbrella {tag()}", "roles": ["customer"], "tax_id": "GB123456789",
        "emails": [{"value": f"accounts-{tag()}@umbrella.test"}],
        "billing_address": {"line1": "1 Market Street", "city": "Leeds", "postal_code": "LS1 1AA", "country": "GB"},
        "shipping_address": {"line1": "Dock 4", "city": "Hull", "postal_code": "HU1 1AA", "country": "GB"}}))
    buyer = created(client.post("/api/v1/parties", json={
        "kind": "person", "first_name": "Ada", "last_name": "Byron", "company_id": company["id"],
        "emails": [{"value": f"ada-{tag()}@umbrella.test"}]}))
    deal = created(client.post("/api/v1/deals", json={"name": f"Laptops {tag()}", "party_id": company["id"],
                                                      "contact_person_id": buyer["id"]}))
    return {"company": company, "buyer": buyer, "deal": deal}


def line(product, quantity, **over):
    return {"product_id": product["id"], "quantity": str(quantity), **over}


def new_quote(client, deal, *lines_, **over) -> dict:
    return created(client.post(QUOTES, json={"deal_id": deal["id"], "lines": list(lines_), **over}))


def sent_quote(client, products, smtp) -> tuple[dict, dict]:
    c = customer(client)
    q = new_quote(client, c["deal"], line(products["laptop"], 2), line(products["support"], 1))
    sent = created(client.post(f"{QUOTES}/{q['id']}/send", json={}), 200), c
    smtp.deliver()
    return sent


def etag(q) -> dict:
    return {"If-Match": f'"{q["version"]}"'}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def count_quotes(db) -> int:
    with db.sessions() as s:
        return s.execute(select(func.count()).select_from(Quote)).scalar_one()


# -- building a quote --------------------------------------------------------------------------------------------

def test_a_rep_builds_a_quote_from_the_catalog_with_list_prices_a_discount_and_totals_to_the_cent(rep, products, erp):
    c = customer(rep)
    laptop, support, cable = products["laptop"], products["support"], products["cable"]
    erp.price_list([(cable, 1, "2.99")], party_id=c["company"]["id"])  # this customer's own price for cables

    q = new_quote(rep, c["deal"], line(laptop, 6, discount_percent="7.5"), line(support, 3, unit_price="129.99"),
                  requested_date=(date.today() + timedelta(days=20)).isoformat(), customer_reference="PO-4711")
    assert q["number"].startswith(f"Q-{datetime.now(UTC).year}-") and len(q["number"]) == 12
    assert (q["quote_version"], q["status"], q["currency"]) == (1, "draft", "EUR")
    assert q["party_id"] == c["company"]["id"] and q["contact_person_id"] == c["buyer"]["id"]
    assert q["owner_id"] == rep.user["id"]
    lap, sup = q["lines"]
    # 6 laptops reach the general list's break at 5: 1100; 6 × 1100 × 92.5 % = 6105.00, tax 20 % = 1221.00
    assert (lap["list_price"], lap["unit_price"], lap["price_source"], lap["price_overridden"]) == (
        "1100.0000", "1100.0000", "general", False)
    assert (lap["sku"], lap["name"], lap["uom"], lap["tax_rate"]) == (laptop["sku"], laptop["name"], "unit", "0.2000")
    assert (lap["net_amount"], lap["tax_amount"], lap["gross_amount"]) == ("6105.00", "1221.00", "7326.00")
    # the support contract at an agreed price: both prices are kept; 3 × 129.99 = 389.97, tax 77.994 → 77.99
    assert (sup["list_price"], sup["unit_price"], sup["price_source"], sup["price_overridden"]) == (
        "150.0000", "129.9900", "base", True)
    assert (sup["net_amount"], sup["tax_amount"]) == ("389.97", "77.99")
    # stock: 5 laptops available for 6 quoted is a warning, not a refusal; a service has no stock
    assert lap["availability"]["available"] == "5.0000" and lap["availability"]["sufficient"] is False
    assert sup["availability"] is None
    assert q["warnings"] == [f"line 1 ({laptop['sku']}): 6 unit quoted, 5 available now"]

    # a cable at the customer's own price and a 5.5 % rate: 7 × 2.99 = 20.93, tax 1.15115 → 1.15
    r = rep.post(f"{QUOTES}/{q['id']}/lines", json=line(cable, 7), headers=etag(q))
    q = created(r)
    assert r.headers["ETag"] == f'"{q["version"]}"' and q["version"] == 2
    cab = q["lines"][2]
    assert (cab["line_no"], cab["unit_price"], cab["price_source"], cab["net_amount"], cab["tax_amount"]) == (
        3, "2.9900", "customer", "20.93", "1.15")
    assert (q["net_total"], q["tax_total"], q["gross_total"]) == ("6515.90", "1300.14", "7816.04")

    # 4 laptops fall below the break: back to the base 1200; 4 × 1200 × 92.5 % = 4440.00, tax 888.00
    q = created(rep.patch(f"{QUOTES}/{q['id']}/lines/{lap['id']}", json={"quantity": "4"}, headers=etag(q)), 200)
    lap = q["lines"][0]
    assert (lap["list_price"], lap["unit_price"], lap["price_source"], lap["net_amount"]) == (
        "1200.0000", "1200.0000", "base", "4440.00")
    assert (q["net_total"], q["tax_total"], q["gross_total"]) == ("4850.90", "967.14", "5818.04")
    assert q["warnings"] == []  # 4 of 5 available

    # an agreed price goes back to the list price with null; removing a line renumbers the rest
    q = created(rep.patch(f"{QUOTES}/{q['id']}/lines/{sup['id']}", json={"unit_price": None}, headers=etag(q)), 200)
    assert (q["lines"][1]["unit_price"], q["lines"][1]["price_overridden"]) == ("150.0000", False)
    q = created(rep.delete(f"{QUOTES}/{q['id']}/lines/{sup['id']}", headers=etag(q)), 200)
    assert [(x["line_no"], x["sku"]) for x in q["lines"]] == [(1, laptop["sku"]), (2, cable["sku"])]
    assert (q["net_total"], q["tax_total"], q["gross_total"]) == ("4460.93", "889.15", "5350.08")

    got = rep.get(f"{QUOTES}/{q['id']}")
    assert got.status_code == 200 and got.json == q and got.headers["ETag"] == f'"{q["version"]}"'


def test_every_change_is_in_the_audit_trail(rep, products, db):
    c = customer(rep)
    q = new_quote(rep, c["deal"], line(products["laptop"], 1))
    q = created(rep.post(f"{QUOTES}/{q['id']}/lines", json=line(products["cable"], 2), headers=etag(q)))
    q = created(rep.patch(f"{QUOTES}/{q['id']}", json={"notes": "Delivery in two weeks."}, headers=etag(q)), 200)
    with db.sessions() as s:
        rows = s.execute(select(audit_log.c.action, audit_log.c.actor_id, audit_log.c.changes)
                         .where(audit_log.c.entity_type == "quote", audit_log.c.entity_id == q["id"])
                         .order_by(audit_log.c.at)).all()
    assert [r.action for r in rows] == ["create", "add_line", "update"]
    assert {r.actor_id for r in rows} == {rep.user["id"]}
    assert rows[1].changes["net_total"] == {"before": "1200.00", "after": "1206.66"}
    assert rows[2].changes["notes"] == {"before": None, "after": "Delivery in two weeks."}


def test_patch_replaces_all_lines_and_needs_the_current_etag(rep, products):
    c = customer(rep)
    q = new_quote(rep, c["deal"], line(products["laptop"], 1))
    assert rep.patch(f"{QUOTES}/{q['id']}", json={"notes": "x"}).status_code == 428
    assert rep.patch(f"{QUOTES}/{q['id']}", json={"notes": "x"}, headers={"If-Match": '"99"'}).status_code == 412
    q = created(rep.patch(f"{QUOTES}/{q['id']}", json={"lines": [line(products["cable"], 10, discount_percent="10")]},
                          headers=etag(q)), 200)
    assert [(x["line_no"], x["sku"], x["net_amount"]) for x in q["lines"]] == [(1, products["cable"]["sku"], "29.97")]
    assert q["net_total"] == "29.97" and q["tax_total"] == "1.65"  # 29.97 × 5.5 % = 1.64835


@pytest.mark.parametrize("body, field", [
    ({"lines": [{"product_id": "withdrawn", "quantity": "1"}]}, "lines.0.product_id"),
    ({"lines": [{"product_id": "unknown", "quantity": "1"}]}, "lines.0.product_id"),
    ({"lines": [{"product_id": "usd", "quantity": "1"}]}, "lines.0.product_id"),
    ({"lines": [{"product_id": "laptop", "quantity": "0"}]}, "lines.0.quantity"),
    ({"lines": [{"product_id": "laptop", "quantity": "1.00001"}]}, "lines.0.quantity"),
    ({"lines": [{"product_id": "laptop", "quantity": "1", "discount_percent": "100.5"}]}, "lines.0.discount_percent"),
    ({"lines": [{"product_id": "laptop", "quantity": "1", "unit_price": "-1"}]}, "lines.0.unit_price"),
    ({"lines": [{"product_id": "laptop", "quantity": "1", "tax_rate": "20"}]}, "lines.0.tax_rate"),
    ({"lines": [{"product_id": "laptop", "quantity": "2"}, {"product_id": "nope", "quantity": "1"}]},
     "lines.1.product_id"),
    ({"currency": "euro"}, "currency"),
    ({"valid_until": "2001-01-01"}, "valid_until"),
    ({"colour": "red"}, "colour"),
    ({"deal_id": "other-reps-deal"}, "deal_id"),
    ({"party_id": "someone-else"}, "party_id"),
    ({"contact_person_id": "a-company"}, "contact_person_id"),
])
def test_bad_input_is_refused_naming_the_field_and_changes_nothing(rep, as_user, products, erp, db, body, field):
    c = customer(rep)
    other = customer(as_user("sales_rep"))
    ids = {"laptop": products["laptop"]["id"], "withdrawn": erp.withdraw(erp.product("Old", "1"))["id"],
           "unknown": str(uuid.uuid4()), "usd": erp.product("Dollar", "1", currency="USD")["id"], "nope": "not-a-uuid",
           "other-reps-deal": other["deal"]["id"], "someone-else": customer(rep)["company"]["id"],
           "a-company": c["company"]["id"]}
    body = {"deal_id": c["deal"]["id"], **body}
    for key in ("deal_id", "party_id", "contact_person_id"):
        body[key] = ids.get(body.get(key), body.get(key))
    for item in body.get("lines", []):
        item["product_id"] = ids.get(item["product_id"], item["product_id"])
    body = {k: v for k, v in body.items() if v is not None}
    before = count_quotes(db)
    r = rep.post(QUOTES, json=body)
    assert r.status_code == 422 and r.content_type == "application/problem+json", r.json
    assert field in [e["field"] for e in r.json["errors"]], r.json
    assert count_quotes(db) == before


def test_a_quote_goes_on_an_open_deal(rep, products):
    c = customer(rep)
    created(rep.post(f"/api/v1/deals/{c['deal']['id']}/lost", json={"reason": "Went elsewhere"}), 200)
    r = rep.post(QUOTES, json={"deal_id": c["deal"]["id"], "lines": [line(products["laptop"], 1)]})
    assert r.status_code == 409 and r.json["type"].endswith("/deal-closed")


def test_a_retried_creation_with_the_same_idempotency_key_gives_the_same_quote(rep, products, db):
    c = customer(rep)
    body, key = {"deal_id": c["deal"]["id"], "lines": [line(products["laptop"], 1)]}, {"Idempotency-Key": tag()}
    first = created(rep.post(QUOTES, json=body, headers=key))
    before = count_quotes(db)
    again = rep.post(QUOTES, json=body, headers=key)
    assert again.status_code == 201 and again.json["id"] == first["id"] and again.json["number"] == first["number"]
    assert count_quotes(db) == before


# -- sending -----------------------------------------------------------------------------------------------------

def test_sending_emails_the_pdf_to_the_buyer_and_marks_the_quote_sent(rep, products, smtp, db):
    c = customer(rep)
    q = new_quote(rep, c["deal"], line(products["laptop"], 6, discount_percent="7.5"), line(products["cable"], 3),
                  terms="Payment 30 days net.", notes="Installation included.")
    r = rep.post(f"{QUOTES}/{q['id']}/send", json={}, headers=etag(q))
    sent = created(r, 200)
    assert sent["status"] == "sent" and sent["sent_to"] == c["buyer"]["emails"][0]["value"] and sent["sent_at"]
    assert sent["mail"]["status"] == "queued" and smtp.messages == []  # it leaves after the commit
    assert smtp.deliver() == 1 and smtp.deliver() == 0  # once
    mail = rep.get(f"{QUOTES}/{q['id']}").json["mail"]
    assert mail["status"] == "sent" and mail["attempts"] == 1 and mail["sent_at"]

    (recipients, msg), = smtp.messages
    assert recipients == [c["buyer"]["emails"][0]["value"]]
    assert msg["To"] == c["buyer"]["emails"][0]["value"] and msg["Reply-To"] == rep.user["email"]
    assert msg["Subject"] == f"Quote {q['number']} from Northwind Supplies Ltd"
    assert "Hello Ada Byron," in msg.get_body(("plain",)).get_content()
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{q['number']}-v1.pdf"
    text = pdf_text(attachment.get_content())
    # 6 × 1100 × 92.5 % = 6105.00 (+1221.00 tax); 3 cables 9.99 (+0.55); gross 7326.00 + 10.54 = 7336.54
    for expected in (q["number"], "Northwind Supplies Ltd", c["company"]["display_name"], "Attention: Ada Byron",
                     products["laptop"]["sku"], products["laptop"]["name"], "6,105.00", "7,336.54 EUR",
                     "Payment 30 days net.", "Installation included.", f"Valid until: {q['valid_until']}"):
        assert expected in text, expected

    # the PDF downloaded later is the one that was sent
    r = rep.get(f"{QUOTES}/{q['id']}/pdf")
    assert r.status_code == 200 and r.content_type == "application/pdf"
    assert r.headers["Content-Disposition"] == f'inline; filename="{q["number"]}-v1.pdf"'
    assert "7,336.54 EUR" in pdf_text(r.data) and "DRAFT" not in pdf_text(r.data)

    with db.sessions() as s:
        entry = s.execute(select(TimelineEntry).where(TimelineEntry.ref_id == q["id"])).scalar_one()
    assert entry.kind == "quote_sent" and entry.deal_id == c["deal"]["id"] and entry.party_id == c["company"]["id"]

    # a sent quote is no longer edited: it is revised
    for r in (rep.patch(f"{QUOTES}/{q['id']}", json={"notes": "x"}, headers=etag(sent)),
              rep.post(f"{QUOTES}/{q['id']}/lines", json=line(products["cable"], 1), headers=etag(sent)),
              rep.delete(f"{QUOTES}/{q['id']}/lines/{q['lines'][0]['id']}", headers=etag(sent)),
              rep.post(f"{QUOTES}/{q['id']}/send", json={})):
        assert r.status_code == 409 and r.json["status"] == 409 and r.json["type"].endswith("/quote-status"), r.json


def test_a_draft_pdf_says_so_and_an_explicit_recipient_wins(rep, products, smtp):
    c = customer(rep)
    q = new_quote(rep, c["deal"], line(products["support"], 1))
    assert "DRAFT QUOTE" in pdf_text(rep.get(f"{QUOTES}/{q['id']}/pdf").data)
    created(rep.post(f"{QUOTES}/{q['id']}/send", json={"to": "procurement@umbrella.test", "message": "As agreed."}),
            200)
    smtp.deliver()
    (recipients, msg), = smtp.messages
    assert recipients == ["procurement@umbrella.test"] and "As agreed." in msg.get_body(("plain",)).get_content()


@pytest.fixture
def erp_company(db):
    """The ERP announced its company settings (erp.company.updated); removed after the test (the other tests
    print the CRM_QUOTE_SELLER fallback)."""
    inbox = InboxConsumer("crm.catalog", "unused:1", COMPANY_TOPICS, COMPANY_HANDLERS, db.sessions, processed_events,
                          producer_factory=RecordingProducer)
    state = {"legal_name": "Société Łódź Ærø SARL", "trade_name": None, "vat_id": "FR40303265045",
             "registration": "RCS Paris 303 265 045", "email": "accounts@lodz.test", "phone": None, "website": None,
             "address": {"line1": "12 rue de la Żółta", "postal_code": "75002", "city": "Paris", "country": "FR"},
             "bank_accounts": [], "payment_terms_text": None, "document_footer": None, "logo": None,
             "logo_type": None, "version": 3, "updated_at": datetime.now(UTC).isoformat()}
    for version in (3, 2):  # an older state arriving late changes nothing
        ev = envelope.new_event("erp.company.updated", "company", {**state, "version": version,
                                                                   "legal_name": state["legal_name"] if version == 3
                                                                   else "Old Name SA"}, version)
        topic, key, value, headers = envelope.to_kafka(ev)
        assert inbox.handle_message(Record(topic, 0, version, key, value, headers)) == "applied"
    yield state
    with db.sessions.begin() as s:
        s.execute(delete(CompanyReplica))


def test_quotes_print_the_company_the_erp_announced_and_greet_once(rep, products, smtp, erp_company):
    c = customer(rep)
    q = new_quote(rep, c["deal"], line(products["support"], 1))
    text = pdf_text(rep.get(f"{QUOTES}/{q['id']}/pdf").data)
    for expected in ("Société Łódź Ærø SARL", "12 rue de la Żółta", "VAT number: FR40303265045"):
        assert expected in text, text
    assert "Northwind" not in text and "Old Name" not in text
    created(rep.post(f"{QUOTES}/{q['id']}/send", json={"message": "Hi Ada,\n\nas discussed, our offer."}), 200)
    smtp.deliver()
    (_, msg), = smtp.messages
    body = msg.get_body(("plain",)).get_content()
    assert msg["Subject"] == f"Quote {q['number']} from Société Łódź Ærø SARL"
    assert body.startswith("Hi Ada,") and "Hello" not in body and "as discussed, our offer." in body
    copy = rep.get("/api/v1/company").json
    assert (copy["source"], copy["legal_name"], copy["vat_id"], copy["version"]) == (
        "erp", "Société Łódź Ærø SARL", "FR40303265045", 3)
    assert copy["edit_url"].endswith("/api/v1/company") and copy["seller_lines"][0] == "Société Łódź Ærø SARL"


def test_before_the_erp_announces_the_company_quotes_print_the_setting(rep):
    copy = rep.get("/api/v1/company").json
    assert copy["source"] == "setting" and copy["seller_lines"] == ["Your Company"]  # CRM_QUOTE_SELLER


def test_a_quote_warns_before_it_is_sent_when_the_erp_says_the_customer_is_over_its_credit(rep, products, db):
    c = customer(rep)
    q = new_quote(rep, c["deal"], line(products["laptop"], 2))  # 2 x 1200.00 + 20 % = 2,880.00
    assert not [w for w in q["warnings"] if w.startswith("credit:")]
    inbox = InboxConsumer("crm.sales", "unused:1", BILLING_TOPICS, BILLING_HANDLERS, db.sessions, processed_events,
                          producer_factory=RecordingProducer)
    position = {"party_id": c["company"]["id"], "currency": "EUR", "credit_limit": "5000.00",
                "open_balance": "3000.00", "overdue_amount": "250.00", "available_credit": "2000.00", "version": 4,
                "updated_at": datetime.now(UTC).isoformat()}
    topic, key, value, headers = envelope.to_kafka(envelope.new_event("erp.credit.changed", c["company"]["id"],
                                                                      position, 4))
    assert inbox.handle_message(Record(topic, 0, 1, key, value, headers)) == "applied"
    warnings = [w for w in rep.get(f"{QUOTES}/{q['id']}").json["warnings"] if w.startswith("credit:")]
    assert warnings == ["credit: the customer has 250.00 EUR overdue",
                        "credit: open balance 3,000.00 + this quote 2,880.00 exceeds the credit limit 5,000.00 EUR: "
                        "the ERP would reject the order"]
    credit = rep.get(f"/api/v1/parties/{c['company']['id']}/billing").json["credit"]
    assert (credit["credit_limit"], credit["available_credit"]) == ("5000.00", "2000.00")
    assert credit["cheques_bounced"] == 0  # an event from before the risk fields reads as no bounce

    bounced = {**position, "overdue_amount": "0.00", "cheques_bounced": 2, "bounced_total": "740.00",
               "last_bounced_at": "2026-11-30T09:15:00+00:00", "version": 5}
    topic, key, value, headers = envelope.to_kafka(envelope.new_event("erp.credit.changed", c["company"]["id"],
                                                                      bounced, 5))
    assert inbox.handle_message(Record(topic, 0, 2, key, value, headers)) == "applied"
    warnings = [w for w in rep.get(f"{QUOTES}/{q['id']}").json["warnings"] if w.startswith("credit: 2")]
    assert warnings == ["credit: 2 of the customer's cheques bounced (740.00 EUR), last on 2026-11-30"]
    credit = rep.get(f"/api/v1/parties/{c['company']['id']}/billing").json["credit"]
    assert (credit["cheques_bounced"], credit["bounced_total"]) == (2, "740.00")


def test_a_mail_the_server_cannot_take_yet_waits_and_leaves_once_it_can(app, rep, products, smtp, db):
    began = datetime.now(UTC) - timedelta(seconds=1)
    down = Mailer("127.0.0.1", free_port(), "x@y.test", timeout=2)
    c = customer(rep)
    q = new_quote(rep, c["deal"], line(products["laptop"], 1))
    sent = created(rep.post(f"{QUOTES}/{q['id']}/send", json={}), 200)
    assert sent["status"] == "sent" and sent["mail"]["status"] == "queued"
    assert mail_sender(db, down, began).send_due() == 1  # the server is unreachable: a temporary failure
    waiting = rep.get(f"{QUOTES}/{q['id']}").json["mail"]
    assert waiting["status"] == "queued" and waiting["attempts"] == 1 and "ConnectionRefused" in waiting["last_error"]
    assert smtp.deliver() == 0  # it waits for its retry time
    with db.sessions.begin() as s:
        s.execute(update(mail_outbox).where(mail_outbox.c.ref_id == q["id"]).values(next_attempt_at=began))
    assert smtp.deliver() == 1 and len(smtp.messages) == 1
    assert rep.get(f"{QUOTES}/{q['id']}").json["mail"]["status"] == "sent"


def test_a_mail_the_server_refuses_for_good_shows_its_answer_on_the_quote(rep, products, smtp):
    smtp.answer = "550 5.1.1 Mailbox unavailable"
    c = customer(rep)
    q = new_quote(rep, c["deal"], line(products["laptop"], 1))
    created(rep.post(f"{QUOTES}/{q['id']}/send", json={}), 200)
    assert smtp.deliver() == 1 and smtp.deliver() == 0  # no retry of a permanent refusal
    mail = rep.get(f"{QUOTES}/{q['id']}").json["mail"]
    assert mail["status"] == "failed" and mail["last_error"].startswith("550") and smtp.messages == []


def test_a_send_that_rolls_back_queues_nothing_and_two_senders_never_send_one_mail_twice(app, rep, products, smtp,
                                                                                        db):
    c = customer(rep)
    empty = new_quote(rep, c["deal"])
    assert rep.post(f"{QUOTES}/{empty['id']}/send", json={}).status_code == 422
    assert rep.get(f"{QUOTES}/{empty['id']}").json["mail"] is None
    quotes = [new_quote(rep, c["deal"], line(products["cable"], 1)) for _ in range(6)]
    for q in quotes:
        created(rep.post(f"{QUOTES}/{q['id']}/send", json={}), 200)
    with ThreadPoolExecutor(3) as pool:  # three workers at once
        sent = sum(pool.map(lambda _: smtp.deliver(), range(3)))
    assert sent == 6 and len(smtp.messages) == 6
    assert sorted(m["Subject"] for _, m in smtp.messages) == sorted(
        f"Quote {q['number']} from Northwind Supplies Ltd" for q in quotes)


def test_a_quote_without_lines_or_an_address_is_not_sent(rep, products, smtp):
    c = customer(rep)
    empty = new_quote(rep, c["deal"])
    r = rep.post(f"{QUOTES}/{empty['id']}/send", json={})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "lines"
    nobody = created(rep.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Silent {tag()}"}))
    deal = created(rep.post("/api/v1/deals", json={"name": "Quiet", "party_id": nobody["id"]}))
    q = new_quote(rep, deal, line(products["laptop"], 1))
    r = rep.post(f"{QUOTES}/{q['id']}/send", json={})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "to"
    assert smtp.deliver() == 0 and smtp.messages == []


# -- versions ----------------------------------------------------------------------------------------------------

def test_revising_a_sent_quote_makes_version_2_and_supersedes_version_1(rep, products, smtp):
    v1, c = sent_quote(rep, products, smtp)
    r = rep.post(f"{QUOTES}/{v1['id']}/revise")
    v2 = created(r)
    assert r.headers["Location"] == f"/api/v1/quotes/{v2['id']}"
    assert (v2["number"], v2["quote_version"], v2["status"], v2["previous_id"]) == (v1["number"], 2, "draft", v1["id"])
    assert [(x["product_id"], x["quantity"], x["unit_price"]) for x in v2["lines"]] == [
        (x["product_id"], x["quantity"], x["unit_price"]) for x in v1["lines"]]
    assert v2["gross_total"] == v1["gross_total"]
    old = rep.get(f"{QUOTES}/{v1['id']}").json
    assert old["status"] == "superseded" and old["superseded_at"]

    # only the latest version moves on
    assert rep.post(f"{QUOTES}/{v1['id']}/accept", json={}).status_code == 409
    assert rep.post(f"{QUOTES}/{v1['id']}/revise").status_code == 409
    assert rep.post(f"{QUOTES}/{v2['id']}/revise").status_code == 409  # a draft is edited, not revised
    v2 = created(rep.post(f"{QUOTES}/{v2['id']}/lines", json=line(products["cable"], 1), headers=etag(v2)))
    sent2 = created(rep.post(f"{QUOTES}/{v2['id']}/send", json={}), 200)
    smtp.deliver()
    assert smtp.messages[-1][1]["Subject"] == f"Quote {v1['number']} (version 2) from Northwind Supplies Ltd"
    assert "Version: 2" in pdf_text(smtp.messages[-1][1].get_payload()[1].get_content())

    versions = rep.get(QUOTES, query_string={"q": v1["number"], "sort": "created_at"}).json["items"]
    assert [(x["quote_version"], x["status"]) for x in versions] == [(1, "superseded"), (2, "sent")]
    latest = rep.get(QUOTES, query_string={"q": v1["number"], "latest_only": "true"}).json["items"]
    assert [x["id"] for x in latest] == [sent2["id"]]


def test_a_rejected_quote_is_revised_for_a_second_chance(rep, products, smtp, db):
    q, c = sent_quote(rep, products, smtp)
    assert rep.post(f"{QUOTES}/{q['id']}/reject", json={}).status_code == 422
    rejected = created(rep.post(f"{QUOTES}/{q['id']}/reject", json={"reason": "Too expensive"}), 200)
    assert rejected["status"] == "rejected" and rejected["reject_reason"] == "Too expensive"
    assert rep.post(f"{QUOTES}/{q['id']}/accept", json={}).status_code == 409
    assert rep.post(f"{QUOTES}/{q['id']}/reject", json={"reason": "again"}).status_code == 409
    assert created(rep.post(f"{QUOTES}/{q['id']}/revise"))["quote_version"] == 2
    assert rep.get(f"/api/v1/deals/{c['deal']['id']}").json["status"] == "open"


# -- acceptance --------------------------------------------------------------------------------------------------

def test_accepting_places_exactly_one_order_with_the_agreed_lines(rep, products, smtp, outbox_events, db):
    c = customer(rep)
    q = new_quote(rep, c["deal"], line(products["laptop"], 6, discount_percent="7.5"),
                  line(products["support"], 2, unit_price="99.5"),
                  requested_date=(date.today() + timedelta(days=14)).isoformat(), customer_reference="PO-1")
    created(rep.post(f"{QUOTES}/{q['id']}/send", json={}), 200)
    accepted = created(rep.post(f"{QUOTES}/{q['id']}/accept", json={"customer_reference": "PO-2024-77"}), 200)
    assert accepted["status"] == "accepted" and accepted["accepted_at"] and accepted["order_id"]

    (etype, payload), = outbox_events(accepted["order_id"])
    assert etype == "crm.order.placed"
    attrs, data = payload["attributes"], payload["data"]
    contracts.validate(etype, data)
    assert (attrs["subject"], attrs["sequence"], attrs["source"]) == (accepted["order_id"], "1", "/crm")
    assert attrs["actor"] == rep.user["id"]
    assert data == {
        "order_id": accepted["order_id"], "quote_id": q["id"], "quote_number": q["number"], "quote_version": 1,
        "deal_id": c["deal"]["id"], "party_id": c["company"]["id"], "contact_id": c["buyer"]["id"],
        "currency": "EUR", "requested_date": q["requested_date"], "customer_reference": "PO-2024-77",
        "shipping_address": {"line1": "Dock 4", "city": "Hull", "postal_code": "HU1 1AA", "country": "GB"},
        "lines": [
            {"line_no": 1, "product_id": products["laptop"]["id"], "sku": products["laptop"]["sku"],
             "description": products["laptop"]["name"], "quantity": "6.0000", "unit_price": "1100.0000",
             "discount_percent": "7.50", "tax_rate": "0.2000", "line_total": "6105.00"},
            {"line_no": 2, "product_id": products["support"]["id"], "sku": products["support"]["sku"],
             "description": products["support"]["name"], "quantity": "2.0000", "unit_price": "99.5000",
             "discount_percent": "0.00", "tax_rate": "0.2000", "line_total": "199.00"}],
        "net_total": "6304.00", "tax_total": "1260.80", "gross_total": "7564.80",
        "placed_at": data["placed_at"], "placed_by": rep.user["email"], "version": 1}
    assert datetime.fromisoformat(data["placed_at"]) == datetime.fromisoformat(accepted["accepted_at"])

    # the deal is won, the timeline shows the acceptance, and a second acceptance changes nothing
    deal = rep.get(f"/api/v1/deals/{c['deal']['id']}").json
    assert deal["status"] == "won"
    with db.sessions() as s:
        kinds = s.execute(select(TimelineEntry.kind).where(TimelineEntry.ref_id == q["id"])
                          .order_by(TimelineEntry.occurred_at)).scalars().all()
    assert kinds == ["quote_sent", "quote_accepted"]
    again = rep.post(f"{QUOTES}/{q['id']}/accept", json={})
    assert again.status_code == 409 and again.json["quote_status"] == "accepted" and accepted["order_id"] in again.json[
        "detail"]
    assert len(outbox_events(accepted["order_id"])) == 1
    assert rep.post(f"{QUOTES}/{q['id']}/revise").status_code == 409


def test_accepting_a_quote_makes_its_net_total_the_deals_amount_and_keeps_the_estimate(rep, products, smtp):
    c = customer(rep)
    deal = rep.get(f"/api/v1/deals/{c['deal']['id']}")
    r = rep.patch(f"/api/v1/deals/{c['deal']['id']}", json={"amount": "24000"},
                  headers={"If-Match": deal.headers["ETag"]})
    assert r.status_code == 200 and r.json["amount"] == "24000.00"
    q = new_quote(rep, c["deal"], line(products["laptop"], 4))  # 4 x 1200.00 = 4800.00 net
    created(rep.post(f"{QUOTES}/{q['id']}/send", json={}), 200)
    created(rep.post(f"{QUOTES}/{q['id']}/accept", json={}), 200)
    deal = rep.get(f"/api/v1/deals/{c['deal']['id']}").json
    assert (deal["status"], deal["amount"], deal["currency"]) == ("won", "4800.00", "EUR")
    entries = rep.get(f"/api/v1/deals/{c['deal']['id']}/timeline",
                      query_string={"kind": "deal_amount_changed"}).json["items"]
    assert [(e["title"], e["data"]["previous_amount"]) for e in entries] == [
        (f"Deal {c['deal']['name']}: amount 24,000.00 EUR → 4,800.00 EUR", "24000.00")]
    assert entries[0]["summary"] == f"Quote {q['number']} v1 accepted"


def test_a_draft_or_an_expired_quote_is_not_accepted(rep, products, smtp, db, outbox_size):
    c = customer(rep)
    draft = new_quote(rep, c["deal"], line(products["laptop"], 1))
    assert rep.post(f"{QUOTES}/{draft['id']}/accept", json={}).status_code == 409
    q, _ = sent_quote(rep, products, smtp)
    with db.sessions.begin() as s:  # time passes: the validity ends yesterday
        s.execute(update(Quote).where(Quote.id == q["id"]).values(valid_until=date.today() - timedelta(days=1)))
    assert rep.get(f"{QUOTES}/{q['id']}").json["status"] == "expired"
    assert q["id"] in [x["id"] for x in rep.get(QUOTES, query_string={"status": "expired",
                                                                      "party_id": q["party_id"]}).json["items"]]
    before = outbox_size()
    r = rep.post(f"{QUOTES}/{q['id']}/accept", json={})
    assert r.status_code == 409 and r.json["quote_status"] == "expired" and "Revise" in r.json["detail"]
    assert outbox_size() == before
    v2 = created(rep.post(f"{QUOTES}/{q['id']}/revise"))
    assert date.fromisoformat(v2["valid_until"]) > date.today()  # a fresh validity


# -- who sees what -----------------------------------------------------------------------------------------------

def test_a_rep_cannot_see_another_reps_customers_quotes(as_user, products, smtp):
    alice, bob = as_user("sales_rep"), as_user("sales_rep")
    q, c = sent_quote(alice, products, smtp)
    for r in (bob.get(f"{QUOTES}/{q['id']}"), bob.get(f"{QUOTES}/{q['id']}/pdf"),
              bob.post(f"{QUOTES}/{q['id']}/accept", json={}), bob.post(f"{QUOTES}/{q['id']}/revise"),
              bob.patch(f"{QUOTES}/{q['id']}", json={"notes": "x"}, headers=etag(q))):
        assert r.status_code == 404 and r.content_type == "application/problem+json"
    assert bob.get(QUOTES, query_string={"party_id": c["company"]["id"]}).json["total"] == 0
    assert alice.get(QUOTES, query_string={"party_id": c["company"]["id"]}).json["total"] == 1
    # sharing the customer shares its quotes
    created(alice.post(f"/api/v1/parties/{c['company']['id']}/shares", json={"user_id": bob.user["id"]}))
    assert bob.get(f"{QUOTES}/{q['id']}").status_code == 200
    assert bob.post(f"{QUOTES}/{q['id']}/accept", json={}).status_code == 403  # read-only share


def test_support_reads_quotes_but_does_not_make_them(as_user, rep, products):
    c = customer(rep)
    q = new_quote(rep, c["deal"], line(products["laptop"], 1))
    support = as_user("support_agent")  # reads every party, so every quote
    assert support.get(f"{QUOTES}/{q['id']}").status_code == 200
    r = support.post(QUOTES, json={"deal_id": c["deal"]["id"]})
    assert r.status_code == 403 and r.json["missing_permission"] == "quotes:create"
    assert support.post(f"{QUOTES}/{q['id']}/send", json={}).status_code == 403
