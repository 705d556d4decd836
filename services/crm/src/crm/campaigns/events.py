"""The events campaigns publish: the full state of an address's consent and suppression (pure builders, no I/O)."""

from cloudevents.core.v1.event import CloudEvent
from shared_events.actors import actor_extensions
from shared_events.envelope import new_event

from .models import EmailAddress


def _iso(value):
    return value.isoformat() if value else None


def address_data(a: EmailAddress) -> dict:
    """crm.consent.v1.json: what every system that mails the customer must honour."""
    return {"address_id": a.id, "email": a.email, "consent": a.consent, "consent_at": _iso(a.consent_at),
            "consent_method": a.consent_method, "consent_source": a.consent_source,
            "suppressed": a.suppressed_reason is not None, "suppressed_reason": a.suppressed_reason,
            "suppressed_at": _iso(a.suppressed_at), "version": a.version}


def address_event(kind: str, a: EmailAddress, actor=None) -> CloudEvent:
    """kind: consent or suppression (crm.consent.changed / crm.suppression.changed); sequence = the version."""
    return new_event(f"crm.{kind}.changed", a.id, address_data(a), sequence=a.version, **actor_extensions(actor))
