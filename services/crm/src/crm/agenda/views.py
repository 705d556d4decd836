"""The agenda as users look at it: occurrences in a window (filtered by people, party, category), the month and
year overview (per-day counts and busy hours), the double-booking preview and free/busy."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from servicekit.auth.principal import Principal
from servicekit.problems import NotFound, field_error
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from . import recurrence as rec
from .booking import busy, check_conflicts
from .models import AgendaAttendee, AgendaEvent, DayNote
from .service import visible_events
from .window import events_in, expand

MAX_WINDOW = timedelta(days=400)


def checked_window(args: dict) -> tuple[datetime, datetime]:
    start, end = args["start"].astimezone(UTC), args["end"].astimezone(UTC)
    if end <= start:
        raise field_error("end", "the window ends after it starts")
    if end - start > MAX_WINDOW:
        raise field_error("end", "a window spans at most 400 days")
    return start, end


def occurrence_view(ev: AgendaEvent, occ: rec.Occurrence) -> dict:
    return {"event_id": ev.id, "recurrence_id": occ.recurrence_id, "title": occ.fields.get("title", ev.title),
            "description": occ.fields.get("description", ev.description),
            "location": occ.fields.get("location", ev.location), "starts_at": occ.starts_at,
            "ends_at": occ.ends_at, "all_day": ev.all_day, "tz": ev.tz, "category": ev.category, "color": ev.color,
            "transparency": ev.transparency, "visibility": ev.visibility, "owner_id": ev.owner_id,
            "party_id": ev.party_id, "deal_id": ev.deal_id, "lead_id": ev.lead_id,
            "recurring": bool(ev.rrule or ev.rdates), "overridden": occ.overridden}


def window_filters(args: dict) -> list:
    """SQL conditions for the users, attendee party, party and category filters of a window."""
    conditions = []
    users = [str(u) for u in args.get("user_ids") or ()]
    if users:
        attending = exists(select(AgendaAttendee.id).where(AgendaAttendee.event_id == AgendaEvent.id,
                                                           AgendaAttendee.user_id.in_(users)))
        conditions.append(or_(AgendaEvent.owner_id.in_(users), attending))
    if args.get("attendee_party_id"):
        conditions.append(exists(select(AgendaAttendee.id).where(
            AgendaAttendee.event_id == AgendaEvent.id, AgendaAttendee.party_id == str(args["attendee_party_id"]))))
    if args.get("party_id"):
        pid = str(args["party_id"])
        conditions.append(or_(AgendaEvent.party_id == pid, exists(select(AgendaAttendee.id).where(
            AgendaAttendee.event_id == AgendaEvent.id, AgendaAttendee.party_id == pid))))
    if args.get("category"):
        conditions.append(AgendaEvent.category.in_(args["category"]))
    return conditions


def visible_occurrences(session: Session, start: datetime, end: datetime, actor: Principal,
                        args: dict | None = None) -> list[tuple[AgendaEvent, rec.Occurrence]]:
    found = events_in(session, start, end, visible_events(actor), *window_filters(args or {}))
    return expand(session, found, start, end)


def list_occurrences(session: Session, args: dict, actor: Principal) -> list[dict]:
    """Every occurrence in the window the caller may see, by start."""
    start, end = checked_window(args)
    return [occurrence_view(ev, occ) for ev, occ in visible_occurrences(session, start, end, actor, args)]


def _merged_minutes(intervals: list[tuple[datetime, datetime]]) -> int:
    total, cur = timedelta(0), None
    for s, e in sorted(intervals):
        if cur and s <= cur[1]:
            cur = (cur[0], max(cur[1], e))
        else:
            if cur:
                total += cur[1] - cur[0]
            cur = (s, e)
    if cur:
        total += cur[1] - cur[0]
    return int(total.total_seconds() // 60)


def overview(session: Session, args: dict, actor: Principal) -> dict:
    """Per day of a month (or a whole year): how many occurrences and how many busy minutes, in the zone asked."""
    tz, year, month = args.get("tz", "UTC"), args["year"], args.get("month")
    first = date(year, month or 1, 1)
    last = (date(year + (month == 12), month % 12 + 1, 1) if month else date(year + 1, 1, 1))
    zone = ZoneInfo(tz)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    days: dict[date, dict] = {}
    for ev, occ in visible_occurrences(session, start, end, actor, args):
        day = max(occ.starts_at, start).astimezone(zone).date()
        while day < last:
            lo, hi = rec.day_bounds(day, tz)
            if occ.starts_at >= hi or (occ.ends_at <= lo and occ.ends_at != occ.starts_at):
                break
            slot = days.setdefault(day, {"count": 0, "busy": []})
            slot["count"] += 1
            if ev.transparency == "busy":
                slot["busy"].append((max(occ.starts_at, lo), min(occ.ends_at, hi)))
            day += timedelta(days=1)
    notes = {n.day: n for n in session.execute(select(DayNote).where(
        DayNote.user_id == actor.user_id, DayNote.day >= first, DayNote.day < last)).scalars()}
    for d in notes:
        days.setdefault(d, {"count": 0, "busy": []})
    return {"tz": tz, "year": year, "month": month, "days": [
        {"date": d, "count": v["count"], "busy_minutes": _merged_minutes(v["busy"]),
         "note": notes[d].text if d in notes else None, "note_color": notes[d].color if d in notes else None}
        for d, v in sorted(days.items())]}


# -- day notes -------------------------------------------------------------------------------------------------

def day_notes(session: Session, args: dict, actor: Principal) -> list[dict]:
    """The caller's notes for the days in [start, end)."""
    if args["end"] <= args["start"] or args["end"] - args["start"] > MAX_WINDOW:
        raise field_error("end", "after start, and at most 400 days on")
    return [_note_view(n) for n in session.execute(select(DayNote).where(
        DayNote.user_id == actor.user_id, DayNote.day >= args["start"], DayNote.day < args["end"])
        .order_by(DayNote.day)).scalars()]


