"""Invoices and credit notes as documents: the PDF as issued, with the company's identity, and mailed to the
customer through the mail outbox (the worker sends after the commit; a rolled-back send mails nothing). Each
mailing is recorded on the invoice (sent_at, sent_to, times_sent) and published as erp.invoice.sent, which the
CRM puts on the customer's timeline."""

from datetime import UTC, datetime
from decimal import Decimal

from servicekit import audit, mail_outbox
from servicekit.mail_outbox import Mailer
from servicekit.problems import Problem, field_error
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..company.service import seller as company_seller
from ..db import audit_log
from ..db import mail_outbox as mail_table
from ..parties.models import PartyReplica
from .models import Invoice
from .pdf import render_invoice
from .references import grouped
from .service import invoice_row, invoice_view, publish


def _credited_number(session: Session, inv_view: dict) -> str | None:
    if not inv_view.get("credited_invoice_id"):
        return None
    return session.execute(select(Invoice.number).where(Invoice.id == inv_view["credited_invoice_id"])).scalar()


def invoice_document(session: Session, invoice_id) -> tuple[str, bytes]:
    """(file name, PDF) of an invoice or credit note as it stands (a draft is marked as such)."""
    view = invoice_view(session, invoice_row(session, invoice_id))
    name = view["number"] or f"draft-{view['id']}"
    return f"{name}.pdf", render_invoice(view, company_seller(session), _credited_number(session, view))


def recipients(given: list[str] | None, party: PartyReplica | None, name: str) -> list[str]:
    """Who a document to a customer goes to: the addresses given, else the party's primary email (else its
    first); a 422 on `to` when there is none."""
    if given:
        return list(given)
    emails = (party.emails if party else None) or []
    chosen = next((e for e in emails if e.get("primary")), emails[0] if emails else None)
    if not chosen:
        raise field_error("to", f"{name} has no email in the CRM: give the addresses to mail")
    return [chosen["value"]]


def _body(view: dict, seller: dict, credited: str | None, message: str | None) -> str:
    amount = f"{Decimal(view['gross_total']):,.2f} {view['currency']}"
    if message:
        text = message.strip()
    elif view["kind"] == "credit_note":
        text = (f"Please find attached our credit note {view['number']} of {amount}"
                + (f" for invoice {credited}" if credited else "") + ".")
    else:
        text = (f"Please find attached our invoice {view['number']} of {amount}, due on {view['due_date']}."
                + (f"\nWhen you pay, please quote the reference {grouped(view['payment_reference'])}."
                   if view.get("payment_reference") else ""))
    name = view.get("customer_legal_name") or view.get("customer_name") or ""
    return f"Dear {name},\n\n{text}\n\nKind regards,\n{seller.get('legal_name') or 'Accounts'}\n"


def send_invoice(session: Session, invoice_id, data: dict, actor, mailer: Mailer) -> dict:
    """Mail an issued invoice or credit note, its PDF attached, to the customer (or to `to`)."""
    inv = invoice_row(session, invoice_id, lock=True)
    if inv.status == "draft":
        raise Problem(409, "Not issued", "A draft is not a legal document: issue it before mailing it.",
                      "wrong-state", current_state=inv.status)
    to = recipients(data.get("to"), session.get(PartyReplica, inv.party_id), inv.customer_name)
    seller = company_seller(session)
    view = invoice_view(session, inv)
    credited = _credited_number(session, view)
    doc = "Credit note" if inv.kind == "credit_note" else "Invoice"
    msg = mailer.message(", ".join(to), f"{doc} {inv.number}" + (f" from {seller['legal_name']}"
                                                                  if seller.get("legal_name") else ""),
                         _body(view, seller, credited, data.get("message")),
                         render_invoice(view, seller, credited), f"{inv.number}.pdf",
                         reply_to=seller.get("email"), cc=", ".join(data["cc"]) if data.get("cc") else None)
    mail_outbox.enqueue(session, mail_table, msg, "invoice", inv.id)
    before = {"sent_at": inv.sent_at, "sent_to": inv.sent_to, "times_sent": inv.times_sent}
    inv.sent_at, inv.sent_to, inv.times_sent = datetime.now(UTC), to + list(data.get("cc") or []), inv.times_sent + 1
    inv.version += 1
    inv.updated_at = inv.sent_at
    session.flush()
    audit.record(session, audit_log, actor, "send", "invoice", inv.id, before,
                 {"sent_at": inv.sent_at, "sent_to": inv.sent_to, "times_sent": inv.times_sent})
    publish(session, "sent", inv, actor)
    return invoice_view(session, inv)
