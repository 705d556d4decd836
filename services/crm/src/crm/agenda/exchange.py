"""The agenda with other calendars: ICS export of one event or a window, a per-user secret feed that Outlook,
Google and Apple subscribe to (webcal://), and the import of a file they exported (idempotent by UID and
RECURRENCE-ID, all or nothing).

The feed token is 32 random bytes; only its SHA-256 is stored, so a leaked database does not leak feeds, and
rotating or revoking deletes the old hash at once. The public feed answers the same 404 for an unknown, revoked
or malformed token, and counts every request per client address against a rate limit."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from servicekit import audit, ratelimit
from servicekit.auth.principal import Principal
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import delete, func, or_, select, text
from sqlalchemy.orm import Session

from ..db import audit_log, auth
from ..parties.models import Party
from ..timeline import entries as timeline
from . import ics
from . import service as events
from .models import PARTSTATS, AgendaAttendee, AgendaEvent, AgendaOverride, AgendaReminder, FeedHit, FeedToken
from .reminders import keep_reminders
from .views import checked_window, window_filters
from .window import events_in

FEED_LIMITS = ((timedelta(minutes=1), 20), (timedelta(hours=1), 240))  # requests per client address
FEED_PAST = timedelta(days=365)  # a feed carries series that reach back at most this far
FEED_REFRESH_MINUTES = 15
FEED_COLOR = "steelblue"  # RFC 7986 COLOR is a CSS3 colour name


# -- export ----------------------------------------------------------------------------------------------------

def _users(session: Session, ids: set[str]) -> dict[str, tuple[str, str]]:
    if not ids:
        return {}
    rows = session.execute(select(auth.users.c.id, auth.users.c.email, auth.users.c.name)
                           .where(auth.users.c.id.in_(sorted(ids)))).all()
    return {str(r.id): (r.email, r.name) for r in rows}


def party_email(party: Party | None) -> str | None:
    """A party's primary address (or its first), for invitations and ATTENDEE lines."""
    emails = (party.emails or []) if party else []
    chosen = next((e for e in emails if e.get("primary")), emails[0] if emails else None)
    return chosen.get("value") if chosen else None


def _parties(session: Session, ids: set[str]) -> dict[str, Party]:
    if not ids:
        return {}
    return {p.id: p for p in session.execute(select(Party).where(Party.id.in_(sorted(ids)))).scalars()}


def specs(session: Session, evs: list[AgendaEvent], reader_id: str | None,
          method: str | None = None) -> list[ics.Export]:
    """What ics.calendar needs for these events, as `reader_id` sees them (their own alarms only)."""
    views = [events.event_view(session, ev) for ev in evs]
    user_ids = {v["owner_id"] for v in views} | {a["user_id"] for v in views for a in v["attendees"] if a["user_id"]}
    users = _users(session, user_ids)
    parties = _parties(session, {a["party_id"] for v in views for a in v["attendees"] if a["party_id"]})
    out = []
    for v in views:
        owner = users.get(v["owner_id"])
        people = []
        for a in v["attendees"]:
            if a["user_id"] and a["user_id"] in users:
                people.append(ics.Person(users[a["user_id"]][0], users[a["user_id"]][1], a["status"]))
            elif a["party_id"]:
                party = parties.get(a["party_id"])
                email = party_email(party)
                if email:
                    people.append(ics.Person(email, party.display_name, a["status"], party=True))
        alarms = [r["minutes_before"] for r in v["reminders"] if reader_id and r["user_id"] == reader_id]
        out.append(ics.Export(v, ics.Person(owner[0], owner[1], "accepted") if owner else None, people, alarms,
                              method))
    return out


def export_event(session: Session, event_id, actor: Principal) -> bytes:
    """One event (a series with its overrides) as an .ics file."""
    ev = events.find_event(session, event_id, actor)
    return ics.calendar(specs(session, [ev], actor.user_id))


def export_window(session: Session, args: dict, actor: Principal) -> bytes:
    """Every event the caller may see with an occurrence in the window (filtered like the occurrence views), as
    stored: series are not expanded."""
    start, end = checked_window(args)
    evs = events_in(session, start, end, events.visible_events(actor), *window_filters(args))
    return ics.calendar(specs(session, evs, actor.user_id), name=f"CRM agenda of {actor.name}")


# -- the per-user feed -----------------------------------------------------------------------------------------

def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def feed_status(session: Session, actor: Principal) -> dict:
    found = session.execute(select(FeedToken).where(FeedToken.user_id == actor.user_id)).scalar_one_or_none()
    return {"active": found is not None, "created_at": found.created_at if found else None, "url": None,
            "webcal_url": None}


