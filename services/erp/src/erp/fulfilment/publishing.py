"""Adds a work order's or purchase need's whole state to the outbox (erp.fulfilment.v1) and reads it back as the
API shows it. It imports only models, so purchasing can follow its orders' needs through it without a cycle."""

from datetime import UTC, datetime

from shared_events.outbox import record_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..catalog.models import Product
from ..db import outbox
from ..purchasing.models import PurchaseOrder
from ..sales.models import SalesOrder
from . import events
from .models import PurchaseNeed, WorkOrder, WorkOrderMaterial, WorkOrderOperation

OPEN_WORK = ("planned", "in_progress")
OPEN_NEEDS = ("draft", "ordered", "no_supplier")


def _late(expected_date, status: str, open_statuses) -> bool:
    return expected_date is not None and status in open_statuses and expected_date < datetime.now(UTC).date()


def work_order_state(session: Session, wo: WorkOrder) -> dict:
    operations = session.execute(select(WorkOrderOperation).where(WorkOrderOperation.work_order_id == wo.id)
                                 ).scalars().all()
    return events.work_order_state(wo, operations, session.get(Product, wo.product_id),
                                   session.get(SalesOrder, wo.sales_order_id))


def need_state(session: Session, need: PurchaseNeed) -> dict:
    po_number = (session.execute(select(PurchaseOrder.number).where(PurchaseOrder.id == need.purchase_order_id))
                 .scalar_one_or_none() if need.purchase_order_id else None)
    return events.purchase_need_state(need, session.get(Product, need.product_id),
                                      session.get(SalesOrder, need.sales_order_id), po_number)


def work_order_view(session: Session, wo: WorkOrder) -> dict:
    materials = session.execute(select(WorkOrderMaterial, Product.sku).join(
        Product, Product.id == WorkOrderMaterial.product_id).where(WorkOrderMaterial.work_order_id == wo.id)
        .order_by(Product.sku)).all()
    return {**work_order_state(session, wo), "late": _late(wo.expected_date, wo.status, OPEN_WORK),
            "expected_date": wo.expected_date, "started_at": wo.started_at, "done_at": wo.done_at,
            "updated_at": wo.updated_at,
            "materials": [{"product_id": m.product_id, "sku": sku, "quantity": m.quantity,
                           "consumed_value": m.consumed_value, "stock_move_id": m.stock_move_id}
                          for m, sku in materials]}


def need_view(session: Session, need: PurchaseNeed) -> dict:
    return {**need_state(session, need), "late": _late(need.expected_date, need.status, OPEN_NEEDS),
            "expected_date": need.expected_date, "updated_at": need.updated_at}


def publish_work_order(session: Session, wo: WorkOrder, actor) -> None:
    session.flush()
    record_event(session, outbox, events.work_order_event(work_order_state(session, wo), actor), "work_order")


def publish_need(session: Session, need: PurchaseNeed, actor) -> None:
    session.flush()
    record_event(session, outbox, events.purchase_need_event(need_state(session, need), actor), "purchase_need")


# a purchase order's state -> its needs' status
NEED_STATUS_OF_PO = {"draft": "draft", "sent": "ordered", "partially_received": "ordered", "received": "received",
                     "billed": "received", "cancelled": "cancelled"}


def follow_purchase_order(session: Session, po: PurchaseOrder, actor) -> None:
    """The needs bought on this purchase order take its state (and expected date); each change is published."""
    for need in session.execute(select(PurchaseNeed).where(PurchaseNeed.purchase_order_id == po.id)
                                .order_by(PurchaseNeed.id).with_for_update()).scalars():
        status = NEED_STATUS_OF_PO[po.state]
        expected = po.expected_date or need.expected_date
        if (need.status, need.expected_date) == (status, expected):
            continue
        need.status, need.expected_date = status, expected
        need.version += 1
        need.updated_at = datetime.now(UTC)
        publish_need(session, need, actor)
