"""Use cases of work orders: read them, assign them, start them, follow their operations, and complete them.

Completing a work order consumes its materials from stock (each a stock move out of the warehouse, valued by the
stock module) and receives the finished goods into stock at what their materials cost; the stock module books each
move's valuation in the ledger (stock against stock variation, both ways), so the books stay balanced."""

from datetime import UTC, datetime
from decimal import Decimal

from servicekit import audit
from servicekit.etag import check_version
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..catalog.models import Product
from ..db import audit_log
from ..stock import service as stock
from .models import InstallationRecord, PurchaseNeed, WorkOrder, WorkOrderMaterial, WorkOrderOperation
from .planning import WORK_ORDER_SOURCE
from .publishing import need_view, publish_work_order, work_order_view

NEXT = {"start": ("planned",), "complete": ("in_progress",), "change": ("planned", "in_progress")}


def _work_order(session: Session, wo_id, lock: bool = False) -> WorkOrder:
    stmt = select(WorkOrder).where(WorkOrder.id == str(wo_id))
    wo = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if wo is None:
        raise NotFound("work order", wo_id)
    return wo


def _require(wo: WorkOrder, action: str) -> None:
    allowed = NEXT[action]
    if wo.status not in allowed:
        raise Problem(409, "Wrong state", f"Work order {wo.number} is {wo.status}; {action} is allowed only when "
                      f"{' or '.join(allowed)}.", "wrong-state", current_state=wo.status, action=action,
                      allowed_states=list(allowed))


def _changed(session: Session, wo: WorkOrder, actor, action: str, before: dict) -> dict:
    wo.version += 1
    wo.updated_at = datetime.now(UTC)
    publish_work_order(session, wo, actor)
    after = work_order_view(session, wo)
    audit.record(session, audit_log, actor, action, "work_order", wo.id, before, after)
    return after


def get_work_order(session: Session, wo_id) -> dict:
    return work_order_view(session, _work_order(session, wo_id))


SORTABLE = {"number": WorkOrder.number, "expected_date": WorkOrder.expected_date, "status": WorkOrder.status,
            "created_at": WorkOrder.created_at}


def list_work_orders(session: Session, args: dict) -> dict:
    stmt = select(WorkOrder)
    for key in ("deal_id", "sales_order_id"):
        if args.get(key):
            stmt = stmt.where(getattr(WorkOrder, key) == str(args[key]))
    if args.get("status"):
        stmt = stmt.where(WorkOrder.status.in_(args["status"]))
    if args.get("assignee"):
        stmt = stmt.where(WorkOrder.assignee == args["assignee"])
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE, [WorkOrder.expected_date, WorkOrder.number])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [work_order_view(session, wo) for wo in page["items"]]
    return page


def list_purchase_needs(session: Session, args: dict) -> dict:
    stmt = select(PurchaseNeed)
    for key in ("deal_id", "sales_order_id", "work_order_id", "purchase_order_id"):
        if args.get(key):
            stmt = stmt.where(getattr(PurchaseNeed, key) == str(args[key]))
    if args.get("status"):
        stmt = stmt.where(PurchaseNeed.status.in_(args["status"]))
    page = paginate(session, stmt.order_by(PurchaseNeed.created_at, PurchaseNeed.id), args["page"],
                    args["page_size"])
    page["items"] = [need_view(session, n) for n in page["items"]]
    return page


def update_work_order(session: Session, wo_id, expected_version: int, changes: dict, actor) -> dict:
    """Assign a work order or move its expected date (not once it is done)."""
    wo = _work_order(session, wo_id, lock=True)
    check_version(wo.version, expected_version)
    if not changes:
        return work_order_view(session, wo)
    _require(wo, "change")
    before = work_order_view(session, wo)
    for key in ("assignee", "expected_date"):
        if key in changes:
            setattr(wo, key, changes[key])
    return _changed(session, wo, actor, "update", before)


def start_work_order(session: Session, wo_id, expected_version: int, actor) -> dict:
    wo = _work_order(session, wo_id, lock=True)
    check_version(wo.version, expected_version)
    _require(wo, "start")
    before = work_order_view(session, wo)
    wo.status, wo.started_at = "in_progress", datetime.now(UTC)
    return _changed(session, wo, actor, "start", before)


