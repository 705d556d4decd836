"""The events payments publish on erp.payment.v1: the payment's whole state with its allocations and the party's
balance after it (pure builders, no I/O)."""

from decimal import Decimal

from cloudevents.core.v1.event import CloudEvent
from shared_events.actors import actor_extensions
from shared_events.envelope import new_event

from ..money import money_text
from .models import Payment


def payment_state(payment: Payment, allocations: list[dict], party_balance: Decimal) -> dict:
    """`allocations`: [{document_id, document_number, amount}] of the allocations still in force."""
    return {
        "id": payment.id, "number": payment.number, "direction": payment.direction, "party_id": payment.party_id,
        "amount": money_text(payment.amount), "currency": payment.currency,
        "payment_date": payment.payment_date.isoformat(),
        "method": payment.method, "status": payment.status,
        "allocations": [{"document_id": a["document_id"], "document_number": a["document_number"],
                         "amount": money_text(a["amount"])} for a in allocations],
        "unallocated": money_text(payment.amount - payment.allocated if payment.status == "posted"
                                  else Decimal("0.00")),
        "party_balance": money_text(party_balance), "version": payment.version,
        "updated_at": payment.updated_at.isoformat(),
    }


def payment_event(verb: str, payment: Payment, allocations: list[dict], party_balance: Decimal,
                  actor=None) -> CloudEvent:
    return new_event(f"erp.payment.{verb}", payment.id, payment_state(payment, allocations, party_balance),
                     payment.version, **actor_extensions(actor))
