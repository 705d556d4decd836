"""The events entitlements publish on erp.warranty.v1 (full state, key = entitlement id; pure builders)."""

from cloudevents.core.v1.event import CloudEvent
from shared_events.actors import actor_extensions
from shared_events.envelope import new_event
from shared_events.money import number_text

from .models import Entitlement


def entitlement_state(e: Entitlement) -> dict:
    return {
        "id": e.id, "party_id": e.party_id, "product_id": e.product_id, "invoice_id": e.invoice_id,
        "invoice_number": e.invoice_number, "invoice_line_id": e.invoice_line_id,
        "quantity": number_text(e.quantity), "serial_number": e.serial_number,
        "start_date": e.start_date.isoformat(), "end_date": e.end_date.isoformat(),
        "covers_parts": e.covers_parts, "covers_labour": e.covers_labour,
        "supplier_party_id": e.supplier_party_id,
        "supplier_end_date": e.supplier_end_date.isoformat() if e.supplier_end_date else None,
        "status": e.status, "replaces_entitlement_id": e.replaces_entitlement_id,
        "version": e.version, "updated_at": e.updated_at.isoformat(),
    }


def entitlement_event(verb: str, e: Entitlement, actor=None) -> CloudEvent:
    return new_event(f"erp.warranty.{verb}", e.id, entitlement_state(e), e.version, **actor_extensions(actor))
