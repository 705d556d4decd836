"""The events sales consumes: crm.order.placed (crm.order.v1), applied once per CRM order. A handler turns the
event into plain values and calls the use case, which never sees the event."""

from datetime import date, datetime
from decimal import Decimal

from cloudevents.core.v1.event import CloudEvent
from shared_events.actors import actor_of
from sqlalchemy.orm import Session

from ..money import four_places
from .service import LineIn, PlacedOrder, place_crm_order


def placed_order(data: dict) -> PlacedOrder:
    """The values of a crm.order.placed event (already checked against the crm.order.v1 contract)."""
    lines = [LineIn(line_no=x["line_no"], product_id=x["product_id"], quantity=four_places(Decimal(x["quantity"])),
                    unit_price=four_places(Decimal(x["unit_price"])),
                    discount_percent=four_places(Decimal(x.get("discount_percent") or "0")),
                    tax_rate=four_places(Decimal(x["tax_rate"])), description=x.get("description"))
             for x in sorted(data["lines"], key=lambda x: x["line_no"])]
    return PlacedOrder(
        crm_order_id=data["order_id"], party_id=data["party_id"], currency=data["currency"], lines=lines,
        placed_at=datetime.fromisoformat(data["placed_at"]), placed_by=data.get("placed_by"),
        quote_id=data.get("quote_id"), quote_number=data.get("quote_number"), deal_id=data.get("deal_id"),
        requested_date=date.fromisoformat(data["requested_date"]) if data.get("requested_date") else None,
        customer_reference=data.get("customer_reference"), shipping_address=data.get("shipping_address"))


def order_handlers(warehouse_code: str = "") -> dict:
    """The handlers of crm.order.v1; orders ship from the warehouse whose code is `warehouse_code` when given
    (the ERP_SALES_WAREHOUSE setting)."""
    def apply_order_placed(session: Session, event: CloudEvent) -> None:
        data = event.get_data()
        actor = actor_of(event, data.get("placed_by")).label("crm", "crm")
        place_crm_order(session, placed_order(data), actor, warehouse_code)

    return {"crm.order.placed": apply_order_placed}
