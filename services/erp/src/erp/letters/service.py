"""Documents to customers beside invoices: the customer statement, the dunning letter (levels 1 to 3, texts from the
company settings) and the delivery note, as PDF on the company's letterhead; statements and dunning letters are
mailed like invoices (mail outbox, sent by the worker after the commit). A dunning letter that is sent records its
level on each overdue invoice and publishes erp.invoice.dunned, which the CRM puts on the customer's timeline."""

from datetime import UTC, date, datetime
from decimal import Decimal

from servicekit import audit, mail_outbox
from servicekit.mail_outbox import Mailer
from servicekit.problems import NotFound, Problem
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..company.letterhead import Letter, render_letter
from ..company.service import seller as company_seller
from ..db import audit_log
from ..db import mail_outbox as mail_table
from ..invoicing.events import balance_due
from ..invoicing.models import Invoice
from ..invoicing.sending import recipients
from ..invoicing.service import publish as publish_invoice
from ..parties.models import PartyReplica
from ..payments.statement import statement
from ..sales.models import SalesDelivery, SalesDeliveryLine, SalesOrder, SalesOrderLine

OPEN = ("issued", "partially_paid", "overdue")
DUNNING_TITLES = {1: "Payment reminder", 2: "Second reminder", 3: "Final notice"}
DUNNING_TEXTS = {
    1: "Our records show the invoices below as unpaid past their due date. This may well be an oversight: "
       "please arrange payment at your earliest convenience, or ignore this letter if you have already paid.",
    2: "Despite our reminder, the invoices below are still unpaid. Please pay the amount due within 10 days, or "
       "contact us if there is a problem with these invoices.",
    3: "The invoices below remain unpaid despite our reminders. Unless we receive payment within 8 days, we will "
       "pass the matter on for collection without further notice.",
}


def _money(amount, currency: str) -> str:
    return f"{Decimal(amount):,.2f} {currency}"


def _party(session: Session, party_id) -> PartyReplica:
    party = session.get(PartyReplica, str(party_id))
    if party is None:
        raise NotFound("party", party_id)
    return party


# -- the customer statement -----------------------------------------------------------------------

def statement_pdf(session: Session, party_id, date_from: date | None, date_to: date | None,
                  currency: str | None = None) -> tuple[str, bytes]:
    party = _party(session, party_id)
    view = statement(session, party.party_id, date_from, date_to, currency)
    cur = view["currency"]
    letter = Letter(
        title="Statement of account", recipient_name=party.legal_name or party.display_name,
        recipient_address=party.billing_address,
        facts=[("Period", f"{view['date_from'] or 'start'} to {view['date_to']}"), ("Currency", cur)],
        columns=[("Date", 22, "LEFT"), ("Document", 62, "LEFT"), ("Due", 22, "LEFT"), ("Debit", 25, "RIGHT"),
                 ("Credit", 25, "RIGHT"), ("Balance", 26, "RIGHT")],
        rows=[(str(x["date"]), f"{x['type'].replace('_', ' ')} {x['number'] or ''}".strip(),
               str(x["due_date"] or ""), f"{x['debit']:,.2f}" if x["debit"] else "",
               f"{x['credit']:,.2f}" if x["credit"] else "", f"{x['balance']:,.2f}") for x in view["lines"]],
        totals=[("Opening balance", _money(view["opening_balance"], cur)),
                *[(f"Overdue {bucket.replace('_', ' ')}", _money(amount, cur))
                  for bucket, amount in view["aging"].items() if amount and bucket != "current"],
                ("Balance due", _money(view["closing_balance"], cur))],
        closing="A positive balance is what you owe us; a negative one is credit in your favour.")
    return f"statement-{party.party_id[:8]}-{view['date_to']}.pdf", render_letter(letter, company_seller(session))


# -- dunning letters ------------------------------------------------------------------------------

def overdue_invoices(session: Session, party_id: str, today: date) -> list[Invoice]:
    return list(session.execute(select(Invoice).where(
        Invoice.party_id == party_id, Invoice.kind == "invoice", Invoice.status.in_(OPEN), Invoice.due_date < today)
        .order_by(Invoice.due_date, Invoice.number)).scalars())


def _dunning(session: Session, party_id, level: int | None, today: date, lock: bool = False
             ) -> tuple[PartyReplica, list[Invoice], int, Letter]:
    party = _party(session, party_id)
    found = overdue_invoices(session, party.party_id, today)
    invoices = [inv for inv in found if balance_due(inv) > 0]
    if lock and invoices:
        session.execute(select(Invoice.id).where(Invoice.id.in_([i.id for i in invoices])).with_for_update())
    if not invoices:
        raise Problem(409, "Nothing overdue", f"{party.display_name} has no invoice past its due date.",
                      "nothing-overdue")
    level = level or min(3, max(inv.dunning_level for inv in invoices) + 1)
    texts = company_seller(session).get("dunning_texts") or {}
    currency = invoices[0].currency
    total = sum((balance_due(inv) for inv in invoices if inv.currency == currency), Decimal("0.00"))
    letter = Letter(
        title=DUNNING_TITLES[level], recipient_name=party.legal_name or party.display_name,
        recipient_address=party.billing_address, facts=[("Date", today.isoformat()), ("Level", str(level))],
        text=texts.get(f"level_{level}") or DUNNING_TEXTS[level],
        columns=[("Invoice", 40, "LEFT"), ("Issued", 24, "LEFT"), ("Due", 24, "LEFT"), ("Days late", 20, "RIGHT"),
                 ("Total", 34, "RIGHT"), ("Due now", 38, "RIGHT")],
        rows=[(inv.number, str(inv.issue_date), str(inv.due_date), str((today - inv.due_date).days),
               _money(inv.gross_total, inv.currency), _money(balance_due(inv), inv.currency)) for inv in invoices],
        totals=[("Total due", _money(total, currency))],
        closing="Please quote the payment reference of each invoice when you pay: "
                + ", ".join(f"{inv.number}: {inv.payment_reference}" for inv in invoices if inv.payment_reference))
    return party, invoices, level, letter


