"""An administrator sets who the company is; every invoice and credit note prints it with the customer's legal
snapshot, the PO number, tax per rate and how to pay (IBAN and an ISO 11649 reference); an accountant mails them
to the customer through a real SMTP server, and the mailing is recorded and published."""

import base64
import io
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pypdfium2 as pdfium
import pytest
from erp.db import mail_outbox
from erp.invoicing.references import is_rf_reference, rf_reference
from PIL import Image
from servicekit.mail_outbox import Mailer, MailSender

from tests.support import erp_sales as t
from tests.support.smtp import Inbox, start_server

pytestmark = pytest.mark.db

COMPANY = "/api/v1/company"
INVOICES = "/api/v1/invoices"
IBAN = "FR7630006000011234567890189"


def png_logo() -> str:
    buf = io.BytesIO()
    Image.new("RGB", (60, 20), (20, 90, 160)).save(buf, "PNG")
    return base64.b64encode(buf.getvalue()).decode()


def set_company(client, **changes) -> dict:
    current = client.get(COMPANY)
    r = client.patch(COMPANY, json=changes, headers={"If-Match": current.headers["ETag"]})
    assert r.status_code == 200, r.json
    return r.json


def page_text_and_png(document: bytes) -> tuple[str, bytes]:
    """The first page rendered to PNG (as a viewer shows it) and its text layer."""
    pdf = pdfium.PdfDocument(document)
    page = pdf[0]
    buf = io.BytesIO()
    page.render(scale=1.5).to_pil().save(buf, "PNG")
    text = " ".join(page.get_textpage().get_text_range().split())  # lines wrapped where the page ends them
    pdf.close()
    return text, buf.getvalue()


@pytest.fixture
def seller(client):
    return set_company(client, legal_name="Société Łódź Ærø SARL", address={
        "line1": "12 rue de la Żółta", "postal_code": "75002", "city": "Paris", "country": "FR"},
        vat_id="FR40303265045", registration="RCS Paris 303 265 045", email="accounts@lodz.test",
        bank_accounts=[{"bank_name": "Banque Populaire", "iban": "FR76 3000 6000 0112 3456 7890 189",
                        "bic": "CCBPFRPPXXX", "currency": "EUR"}],
        payment_terms_text="Late payment: 3 × the legal interest rate, plus 40 EUR recovery costs.",
        logo=png_logo())


@pytest.fixture
def world(sessions, deliver, monkeypatch, app):
    wh = t.warehouse(sessions)
    t.ship_from(app, monkeypatch, wh["code"])
    widget = t.product(sessions, price="12.50")
    t.stock_up(sessions, widget, wh["id"], 20)
    return {"customer": t.customer(deliver, emails=[{"value": "ap@initech.test", "primary": True}])["id"],
            "widget": widget, "install": t.product(sessions, kind="service", price="80")}


def issued_invoice(accountant, party_id, **over) -> dict:
    r = accountant.post(INVOICES, json={"party_id": party_id, "issue": True, "customer_reference": "PO 4711",
                                        "notes": "Delivered to the Lyon site.", "lines": [
        {"description": "Onboarding workshop for Zoë Ørsted", "quantity": "2", "unit_price": "400", "tax_rate": "0.2"},
        {"description": "Reference book", "quantity": "3", "unit_price": "30", "tax_rate": "0.055"}], **over})
    assert r.status_code == 201, r.json
    return r.json


def test_the_iso_11649_reference_is_the_standards_own_example_and_checks_itself():
    assert rf_reference("539007547034") == "RF18539007547034"  # the example of ISO 11649
    ref = rf_reference("INV-2026-000040")
    assert ref.startswith("RF") and ref.endswith("INV2026000040") and is_rf_reference(ref)
    assert not is_rf_reference(ref[:-1] + "1")  # one wrong character is caught


@pytest.mark.parametrize("field, body, message", [
    ("bank_accounts.0.iban", {"bank_accounts": [{"bank_name": "B", "iban": "FR7630006000011234567890188"}]},
     "check digits"),
    ("bank_accounts.0.bic", {"bank_accounts": [{"bank_name": "B", "iban": IBAN, "bic": "CCBPZZPP"}]}, "BIC"),
    ("address.country", {"address": {"city": "Nowhere", "country": "ZZ"}}, "ISO 3166"),
    ("vat_id", {"vat_id": "FR 40 303"}, "VAT number"),
    ("logo", {"logo": base64.b64encode(b"GIF89a not allowed").decode()}, "PNG or JPEG"),
    ("logo", {"logo": "%%%"}, "base64"),
    ("legal_name", {"legal_name": "   "}, "blank"),
])
def test_bad_company_settings_are_named_and_change_nothing(client, field, body, message):
    before = client.get(COMPANY)
    r = client.patch(COMPANY, json=body, headers={"If-Match": before.headers["ETag"]})
    assert r.status_code == 422 and r.content_type == "application/problem+json"
    assert any(e["field"] == field and message in e["message"] for e in r.json["errors"]), r.json
    assert client.get(COMPANY).json == before.json


