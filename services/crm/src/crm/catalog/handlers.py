"""Applies the ERP's catalog events to the replica: each aggregate's newer sequences only."""

from datetime import UTC, date, datetime
from decimal import Decimal
from uuid import UUID

from cloudevents.core.v1.event import CloudEvent
from shared_events.envelope import sequence_of
from shared_events.replica import upsert_if_newer
from sqlalchemy.orm import Session

from .models import CategoryReplica, PriceListReplica, ProductReplica, StockReplica

CONSUMER = "crm.catalog"
TOPICS = ["erp.product.v1", "erp.pricelist.v1", "erp.stock.v1"]


def _day(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _stamps(state: dict) -> dict:
    return {"erp_updated_at": datetime.fromisoformat(state["updated_at"]), "replicated_at": datetime.now(UTC)}


def apply_category_state(session: Session, event: CloudEvent) -> bool:
    """Upsert a category from its full state; False (nothing written) when the replica already holds newer."""
    s = event.get_data()
    values = {"name": s["name"], "parent_id": s.get("parent_id"), "path": s["path"], "active": s["active"],
              **_stamps(s)}
    return upsert_if_newer(session, CategoryReplica.__table__, {"category_id": s["id"]}, sequence_of(event), values)


def apply_product_state(session: Session, event: CloudEvent) -> bool:
    """Upsert a product from its full state (deactivation included); its stock is left alone."""
    s = event.get_data()
    values = {
        "sku": s["sku"], "name": s["name"], "description": s.get("description"), "category_id": s.get("category_id"),
        "category_path": s.get("category_path"), "uom": s["uom"], "kind": s["kind"], "currency": s["currency"],
        "sale_price": Decimal(s["sale_price"]), "tax_rate": Decimal(s["tax_rate"]),
        "warranty_months": s["warranty_months"], "allow_backorder": s.get("allow_backorder", False),
        "active": s["active"], **_stamps(s),
    }
    return upsert_if_newer(session, ProductReplica.__table__, {"product_id": s["id"]}, sequence_of(event), values)


def apply_price_list_state(session: Session, event: CloudEvent) -> bool:
    """Upsert a price list with all its items (they replace the previous items)."""
    s = event.get_data()
    # product ids in canonical form: the price query matches them by JSONB containment
    items = [{"product_id": str(UUID(i["product_id"])), "min_quantity": i["min_quantity"], "price": i["price"]}
             for i in s["items"]]
    values = {"name": s["name"], "currency": s["currency"], "customer_group": s.get("customer_group"),
              "party_id": s.get("party_id"), "valid_from": _day(s.get("valid_from")),
              "valid_to": _day(s.get("valid_to")), "active": s["active"], "items": items, **_stamps(s)}
    return upsert_if_newer(session, PriceListReplica.__table__, {"price_list_id": s["id"]}, sequence_of(event),
                           values)


def apply_stock_availability(session: Session, event: CloudEvent) -> bool:
    """Upsert a product's availability; its sequence is independent of the product's own."""
    s = event.get_data()
    warehouses = [{k: w.get(k) for k in ("warehouse_id", "code", "name", "on_hand", "reserved", "available")}
                  for w in s["warehouses"]]
    values = {"on_hand": Decimal(s["on_hand"]), "reserved": Decimal(s["reserved"]),
              "available": Decimal(s["available"]), "warehouses": warehouses, **_stamps(s)}
    return upsert_if_newer(session, StockReplica.__table__, {"product_id": s["product_id"]}, sequence_of(event),
                           values)


HANDLERS = {
    "erp.category.created": apply_category_state,
    "erp.category.updated": apply_category_state,
    "erp.product.created": apply_product_state,
    "erp.product.updated": apply_product_state,
    "erp.pricelist.created": apply_price_list_state,
    "erp.pricelist.updated": apply_price_list_state,
    "erp.stock.availability_changed": apply_stock_availability,
}
