"""The events sales orders publish on erp.order.v1: the order's whole current state (pure builders, no I/O)."""

from cloudevents.core.v1.event import CloudEvent
from shared_events.actors import actor_extensions
from shared_events.envelope import new_event

from ..money import money_text, number_text
from .models import SalesOrder, SalesOrderLine


def order_state(order: SalesOrder, lines: list[SalesOrderLine]) -> dict:
    return {
        "id": order.id, "number": order.number, "crm_order_id": order.crm_order_id, "deal_id": order.deal_id,
        "party_id": order.party_id, "status": order.status, "reason": order.reason, "currency": order.currency,
        "lines": [{"product_id": line.product_id, "quantity": number_text(line.quantity),
                   "delivered_quantity": number_text(line.delivered_quantity),
                   "unit_price": number_text(line.unit_price)}
                  for line in sorted(lines, key=lambda x: x.line_no)],
        "net_total": money_text(order.net_total), "tax_total": money_text(order.tax_total),
        "gross_total": money_text(order.gross_total),
        "last_delivery_at": order.last_delivery_at.isoformat() if order.last_delivery_at else None,
        "version": order.version, "updated_at": order.updated_at.isoformat(),
    }


def order_event(verb: str, order: SalesOrder, lines: list[SalesOrderLine], actor=None) -> CloudEvent:
    return new_event(f"erp.order.{verb}", order.id, order_state(order, lines), order.version, **actor_extensions(actor))