def test_the_company_changes_only_with_if_match_and_only_by_an_administrator(client, accountant):
    assert client.patch(COMPANY, json={"phone": "+33 1 23 45 67 89"}).status_code == 428
    current = client.get(COMPANY)
    assert accountant.get(COMPANY).status_code == 200
    assert accountant.patch(COMPANY, json={"phone": "x"}, headers={"If-Match": current.headers["ETag"]}
                            ).status_code == 403
    changed = client.patch(COMPANY, json={"phone": "+33 1 23 45 67 89"}, headers={"If-Match": current.headers["ETag"]})
    assert changed.status_code == 200 and changed.json["phone"] == "+33 1 23 45 67 89"
    stale = client.patch(COMPANY, json={"phone": "+33 9"}, headers={"If-Match": current.headers["ETag"]})
    assert stale.status_code == 412 and client.get(COMPANY).json["phone"] == "+33 1 23 45 67 89"


def test_a_change_is_announced_on_erp_company_v1_for_the_crms_quotes(client, sessions):
    state = set_company(client, legal_name=f"Announced {uuid.uuid4().hex[:6]} SA", logo=png_logo())
    events = t.outbox_events(sessions, "company")  # each checked against erp.company.v1
    kind, data = events[-1]
    assert kind == "erp.company.updated" and data["legal_name"] == state["legal_name"]
    assert data["version"] == state["version"] and base64.b64decode(data["logo"]).startswith(b"\x89PNG")
    before = len(t.outbox_events(sessions, "company"))
    set_company(client, legal_name=state["legal_name"])  # no change: no event
    assert len(t.outbox_events(sessions, "company")) == before


def test_the_invoice_pdf_carries_the_seller_the_customer_tax_per_rate_and_how_to_pay(seller, world, accountant,
                                                                                       client):
    assert seller["ready"] and seller["has_logo"]
    assert client.get(f"{COMPANY}/logo").data.startswith(b"\x89PNG")
    inv = issued_invoice(accountant, world["customer"])
    assert is_rf_reference(inv["payment_reference"]) and inv["customer_reference"] == "PO 4711"
    r = accountant.get(f"{INVOICES}/{inv['id']}/pdf")
    assert r.status_code == 200 and r.content_type == "application/pdf"
    text, png = page_text_and_png(r.data)
    assert png.startswith(b"\x89PNG") and Image.open(io.BytesIO(png)).getextrema() != ((255, 255),) * 3
    # 2 x 400 = 800.00 at 20 % (160.00) + 3 x 30 = 90.00 at 5.5 % (4.95): 1,054.95
    for expected in ("Société Łódź Ærø SARL", "VAT number: FR40303265045", "RCS Paris 303 265 045",
                     f"INVOICE {inv['number']}", "Your reference: PO 4711", "Onboarding workshop for Zoë Ørsted",
                     "Tax 20.00 % on 800.00 EUR", "160.00 EUR", "Tax 5.50 % on 90.00 EUR", "4.95 EUR",
                     "1,054.95 EUR", "IBAN FR76 3000 6000 0112 3456 7890 189", "BIC CCBPFRPPXXX",
                     " ".join(inv["payment_reference"][i:i + 4] for i in range(0, len(inv["payment_reference"]), 4)),
                     "Delivered to the Lyon site.", "Late payment", "Page 1 of 1"):
        assert expected in text, f"{expected!r} not in the PDF's text:\n{text}"


def test_a_credit_note_names_the_invoice_it_credits_and_asks_for_no_payment(seller, world, accountant):
    inv = issued_invoice(accountant, world["customer"])
    cn = accountant.post(f"{INVOICES}/{inv['id']}/credit-notes", json={
        "reason": "Workshop cut short", "lines": [{"invoice_line_id": inv["lines"][0]["id"], "quantity": "1"}]})
    assert cn.status_code == 201, cn.json
    text, _ = page_text_and_png(accountant.get(f"{INVOICES}/{cn.json['id']}/pdf").data)
    assert f"CREDIT NOTE {cn.json['number']}" in text and f"Credits invoice: {inv['number']}" in text
    assert "Reason: Workshop cut short" in text and "480.00 EUR" in text
    assert "IBAN" not in text and cn.json["payment_reference"] is None


