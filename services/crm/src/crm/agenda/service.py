"""Use cases of the agenda's events: create, read, change (this occurrence, this and following, all) and delete,
with the double-booking guard and the timeline of the linked party, deal or lead.

Who sees an event: its owner, the managers of the owner's teams, those it is shared with, its user attendees,
and holders of agenda:read_all. Who changes it: the same minus read-only shares and attendees, plus
agenda:update_all.
"""

import uuid
from datetime import UTC, datetime, timedelta

from servicekit import audit
from servicekit.auth.principal import Principal
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.problems import NotFound, Problem, field_error, linked
from sqlalchemy import delete, exists, func, or_, select
from sqlalchemy.orm import Session

from ..access import service as access
from ..access.visibility import editable, visible
from ..db import audit_log, auth
from ..deals.service import find_deal
from ..leads.service import find_lead
from ..parties.service import find_party
from ..tasks.service import get_task
from ..tickets.service import find_ticket
from ..timeline import entries as timeline
from . import recurrence as rec
from .booking import check_conflicts, lock_attendees
from .models import AgendaAttendee, AgendaEvent, AgendaOverride, AgendaReminder
from .reminders import carry_fired, keep_reminders
from .window import override_of, series_of

RECORD = "agenda_event"
_STATE = ("title", "description", "location", "starts_at", "ends_at", "all_day", "tz", "rrule", "rdates",
          "exdates", "category", "color", "transparency", "visibility", "owner_id", "party_id", "deal_id",
          "lead_id", "task_id", "ticket_id")
_OCCURRENCE_FIELDS = {"title", "description", "location", "starts_at", "ends_at"}
_TIMING = {"starts_at", "ends_at", "all_day", "tz", "rrule", "rdates", "exdates", "attendees", "transparency"}


def _visible(actor: Principal):
    attending = exists(select(AgendaAttendee.id).where(AgendaAttendee.event_id == AgendaEvent.id,
                                                       AgendaAttendee.user_id == actor.user_id))
    return or_(visible("agenda", RECORD, AgendaEvent.id, AgendaEvent.owner_id, actor), attending)


def visible_events(actor: Principal):
    """Events the user may see (views and feeds filter by it)."""
    return _visible(actor)


def _state(ev: AgendaEvent) -> dict:
    return {f: getattr(ev, f) for f in _STATE}


def event_view(session: Session, ev: AgendaEvent) -> dict:
    """The event with its attendees (and their names) and reminders."""
    session.flush()
    people = session.execute(
        select(AgendaAttendee, auth.users.c.name.label("user_name"), auth.users.c.email.label("user_email"))
        .outerjoin(auth.users, auth.users.c.id == AgendaAttendee.user_id)
        .where(AgendaAttendee.event_id == ev.id).order_by(AgendaAttendee.user_id, AgendaAttendee.party_id)).all()
    reminders = session.execute(select(AgendaReminder).where(AgendaReminder.event_id == ev.id)
                                .order_by(AgendaReminder.minutes_before.desc(), AgendaReminder.id)).scalars()
    overrides = session.execute(select(AgendaOverride).where(AgendaOverride.event_id == ev.id)
                                .order_by(AgendaOverride.recurrence_id)).scalars()
    return {
        **row_view(ev),
        "recurring": bool(ev.rrule or ev.rdates),
        "attendees": [{"id": a.AgendaAttendee.id, "user_id": a.AgendaAttendee.user_id,
                       "party_id": a.AgendaAttendee.party_id, "status": a.AgendaAttendee.status,
                       "name": a.user_name, "email": a.user_email} for a in people],
        "reminders": [{"id": r.id, "user_id": r.user_id, "minutes_before": r.minutes_before} for r in reminders],
        "overrides": [{"recurrence_id": o.recurrence_id, "cancelled": o.cancelled, "starts_at": o.starts_at,
                       "ends_at": o.ends_at, "title": o.title, "description": o.description,
                       "location": o.location} for o in overrides],
    }


