"""The event stock publishes: a product's whole availability, per warehouse and in total (erp.stock.v1)."""

from decimal import Decimal

from cloudevents.core.v1.event import CloudEvent
from shared_events.actors import actor_extensions
from shared_events.envelope import new_event

AVAILABILITY_CHANGED = "erp.stock.availability_changed"


def dec(value: Decimal | None) -> str:
    return format(Decimal(value or 0).normalize(), "f")


def availability_state(product_id: str, sku: str, version: int, updated_at, warehouses: list[dict]) -> dict:
    """`warehouses`: dicts with warehouse_id, code, name, on_hand, reserved (Decimals)."""
    on_hand = sum((w["on_hand"] for w in warehouses), Decimal("0"))
    reserved = sum((w["reserved"] for w in warehouses), Decimal("0"))
    return {
        "product_id": product_id, "sku": sku,
        "on_hand": dec(on_hand), "reserved": dec(reserved), "available": dec(on_hand - reserved),
        "warehouses": [{"warehouse_id": w["warehouse_id"], "code": w["code"], "name": w["name"],
                        "on_hand": dec(w["on_hand"]), "reserved": dec(w["reserved"]),
                        "available": dec(w["on_hand"] - w["reserved"])} for w in warehouses],
        "version": version, "updated_at": updated_at.isoformat(),
    }


def availability_event(state: dict, actor=None) -> CloudEvent:
    return new_event(AVAILABILITY_CHANGED, state["product_id"], state, state["version"],
                     **actor_extensions(actor))
