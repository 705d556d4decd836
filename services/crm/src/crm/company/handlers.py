"""Applies erp.company.updated to the replica: newer versions only (the ERP owns the company's identity)."""

import base64
from datetime import UTC, datetime

from cloudevents.core.v1.event import CloudEvent
from shared_events.envelope import sequence_of
from shared_events.replica import upsert_if_newer
from sqlalchemy.orm import Session

from .models import CompanyReplica

TOPICS = ["erp.company.v1"]


def apply_company_state(session: Session, event: CloudEvent) -> bool:
    s = dict(event.get_data())
    logo = s.pop("logo", None)
    return upsert_if_newer(session, CompanyReplica.__table__, {"id": 1}, sequence_of(event), {
        "legal_name": s["legal_name"], "state": s, "logo": base64.b64decode(logo) if logo else None,
        "logo_type": s.get("logo_type"), "erp_updated_at": datetime.fromisoformat(s["updated_at"]),
        "replicated_at": datetime.now(UTC)})


HANDLERS = {"erp.company.updated": apply_company_state}