@pytest.fixture
def smtp(app, monkeypatch, sessions):
    inbox = Inbox()
    controller = start_server(inbox)
    web = app.extensions["servicekit.web"]
    monkeypatch.setattr(web, "settings", replace(web.settings, smtp_host="127.0.0.1", smtp_port=controller.port,
                                                 smtp_from="Łódź Accounts <accounts@lodz.test>"))
    since = datetime.now(UTC) - timedelta(seconds=1)
    sender = MailSender(app.extensions["erp.db"].engine, mail_outbox,
                        Mailer("127.0.0.1", controller.port, "x@lodz.test").transport(),
                        scope=mail_outbox.c.created_at >= since)
    inbox.deliver = sender.send_due
    yield inbox
    controller.stop()


def test_an_issued_invoice_is_mailed_with_its_pdf_and_the_mailing_is_recorded(seller, world, accountant, smtp,
                                                                              sessions):
    inv = issued_invoice(accountant, world["customer"])
    r = accountant.post(f"{INVOICES}/{inv['id']}/send", json={"cc": ["boss@initech.test"]})
    assert r.status_code == 200, r.json
    assert (r.json["sent_to"], r.json["times_sent"], r.json["mail"]["status"]) == (
        ["ap@initech.test", "boss@initech.test"], 1, "queued")
    assert smtp.messages == []  # nothing leaves before the worker's turn
    smtp.deliver()
    (recipients, msg), = smtp.messages
    assert sorted(recipients) == ["ap@initech.test", "boss@initech.test"]
    assert msg["Subject"] == f"Invoice {inv['number']} from Société Łódź Ærø SARL"
    assert msg["Reply-To"] == "accounts@lodz.test"
    body = msg.get_body(("plain",)).get_content()
    assert body.count("Dear ") == 1 and inv["number"] in body and inv["payment_reference"][:4] in body
    (attachment,) = list(msg.iter_attachments())
    assert attachment.get_filename() == f"{inv['number']}.pdf"
    text, _ = page_text_and_png(attachment.get_content())
    assert "FR40303265045" in text and inv["number"] in text
    after = accountant.get(f"{INVOICES}/{inv['id']}").json
    assert after["mail"]["status"] == "sent" and after["sent_at"] and after["version"] == inv["version"] + 1
    (kind, state), = [e for e in t.outbox_events(sessions, inv["id"]) if e[0] == "erp.invoice.sent"]
    assert state["sent_to"] == ["ap@initech.test", "boss@initech.test"] and state["payment_reference"]


def test_a_draft_or_a_customer_without_email_is_not_mailed(seller, world, accountant, smtp, deliver):
    draft = accountant.post(INVOICES, json={"party_id": world["customer"], "lines": [
        {"description": "x", "quantity": "1", "unit_price": "1"}]}).json
    r = accountant.post(f"{INVOICES}/{draft['id']}/send", json={})
    assert r.status_code == 409 and r.json["current_state"] == "draft"
    silent = t.customer(deliver, emails=[])["id"]
    inv = issued_invoice(accountant, silent)
    r = accountant.post(f"{INVOICES}/{inv['id']}/send", json={})
    assert r.status_code == 422 and r.json["errors"][0]["field"] == "to"
    assert accountant.get(f"{INVOICES}/{inv['id']}").json["times_sent"] == 0
    ok = accountant.post(f"{INVOICES}/{inv['id']}/send", json={"to": [f"{uuid.uuid4().hex[:6]}@silent.test"],
                                                             "message": "As agreed on the phone."})
    assert ok.status_code == 200
    smtp.deliver()
    (_, msg), = smtp.messages
    assert "As agreed on the phone." in msg.get_body(("plain",)).get_content()


# -- statements, dunning letters, delivery notes -----------------------------------------------------------------

def overdue_invoice(accountant, party_id, days_late: int, amount: str = "250") -> dict:
    issued = date.today() - timedelta(days=30 + days_late)  # a series of its own: numbers follow dates
    series = f"L{uuid.uuid4().hex[:6].upper()}"
    return issued_invoice(accountant, party_id, issue_date=issued.isoformat(), series=series, lines=[
        {"description": "Maintenance", "quantity": "1", "unit_price": amount, "tax_rate": "0.2"}])


