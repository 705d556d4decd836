"""Consent and suppression of email addresses: the one list every campaign, newsletter and mailbox send obeys.

Each change bumps the address's version, appends to its history and writes its full state to crm.consent.v1 in
the caller's transaction, so other systems that mail the customer can honour it."""

import uuid
from datetime import UTC, datetime

from servicekit.problems import NotFound, field_error
from shared_events.actors import actor_label
from shared_events.outbox import record_event
from sqlalchemy import exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ..db import outbox
from .events import address_event
from .models import ConsentChange, EmailAddress


def normalize(email: str) -> str:
    return (email or "").strip().lower()


def address(session: Session, email: str) -> EmailAddress:
    """The address's row, created (consent none) when first seen, and locked for the caller's change."""
    email = normalize(email)
    session.execute(insert(EmailAddress).values(email=email, id=str(uuid.uuid4()))
                    .on_conflict_do_nothing(index_elements=["email"]))
    return session.execute(select(EmailAddress).where(EmailAddress.email == email).with_for_update()).scalar_one()


def mailable(email_column):
    """SQL: true when the address is not suppressed (used by every send)."""
    return ~exists().where(EmailAddress.email == email_column, EmailAddress.suppressed_reason.is_not(None))


def _changed(session: Session, a: EmailAddress, kind: str, change: str, method: str | None, source: str | None,
             ip: str | None, actor) -> None:
    a.version += 1
    a.updated_at = datetime.now(UTC)
    session.add(ConsentChange(email=a.email, change=change, method=method, source=source, ip=ip,
                              actor=actor_label(actor)))
    session.flush()
    record_event(session, outbox, address_event(kind, a, actor), "email_address")


def set_consent(session: Session, email: str, status: str, *, method: str, source: str | None = None,
                ip: str | None = None, actor=None, at: datetime | None = None) -> EmailAddress:
    """Record consent given, pending or withdrawn (withdrawal also suppresses the address)."""
    a = address(session, email)
    if a.consent == status and not (status == "unsubscribed" and a.suppressed_reason is None):
        return a
    a.consent, a.consent_at, a.consent_method = status, at or datetime.now(UTC), method
    a.consent_source, a.consent_ip = source, ip
    if status == "unsubscribed" and a.suppressed_reason is None:
        a.suppressed_reason, a.suppressed_at = "unsubscribed", a.consent_at
    elif status == "subscribed" and a.suppressed_reason == "unsubscribed":
        a.suppressed_reason = a.suppressed_at = None  # a fresh, confirmed opt-in lifts an earlier unsubscribe
    _changed(session, a, "consent", status, method, source, ip, actor)
    return a


def suppress(session: Session, email: str, reason: str, *, note: str | None = None, method: str = "api",
             actor=None) -> EmailAddress:
    """Never mail the address again (until released); keeps the first reason if it is suppressed already."""
    a = address(session, email)
    if a.suppressed_reason is not None:
        return a
    a.suppressed_reason, a.suppressed_at, a.suppressed_note = reason, datetime.now(UTC), note
    _changed(session, a, "suppression", f"suppressed:{reason}", method, note, None, actor)
    return a


def release(session: Session, email: str, actor) -> EmailAddress:
    """Lift a suppression (e.g. a hard bounce fixed by the recipient); an unsubscribe stays until re-subscribed."""
    a = session.get(EmailAddress, normalize(email), with_for_update=True)
    if a is None or a.suppressed_reason is None:
        raise NotFound("suppression", email)
    if a.suppressed_reason == "unsubscribed":
        raise field_error("email", "unsubscribed by its owner: only their new subscription lifts it", status=409)
    a.suppressed_reason = a.suppressed_at = a.suppressed_note = None
    _changed(session, a, "suppression", "released", "api", None, None, actor)
    return a


def left_list(session: Session, email: str, list_name: str, *, method: str, ip: str | None, actor) -> None:
    """Record in the address's history that it left one list (its consent and suppression stay as they are,
    so nothing is published: other lists, segments and systems may still mail it)."""
    a = address(session, email)
    session.add(ConsentChange(email=a.email, change="unsubscribed_from_list", method=method,
                              source=f"list {list_name}", ip=ip, actor=actor_label(actor)))


def history(session: Session, email: str) -> list[ConsentChange]:
    return list(session.execute(select(ConsentChange).where(ConsentChange.email == normalize(email))
                                .order_by(ConsentChange.id)).scalars())
