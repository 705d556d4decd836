"""The events the catalog publishes: full states of products, categories and price lists."""

from cloudevents.core.v1.event import CloudEvent
from shared_events.actors import actor_extensions
from shared_events.envelope import new_event

from .models import Category, PriceList, PriceListItem, Product


def dec(value) -> str:
    return format(value.normalize(), "f") if value is not None else "0"


def product_state(p: Product, category_path: str | None) -> dict:
    return {
        "id": p.id, "sku": p.sku, "name": p.name, "description": p.description, "category_id": p.category_id,
        "category_path": category_path, "uom": p.uom, "kind": p.kind, "currency": p.currency,
        "sale_price": dec(p.sale_price), "tax_rate": dec(p.tax_rate), "warranty_months": p.warranty_months,
        "allow_backorder": p.allow_backorder, "active": p.active, "version": p.version,
        "updated_at": p.updated_at.isoformat(),
    }


def category_state(c: Category) -> dict:
    return {"id": c.id, "name": c.name, "parent_id": c.parent_id, "path": c.path, "active": c.active,
            "version": c.version, "updated_at": c.updated_at.isoformat()}


def price_list_state(pl: PriceList, items: list[PriceListItem]) -> dict:
    return {
        "id": pl.id, "name": pl.name, "currency": pl.currency, "customer_group": pl.customer_group,
        "party_id": pl.party_id, "valid_from": pl.valid_from.isoformat() if pl.valid_from else None,
        "valid_to": pl.valid_to.isoformat() if pl.valid_to else None, "active": pl.active,
        "items": [{"product_id": i.product_id, "min_quantity": dec(i.min_quantity), "price": dec(i.price)}
                  for i in sorted(items, key=lambda i: (i.product_id, i.min_quantity))],
        "version": pl.version, "updated_at": pl.updated_at.isoformat(),
    }


def product_event(verb: str, p: Product, category_path: str | None, actor=None) -> CloudEvent:
    return new_event(f"erp.product.{verb}", p.id, product_state(p, category_path), p.version, **actor_extensions(actor))


def category_event(verb: str, c: Category, actor=None) -> CloudEvent:
    return new_event(f"erp.category.{verb}", c.id, category_state(c), c.version, **actor_extensions(actor))


def price_list_event(verb: str, pl: PriceList, items: list[PriceListItem], actor=None) -> CloudEvent:
    return new_event(f"erp.pricelist.{verb}", pl.id, price_list_state(pl, items), pl.version, **actor_extensions(actor))
