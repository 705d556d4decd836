"""The journal entries of customer invoices and credit notes (journal SAL), written in the issuing transaction.

An invoice debits the customer's receivable (with its due date) for the gross, credits revenue (goods or services,
by the product's kind) with each line's net, and VAT collected with the tax. A credit note posts the reverse.
"""

from decimal import Decimal

from sqlalchemy.orm import Session

from ..ledger.posting import PostingLine
from ..ledger.service import post_entry
from .models import Invoice, InvoiceLine

JOURNAL = "SAL"
ZERO = Decimal("0")
REVENUE_ROLE = {"goods": "revenue_goods", "services": "revenue_services"}


def invoice_posting_lines(inv: Invoice, lines: list[InvoiceLine]) -> list[PostingLine]:
    """Pure: the lines of the entry for an invoice (or, mirrored, a credit note)."""
    label = f"{inv.number} {inv.customer_name or ''}".strip()
    out = [PostingLine("receivable", debit=inv.gross_total, party_id=inv.party_id, due_date=inv.due_date,
                       description=label, currency=inv.currency)]
    for line in lines:
        if line.net > 0:
            out.append(PostingLine(REVENUE_ROLE[line.revenue_kind], credit=line.net,
                                   description=f"{inv.number} / {line.description}"[:300], currency=inv.currency))
    if inv.tax_total > 0:
        out.append(PostingLine("vat_collected", credit=inv.tax_total, description=label, currency=inv.currency))
    if inv.kind == "credit_note":
        out = [PostingLine(p.account, debit=p.credit, credit=p.debit, party_id=p.party_id, due_date=p.due_date,
                           description=p.description, currency=p.currency) for p in out]
    return [p for p in out if p.debit > 0 or p.credit > 0]


def post_invoice(session: Session, inv: Invoice, lines: list[InvoiceLine], actor) -> str | None:
    """Book an issued invoice or credit note; returns the journal entry's id (None for a zero document)."""
    posting = invoice_posting_lines(inv, lines)
    if not posting:
        return None
    entry = post_entry(session, journal=JOURNAL, entry_date=inv.issue_date, lines=posting, reference=inv.number,
                       source_type=inv.kind, source_id=inv.id, actor=actor,
                       memo=f"{'Credit note' if inv.kind == 'credit_note' else 'Invoice'} {inv.number}")
    return str(entry.id)
