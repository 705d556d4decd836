"""Use cases of notifications: any module adds one for a user with `notify`; the user lists theirs and marks each
read, snoozes it or dismisses it. A user only ever reaches their own: another user's is "not found"."""

from datetime import UTC, datetime, timedelta

from servicekit.auth.principal import Principal
from servicekit.db import row_view
from servicekit.pagination import paginate
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .models import Notification

MAX_SNOOZE = timedelta(days=30)


def notify(session: Session, user_id: str, kind: str, title: str, body: str | None = None,
           ref_type: str | None = None, ref_id: str | None = None, *, occurrence: datetime | None = None,
           late: bool = False) -> str:
    """Add a notification for one user in the caller's transaction (it shows once that commits); its id."""
    note = Notification(user_id=str(user_id), kind=kind[:40], title=title[:300], body=body,
                        ref_type=ref_type[:40] if ref_type else None, ref_id=str(ref_id)[:100] if ref_id else None,
                        occurrence=occurrence, late=late)
    session.add(note)
    session.flush()
    return note.id


def _state(note: Notification, now: datetime) -> str:
    if note.dismissed_at is not None:
        return "dismissed"
    if note.snoozed_until is not None and note.snoozed_until > now:
        return "snoozed"
    return "read" if note.read_at is not None else "unread"


def view(note: Notification, now: datetime) -> dict:
    return {**row_view(note), "state": _state(note, now)}


def list_notifications(session: Session, args: dict, actor: Principal, now: datetime | None = None) -> dict:
    """The caller's notifications, newest first: the active ones (unread, not dismissed, not snoozed into the
    future) by default, every one with state=all."""
    now = now or datetime.now(UTC)
    stmt = select(Notification).where(Notification.user_id == actor.user_id)
    if args.get("state", "active") == "active":
        stmt = stmt.where(Notification.read_at.is_(None), Notification.dismissed_at.is_(None),
                          or_(Notification.snoozed_until.is_(None), Notification.snoozed_until <= now))
    page = paginate(session, stmt.order_by(Notification.created_at.desc(), Notification.id.desc()),
                    args["page"], args["page_size"])
    return {**page, "items": [view(n, now) for n in page["items"]]}


def _mine(session: Session, notification_id, actor: Principal) -> Notification:
    found = session.execute(select(Notification).where(Notification.id == str(notification_id),
                                                       Notification.user_id == actor.user_id)
                            .with_for_update()).scalar_one_or_none()
    if found is None:
        raise NotFound("notification", notification_id)
    return found


def mark_read(session: Session, notification_id, actor: Principal) -> dict:
    """Read: it leaves the active list (reading twice keeps the first time)."""
    now = datetime.now(UTC)
    note = _mine(session, notification_id, actor)
    note.read_at = note.read_at or now
    return view(note, now)


def snooze(session: Session, notification_id, actor: Principal, until: datetime | None = None,
           minutes: int | None = None) -> dict:
    """Hide it until a moment (or for some minutes); it then comes back unread. A dismissed one stays dismissed."""
    now = datetime.now(UTC)
    if minutes is not None:
        until = now + timedelta(minutes=minutes)
    if until is None:
        raise field_error("until", "give until (a moment) or minutes")
    if until <= now:
        raise field_error("until", "snooze until a moment in the future")
    if until - now > MAX_SNOOZE:
        raise field_error("until", "snooze for at most 30 days")
    note = _mine(session, notification_id, actor)
    if note.dismissed_at is not None:
        raise Problem(409, "Dismissed", "This notification was dismissed; it cannot come back.", "dismissed")
    note.snoozed_until = until.astimezone(UTC)
    note.read_at = None
    return view(note, now)


def dismiss(session: Session, notification_id, actor: Principal) -> dict:
    """Dismiss it for good (dismissing twice keeps the first time)."""
    now = datetime.now(UTC)
    note = _mine(session, notification_id, actor)
    note.dismissed_at = note.dismissed_at or now
    return view(note, now)
