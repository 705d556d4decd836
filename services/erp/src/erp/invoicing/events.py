"""The events invoices and credit notes publish on erp.invoice.v1: their customer-facing state (pure builders).

For an invoice, amount_paid is what receipts paid and balance_due what is left after payments and credit notes.
For a credit note, amount_paid is what it took off its invoice and balance_due the rest, as a negative amount: the
credit still open on the customer's account.
"""

from cloudevents.core.v1.event import CloudEvent
from shared_events.actors import actor_extensions
from shared_events.envelope import new_event

from ..money import money_text
from .models import Invoice


def balance_due(inv: Invoice):
    if inv.kind == "credit_note":
        return -(inv.gross_total - inv.amount_credited)
    return inv.gross_total - inv.amount_paid - inv.amount_credited


def invoice_state(inv: Invoice) -> dict:
    return {
        "id": inv.id, "number": inv.number, "kind": inv.kind, "credited_invoice_id": inv.credited_invoice_id,
        "party_id": inv.party_id, "order_id": inv.order_id, "crm_order_id": inv.crm_order_id,
        "deal_id": inv.deal_id, "status": inv.status, "issue_date": inv.issue_date.isoformat(),
        "due_date": inv.due_date.isoformat() if inv.due_date else None, "currency": inv.currency,
        "net_total": money_text(inv.net_total), "tax_total": money_text(inv.tax_total),
        "gross_total": money_text(inv.gross_total),
        "amount_paid": money_text(inv.amount_credited if inv.kind == "credit_note" else inv.amount_paid),
        "balance_due": money_text(balance_due(inv)), "customer_reference": inv.customer_reference,
        "payment_reference": inv.payment_reference, "sent_at": inv.sent_at.isoformat() if inv.sent_at else None,
        "sent_to": inv.sent_to, "dunning_level": inv.dunning_level, "version": inv.version,
        "updated_at": inv.updated_at.isoformat(),
    }


def invoice_event(verb: str, inv: Invoice, actor=None) -> CloudEvent:
    return new_event(f"erp.invoice.{verb}", inv.id, invoice_state(inv), inv.version, **actor_extensions(actor))