# -- checks ----------------------------------------------------------------------------------------------------

_LINKS = {"party_id": ("party", find_party), "deal_id": ("deal", find_deal), "lead_id": ("lead", find_lead),
          "task_id": ("task", get_task), "ticket_id": ("ticket", find_ticket)}


def _check_links(session: Session, data: dict, actor: Principal) -> None:
    for f, (noun, getter) in _LINKS.items():
        if data.get(f):
            linked(lambda i, g=getter: g(session, str(i), actor), data[f], f, noun)


def _check_series(ev: AgendaEvent) -> None:
    if ev.ends_at < ev.starts_at:
        raise field_error("ends_at", "an event cannot end before it starts")
    if ev.ends_at - ev.starts_at > timedelta(days=366):
        raise field_error("ends_at", "an event lasts at most a year (use a recurrence for repeated meetings)")
    if any(r < ev.starts_at for r in ev.rdates or ()):
        raise field_error("rdates", "extra dates come after the first occurrence (starts_at)")
    try:
        rec.check(series_of(ev))
        ev.series_ends_at = rec.series_end(series_of(ev))
    except rec.RecurrenceError as exc:
        raise field_error("rrule", f"not a valid RFC 5545 RRULE: {exc}") from None


def _all_day(data: dict) -> None:
    """An all-day event starts at midnight of its first day and ends at midnight after its last, in its zone."""
    if not data.get("all_day"):
        return
    zone = rec.ZoneInfo(data["tz"])
    start = data["starts_at"].astimezone(zone).date()
    end = data["ends_at"].astimezone(zone).date() if data.get("ends_at") else start
    end_moment = datetime.combine(end, datetime.min.time(), tzinfo=zone)
    if end_moment <= datetime.combine(start, datetime.min.time(), tzinfo=zone):
        end_moment = datetime.combine(start + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    data["starts_at"] = datetime.combine(start, datetime.min.time(), tzinfo=zone).astimezone(UTC)
    data["ends_at"] = end_moment.astimezone(UTC)


def _active_user(session: Session, user_id: str, field: str) -> None:
    found = session.execute(select(auth.users.c.id).where(auth.users.c.id == str(user_id),
                                                          auth.users.c.is_active)).first()
    if not found:
        raise field_error(field, f"no active user with id {user_id}")


def _set_attendees(session: Session, ev: AgendaEvent, attendees: list[dict], actor: Principal) -> None:
    """Replace the attendees; someone already invited keeps their status unless a new one is given."""
    old = {(a.user_id, a.party_id): a.status for a in session.execute(
        select(AgendaAttendee).where(AgendaAttendee.event_id == ev.id)).scalars()}
    session.execute(delete(AgendaAttendee).where(AgendaAttendee.event_id == ev.id))
    seen = set()
    for i, a in enumerate(attendees):
        user_id = str(a["user_id"]) if a.get("user_id") else None
        party_id = str(a["party_id"]) if a.get("party_id") else None
        if bool(user_id) == bool(party_id):
            raise field_error(f"attendees.{i}", "name exactly one of user_id and party_id")
        if user_id:
            _active_user(session, user_id, f"attendees.{i}.user_id")
        else:
            linked(lambda p: find_party(session, p, actor), party_id, f"attendees.{i}.party_id", "party")
        if (user_id, party_id) in seen:
            continue
        seen.add((user_id, party_id))
        status = a.get("status") or old.get((user_id, party_id)) or (
            "accepted" if user_id == ev.owner_id else "needs-action")
        session.add(AgendaAttendee(event_id=ev.id, user_id=user_id, party_id=party_id, status=status))


def _set_reminders(session: Session, ev: AgendaEvent, reminders: list[dict]) -> None:
    """Replace the reminders; one that stays (same user, same offset) keeps its row (agenda.reminders)."""
    wanted = []
    for i, r in enumerate(reminders):
        user_id = str(r.get("user_id") or ev.owner_id)
        if user_id != ev.owner_id:
            _active_user(session, user_id, f"reminders.{i}.user_id")
        minutes = r.get("minutes", 0) + 60 * r.get("hours", 0) + 1440 * r.get("days", 0)
        if minutes > 40320:
            raise field_error(f"reminders.{i}", "a reminder comes at most 28 days before")
        wanted.append((user_id, minutes))
    keep_reminders(session, ev.id, wanted)


def _timeline(session: Session, ev: AgendaEvent, actor: Principal) -> None:
    """One meeting entry on the linked party's, deal's and lead's timeline, kept in step with the event."""
    timeline.remove_entries(session, ref_type=RECORD, ref_id=ev.id)
    if not (ev.party_id or ev.deal_id or ev.lead_id):
        return
    timeline.add_entry(session, kind="meeting", title=f"Meeting: {ev.title}", occurred_at=ev.starts_at,
                       party_id=ev.party_id, deal_id=ev.deal_id, lead_id=ev.lead_id, ref_type=RECORD,
                       ref_id=ev.id, actor=actor, summary=ev.description,
                       data={"ends_at": ev.ends_at.isoformat(), "location": ev.location,
                             "recurring": bool(ev.rrule or ev.rdates), "rrule": ev.rrule})


def _attendee_users(session: Session, ev: AgendaEvent) -> list[str]:
    users = session.execute(select(AgendaAttendee.user_id).where(
        AgendaAttendee.event_id == ev.id, AgendaAttendee.user_id.is_not(None),
        AgendaAttendee.status != "declined")).scalars().all()
    return sorted({ev.owner_id, *users})


def _guard(session: Session, ev: AgendaEvent, allow_conflicts: bool, ignore: set[str]) -> None:
    """Refuse a busy event that overlaps another busy event of an attendee (409 listing them), unless allowed.
    The advisory locks make two concurrent bookings of the same people wait for each other."""
    if ev.transparency != "busy":
        return
    users = _attendee_users(session, ev)
    lock_attendees(session, users)
    if allow_conflicts:
        return
    overrides = [override_of(o) for o in session.execute(select(AgendaOverride).where(
        AgendaOverride.event_id == ev.id)).scalars()]
    found = check_conflicts(session, series_of(ev), overrides, users, ignore | {ev.id})
    if found:
        raise Problem(409, "Double booking", f"{len(found)} busy time(s) of the attendees overlap this event. Send "
                      "allow_conflicts=true to book it anyway.", "agenda-conflict", conflicts=found)


# -- create and read -------------------------------------------------------------------------------------------

def create_event(session: Session, data: dict, actor: Principal, allow_conflicts: bool = False) -> dict:
    """Create an event (or a recurring series) owned by the caller; 409 on a double booking unless allowed."""
    data = dict(data)
    attendees = data.pop("attendees", [])
    reminders = data.pop("reminders", [])
    data.setdefault("ends_at", data["starts_at"] if not data.get("all_day") else None)
    _all_day(data)
    _check_links(session, data, actor)
    ev_id = str(uuid.uuid4())
    ev = AgendaEvent(id=ev_id, uid=data.pop("uid", None) or f"{ev_id}@crm", owner_id=actor.user_id,
                     created_by=actor.user_id, version=1, sequence=0,
                     rdates=data.pop("rdates", None) or [], exdates=data.pop("exdates", None) or [],
                     **{k: (str(v) if k.endswith("_id") and v else v) for k, v in data.items()})
    _check_series(ev)
    session.add(ev)
    session.flush()
    _set_attendees(session, ev, attendees, actor)
    _set_reminders(session, ev, reminders)
    session.flush()
    _guard(session, ev, allow_conflicts, set())
    _timeline(session, ev, actor)
    audit.record(session, audit_log, actor, "create", RECORD, ev.id, None, _state(ev))
    return event_view(session, ev)


def find_event(session: Session, event_id, actor: Principal, for_update: bool = False) -> AgendaEvent:
    stmt = select(AgendaEvent).where(AgendaEvent.id == str(event_id), _visible(actor))
    if for_update:
        stmt = stmt.with_for_update(of=AgendaEvent)
    found = session.execute(stmt).scalar_one_or_none()
    if found is None:
        raise NotFound("event", event_id)
    return found


def get_event(session: Session, event_id, actor: Principal) -> dict:
    """An event the caller may see; any other is "not found", like one that does not exist."""
    return event_view(session, find_event(session, event_id, actor))


def _for_change(session: Session, event_id, actor: Principal, expected: int | None) -> AgendaEvent:
    ev = find_event(session, event_id, actor, for_update=True)
    if not session.execute(select(AgendaEvent.id).where(
            AgendaEvent.id == ev.id, editable("agenda", RECORD, AgendaEvent.id, AgendaEvent.owner_id, actor))).first():
        raise Problem(403, "Forbidden", "You can see this event but not change it: ask its owner to share it with "
                      "write access.", "forbidden")
    if expected is not None:
        check_version(ev.version, expected)
    return ev


def _save(session: Session, ev: AgendaEvent, before: dict, action: str, actor: Principal) -> None:
    ev.version += 1
    ev.sequence += 1
    ev.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, audit_log, actor, action, RECORD, ev.id, before, _state(ev))


