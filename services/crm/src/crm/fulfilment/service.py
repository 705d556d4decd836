"""The deal's fulfilment panel: its ERP orders, work orders and purchases with status, expected date and a late
flag, and one sentence the salesperson can tell the customer. Read only; visibility is the deal's."""

from datetime import UTC, datetime

from servicekit.auth.principal import Principal
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..billing.models import OrderReplica
from ..deals.service import find_deal
from ..tasks.service import list_tasks
from .installation import deal_installations, installation_view
from .models import FulfilmentReplica

OPEN = {"work_order": ("planned", "in_progress"), "purchase": ("draft", "ordered", "no_supplier")}
SHIPPED = ("delivered", "invoiced")


def _item(row: FulfilmentReplica, today) -> dict:
    late = row.expected_date is not None and row.status in OPEN[row.kind] and row.expected_date < today
    return {"id": row.id, "kind": row.kind, "number": row.number, "sales_order_number": row.sales_order_number,
            "sku": row.sku, "product_name": row.product_name, "quantity": row.quantity, "status": row.status,
            "expected_date": row.expected_date, "late": late, "assignee": row.data.get("assignee"),
            "operations": row.data.get("operations") if row.kind == "work_order" else None,
            "updated_at": row.erp_updated_at}


def _summary(orders: list[OrderReplica], work: list[dict], purchases: list[dict],
             installs: list[dict]) -> tuple[str, str]:
    """(stage, sentence): where the order stands, in the words a salesperson would use with the customer."""
    if installs:
        if any(i["status"] == "problem" for i in installs):
            return "installation_problem", "The installer reported a problem: see the deal's timeline."
        if all(i["status"] == "done" for i in installs):
            return "installed", "Installed and signed off."
        return "installing", "Made and delivered; installation is being scheduled."
    if not orders and not work and not purchases:
        return "not_ordered", "No order from this deal has reached the ERP yet."
    if orders and all(o.status in SHIPPED for o in orders) and all(w["status"] == "done" for w in work):
        return "delivered", "Everything has been made and delivered."
    if work and all(w["status"] == "done" for w in work):
        return "ready", "Everything has been made; delivery is next."
    waiting = [p for p in purchases if p["status"] in OPEN["purchase"]]
    late = [x for x in work + purchases if x["late"]]
    expected = max((w["expected_date"] for w in work if w["expected_date"]), default=None)
    when = f" Expected ready by {expected.isoformat()}." if expected else ""
    if late:
        return "late", f"{len(late)} item(s) are past their expected date.{when}"
    if any(w["status"] == "in_progress" for w in work):
        return "in_production", f"In production.{when}"
    if waiting:
        return "waiting_for_materials", f"Waiting for {len(waiting)} purchase(s) from suppliers.{when}"
    return "planned", f"Production is planned.{when}"


def deal_fulfilment(session: Session, deal_id, actor: Principal) -> dict:
    deal = find_deal(session, deal_id, actor)
    today = datetime.now(UTC).date()
    rows = session.execute(select(FulfilmentReplica).where(FulfilmentReplica.deal_id == deal.id)
                           .order_by(FulfilmentReplica.kind.desc(), FulfilmentReplica.expected_date,
                                     FulfilmentReplica.number)).scalars().all()
    items = [_item(r, today) for r in rows]
    work = [i for i in items if i["kind"] == "work_order"]
    purchases = [i for i in items if i["kind"] == "purchase"]
    orders = session.execute(select(OrderReplica).where(OrderReplica.deal_id == deal.id,
                                                        OrderReplica.status != "rejected")
                             .order_by(OrderReplica.erp_updated_at)).scalars().all()
    installs = [installation_view(session, i) for i in deal_installations(session, deal.id)]
    stage, sentence = _summary(orders, work, purchases, installs)
    return {"deal_id": deal.id, "stage": stage, "summary": sentence, "late": any(i["late"] for i in items),
            "orders": [{"id": o.id, "number": o.number, "status": o.status, "last_delivery_at": o.last_delivery_at}
                       for o in orders],
            "work_orders": work, "purchases": purchases, "installations": installs,
            "tasks": list_tasks(session, {"record_type": "deal", "record_id": deal.id, "page": 1, "page_size": 200},
                                actor)["items"]}


def installations_of(session: Session, deal_id, actor: Principal) -> list[dict]:
    deal = find_deal(session, deal_id, actor)
    return [installation_view(session, i) for i in deal_installations(session, deal.id)]
