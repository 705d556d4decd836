"""What an accepted order from a won deal needs: a work order for each made-to-order line (its materials reserved
where stock is free), and purchase needs for whatever is short after reservations, grouped into one draft purchase
order per preferred supplier (and currency) that a purchaser confirms by sending it.

Planning happens once per sales order, in the transaction that accepts it; a redelivered order plans nothing."""

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from servicekit import audit
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from ..catalog.models import Product
from ..db import audit_log
from ..parties.models import PartyReplica
from ..purchasing import service as purchasing
from ..sales.models import SalesOrder, SalesOrderLine
from ..stock import service as stock
from ..stock.models import StockLevel
from .models import (
    ProductSupply,
    PurchaseNeed,
    WorkOrder,
    WorkOrderMaterial,
    WorkOrderOperation,
    work_order_numbers,
)
from .publishing import publish_need, publish_work_order
from .supply import components_of, operations_of

WORK_ORDER_SOURCE = "work_order"  # what material reservations and stock moves name as their source


def _today():
    return datetime.now(UTC).date()


def _planned(session: Session, order_id: str) -> bool:
    return session.execute(select(or_(exists().where(WorkOrder.sales_order_id == order_id),
                                      exists().where(PurchaseNeed.sales_order_id == order_id)))).scalar()


def _free(session: Session, product_id: str, warehouse_id: str) -> Decimal:
    """What is on hand and not reserved in the warehouse (the product's stock locked until the transaction ends)."""
    stock.lock_product_stock(session, product_id)
    level = session.execute(select(StockLevel).where(StockLevel.product_id == product_id,
                                                     StockLevel.warehouse_id == warehouse_id)
                            .execution_options(populate_existing=True)).scalar_one_or_none()
    return level.on_hand - level.reserved if level is not None else Decimal("0")


def _usable_supplier(session: Session, supply: ProductSupply | None) -> str | None:
    if supply is None or not supply.preferred_supplier_id:
        return None
    party = session.get(PartyReplica, supply.preferred_supplier_id)
    ok = party is not None and party.status == "active" and "supplier" in (party.roles or [])
    return party.party_id if ok else None


def plan_for_order(session: Session, order: SalesOrder, actor) -> None:
    """Work orders and purchase needs for an accepted order placed from a deal (nothing for other orders, nothing
    twice)."""
    if order.status != "accepted" or not order.deal_id or order.warehouse_id is None or _planned(session, order.id):
        return
    lines = list(session.execute(select(SalesOrderLine).where(SalesOrderLine.order_id == order.id)
                                 .order_by(SalesOrderLine.line_no)).scalars())
    supplies = {s.product_id: s for s in session.execute(select(ProductSupply).where(
        ProductSupply.product_id.in_([line.product_id for line in lines]))).scalars()}
    work_orders: list[WorkOrder] = []
    wanted: list[tuple[str, Decimal, WorkOrder | None]] = []  # (product, quantity, for work order)
    for line in lines:
        supply = supplies.get(line.product_id)
        if supply is not None and supply.procurement == "make_to_order":
            wo = _new_work_order(session, order, line, supply)
            work_orders.append(wo)
            wanted += [(m.product_id, m.quantity, wo) for m in session.execute(select(WorkOrderMaterial).where(
                WorkOrderMaterial.work_order_id == wo.id)).scalars()]
        elif supply is not None and line.product_kind == "stockable":
            wanted.append((line.product_id, line.quantity, None))  # bought for resale: short if backordered
    shortages = _shortages(session, order, wanted, actor)
    needs = _needs(session, order, shortages)
    for wo in work_orders:  # made when its last material can be there, plus its own lead time
        lead = max((n.expected_date for n in needs if n.work_order_id == wo.id and n.expected_date), default=None)
        start = max(lead, _today()) if lead else _today()
        wo.expected_date = start + timedelta(days=supplies[wo.product_id].lead_time_days)
    session.flush()
    _draft_purchase_orders(session, order, needs, actor)
    for wo in work_orders:
        audit.record(session, audit_log, actor, "create", "work_order", wo.id, None,
                     {"number": wo.number, "sales_order": order.number, "product_id": wo.product_id,
                      "quantity": wo.quantity, "expected_date": wo.expected_date})
        publish_work_order(session, wo, actor)
    for need in needs:
        publish_need(session, need, actor)