# -- change ----------------------------------------------------------------------------------------------------

def _occurrence(ev: AgendaEvent, occurrence: datetime | None) -> datetime:
    if occurrence is None:
        raise field_error("occurrence", "name the occurrence (its original start) for this scope")
    if not rec.is_occurrence(series_of(ev), occurrence):
        raise field_error("occurrence", f"{occurrence.isoformat()} is not an occurrence of this series")
    return occurrence.astimezone(UTC)


def _wall_delta(ev: AgendaEvent, new_start: datetime, tz: str) -> timedelta:
    zone = rec.ZoneInfo(tz)
    return new_start.astimezone(zone).replace(tzinfo=None) - ev.starts_at.astimezone(zone).replace(tzinfo=None)


def _shift(moment: datetime, delta: timedelta, tz: str) -> datetime:
    zone = rec.ZoneInfo(tz)
    return (moment.astimezone(zone).replace(tzinfo=None) + delta).replace(tzinfo=zone).astimezone(UTC)


def _apply_all(session: Session, ev: AgendaEvent, changes: dict, actor: Principal) -> None:
    """Change the whole series; moving its start moves every override and excluded date with it (wall clock)."""
    attendees = changes.pop("attendees", None)
    reminders = changes.pop("reminders", None)
    merged = {"tz": changes.get("tz", ev.tz), "all_day": changes.get("all_day", ev.all_day),
              "starts_at": changes.get("starts_at", ev.starts_at), "ends_at": changes.get("ends_at")}
    if merged["ends_at"] is None:
        merged["ends_at"] = merged["starts_at"] + (ev.ends_at - ev.starts_at)
    if merged["all_day"]:
        _all_day(merged)
    changes.update(starts_at=merged["starts_at"], ends_at=merged["ends_at"])
    _check_links(session, {k: v for k, v in changes.items() if k in _LINKS}, actor)
    delta = _wall_delta(ev, merged["starts_at"], merged["tz"])
    if delta and (ev.rrule or ev.rdates):
        for o in session.execute(select(AgendaOverride).where(AgendaOverride.event_id == ev.id)).scalars():
            o.recurrence_id = _shift(o.recurrence_id, delta, merged["tz"])
        if "exdates" not in changes:
            changes["exdates"] = [_shift(x, delta, merged["tz"]) for x in ev.exdates or ()]
        if "rdates" not in changes:
            changes["rdates"] = [_shift(x, delta, merged["tz"]) for x in ev.rdates or ()]
    for k, v in changes.items():
        setattr(ev, k, str(v) if k.endswith("_id") and v else (v if v is not None or k not in ("rdates", "exdates")
                                                                else []))
    _check_series(ev)
    if attendees is not None:
        _set_attendees(session, ev, attendees, actor)
    if reminders is not None:
        _set_reminders(session, ev, reminders)


