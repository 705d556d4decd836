"""Use cases of a product's supply: made to order (bill of materials, routing) or bought (preferred supplier, price,
lead time). A bill of materials may not contain its own product, directly or through its components (422)."""

from datetime import UTC, datetime
from decimal import Decimal

from servicekit import audit
from servicekit.problems import NotFound, field_error
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from ..catalog.models import Product
from ..db import audit_log
from ..purchasing.service import supplier
from .bom import cycle_through
from .models import BomComponent, ProductSupply, RoutingOperation

# one writer of bills of materials at a time: two edits that each close half a cycle cannot both pass the check
_BOM_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended('erp.bom', 0))")


def _product(session: Session, product_id) -> Product:
    product = session.get(Product, str(product_id))
    if product is None:
        raise NotFound("product", product_id)
    return product


def components_of(session: Session, product_id: str) -> list[BomComponent]:
    return list(session.execute(select(BomComponent).where(BomComponent.product_id == product_id)
                                .order_by(BomComponent.position)).scalars())


def operations_of(session: Session, product_id: str) -> list[RoutingOperation]:
    return list(session.execute(select(RoutingOperation).where(RoutingOperation.product_id == product_id)
                                .order_by(RoutingOperation.position)).scalars())


def supply_view(session: Session, product_id) -> dict:
    """How the product is obtained; a product never set up is bought, with no supplier (version 0)."""
    product = _product(session, product_id)
    supply = session.get(ProductSupply, product.id)
    skus = dict(session.execute(select(Product.id, Product.sku).join(
        BomComponent, BomComponent.component_id == Product.id).where(BomComponent.product_id == product.id)).all())
    return {
        "product_id": product.id, "sku": product.sku,
        "procurement": supply.procurement if supply else "buy",
        "preferred_supplier_id": supply.preferred_supplier_id if supply else None,
        "supplier_price": supply.supplier_price if supply else None,
        "lead_time_days": supply.lead_time_days if supply else 0,
        "components": [{"component_id": c.component_id, "sku": skus.get(c.component_id), "quantity": c.quantity}
                       for c in components_of(session, product.id)],
        "operations": [{"name": o.name, "planned_hours": o.planned_hours} for o in operations_of(session, product.id)],
        "version": supply.version if supply else 0,
    }


def _check_components(session: Session, product: Product, components: list[dict]) -> None:
    seen: set[str] = set()
    for i, c in enumerate(components):
        field = f"components.{i}.component_id"
        cid = str(c["component_id"])
        if cid == product.id:
            raise field_error(field, f"{product.sku} cannot be a component of itself")
        if cid in seen:
            raise field_error(field, "this component appears twice: give its total quantity once")
        seen.add(cid)
        component = session.get(Product, cid)
        if component is None:
            raise field_error(field, f"no product with id {cid}")
        if component.kind == "service":
            raise field_error(field, f"{component.sku} is a service: a bill of materials lists goods")
    session.execute(_BOM_LOCK)
    edges: dict[str, set[str]] = {}
    for parent, child in session.execute(select(BomComponent.product_id, BomComponent.component_id)).all():
        edges.setdefault(parent, set()).add(child)
    cycle = cycle_through(edges, product.id, [str(c["component_id"]) for c in components])
    if cycle:
        skus = dict(session.execute(select(Product.id, Product.sku).where(Product.id.in_(cycle))).all())
        raise field_error("components", "this bill of materials makes a cycle: "
                          + " -> ".join(skus.get(p, p) for p in cycle))


def set_supply(session: Session, product_id, data: dict, actor) -> dict:
    """Replace how a product is obtained, with its bill of materials and routing (a whole-value replacement)."""
    product = _product(session, product_id)
    before = supply_view(session, product.id)
    procurement = data["procurement"]
    components = data.get("components") or []
    if procurement == "make_to_order":
        if product.kind != "stockable":
            raise field_error("procurement", f"{product.sku} is a {product.kind}: only stockable products are made")
        if not product.allow_backorder:
            raise field_error("procurement", f"{product.sku} is sold before it is made: allow backorders on the "
                              "product first")
        if not components:
            raise field_error("components", "a product made to order needs its bill of materials")
    elif components or data.get("operations"):
        raise field_error("components" if components else "operations",
                          "only a product made to order has a bill of materials and a routing")
    if data.get("preferred_supplier_id"):
        supplier(session, data["preferred_supplier_id"], "preferred_supplier_id")
    _check_components(session, product, components)
    supply = session.get(ProductSupply, product.id, with_for_update=True)
    if supply is None:
        supply = ProductSupply(product_id=product.id, version=0)
        session.add(supply)
    supply.procurement = procurement
    supply.preferred_supplier_id = str(data["preferred_supplier_id"]) if data.get("preferred_supplier_id") else None
    supply.supplier_price = data.get("supplier_price")
    supply.lead_time_days = data.get("lead_time_days") or 0
    supply.version += 1
    supply.updated_at = datetime.now(UTC)
    session.execute(delete(BomComponent).where(BomComponent.product_id == product.id))
    session.execute(delete(RoutingOperation).where(RoutingOperation.product_id == product.id))
    session.add_all([BomComponent(product_id=product.id, component_id=str(c["component_id"]), position=i + 1,
                                  quantity=Decimal(c["quantity"])) for i, c in enumerate(components)])
    session.add_all([RoutingOperation(product_id=product.id, position=i + 1, name=o["name"].strip(),
                                      planned_hours=Decimal(o["planned_hours"]))
                     for i, o in enumerate(data.get("operations") or [])])
    session.flush()
    after = supply_view(session, product.id)
    audit.record(session, audit_log, actor, "update", "product_supply", product.id, before, after)
    return after