def update_operation(session: Session, wo_id, position: str, expected_version: int, changes: dict, actor) -> dict:
    """Assign an operation or move it on (planned -> in_progress -> done); the first operation started starts the
    work order. The ETag is the work order's."""
    wo = _work_order(session, wo_id, lock=True)
    check_version(wo.version, expected_version)
    op = session.get(WorkOrderOperation, (wo.id, int(position))) if position.isdigit() and len(position) < 6 else None
    if op is None:
        raise NotFound("operation", f"{wo.number} #{position}")
    if not changes:
        return work_order_view(session, wo)
    _require(wo, "change")
    before = work_order_view(session, wo)
    order = ("planned", "in_progress", "done")
    if "status" in changes and order.index(changes["status"]) < order.index(op.status):
        raise field_error("status", f"operation {position} is {op.status}: it cannot go back to {changes['status']}")
    for key in ("assignee", "status"):
        if key in changes:
            setattr(op, key, changes[key])
    if op.status != "planned" and wo.status == "planned":
        wo.status, wo.started_at = "in_progress", datetime.now(UTC)
    return _changed(session, wo, actor, "update_operation", before)


def complete_work_order(session: Session, wo_id, expected_version: int, actor) -> dict:
    """Done: the materials leave stock, the finished goods enter it at the materials' cost; 409 (insufficient
    stock) with nothing changed when a material is not there yet."""
    wo = _work_order(session, wo_id, lock=True)
    check_version(wo.version, expected_version)
    _require(wo, "complete")
    before = work_order_view(session, wo)
    stock.release(session, source_type=WORK_ORDER_SOURCE, source_id=wo.id, actor=actor)
    location = stock.default_location(session, wo.warehouse_id)
    total = Decimal("0")
    materials = session.execute(select(WorkOrderMaterial).where(WorkOrderMaterial.work_order_id == wo.id)
                                .order_by(WorkOrderMaterial.product_id)).scalars().all()
    for m in materials:
        move = stock.post_move(session, kind="adjustment", product=session.get(Product, m.product_id),
                               quantity=m.quantity, source=location, destination=None, actor=actor,
                               reason=f"consumed by work order {wo.number}", reference=wo.number,
                               source_type=WORK_ORDER_SOURCE, source_id=wo.id)
        m.consumed_value, m.stock_move_id = abs(move.value), move.id
        total += abs(move.value)
    wo.unit_cost = (total / wo.quantity).quantize(Decimal("0.0001"))
    stock.post_move(session, kind="adjustment", product=session.get(Product, wo.product_id), quantity=wo.quantity,
                    source=None, destination=location, actor=actor, unit_cost=wo.unit_cost,
                    reason=f"made by work order {wo.number}", reference=wo.number, source_type=WORK_ORDER_SOURCE,
                    source_id=wo.id)
    for op in session.execute(select(WorkOrderOperation).where(WorkOrderOperation.work_order_id == wo.id)).scalars():
        op.status = "done"
    wo.status, wo.done_at = "done", datetime.now(UTC)
    return _changed(session, wo, actor, "complete", before)


def list_installations(session: Session, args: dict) -> dict:
    """What installers reported for sales orders (from the CRM), newest first."""
    stmt = select(InstallationRecord)
    for key in ("sales_order_id", "deal_id"):
        if args.get(key):
            stmt = stmt.where(getattr(InstallationRecord, key) == str(args[key]))
    if args.get("serial"):
        stmt = stmt.where(InstallationRecord.serials.contains([args["serial"]]))
    page = paginate(session, stmt.order_by(InstallationRecord.completed_at.desc(), InstallationRecord.id),
                    args["page"], args["page_size"])
    page["items"] = [{c: getattr(r, c) for c in ("id", "sales_order_id", "sales_order_number", "deal_id",
                                                  "party_id", "result", "serials", "signed_by", "completed_at",
                                                  "recorded_at")} for r in page["items"]]
    return page