def rotate_feed(session: Session, actor: Principal, public_url: str) -> dict:
    """A new secret feed URL for the caller; the old one (if any) stops working at once. The URL is shown once."""
    session.execute(delete(FeedToken).where(FeedToken.user_id == actor.user_id))
    token = secrets.token_urlsafe(32)
    session.add(FeedToken(token_hash=_hash(token), user_id=actor.user_id, created_at=datetime.now(UTC)))
    session.flush()
    audit.record(session, audit_log, actor, "rotate_feed", "agenda_feed", actor.user_id, None, {"active": True})
    url = f"{public_url.rstrip('/')}/api/v1/public/agenda/feeds/{token}.ics"
    return {"active": True, "created_at": datetime.now(UTC), "url": url,
            "webcal_url": "webcal://" + url.split("://", 1)[1]}


def revoke_feed(session: Session, actor: Principal) -> None:
    gone = session.execute(delete(FeedToken).where(FeedToken.user_id == actor.user_id)).rowcount
    if gone:
        audit.record(session, audit_log, actor, "revoke_feed", "agenda_feed", actor.user_id, {"active": True},
                     {"active": False})


def admit(session: Session, address: str, now: datetime | None = None) -> None:
    """Count a feed request against the address's limits (whatever the token: its own transaction, so refused
    tokens count too), or answer 429 with Retry-After."""
    ratelimit.admit(session, FeedHit, {"address": address[:64]}, FEED_LIMITS, name="agenda-feed", now=now)


def feed(session: Session, token: str, now: datetime | None = None) -> bytes:
    """The calendar behind a feed token: the user's own events and those they attend (not declined), with their
    own reminders as VALARMs. Any token that is not active is "not found", however it is wrong."""
    now = now or datetime.now(UTC)
    if len(token) > 100:
        raise NotFound("feed", "")
    row = session.execute(select(FeedToken.user_id).where(FeedToken.token_hash == _hash(token))).first()
    if row is None:
        raise NotFound("feed", "")
    user_id = str(row.user_id)
    user = _users(session, {user_id}).get(user_id)
    attending = select(AgendaAttendee.event_id).where(AgendaAttendee.user_id == user_id,
                                                      AgendaAttendee.status != "declined")
    evs = list(session.execute(select(AgendaEvent).where(
        or_(AgendaEvent.owner_id == user_id, AgendaEvent.id.in_(attending)),
        or_(AgendaEvent.series_ends_at.is_(None), AgendaEvent.series_ends_at >= now - FEED_PAST))
        .order_by(AgendaEvent.starts_at, AgendaEvent.id)).scalars())
    return ics.calendar(specs(session, evs, user_id), name=f"CRM – {user[1] if user else 'agenda'}",
                        color=FEED_COLOR, refresh_minutes=FEED_REFRESH_MINUTES)


# -- import ----------------------------------------------------------------------------------------------------

def _people_by_email(session: Session, families: list[ics.Imported]) -> tuple[dict, dict]:
    emails = sorted({e for f in families for e, _ in f.attendees})
    if not emails:
        return {}, {}
    users = {r.email.lower(): str(r.id) for r in session.execute(
        select(auth.users.c.id, auth.users.c.email).where(func.lower(auth.users.c.email).in_(emails),
                                                          auth.users.c.is_active))}
    rows = session.execute(text("select p.id, lower(e->>'value') from parties p, jsonb_array_elements(p.emails) e "
                                "where p.status = 'active' and lower(e->>'value') = any(:emails)"),
                           {"emails": emails}).all()
    parties: dict[str, str] = {}
    for party_id, email in rows:
        parties.setdefault(email, str(party_id))
    return users, parties


def _partstat(value: str) -> str:
    status = value.lower()
    return status if status in PARTSTATS else "needs-action"


def _line_error(fam: ics.Imported, problem: Problem) -> Problem:
    message = problem.errors[0]["message"] if problem.errors else str(problem)
    return field_error(f"line {fam.line}", f"{message} (UID {fam.uid})")


def _override_rows(fam: ics.Imported) -> list[tuple]:
    return sorted((o["recurrence_id"], o["cancelled"], o["title"], o["description"], o["location"],
                   o["starts_at"], o["ends_at"]) for o in fam.overrides)


def _stored_overrides(session: Session, ev: AgendaEvent) -> list[tuple]:
    return sorted((o.recurrence_id, o.cancelled, o.title, o.description, o.location, o.starts_at, o.ends_at)
                  for o in session.execute(select(AgendaOverride).where(AgendaOverride.event_id == ev.id)).scalars())


def _attendee_rows(fam: ics.Imported, users: dict, parties: dict, owner_id: str) -> list[tuple]:
    rows = {}
    for email, status in fam.attendees:
        user_id = users.get(email)
        party_id = None if user_id else parties.get(email)
        if user_id == owner_id or not (user_id or party_id):
            continue
        rows[(user_id, party_id)] = _partstat(status)
    return sorted((u or "", p or "", s) for (u, p), s in rows.items())


def _stored_attendees(session: Session, ev: AgendaEvent) -> list[tuple]:
    return sorted((a.user_id or "", a.party_id or "", a.status) for a in session.execute(
        select(AgendaAttendee).where(AgendaAttendee.event_id == ev.id,
                                     AgendaAttendee.user_id.is_distinct_from(ev.owner_id))).scalars())