def _note_view(note: DayNote) -> dict:
    return {"day": note.day, "text": note.text, "color": note.color, "updated_at": note.updated_at}


def put_day_note(session: Session, day: date, data: dict, actor: Principal) -> dict:
    """Write (or replace) the caller's note for a day."""
    note = session.get(DayNote, (actor.user_id, day), with_for_update=True)
    if note is None:
        note = DayNote(user_id=actor.user_id, day=day)
        session.add(note)
    note.text, note.color, note.updated_at = data["text"].strip() or data["text"], data.get("color"), datetime.now(UTC)
    session.flush()
    return _note_view(note)


def delete_day_note(session: Session, day: date, actor: Principal) -> None:
    note = session.get(DayNote, (actor.user_id, day), with_for_update=True)
    if note is None:
        raise NotFound("day note", day.isoformat())
    session.delete(note)


def preview_conflicts(session: Session, args: dict, actor: Principal) -> list[dict]:
    """For a proposed time (and rule) and people, the busy occurrences it would overlap."""
    start = args["starts_at"]
    end = args.get("ends_at") or start
    if end < start:
        raise field_error("ends_at", "an event cannot end before it starts")
    if end - start > timedelta(days=366):
        raise field_error("ends_at", "an event lasts at most a year (use a recurrence for repeated meetings)")
    series = rec.Series(start.astimezone(UTC), end.astimezone(UTC), args.get("tz", "UTC"), False, args.get("rrule"))
    try:
        rec.check(series)
    except rec.RecurrenceError as exc:
        raise field_error("rrule", f"not a valid RFC 5545 RRULE: {exc}") from None
    users = sorted({str(u) for u in args.get("user_ids") or ()} or {actor.user_id})
    ignore = {str(args["ignore_event_id"])} if args.get("ignore_event_id") else set()
    return check_conflicts(session, series, (), users, ignore)


def free_busy(session: Session, args: dict, actor: Principal) -> list[dict]:
    """Per person, the merged busy intervals in the window (no titles: anyone may plan a meeting with anyone)."""
    start, end = checked_window(args)
    users = sorted({str(u) for u in args.get("user_ids") or ()} or {actor.user_id})
    per_user: dict[str, list] = {u: [] for u in users}
    for _ev, occ, who in busy(session, users, start, end):
        for u in who:
            per_user[u].append((max(occ.starts_at, start), min(occ.ends_at, end)))
    out = []
    for u in users:
        merged = []
        for s, e in sorted(per_user[u]):
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], e))
            else:
                merged.append((s, e))
        out.append({"user_id": u, "busy": [{"starts_at": s, "ends_at": e} for s, e in merged]})
    return out
