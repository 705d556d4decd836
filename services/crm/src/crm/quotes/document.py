"""What a quote says to the customer: the PDF's document, the email's subject and text, the timeline facts."""

import re

from servicekit.pdf import address_lines
from sqlalchemy.orm import Session

from ..parties.models import Party
from .lines import tax_by_rate
from .models import Quote
from .pdf import money


def pdf_filename(q: Quote) -> str:
    return f"{q.number}-v{q.quote_version}.pdf"


def quote_document(session: Session, q: Quote, seller: tuple[str, ...]) -> dict:
    """The plain content of the quote's PDF (quotes/pdf.py renders it)."""
    party = session.get(Party, q.party_id)
    contact = session.get(Party, q.contact_person_id) if q.contact_person_id else None
    return {
        "seller": list(seller), "number": q.number, "quote_version": q.quote_version, "status": q.status,
        "date": (q.sent_at or q.updated_at).date(), "valid_until": q.valid_until, "requested_date": q.requested_date,
        "customer_reference": q.customer_reference, "currency": q.currency,
        "customer": {"name": party.display_name, "address": address_lines(party.billing_address),
                     "tax_id": party.tax_id, "contact": contact.display_name if contact else None},
        "lines": [{"line_no": line.line_no, "sku": line.sku, "name": line.name, "description": line.description,
                   "quantity": line.quantity, "uom": line.uom, "unit_price": line.unit_price,
                   "discount_percent": line.discount_percent, "tax_rate": line.tax_rate, "net": line.net_amount}
                  for line in q.lines],
        "net_total": q.net_total, "tax_by_rate": tax_by_rate(q), "tax_total": q.tax_total,
        "gross_total": q.gross_total, "notes": q.notes, "terms": q.terms,
    }


def email_subject(q: Quote, seller: tuple[str, ...]) -> str:
    version = f" (version {q.quote_version})" if q.quote_version > 1 else ""
    return f"Quote {q.number}{version}" + (f" from {seller[0]}" if seller and seller[0] else "")


_GREETING = re.compile(r"^\s*(hello|hi|hey|dear|good (morning|afternoon|evening)|bonjour|hallo|guten tag|hola|"
                       r"buongiorno|ciao)\b", re.IGNORECASE)


def email_body(doc: dict, message: str | None, actor) -> str:
    """The mail's text: a greeting (unless the salesperson's own message opens with one), the message or the
    default one, and the salesperson's name."""
    if message and _GREETING.match(message):
        return f"{message.strip()}\n\n{actor.name or actor.email}\n"
    greeting = f"Hello {doc['customer']['contact'] or doc['customer']['name']},"
    text = message or (f"please find attached our quote {doc['number']} for {money(doc['gross_total'])} "
                       f"{doc['currency']} (tax included), valid until {doc['valid_until'].isoformat()}.\n\n"
                       "Reply to this email with any question or to accept it.")
    return f"{greeting}\n\n{text}\n\n{actor.name or actor.email}\n"


def timeline_data(q: Quote) -> dict:
    return {"number": q.number, "quote_version": q.quote_version, "gross_total": str(q.gross_total),
            "currency": q.currency}