def dunning_pdf(session: Session, party_id, level: int | None) -> tuple[str, bytes]:
    """The letter a customer with overdue invoices would get (nothing is recorded)."""
    today = datetime.now(UTC).date()
    party, _, level, letter = _dunning(session, party_id, level, today)
    return (f"reminder-{level}-{party.party_id[:8]}-{today}.pdf",
            render_letter(letter, company_seller(session)))


def send_dunning(session: Session, party_id, data: dict, actor, mailer: Mailer) -> dict:
    """Mail the dunning letter; each invoice in it records the level (its next letter goes one level up) and the
    CRM hears erp.invoice.dunned."""
    today = datetime.now(UTC).date()
    party, invoices, level, letter = _dunning(session, party_id, data.get("level"), today, lock=True)
    seller = company_seller(session)
    to = recipients(data.get("to"), party, party.display_name)
    _mail(session, mailer, seller, to, data, f"{letter.title} from {seller.get('legal_name') or 'us'}",
          f"Please find attached our {letter.title.lower()} about {len(invoices)} overdue invoice(s).",
          render_letter(letter, seller), f"reminder-{level}-{today}.pdf", "dunning", party.party_id)
    now = datetime.now(UTC)
    for inv in invoices:
        before = {"dunning_level": inv.dunning_level, "dunned_at": inv.dunned_at}
        inv.dunning_level, inv.dunned_at = level, now
        inv.version += 1
        inv.updated_at = now
        session.flush()
        audit.record(session, audit_log, actor, "dun", "invoice", inv.id, before,
                     {"dunning_level": level, "dunned_at": now})
        publish_invoice(session, "dunned", inv, actor)
    return {"party_id": party.party_id, "level": level, "sent_to": to, "invoices": [
        {"id": inv.id, "number": inv.number, "balance_due": balance_due(inv), "due_date": inv.due_date}
        for inv in invoices]}


def send_statement(session: Session, party_id, data: dict, actor, mailer: Mailer) -> dict:
    party = _party(session, party_id)
    name, pdf = statement_pdf(session, party.party_id, data.get("date_from"), data.get("date_to"))
    seller = company_seller(session)
    to = recipients(data.get("to"), party, party.display_name)
    _mail(session, mailer, seller, to, data, f"Statement of account from {seller.get('legal_name') or 'us'}",
          "Please find attached your statement of account.", pdf, name, "statement", party.party_id)
    audit.record(session, audit_log, actor, "send_statement", "party", party.party_id, None, {"sent_to": to})
    return {"party_id": party.party_id, "sent_to": to}


def _mail(session: Session, mailer: Mailer, seller: dict, to: list[str], data: dict, subject: str, default: str,
          pdf: bytes, filename: str, ref_type: str, ref_id: str) -> None:
    body = f"Hello,\n\n{(data.get('message') or default).strip()}\n\nKind regards,\n{seller.get('legal_name') or ''}\n"
    msg = mailer.message(", ".join(to), subject, body, pdf, filename, reply_to=seller.get("email"),
                         cc=", ".join(data["cc"]) if data.get("cc") else None)
    mail_outbox.enqueue(session, mail_table, msg, ref_type, ref_id)


# -- delivery notes -------------------------------------------------------------------------------

def delivery_note_pdf(session: Session, order_id, delivery_id) -> tuple[str, bytes]:
    delivery = session.get(SalesDelivery, str(delivery_id))
    if delivery is None or delivery.order_id != str(order_id):
        raise NotFound("delivery", delivery_id)
    order = session.get(SalesOrder, delivery.order_id)
    party = session.get(PartyReplica, order.party_id)
    rows = session.execute(
        select(SalesOrderLine, SalesDeliveryLine.quantity).join(
            SalesDeliveryLine, SalesDeliveryLine.order_line_id == SalesOrderLine.id)
        .where(SalesDeliveryLine.delivery_id == delivery.id).order_by(SalesOrderLine.line_no)).all()

    def qty(value) -> str:
        return f"{Decimal(value).normalize():f}"
    letter = Letter(
        title=f"Delivery note {delivery.number}", recipient_label="Ship to",
        recipient_name=(party.legal_name or party.display_name) if party else order.party_id,
        recipient_address=order.shipping_address or (party.billing_address if party else None),
        facts=[("Order", order.number), ("Your reference", order.customer_reference or ""),
               ("Delivered", delivery.delivered_at.date().isoformat())],
        text=delivery.note or "",
        columns=[("SKU", 30, "LEFT"), ("Description", 80, "LEFT"), ("Ordered", 22, "RIGHT"),
                 ("Delivered", 24, "RIGHT"), ("Still to come", 24, "RIGHT")],
        rows=[(line.sku or "", line.description or "", qty(line.quantity), qty(shipped),
               qty(line.quantity - line.delivered_quantity)) for line, shipped in rows],
        closing="Received in good condition (name, date, signature):")
    letter.facts = [(k, v) for k, v in letter.facts if v]
    return f"{delivery.number}.pdf", render_letter(letter, company_seller(session))
