"""The events sales consumes: crm.order.placed (crm.order.v1), applied once per CRM order. A handler turns the
event into plain values and calls the use case, which never sees the event.

The two topics are read by separate consumers, so an order can reach the ERP before its customer's party does:
such an order waits (sales.service.wait_for_customer) and is placed when the party arrives, by the party
consumer's handlers wrapped with `placing_waiting_orders`."""

from datetime import date, datetime
from decimal import Decimal

from cloudevents.core.v1.event import CloudEvent
from shared_events.actors import actor_of
from sqlalchemy.orm import Session

from ..fulfilment.planning import plan_for_order
from ..money import four_places
from .service import LineIn, PlacedOrder, customer_known, place_crm_order, take_waiting_orders, wait_for_customer


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
        placed = placed_order(data)
        if customer_known(session, placed.party_id):
            plan_for_order(session, place_crm_order(session, placed, actor, warehouse_code), actor)
        else:
            wait_for_customer(session, placed.crm_order_id, placed.party_id, data, actor)

    return {"crm.order.placed": apply_order_placed}


def place_waiting_orders(session: Session, party_ids, warehouse_code: str = "") -> list[str]:
    """Place the orders that waited for these parties (just applied to the replica); returns their CRM ids."""
    placed = []
    for waiting in take_waiting_orders(session, party_ids):
        plan_for_order(session, place_crm_order(session, placed_order(waiting.data), waiting.actor, warehouse_code),
                       waiting.actor)
        placed.append(waiting.crm_order_id)
    return placed


def placing_waiting_orders(party_handlers: dict, warehouse_code: str = "") -> dict:
    """The party consumer's handlers, each followed by placing the orders that waited for the parties it applied
    (in the same transaction: the party and its orders commit together)."""
    def wrap(handler):
        def apply_one(session: Session, event: CloudEvent):
            applied = handler(session, event)
            if applied:
                place_waiting_orders(session, [event.get_data()["id"]], warehouse_code)
            return applied

        if getattr(handler, "batch", None) is not None:
            def apply_run(session: Session, events: list[CloudEvent]) -> set[str]:
                applied = handler.batch(session, events)
                place_waiting_orders(session, sorted({e.get_data()["id"] for e in events if e.get_id() in applied}),
                                     warehouse_code)
                return applied
            apply_one.batch = apply_run
        return apply_one

    return {event_type: wrap(handler) for event_type, handler in party_handlers.items()}