def _upsert_override(session: Session, ev: AgendaEvent, rid: datetime, **values) -> AgendaOverride:
    found = session.execute(select(AgendaOverride).where(AgendaOverride.event_id == ev.id,
                                                         AgendaOverride.recurrence_id == rid)).scalar_one_or_none()
    if found is None:
        found = AgendaOverride(event_id=ev.id, recurrence_id=rid)
        session.add(found)
    for k, v in values.items():
        setattr(found, k, v)
    return found


def _apply_this(session: Session, ev: AgendaEvent, rid: datetime, changes: dict) -> None:
    extra = set(changes) - _OCCURRENCE_FIELDS
    if extra:
        raise field_error(sorted(extra)[0], "one occurrence changes only its title, description, location, start "
                          "and end; use scope=following or scope=all")
    duration = ev.ends_at - ev.starts_at
    start = changes.get("starts_at")
    end = changes.get("ends_at") or (start + duration if start else None)
    if start and end and end < start:
        raise field_error("ends_at", "an event cannot end before it starts")
    values = {k: changes[k] for k in ("title", "description", "location") if k in changes}
    if start:
        values["starts_at"] = start
    if end:
        values["ends_at"] = end
    _upsert_override(session, ev, rid, cancelled=False, **values)


def _split(session: Session, ev: AgendaEvent, rid: datetime, actor: Principal) -> AgendaEvent:
    """End the series before `rid` (UNTIL) and start a new one there, carrying the later overrides, extra and
    excluded dates, attendees (with their statuses) and reminders to it. Returns the new series."""
    series = series_of(ev)
    duration = ev.ends_at - ev.starts_at
    new_id = str(uuid.uuid4())
    new = AgendaEvent(id=new_id, uid=f"{new_id}@crm", split_from_id=ev.id, created_by=actor.user_id, version=1,
                      sequence=0, starts_at=rid, ends_at=rid + duration,
                      rdates=[r for r in ev.rdates or () if r > rid], exdates=[x for x in ev.exdates or () if x > rid],
                      **{f: getattr(ev, f) for f in _STATE if f not in ("starts_at", "ends_at", "rdates", "exdates",
                                                                          "rrule")})
    if ev.rrule:
        parts = rec.rule_parts(ev.rrule)
        if "COUNT" in parts:
            parts["COUNT"] = str(int(parts["COUNT"]) - rec.count_before(series, rid))
        new.rrule = rec.join_parts(parts)
        old_parts = {k: v for k, v in rec.rule_parts(ev.rrule).items() if k != "COUNT"}
        old_parts["UNTIL"] = rec.until_before(series, rid)
        ev.rrule = rec.join_parts(old_parts)
    ev.rdates = [r for r in ev.rdates or () if r < rid]
    ev.exdates = [x for x in ev.exdates or () if x < rid]
    session.add(new)
    session.flush()
    for o in session.execute(select(AgendaOverride).where(AgendaOverride.event_id == ev.id,
                                                          AgendaOverride.recurrence_id >= rid)).scalars():
        o.event_id = new.id
    for a in session.execute(select(AgendaAttendee).where(AgendaAttendee.event_id == ev.id)).scalars():
        session.add(AgendaAttendee(event_id=new.id, user_id=a.user_id, party_id=a.party_id, status=a.status))
    carried = {}
    for r in session.execute(select(AgendaReminder).where(AgendaReminder.event_id == ev.id)).scalars():
        carried[r.id] = str(uuid.uuid4())
        session.add(AgendaReminder(id=carried[r.id], event_id=new.id, user_id=r.user_id,
                                   minutes_before=r.minutes_before, created_at=r.created_at))
    session.flush()
    carry_fired(session, ev.id, new.id, carried, rid)
    _check_series(ev)
    return new


