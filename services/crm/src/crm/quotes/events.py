"""The event an accepted quote publishes: crm.order.placed on crm.order.v1 (pure builders, no I/O)."""

from cloudevents.core.v1.event import CloudEvent
from shared_events.actors import actor_extensions
from shared_events.envelope import new_event
from shared_events.money import decimal_text

from ..parties.models import Party
from .models import Quote


def order_placed_data(q: Quote, party: Party, placed_by: str | None) -> dict:
    """Everything the ERP needs to accept or reject the order, as crm.order.v1.json describes it."""
    return {
        "order_id": q.order_id,
        "quote_id": q.id,
        "quote_number": q.number,
        "quote_version": q.quote_version,
        "deal_id": q.deal_id,
        "party_id": q.party_id,
        "contact_id": q.contact_person_id,
        "currency": q.currency,
        "requested_date": q.requested_date.isoformat() if q.requested_date else None,
        "customer_reference": q.customer_reference,
        "shipping_address": party.shipping_address or party.billing_address,
        "lines": [{
            "line_no": line.line_no,
            "product_id": line.product_id,
            "sku": line.sku,
            "description": line.name,
            "quantity": decimal_text(line.quantity),
            "unit_price": decimal_text(line.unit_price),
            "discount_percent": decimal_text(line.discount_percent),
            "tax_rate": decimal_text(line.tax_rate),
            "line_total": decimal_text(line.net_amount),
        } for line in q.lines],
        "net_total": decimal_text(q.net_total),
        "tax_total": decimal_text(q.tax_total),
        "gross_total": decimal_text(q.gross_total),
        "placed_at": q.accepted_at.isoformat(),
        "placed_by": placed_by,
        "version": 1,
    }


def order_placed_event(q: Quote, party: Party, actor=None) -> CloudEvent:
    """An order is placed once: its first and only event on crm.order.v1 (sequence 1, key = order id)."""
    data = order_placed_data(q, party, getattr(actor, "email", None))
    return new_event("crm.order.placed", q.order_id, data, sequence=1, **actor_extensions(actor))