def _new_work_order(session: Session, order: SalesOrder, line: SalesOrderLine, supply: ProductSupply) -> WorkOrder:
    n = session.execute(select(work_order_numbers.next_value())).scalar_one()
    now = datetime.now(UTC)
    wo = WorkOrder(number=f"WO-{now.year}-{n:05d}", sales_order_id=order.id, sales_order_line_id=line.id,
                   deal_id=order.deal_id, product_id=line.product_id, warehouse_id=order.warehouse_id,
                   quantity=line.quantity, status="planned", expected_date=_today(), version=1, created_at=now,
                   updated_at=now)
    session.add(wo)
    session.flush()
    session.add_all([WorkOrderOperation(work_order_id=wo.id, position=op.position, name=op.name,
                                        planned_hours=op.planned_hours, status="planned")
                     for op in operations_of(session, line.product_id)])
    session.add_all([WorkOrderMaterial(work_order_id=wo.id, product_id=c.component_id,
                                       quantity=(c.quantity * line.quantity).quantize(Decimal("0.0001")))
                     for c in components_of(session, line.product_id)])
    session.flush()
    return wo


def _shortages(session: Session, order: SalesOrder, wanted, actor) -> list[tuple[str, Decimal, WorkOrder | None]]:
    """Reserve what is free of each material for its work order; what is not free (or, for a product bought for
    resale, what the order reserved beyond the stock) is short. Products are locked in id order."""
    short = []
    for product_id, quantity, wo in sorted(wanted, key=lambda w: (w[0], w[2].number if w[2] else "")):
        product = session.get(Product, product_id)
        if product.kind != "stockable":
            continue  # consumables are expensed when bought: never short
        free = _free(session, product_id, order.warehouse_id)
        if wo is None:  # the order's own reservation is already counted in `free`
            missing = min(quantity, max(-free, Decimal("0")))
        else:
            take = min(quantity, max(free, Decimal("0")))
            if take > 0:
                stock.reserve(session, product_id=product_id, warehouse_id=order.warehouse_id, quantity=take,
                              source_type=WORK_ORDER_SOURCE, source_id=wo.id, actor=actor)
            missing = quantity - take
        if missing > 0:
            short.append((product_id, missing, wo))
    return short


def _needs(session: Session, order: SalesOrder, shortages) -> list[PurchaseNeed]:
    needs = []
    now = datetime.now(UTC)
    for product_id, quantity, wo in shortages:
        supply = session.get(ProductSupply, product_id)
        supplier_id = _usable_supplier(session, supply)
        needs.append(PurchaseNeed(
            sales_order_id=order.id, deal_id=order.deal_id, work_order_id=wo.id if wo else None,
            product_id=product_id, quantity=quantity, supplier_id=supplier_id,
            status="draft" if supplier_id else "no_supplier",
            reason=None if supplier_id else "no active preferred supplier: buy it by hand",
            expected_date=_today() + timedelta(days=supply.lead_time_days if supply else 0),
            version=1, created_at=now, updated_at=now))
    session.add_all(needs)
    session.flush()
    return needs


def _draft_purchase_orders(session: Session, order: SalesOrder, needs: list[PurchaseNeed], actor) -> None:
    """One draft purchase order per preferred supplier and currency, a line per need at the supplier's price."""
    groups: dict[tuple[str, str], list[PurchaseNeed]] = defaultdict(list)
    for need in needs:
        if need.supplier_id:
            groups[(need.supplier_id, session.get(Product, need.product_id).currency)].append(need)
    for (supplier_id, currency), group in sorted(groups.items()):
        lines = []
        for need in group:
            supply = session.get(ProductSupply, need.product_id)
            lines.append({"product_id": need.product_id, "quantity": need.quantity,
                          "unit_price": supply.supplier_price if supply else None})
        po = purchasing.create_order(session, {
            "supplier_id": supplier_id, "warehouse_id": order.warehouse_id, "currency": currency,
            "expected_date": max(n.expected_date for n in group),
            "notes": f"Drafted for sales order {order.number}: materials and goods short of stock", "lines": lines},
            actor)
        for need in group:
            need.purchase_order_id = po["id"]