def update_event(session: Session, event_id, expected: int, changes: dict, actor: Principal, scope: str = "all",
                 occurrence: datetime | None = None, allow_conflicts: bool = False) -> dict:
    """Change an event: the whole series (scope=all), one occurrence (scope=this, an override), or this and the
    following occurrences (scope=following: the series is split). Answers the event that holds the change."""
    ev = _for_change(session, event_id, actor, expected)
    changes = dict(changes)
    for f in ("title", "description", "location"):
        if isinstance(changes.get(f), str):
            changes[f] = changes[f].strip() or (None if f != "title" else "")
    if "title" in changes and not changes["title"]:
        raise field_error("title", "an event needs a title")
    recurring = bool(ev.rrule or ev.rdates)
    if scope != "all" and recurring:
        rid = _occurrence(ev, occurrence)
        if scope == "following" and rid == ev.starts_at.astimezone(UTC):
            scope = "all"
    elif scope != "all":
        scope = "all"  # a single event: its one occurrence is all of it
    before = _state(ev)
    target = ev
    if scope == "this":
        _apply_this(session, ev, rid, changes)
    elif scope == "following":
        target = _split(session, ev, rid, actor)
        _save(session, ev, before, "split", actor)
        _timeline(session, ev, actor)
        before = _state(target)
        _apply_all(session, target, changes, actor)
    else:
        _apply_all(session, ev, changes, actor)
    session.flush()
    if _TIMING & set(changes) or scope != "all":
        _guard(session, target, allow_conflicts, {ev.id})
    if target is ev:
        _save(session, ev, before, "update" if scope == "all" else "update_occurrence", actor)
    else:
        audit.record(session, audit_log, actor, "create", RECORD, target.id, None, _state(target))
    _timeline(session, target, actor)
    return event_view(session, target)


