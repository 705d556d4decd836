"""The events fulfilment consumes: crm.installation.completed (crm.installation.v1), the installer's report of a
sales order, recorded with its serials once (a redelivered or older state changes nothing)."""

from datetime import UTC, datetime

from cloudevents.core.v1.event import CloudEvent
from servicekit import audit
from shared_events.actors import actor_of
from shared_events.envelope import sequence_of
from shared_events.replica import upsert_if_newer
from sqlalchemy.orm import Session

from ..db import audit_log
from .models import InstallationRecord

CONSUMER = "erp.installations"
TOPICS = ["crm.installation.v1"]


def apply_installation(session: Session, event: CloudEvent) -> bool:
    s = event.get_data()
    applied = upsert_if_newer(session, InstallationRecord.__table__, {"id": s["id"]}, sequence_of(event), {
        "sales_order_id": s["sales_order_id"], "sales_order_number": s["sales_order_number"],
        "deal_id": s.get("deal_id"), "party_id": s.get("party_id"), "result": s["result"], "serials": s["serials"],
        "signed_by": s["signed_by"], "completed_at": datetime.fromisoformat(s["completed_at"]),
        "recorded_at": datetime.now(UTC)})
    if applied:
        audit.record(session, audit_log, actor_of(event).label("crm", "crm"), "record", "installation", s["id"],
                     None, {"sales_order": s["sales_order_number"], "result": s["result"], "serials": s["serials"]})
    return applied


HANDLERS = {"crm.installation.completed": apply_installation}
