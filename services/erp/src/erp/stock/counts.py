"""Inventory counts: count what is on the shelves, then post the differences as adjustments in one transaction."""

from datetime import UTC, datetime
from decimal import Decimal

from servicekit import audit
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error
from shared_events.actors import actor_label
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..catalog.models import Product
from ..db import audit_log
from . import service
from .models import InventoryCount, InventoryCountLine, Location, StockQuant, Warehouse

SORTABLE = {"number": InventoryCount.number, "created_at": InventoryCount.created_at,
            "status": InventoryCount.status}


def count_view(session: Session, count: InventoryCount, with_lines: bool = True) -> dict:
    warehouse = session.get(Warehouse, count.warehouse_id)
    view = {c: getattr(count, c) for c in ("id", "number", "reference", "warehouse_id", "status", "note", "version",
                                           "created_by", "created_at", "validated_at", "cancelled_at")}
    view["warehouse_code"] = warehouse.code
    if with_lines:
        rows = session.execute(
            select(InventoryCountLine, Product.sku, Product.name, Location.path)
            .join(Product, Product.id == InventoryCountLine.product_id)
            .join(Location, Location.id == InventoryCountLine.location_id)
            .where(InventoryCountLine.count_id == count.id).order_by(Product.sku, Location.path)).all()
        view["lines"] = [{"id": line.id, "product_id": line.product_id, "sku": sku, "product_name": name,
                          "location_id": line.location_id, "location": path,
                          "counted_quantity": line.counted_quantity, "system_quantity": line.system_quantity,
                          "difference": line.counted_quantity - line.system_quantity, "move_id": line.move_id,
                          "counted_at": line.counted_at, "counted_by": line.counted_by}
                         for line, sku, name, path in rows]
    return view


def create_count(session: Session, data: dict, actor) -> dict:
    warehouse = service.warehouse_for_stock(session, data["warehouse_id"])
    count = InventoryCount(warehouse_id=warehouse.id, status="draft", note=data.get("note"), version=1,
                           created_by=actor_label(actor))
    session.add(count)
    session.flush()
    session.refresh(count)
    audit.record(session, audit_log, actor, "create", "inventory_count", count.id, None,
                 {"number": count.reference, "warehouse_id": warehouse.id, "note": count.note})
    return count_view(session, count)


def _draft(session: Session, count_id) -> InventoryCount:
    count = session.execute(select(InventoryCount).where(InventoryCount.id == str(count_id)).with_for_update()
                            ).scalar_one_or_none()
    if count is None:
        raise NotFound("inventory count", count_id)
    if count.status != "draft":
        raise Problem(409, f"Inventory count is {count.status}",
                      f"Inventory count {count.reference} is already {count.status}; only a draft changes.",
                      "inventory-count-closed", current_status=count.status)
    return count


def get_count(session: Session, count_id) -> dict:
    count = session.get(InventoryCount, str(count_id))
    if count is None:
        raise NotFound("inventory count", count_id)
    return count_view(session, count)


def list_counts(session: Session, args: dict) -> dict:
    stmt = select(InventoryCount)
    if args.get("warehouse_id"):
        stmt = stmt.where(InventoryCount.warehouse_id == str(args["warehouse_id"]))
    if args.get("status"):
        stmt = stmt.where(InventoryCount.status == args["status"])
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE, [InventoryCount.number.desc()])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [count_view(session, c, with_lines=False) for c in page["items"]]
    return page


def set_lines(session: Session, count_id, lines: list[dict], actor) -> dict:
    """Enter counted quantities; each line snapshots what the system holds at that location right now, so moves
    made between counting and validating are kept. Entering a line again replaces it (with a fresh snapshot)."""
    count = _draft(session, count_id)
    now = datetime.now(UTC)
    who = actor_label(actor)
    seen = set()
    for i, data in enumerate(lines):
        product = session.get(Product, str(data["product_id"]))
        if product is None or product.kind != "stockable":
            raise field_error(f"lines.{i}.product_id", "no stockable product with this id" if product is None
                              else f"{product.sku} is a {product.kind}: only stockable products are counted")
        location = service.resolve_location(session, count.warehouse_id, data.get("location_id"),
                                            "warehouse_id", f"lines.{i}.location_id")
        if (product.id, location.id) in seen:
            raise field_error(f"lines.{i}", "the same product and location appear twice")
        seen.add((product.id, location.id))
        system = session.execute(select(StockQuant.on_hand).where(
            StockQuant.product_id == product.id, StockQuant.location_id == location.id)).scalar_one_or_none()
        line = session.execute(select(InventoryCountLine).where(
            InventoryCountLine.count_id == count.id, InventoryCountLine.product_id == product.id,
            InventoryCountLine.location_id == location.id)).scalar_one_or_none()
        if line is None:
            line = InventoryCountLine(count_id=count.id, product_id=product.id, location_id=location.id)
            session.add(line)
        line.counted_quantity = data["counted_quantity"]
        line.system_quantity = system if system is not None else Decimal("0")
        line.counted_at, line.counted_by = now, who
    count.version += 1
    session.flush()
    audit.record(session, audit_log, actor, "count", "inventory_count", count.id, changes={
        "lines": [{"product_id": str(d["product_id"]), "location_id": str(d.get("location_id") or ""),
                   "counted_quantity": str(d["counted_quantity"])} for d in lines]})
    return count_view(session, count)


def validate_count(session: Session, count_id, actor) -> dict:
    """Post one adjustment per line whose count differs from its snapshot, all in this transaction; twice is 409."""
    count = _draft(session, count_id)
    lines = session.execute(select(InventoryCountLine).where(InventoryCountLine.count_id == count.id)
                            .order_by(InventoryCountLine.product_id, InventoryCountLine.location_id)).scalars().all()
    if not lines:
        raise field_error("lines", "count at least one product before validating")
    reason = f"inventory count {count.reference}"
    for line in lines:  # by product id: the same lock order as every other multi-product change
        difference = line.counted_quantity - line.system_quantity
        if difference == 0:
            continue
        location = session.get(Location, line.location_id)
        product = session.get(Product, line.product_id)
        move = service.post_move(session, kind="adjustment", product=product, quantity=abs(difference),
                                 source=location if difference < 0 else None,
                                 destination=location if difference > 0 else None, actor=actor,
                                 reference=count.reference, reason=reason, source_type="inventory_count",
                                 source_id=count.id)
        line.move_id = move.id
    count.status, count.validated_at = "validated", datetime.now(UTC)
    count.version += 1
    session.flush()
    audit.record(session, audit_log, actor, "validate", "inventory_count", count.id, {"status": "draft"},
                 {"status": "validated"})
    return count_view(session, count)


def cancel_count(session: Session, count_id, actor) -> dict:
    count = _draft(session, count_id)
    count.status, count.cancelled_at = "cancelled", datetime.now(UTC)
    count.version += 1
    session.flush()
    audit.record(session, audit_log, actor, "cancel", "inventory_count", count.id, {"status": "draft"},
                 {"status": "cancelled"})
    return count_view(session, count)