def delete_event(session: Session, event_id, expected: int, actor: Principal, scope: str = "all",
                 occurrence: datetime | None = None) -> dict | None:
    """Delete the series (all), cancel one occurrence (this), or end the series before one (following).
    Answers the remaining series, or None when nothing is left."""
    ev = _for_change(session, event_id, actor, expected)
    before = _state(ev)
    if scope != "all" and (ev.rrule or ev.rdates):
        rid = _occurrence(ev, occurrence)
        if scope == "this":
            _upsert_override(session, ev, rid, cancelled=True)
            _save(session, ev, before, "cancel_occurrence", actor)
            return event_view(session, ev)
        if rid != ev.starts_at.astimezone(UTC):
            new = _split(session, ev, rid, actor)
            session.delete(new)
            _save(session, ev, before, "end_series", actor)
            _timeline(session, ev, actor)
            return event_view(session, ev)
    timeline.remove_entries(session, ref_type=RECORD, ref_id=ev.id)
    session.delete(ev)
    audit.record(session, audit_log, actor, "delete", RECORD, ev.id, before, None)
    return None


def respond(session: Session, event_id, status: str, actor: Principal) -> dict:
    """An attendee accepts, declines or answers tentatively for the whole series."""
    ev = find_event(session, event_id, actor)
    me = session.execute(select(AgendaAttendee).where(AgendaAttendee.event_id == ev.id,
                                                      AgendaAttendee.user_id == actor.user_id)).scalar_one_or_none()
    if me is None:
        raise Problem(409, "Not invited", "You are not an attendee of this event.", "not-an-attendee")
    me.status = status
    session.flush()
    audit.record(session, audit_log, actor, "respond", RECORD, ev.id, None, {"status": status})
    return event_view(session, ev)


def _for_sharing(session: Session, event_id, actor: Principal) -> AgendaEvent:
    return _for_change(session, event_id, actor, None)


def count_events(session: Session) -> int:
    return session.execute(select(func.count()).select_from(AgendaEvent)).scalar_one()


SHARING = access.Sharing(RECORD, find_event, _for_sharing)
