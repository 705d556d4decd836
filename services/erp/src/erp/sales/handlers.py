"""The events sales consumes: crm.order.placed (crm.order.v1), applied once per CRM order."""

from cloudevents.core.v1.event import CloudEvent
from sqlalchemy.orm import Session

from .service import place_crm_order


def apply_order_placed(session: Session, event: CloudEvent) -> None:
    place_crm_order(session, event)


HANDLERS = {"crm.order.placed": apply_order_placed}
