"""No double booking: the busy occurrences of people over a window, the overlaps of a proposed event with them, and
the per-person advisory lock that makes two concurrent bookings of the same slot wait for each other."""

from datetime import datetime, timedelta

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import Session

from . import recurrence as rec
from .models import AgendaAttendee, AgendaEvent
from .window import events_in, expand

# A recurring proposal is checked over its first year (and at most this many occurrences).
HORIZON = timedelta(days=366)
MAX_CHECKED = 1000


def lock_attendees(session: Session, user_ids: list[str]) -> None:
    """Transaction-scoped advisory locks, one per person, taken in a stable order (no deadlock)."""
    for user_id in sorted(set(user_ids)):
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"agenda:{user_id}"))))


def _busy_for(user_ids: list[str]):
    """SQL: busy events owned by one of the people or where one of them attends without having declined."""
    attending = exists(select(AgendaAttendee.id).where(
        AgendaAttendee.event_id == AgendaEvent.id, AgendaAttendee.user_id.in_(user_ids),
        AgendaAttendee.status != "declined"))
    return [AgendaEvent.transparency == "busy", or_(AgendaEvent.owner_id.in_(user_ids), attending)]


def busy(session: Session, user_ids: list[str], start: datetime, end: datetime, ignore: set[str] = frozenset()):
    """(event, occurrence, the people of user_ids it keeps busy) for every busy occurrence in the window."""
    if not user_ids:
        return []
    events = [e for e in events_in(session, start, end, *_busy_for(user_ids)) if e.id not in ignore]
    people = {}
    if events:
        for event_id, user_id in session.execute(select(AgendaAttendee.event_id, AgendaAttendee.user_id).where(
                AgendaAttendee.event_id.in_([e.id for e in events]), AgendaAttendee.user_id.in_(user_ids),
                AgendaAttendee.status != "declined")):
            people.setdefault(event_id, set()).add(user_id)
    out = []
    for ev, occ in expand(session, events, start, end):
        who = set(people.get(ev.id, set()))
        if ev.owner_id in user_ids:
            who.add(ev.owner_id)
        out.append((ev, occ, sorted(who)))
    return out


def conflict_view(ev: AgendaEvent, occ: rec.Occurrence, who: list[str], proposed: rec.Occurrence | None) -> dict:
    """What a refused booking shows: when and who is busy; a private event shows no title."""
    return {"event_id": ev.id, "recurrence_id": occ.recurrence_id, "starts_at": occ.starts_at,
            "ends_at": occ.ends_at, "title": occ.fields.get("title", ev.title) if ev.visibility == "public" else
            "Busy", "user_ids": who, "proposed_starts_at": proposed.starts_at if proposed else None}


def check_conflicts(session: Session, series: rec.Series, overrides, user_ids: list[str],
                    ignore: set[str]) -> list[dict]:
    """The busy occurrences of the people that overlap the proposed event's occurrences (its first year)."""
    proposed = rec.occurrences(series, overrides, series.starts_at, series.starts_at + HORIZON)[:MAX_CHECKED]
    if not proposed:
        return []
    lo, hi = proposed[0].starts_at, max(p.ends_at for p in proposed)
    taken = busy(session, user_ids, lo, hi, ignore)
    found, i = [], 0
    for ev, occ, who in taken:  # both lists are sorted by start: a sweep, not a product
        while i < len(proposed) and proposed[i].ends_at <= occ.starts_at and proposed[i].ends_at != \
                proposed[i].starts_at:
            i += 1
        j = i
        while j < len(proposed) and proposed[j].starts_at < occ.ends_at:
            p = proposed[j]
            if p.starts_at < occ.ends_at and occ.starts_at < p.ends_at:
                found.append(conflict_view(ev, occ, who, p))
                break
            j += 1
    return found
