"""Applies erp.warranty.v1: entitlements to the warranty replica (each one's newer sequences only), and the ERP's
answers to warranty claims to the tickets' claims (newer versions only)."""

from datetime import UTC, date, datetime
from decimal import Decimal

from cloudevents.core.v1.event import CloudEvent
from shared_events.envelope import sequence_of
from shared_events.replica import upsert_if_newer
from sqlalchemy.orm import Session

from ..tickets.claims import apply_answer
from .models import WarrantyReplica

CONSUMER = "crm.warranty"
TOPICS = ["erp.warranty.v1"]


def apply_entitlement_state(session: Session, event: CloudEvent) -> bool:
    """Upsert an entitlement from its full state; False (nothing written) when the replica holds a newer one."""
    s = event.get_data()
    values = {"party_id": s["party_id"], "product_id": s["product_id"], "invoice_number": s["invoice_number"],
              "quantity": Decimal(s["quantity"]), "serial_number": s.get("serial_number"),
              "start_date": date.fromisoformat(s["start_date"]), "end_date": date.fromisoformat(s["end_date"]),
              "covers_parts": s["covers_parts"], "covers_labour": s["covers_labour"], "status": s["status"],
              "erp_updated_at": datetime.fromisoformat(s["updated_at"]), "replicated_at": datetime.now(UTC)}
    return upsert_if_newer(session, WarrantyReplica.__table__, {"entitlement_id": s["id"]}, sequence_of(event),
                           values)


def apply_claim_answer(session: Session, event: CloudEvent) -> bool:
    """The ERP accepted or rejected a claim revision: shown on the ticket unless a newer answer is held."""
    s = event.get_data()
    return apply_answer(session, s, s["status"], sequence_of(event))


HANDLERS = {f"erp.warranty.{verb}": apply_entitlement_state for verb in ("created", "updated", "voided")}
HANDLERS.update({f"erp.warranty.{verb}": apply_claim_answer for verb in ("claim_accepted", "claim_rejected")})
