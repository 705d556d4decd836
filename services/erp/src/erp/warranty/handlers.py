"""The events warranties consume: crm.ticket.warranty_claimed (crm.ticket.v1), a ticket resolved under warranty,
booked once per claim id and revision (a redelivered or older revision changes nothing)."""

from cloudevents.core.v1.event import CloudEvent
from shared_events.actors import actor_of
from sqlalchemy.orm import Session

from .claims import apply_claim

CONSUMER = "erp.warranty-claims"
TOPICS = ["crm.ticket.v1"]


def claim_handlers(warehouse_code: str = "") -> dict:
    """The consumer's handlers; parts leave the warehouse with this code (ERP_SALES_WAREHOUSE), else the oldest."""

    def apply_claimed(session: Session, event: CloudEvent) -> bool:
        return apply_claim(session, event.get_data(), actor_of(event).label("crm", "crm"), warehouse_code)

    return {"crm.ticket.warranty_claimed": apply_claimed}
