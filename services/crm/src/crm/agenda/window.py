"""The read side of a window: which series can reach it (one indexed SQL range condition), their overrides there,
and their occurrences expanded in Python. Nothing here depends on how long a series is, only on the window."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.orm import Session

from . import recurrence as rec
from .models import AgendaEvent, AgendaOverride

_PAD = timedelta(days=1)


def series_of(ev: AgendaEvent) -> rec.Series:
    return rec.Series(ev.starts_at, ev.ends_at, ev.tz, bool(ev.all_day), ev.rrule, tuple(ev.rdates or ()),
                      tuple(ev.exdates or ()))


def override_of(o: AgendaOverride) -> rec.Override:
    fields = {k: getattr(o, k) for k in ("title", "description", "location") if getattr(o, k) is not None}
    return rec.Override(o.recurrence_id, bool(o.cancelled), o.starts_at, o.ends_at, fields)


def reaching(window_start: datetime, window_end: datetime):
    """SQL: the events with an occurrence that may overlap the window (a series that started before its end and
    has not ended before its start, or one with an occurrence moved into it)."""
    moved = exists(select(AgendaOverride.id).where(AgendaOverride.event_id == AgendaEvent.id,
                                                   AgendaOverride.starts_at < window_end,
                                                   AgendaOverride.ends_at > window_start))
    return or_(and_(AgendaEvent.starts_at < window_end,
                    or_(AgendaEvent.series_ends_at.is_(None), AgendaEvent.series_ends_at >= window_start)), moved)


def expand(session: Session, events: list[AgendaEvent], window_start: datetime,
           window_end: datetime) -> list[tuple[AgendaEvent, rec.Occurrence]]:
    """(event, occurrence) for every occurrence of these events in the window, by start."""
    if not events:
        return []
    ids = [e.id for e in events]
    overrides: dict[str, list[rec.Override]] = {}
    rows = session.execute(select(AgendaOverride).join(AgendaEvent, AgendaEvent.id == AgendaOverride.event_id).where(
        AgendaOverride.event_id.in_(ids),
        or_(and_(AgendaOverride.recurrence_id < window_end + _PAD,
                 AgendaOverride.recurrence_id > window_start - _PAD - (AgendaEvent.ends_at - AgendaEvent.starts_at)),
            and_(AgendaOverride.starts_at < window_end, AgendaOverride.ends_at > window_start)))).scalars()
    for o in rows:
        overrides.setdefault(o.event_id, []).append(override_of(o))
    out = []
    for ev in events:
        for occ in rec.occurrences(series_of(ev), overrides.get(ev.id, ()), window_start, window_end):
            out.append((ev, occ))
    out.sort(key=lambda p: (p[1].starts_at, p[1].ends_at, p[0].id))
    return out


def events_in(session: Session, window_start: datetime, window_end: datetime, *conditions) -> list[AgendaEvent]:
    return list(session.execute(select(AgendaEvent).where(reaching(window_start, window_end), *conditions)
                                .order_by(AgendaEvent.starts_at, AgendaEvent.id)).scalars())


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
