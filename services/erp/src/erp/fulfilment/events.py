"""The events fulfilment publishes on erp.fulfilment.v1: a work order's or purchase need's whole state (pure builders,
no I/O)."""

from cloudevents.core.v1.event import CloudEvent
from shared_events.actors import actor_extensions
from shared_events.envelope import new_event

from ..money import number_text


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def work_order_state(wo, operations, product, order) -> dict:
    return {
        "id": wo.id, "number": wo.number, "sales_order_id": order.id, "sales_order_number": order.number,
        "crm_order_id": order.crm_order_id, "deal_id": wo.deal_id, "party_id": order.party_id,
        "product_id": product.id, "sku": product.sku, "product_name": product.name,
        "quantity": number_text(wo.quantity), "status": wo.status, "assignee": wo.assignee,
        "expected_date": wo.expected_date.isoformat(),
        "unit_cost": number_text(wo.unit_cost) if wo.unit_cost is not None else None,
        "started_at": _iso(wo.started_at), "done_at": _iso(wo.done_at),
        "operations": [{"position": op.position, "name": op.name, "planned_hours": number_text(op.planned_hours),
                        "assignee": op.assignee, "status": op.status}
                       for op in sorted(operations, key=lambda op: op.position)],
        "version": wo.version, "updated_at": wo.updated_at.isoformat(),
    }


def purchase_need_state(need, product, order, po_number: str | None) -> dict:
    return {
        "id": need.id, "sales_order_id": order.id, "sales_order_number": order.number,
        "crm_order_id": order.crm_order_id, "deal_id": need.deal_id, "party_id": order.party_id,
        "work_order_id": need.work_order_id, "product_id": product.id, "sku": product.sku,
        "product_name": product.name, "quantity": number_text(need.quantity), "status": need.status,
        "supplier_id": need.supplier_id, "purchase_order_id": need.purchase_order_id,
        "purchase_order_number": po_number, "expected_date": _iso(need.expected_date), "reason": need.reason,
        "version": need.version, "updated_at": need.updated_at.isoformat(),
    }


def work_order_event(state: dict, actor=None) -> CloudEvent:
    return new_event("erp.workorder.changed", state["id"], state, state["version"], **actor_extensions(actor))


def purchase_need_event(state: dict, actor=None) -> CloudEvent:
    return new_event("erp.purchaseneed.changed", state["id"], state, state["version"], **actor_extensions(actor))