def test_the_statement_of_account_prints_and_mails(seller, world, accountant, smtp):
    inv = issued_invoice(accountant, world["customer"])
    text, _ = page_text_and_png(accountant.get(f"/api/v1/parties/{world['customer']}/statement/pdf").data)
    assert "Statement of account" in text and inv["number"] in text and "Balance due 1,054.95 EUR" in text
    assert "Société Łódź Ærø SARL" in text
    r = accountant.post(f"/api/v1/parties/{world['customer']}/statement/send", json={})
    assert r.status_code == 200 and r.json["sent_to"] == ["ap@initech.test"]
    smtp.deliver()
    (recipients, msg), = smtp.messages
    assert recipients == ["ap@initech.test"] and msg["Subject"] == "Statement of account from Société Łódź Ærø SARL"
    (attachment,) = list(msg.iter_attachments())
    assert inv["number"] in page_text_and_png(attachment.get_content())[0]


def test_dunning_letters_climb_a_level_each_time_and_the_crm_hears_it(seller, world, accountant, client, smtp,
                                                                     sessions):
    party = world["customer"]
    assert accountant.get(f"/api/v1/parties/{party}/dunning-letter").status_code == 409  # nothing overdue
    late = overdue_invoice(accountant, party, days_late=12)
    issued_invoice(accountant, party)  # not yet due: not in the letter
    preview = accountant.get(f"/api/v1/parties/{party}/dunning-letter")
    assert preview.status_code == 200 and preview.content_type == "application/pdf"
    text, _ = page_text_and_png(preview.data)
    assert "Payment reminder" in text and late["number"] in text and "Total due 300.00 EUR" in text
    assert late["payment_reference"] in text
    r = accountant.post(f"/api/v1/parties/{party}/dunning-letter/send", json={})
    assert r.status_code == 200 and r.json["level"] == 1 and [i["number"] for i in r.json["invoices"]] == [
        late["number"]]
    after = accountant.get(f"{INVOICES}/{late['id']}").json
    assert after["dunning_level"] == 1 and after["dunned_at"]
    (kind, state), = [e for e in t.outbox_events(sessions, late["id"]) if e[0] == "erp.invoice.dunned"]
    assert state["dunning_level"] == 1
    set_company(client, dunning_texts={"level_2": "Zweite Mahnung: bitte zahlen Sie binnen 10 Tagen."})
    text, _ = page_text_and_png(accountant.get(f"/api/v1/parties/{party}/dunning-letter").data)
    assert "Second reminder" in text and "Zweite Mahnung: bitte zahlen Sie binnen 10 Tagen." in text
    text, _ = page_text_and_png(accountant.get(f"/api/v1/parties/{party}/dunning-letter",
                                               query_string={"level": 3}).data)
    assert "Final notice" in text
    assert accountant.get(f"/api/v1/parties/{party}/dunning-letter", query_string={"level": 4}).status_code == 422
    smtp.deliver()
    (_, msg), = smtp.messages
    assert msg["Subject"] == "Payment reminder from Société Łódź Ærø SARL"


def test_the_delivery_note_lists_what_ships_and_what_is_still_to_come(seller, world, sessions, app, as_user):
    data = t.order_placed(world["customer"], [{"product_id": world["widget"], "quantity": "5",
                                               "unit_price": "12.50", "description": "Widget, blue (Łódź batch)"}],
                          customer_reference="PO 99", shipping_address={"line1": "Dock 4", "city": "Hull",
                                                                        "country": "GB"})
    assert t.OrderInbox(sessions, app).place(data)[0] == "applied"
    clerk = as_user("warehouse_clerk")
    (order,) = clerk.get("/api/v1/sales-orders", query_string={"crm_order_id": data["order_id"]}).json["items"]
    line = clerk.get(f"/api/v1/sales-orders/{order['id']}").json["lines"][0]
    delivery = clerk.post(f"/api/v1/sales-orders/{order['id']}/deliveries", json={
        "lines": [{"line_id": line["id"], "quantity": "2"}], "note": "Two boxes on one pallet."})
    assert delivery.status_code == 201, delivery.json
    r = clerk.get(f"/api/v1/sales-orders/{order['id']}/deliveries/{delivery.json['id']}/pdf")
    assert r.status_code == 200
    text, _ = page_text_and_png(r.data)
    for expected in (f"Delivery note {delivery.json['number']}", f"Order: {order['number']}",
                     "Your reference: PO 99", "Ship to", "Dock 4", "Widget, blue (Łódź batch)",
                     "Two boxes on one pallet.", "Still to come"):
        assert expected in text, f"{expected!r} not in {text}"
    assert clerk.get(f"/api/v1/sales-orders/{order['id']}/deliveries/{uuid.uuid4()}/pdf").status_code == 404
