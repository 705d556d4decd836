"""The events parties publish: the party's whole current state (event-carried state transfer)."""

from cloudevents.core.v1.event import CloudEvent
from shared_events.actors import actor_extensions
from shared_events.envelope import new_event

from .models import Party


def party_state(p: Party) -> dict:
    return {
        "id": p.id,
        "kind": p.kind,
        "display_name": p.display_name,
        "legal_name": p.legal_name,
        "first_name": p.first_name,
        "last_name": p.last_name,
        "company_id": p.company_id,
        "job_title": p.job_title,
        "roles": list(p.roles or []),
        "tax_id": p.tax_id,
        "emails": list(p.emails or []),
        "phones": list(p.phones or []),
        "website": p.website,
        "billing_address": p.billing_address,
        "shipping_address": p.shipping_address,
        "owner_id": p.owner_id,
        "status": p.status,
        "merged_into_id": p.merged_into_id,
        "version": p.version,
        "created_at": p.created_at.isoformat(),
        "updated_at": p.updated_at.isoformat(),
    }


def party_event(verb: str, p: Party, actor=None) -> CloudEvent:
    """`actor` (a Principal) travels as the event's actor/actorname extensions, for the subscribers' audit."""
    return new_event(f"crm.party.{verb}", p.id, party_state(p), sequence=p.version,
                     **actor_extensions(actor))