def _stored_alarms(session: Session, ev: AgendaEvent, user_id: str) -> list[int]:
    return sorted(session.execute(select(AgendaReminder.minutes_before).where(
        AgendaReminder.event_id == ev.id, AgendaReminder.user_id == user_id)).scalars())


def _write_family(session: Session, ev: AgendaEvent, fam: ics.Imported, attendees: list[tuple],
                  actor: Principal) -> None:
    session.execute(delete(AgendaOverride).where(AgendaOverride.event_id == ev.id))
    for o in fam.overrides:
        session.add(AgendaOverride(event_id=ev.id, recurrence_id=o["recurrence_id"], cancelled=o["cancelled"],
                                   title=o["title"], description=o["description"], location=o["location"],
                                   starts_at=o["starts_at"], ends_at=o["ends_at"]))
    session.execute(delete(AgendaAttendee).where(AgendaAttendee.event_id == ev.id))
    for user_id, party_id, status in attendees:
        session.add(AgendaAttendee(event_id=ev.id, user_id=user_id or None, party_id=party_id or None,
                                   status=status))
    # reminders that stay keep their rows, so a re-import does not announce again what was announced
    keep_reminders(session, ev.id, [(actor.user_id, m) for m in fam.alarms], users={actor.user_id})


_IMPORTED = ("title", "description", "location", "starts_at", "ends_at", "all_day", "tz", "rrule", "rdates",
             "exdates", "category", "color", "transparency", "visibility")


def upsert_family(session: Session, fam: ics.Imported, actor: Principal, users: dict, parties: dict,
                  action: str = "import") -> tuple[str, AgendaEvent | None]:
    """Store one VEVENT family as the caller's event, keyed by (caller, UID): answers what happened ("created",
    "updated", "unchanged" or "deleted") and the event (None once deleted)."""
    ev = session.execute(select(AgendaEvent).where(AgendaEvent.owner_id == actor.user_id, AgendaEvent.uid == fam.uid)
                         .with_for_update()).scalar_one_or_none()
    if fam.values.get("cancelled"):
        if ev is None:
            return "unchanged", None
        delete_event(session, ev, actor, action)
        return "deleted", None
    values = {k: fam.values[k] for k in _IMPORTED if k in fam.values}
    attendees = _attendee_rows(fam, users, parties, actor.user_id)
    before = None
    if ev is None:
        ev = AgendaEvent(uid=fam.uid, owner_id=actor.user_id, created_by=actor.user_id, version=1, sequence=0,
                         **values)
        ev.ics_extra = fam.extra
        kind = "created"
    else:
        same = (all(getattr(ev, k) == values.get(k) for k in _IMPORTED)
                and ev.ics_extra == fam.extra
                and _stored_overrides(session, ev) == _override_rows(fam)
                and _stored_attendees(session, ev) == attendees
                and _stored_alarms(session, ev, actor.user_id) == sorted(set(fam.alarms)))
        if same:
            return "unchanged", ev
        before = events._state(ev)
        for k in _IMPORTED:
            setattr(ev, k, values.get(k))
        ev.ics_extra = fam.extra
        ev.version += 1
        ev.sequence += 1
        ev.updated_at = datetime.now(UTC)
        kind = "updated"
    try:
        events._check_series(ev)
    except Problem as problem:
        raise _line_error(fam, problem) from None
    session.add(ev)
    session.flush()
    _write_family(session, ev, fam, attendees, actor)
    session.flush()
    audit.record(session, audit_log, actor, action, events.RECORD, ev.id, before, events._state(ev))
    return kind, ev


def delete_event(session: Session, ev: AgendaEvent, actor: Principal, action: str) -> None:
    """Remove an event another calendar deleted (its timeline entry goes with it; the audit keeps its state)."""
    timeline.remove_entries(session, ref_type=events.RECORD, ref_id=ev.id)
    audit.record(session, audit_log, actor, f"{action}_delete", events.RECORD, ev.id, events._state(ev), None)
    session.delete(ev)
    session.flush()


def people_of(session: Session, families: list[ics.Imported]) -> tuple[dict, dict]:
    """CRM users and party contacts by address, for the attendees of these families."""
    return _people_by_email(session, families)


def import_calendar(session: Session, data: bytes, actor: Principal, default_tz: str = "UTC") -> dict:
    """Store every event of an .ics file as the caller's: a UID the caller already has is updated in place (its
    overrides replaced by the file's), a new one created, a cancelled one deleted. Importing the same file again
    changes nothing. Any unreadable event refuses the whole file (422 naming its line)."""
    try:
        families = ics.parse(data, default_tz)
    except ics.IcsError as exc:
        raise field_error(exc.where, str(exc)) from None
    users, parties = _people_by_email(session, families)
    report = {"created": 0, "updated": 0, "unchanged": 0, "deleted": 0, "overrides": 0, "event_ids": []}
    for fam in families:
        kind, ev = upsert_family(session, fam, actor, users, parties)
        report[kind] += 1
        if ev is not None:
            report["event_ids"].append(ev.id)
            if kind != "unchanged":
                report["overrides"] += len(fam.overrides)
    return report
