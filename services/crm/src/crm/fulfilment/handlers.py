"""Applies erp.fulfilment.v1: the newest state of each work order and purchase need (a redelivered or older state
changes nothing); each new status goes on the deal's and the customer's timeline once, even when the replica is
rebuilt from the topic (`crm rebuild-replica fulfilment`): an entry is known by its record, status and the event's
time, so replaying the same event finds it already there."""

from datetime import UTC, date, datetime

from cloudevents.core.v1.event import CloudEvent
from shared_events.actors import actor_of
from shared_events.envelope import sequence_of
from shared_events.replica import upsert_if_newer
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..deals.models import Deal
from ..parties.models import Party
from ..timeline.entries import add_entry
from ..timeline.models import TimelineEntry
from .installation import start_installation_when_ready
from .models import FulfilmentReplica

CONSUMER = "crm.fulfilment"
TOPICS = ["erp.fulfilment.v1"]

WORK_TITLES = {"planned": "planned", "in_progress": "in production", "done": "made"}
NEED_TITLES = {"draft": "to be ordered", "ordered": "ordered from the supplier", "received": "received",
               "cancelled": "cancelled", "no_supplier": "to be bought (no supplier set)"}


def _actor(event: CloudEvent) -> dict | str:
    who = actor_of(event)
    return {"id": who.id, "name": f"ERP: {who.name}"} if who.id else "ERP"


def _on_timeline(session: Session, kind: str, ref_id: str, status: str, at: datetime) -> bool:
    """This status of this record, from the event of this time, is on the timeline already (a replay)."""
    return session.execute(select(exists().where(
        TimelineEntry.ref_type == f"erp_{kind}", TimelineEntry.ref_id == ref_id, TimelineEntry.occurred_at == at,
        TimelineEntry.data["status"].astext == status))).scalar()


def _apply(session: Session, event: CloudEvent, kind: str) -> bool:
    s = event.get_data()
    held = session.execute(select(FulfilmentReplica.status).where(FulfilmentReplica.id == s["id"])).scalar()
    number = s["number"] if kind == "work_order" else s.get("purchase_order_number")
    applied = upsert_if_newer(session, FulfilmentReplica.__table__, {"id": s["id"]}, sequence_of(event), {
        "kind": kind, "deal_id": s.get("deal_id"), "party_id": s.get("party_id"),
        "sales_order_id": s["sales_order_id"], "sales_order_number": s["sales_order_number"], "number": number,
        "sku": s["sku"], "product_name": s["product_name"], "quantity": s["quantity"], "status": s["status"],
        "expected_date": date.fromisoformat(s["expected_date"]) if s.get("expected_date") else None,
        "data": s, "erp_updated_at": datetime.fromisoformat(s["updated_at"]), "replicated_at": datetime.now(UTC)})
    if not applied or held == s["status"]:
        return applied
    deal = session.get(Deal, s["deal_id"]) if s.get("deal_id") else None
    party = session.get(Party, s["party_id"]) if s.get("party_id") else None
    if (deal is not None or party is not None) and not _on_timeline(session, kind, s["id"], s["status"],
                                                                    event.get_time()):
        if kind == "work_order":
            title = f"Work order {s['number']} ({s['product_name']} x {s['quantity']}): " \
                    f"{WORK_TITLES.get(s['status'], s['status'])}"
        else:
            title = f"Purchase of {s['product_name']} x {s['quantity']}" + (
                f" ({number})" if number else "") + f": {NEED_TITLES.get(s['status'], s['status'])}"
        add_entry(session, kind=kind, title=title, occurred_at=event.get_time(),
                  party_id=party.id if party else None, deal_id=deal.id if deal else None,
                  ref_type=f"erp_{kind}", ref_id=s["id"], actor=_actor(event),
                  data={"status": s["status"], "expected_date": s.get("expected_date"),
                        "sales_order_number": s["sales_order_number"]})
    if kind == "work_order" and s["status"] == "done" and deal is not None:
        start_installation_when_ready(session, deal.id, actor_of(event).label("erp", "erp"))
    return applied


def apply_work_order(session: Session, event: CloudEvent) -> bool:
    return _apply(session, event, "work_order")


def apply_purchase_need(session: Session, event: CloudEvent) -> bool:
    return _apply(session, event, "purchase")


HANDLERS = {"erp.workorder.changed": apply_work_order, "erp.purchaseneed.changed": apply_purchase_need}
