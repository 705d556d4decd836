"""Reminders that fire exactly once: the worker loop that finds due alarms and announces each one by mail (through
the mail outbox) and as an in-app notification.

An alarm is (event, occurrence, reminder). Its ledger key is (event id, the start the occurrence has when it is
announced, reminder id): for an occurrence of a series that was not moved, that start is its RECURRENCE-ID; a
moved occurrence is keyed by its new start, so moving it re-arms its reminders and it is announced once more at
the new time (moving it back to a time already announced does not announce it again). Changing the whole series'
time re-arms every occurrence the same way.

When an alarm is due: `minutes_before` the start, but never before it could be known. A reminder is armed when it is
created, and an occurrence that had begun by then never fires. An alarm whose time passed before the reminder or
the event's last change existed fires at that moment, not late (a meeting moved to start in ten minutes with a
fifteen-minute reminder is announced right away).

Exactly once: each scan claims reminder rows in batches with FOR UPDATE SKIP LOCKED (two workers take different
rows), and for each due alarm inserts the ledger row with ON CONFLICT DO NOTHING; only a won insert queues the mail
and adds the notification, in the same transaction as the ledger row. A worker killed before its commit leaves
nothing behind, and the next scan fires the alarm once.

Late and missed: an alarm found more than `late_after` after it was due (the worker was not running) fires with
"late" in the subject and the notification; one found more than `lookback` after it was due is recorded in the
ledger as missed and neither mailed nor notified. A scan only expands occurrences that start within twice the
look-back before now and up to each reminder's offset after it, so its cost is bounded by that window, never by the
length of a series; an alarm older than twice the look-back when a worker comes back is not recorded at all.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, getaddresses
from zoneinfo import ZoneInfo

from servicekit.mail_outbox import enqueue
from sqlalchemy import DateTime, Interval, and_, exists, func, insert, literal, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, sessionmaker

from ..db import auth, mail_outbox
from ..notifications.service import notify
from . import recurrence as rec
from .models import AgendaAttendee, AgendaEvent, AgendaOverride, AgendaReminder, FiredReminder
from .window import expand

log = logging.getLogger(__name__)

KIND = "agenda.reminder"
REF_TYPE = "agenda_event"


@dataclass
class ScanResult:
    """What one scan did: alarms announced (of which late), and alarms recorded as missed."""

    fired: int = 0
    late: int = 0
    missed: int = 0


@dataclass(frozen=True)
class _Recipient:
    name: str
    email: str


class ReminderRunner:
    """The worker loop: every `interval` seconds, announce the alarms that are due (see the module's docstring)."""

    def __init__(self, sessions: sessionmaker, sender: str, public_url: str, interval: float = 5.0,
                 lookback: timedelta = timedelta(hours=24), late_after: timedelta = timedelta(minutes=2),
                 batch_size: int = 100, scope=None):
        """`sender`: the From of reminder mail; `public_url`: where the CRM's API is reached (the mail's link);
        `scope`: an extra SQL condition on the events this runner looks at (tests scan only their own)."""
        self.sessions, self.sender, self.public_url = sessions, sender, public_url.rstrip("/")
        self.interval, self.lookback, self.late_after, self.batch_size = interval, lookback, late_after, batch_size
        self.scope = scope
        self._stop = threading.Event()

    # -- the scan ----------------------------------------------------------------------------------------------

    def scan(self, now: datetime | None = None) -> ScanResult:
        """Announce every alarm due at `now` (default: the current time) that is not in the ledger yet, one
        transaction per batch of claimed reminders."""
        now = (now or datetime.now(UTC)).astimezone(UTC)
        result = ScanResult()
        after = None
        while True:
            with self.sessions.begin() as session:
                claimed = self._claim(session, now, after)
                if not claimed:
                    return result
                after = claimed[-1].id
                self._fire_batch(session, claimed, now, result)

    def _claim(self, session: Session, now: datetime, after: str | None) -> list[AgendaReminder]:
        """The next batch of reminders whose event may have an occurrence starting in the scan's window, locked
        (rows another worker holds are skipped: it is announcing them)."""
        since = literal(now - 2 * self.lookback, DateTime(timezone=True))
        upto = literal(now, DateTime(timezone=True)) + func.make_interval(0, 0, 0, 0, 0, AgendaReminder.minutes_before,
                                                                          type_=Interval)
        moved_in = exists(select(AgendaOverride.id).where(AgendaOverride.event_id == AgendaEvent.id,
                                                          AgendaOverride.starts_at >= since,
                                                          AgendaOverride.starts_at <= upto))
        reaching = or_(and_(AgendaEvent.starts_at <= upto,
                            or_(AgendaEvent.series_ends_at.is_(None), AgendaEvent.series_ends_at >= since)), moved_in)
        # a reminder created after the window's end has no occurrence to announce in it
        stmt = (select(AgendaReminder).join(AgendaEvent, AgendaEvent.id == AgendaReminder.event_id)
                .where(reaching, AgendaReminder.created_at < upto)
                .order_by(AgendaReminder.id).limit(self.batch_size)
                .with_for_update(of=AgendaReminder, skip_locked=True))
        if after is not None:
            stmt = stmt.where(AgendaReminder.id > after)
        if self.scope is not None:
            stmt = stmt.where(self.scope)
        return list(session.execute(stmt).scalars())

    def _fire_batch(self, session: Session, reminders: list[AgendaReminder], now: datetime,
                    result: ScanResult) -> None:
        event_ids = sorted({r.event_id for r in reminders})
        events = {e.id: e for e in session.execute(select(AgendaEvent).where(AgendaEvent.id.in_(event_ids)))
                  .scalars()}
        status = {(a.event_id, a.user_id): a.status for a in session.execute(select(
            AgendaAttendee.event_id, AgendaAttendee.user_id, AgendaAttendee.status).where(
                AgendaAttendee.event_id.in_(event_ids), AgendaAttendee.user_id.is_not(None)))}
        users = {str(u.id): _Recipient(u.name, u.email) for u in session.execute(
            select(auth.users.c.id, auth.users.c.name, auth.users.c.email).where(
                auth.users.c.id.in_({r.user_id for r in reminders}), auth.users.c.is_active))}
        since = now - 2 * self.lookback
        occurrences = self._occurrences(session, events, reminders, since, now)
        for reminder in reminders:
            ev = events[reminder.event_id]
            recipient = users.get(str(reminder.user_id))
            answer = status.get((ev.id, reminder.user_id))
            if recipient is None or answer == "declined" or (answer is None and reminder.user_id != ev.owner_id):
                continue  # a deactivated user, an attendee who declined, or someone no longer invited: nothing
            offset = timedelta(minutes=reminder.minutes_before)
            armed = max(reminder.created_at, ev.updated_at)
            for occ in occurrences[ev.id]:
                if not (since <= occ.starts_at <= now + offset) or occ.starts_at <= reminder.created_at:
                    continue  # outside the window, or begun before the reminder existed
                due = max(occ.starts_at - offset, armed)
                if due > now:
                    continue
                missed = now - due > self.lookback
                late = not missed and now - due > self.late_after
                if not self._record(session, ev, occ, reminder, due, now, late, missed):
                    continue  # already announced (or recorded as missed) by this or another worker
                if missed:
                    result.missed += 1
                    continue
                self._announce(session, ev, occ, reminder, recipient, due, late)
                result.fired += 1
                result.late += late

    @staticmethod
    def _occurrences(session: Session, events: dict, reminders: list[AgendaReminder], since: datetime,
                     now: datetime) -> dict[str, list[rec.Occurrence]]:
        """Each event's occurrences from `since` to now plus its longest reminder offset (events sharing a horizon
        are expanded together)."""
        horizon: dict[str, int] = {}
        for r in reminders:
            horizon[r.event_id] = max(horizon.get(r.event_id, 0), r.minutes_before)
        groups: dict[int, list[AgendaEvent]] = {}
        for event_id, minutes in horizon.items():
            groups.setdefault(minutes, []).append(events[event_id])
        found: dict[str, list[rec.Occurrence]] = {event_id: [] for event_id in events}
        for minutes, group in groups.items():
            for ev, occ in expand(session, group, since, now + timedelta(minutes=minutes, seconds=1)):
                found[ev.id].append(occ)
        return found

    @staticmethod
    def _record(session: Session, ev: AgendaEvent, occ: rec.Occurrence, reminder: AgendaReminder, due: datetime,
                now: datetime, late: bool, missed: bool) -> bool:
        """The ledger row; True only for the transaction whose insert won."""
        won = session.execute(pg_insert(FiredReminder).values(
            event_id=ev.id, occurrence=occ.starts_at, reminder_id=reminder.id, due_at=due, fired_at=now, late=late,
            missed=missed).on_conflict_do_nothing().returning(FiredReminder.event_id)).first()
        return won is not None

    def _announce(self, session: Session, ev: AgendaEvent, occ: rec.Occurrence, reminder: AgendaReminder,
                  recipient: _Recipient, due: datetime, late: bool) -> None:
        """The mail (queued: it leaves after the commit) and the notification."""
        title = occ.fields.get("title") or ev.title
        location = occ.fields.get("location", ev.location)
        short, long = _when_short(ev, occ), _when_long(ev, occ)
        link = f"{self.public_url}/api/v1/agenda/events/{ev.id}"
        lines = []
        if late:
            lines += [f"This reminder is late: it was due {_local(due, ev.tz)}, while the reminder service was "
                      "not running.", ""]
        lines += [title, "", f"When:  {long}", f"Where: {location or 'no place given'}", f"Link:  {link}"]
        mins = reminder.minutes_before
        lines += ["", f"You asked to be reminded {_offset(mins)} before." if mins else "You asked to be reminded "
                  "when it starts."]
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = formataddr((recipient.name, recipient.email))
        msg["Subject"] = f"{'Late reminder' if late else 'Reminder'}: {title}, {short}"
        domain = (getaddresses([self.sender])[0][1].rpartition("@")[2] or "crm.localhost").strip()
        msg["Message-ID"] = (f"<reminder.{ev.id}.{occ.starts_at:%Y%m%dT%H%M%SZ}.{reminder.id}@{domain}>")
        msg.set_content("\n".join(lines) + "\n")
        enqueue(session, mail_outbox, msg, REF_TYPE, ev.id)
        body = "\n".join([f"When: {long}", f"Where: {location or 'no place given'}", f"Link: {link}"])
        notify(session, reminder.user_id, KIND, f"{'Late: ' if late else ''}{title}, {short}", body, REF_TYPE, ev.id,
               occurrence=occ.starts_at, late=late)

    # -- the loop ----------------------------------------------------------------------------------------------

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                found = self.scan()
                if found.fired or found.missed:
                    log.info("reminders: %d announced (%d late), %d missed", found.fired, found.late, found.missed)
            except Exception:  # noqa: BLE001 - a database outage: the batch rolled back, the next scan retries it
                log.exception("reminder runner: will retry")
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()


def keep_reminders(session: Session, event_id: str, wanted: list[tuple[str, int]],
                   users: set[str] | None = None) -> None:
    """Make the event's reminders (only those of `users`, when given) exactly the `wanted` (user id, minutes before)
    pairs. One that stays keeps its row, and with it what it already announced (the ledger is keyed by reminder), so
    an edit or a re-import never repeats a reminder."""
    stmt = select(AgendaReminder).where(AgendaReminder.event_id == event_id)
    if users is not None:
        stmt = stmt.where(AgendaReminder.user_id.in_(users))
    wanted_set, kept = {(str(u), m) for u, m in wanted}, set()
    for row in session.execute(stmt.order_by(AgendaReminder.created_at, AgendaReminder.id)).scalars():
        key = (str(row.user_id), row.minutes_before)
        if key in wanted_set and key not in kept:
            kept.add(key)
        else:
            session.delete(row)
    for user_id, minutes in sorted(wanted_set - kept):
        session.add(AgendaReminder(event_id=event_id, user_id=user_id, minutes_before=minutes))


def carry_fired(session: Session, old_event_id: str, new_event_id: str, reminders: dict[str, str],
                split_at: datetime) -> None:
    """A series split at `split_at` keeps its alarm history: what was announced for the occurrences that moved to
    the new series (`reminders`: old reminder id -> new) counts as announced there too."""
    moved = session.execute(select(func.min(AgendaOverride.starts_at)).where(
        AgendaOverride.event_id == new_event_id)).scalar()
    since = min(split_at, moved) if moved else split_at
    for old_id, new_id in reminders.items():
        rows = select(literal(new_event_id), FiredReminder.occurrence, literal(new_id), FiredReminder.due_at,
                      FiredReminder.fired_at, FiredReminder.late, FiredReminder.missed).where(
            FiredReminder.event_id == old_event_id, FiredReminder.reminder_id == old_id,
            FiredReminder.occurrence >= since)
        session.execute(insert(FiredReminder).from_select(
            ["event_id", "occurrence", "reminder_id", "due_at", "fired_at", "late", "missed"], rows))


def _local(moment: datetime, tz: str) -> str:
    return moment.astimezone(ZoneInfo(tz)).strftime("%a %d %b %Y %H:%M")


def _when_short(ev: AgendaEvent, occ: rec.Occurrence) -> str:
    start = occ.starts_at.astimezone(ZoneInfo(ev.tz))
    if ev.all_day:
        return f"{start:%a %d %b %Y}, all day"
    return f"{start:%a %d %b %Y %H:%M} {ev.tz}"  # no parentheses: the stdlib folds some such subjects badly


def _when_long(ev: AgendaEvent, occ: rec.Occurrence) -> str:
    zone = ZoneInfo(ev.tz)
    start, end = occ.starts_at.astimezone(zone), occ.ends_at.astimezone(zone)
    if ev.all_day:
        last = (end - timedelta(days=1)).date() if end > start else start.date()
        days = f"{start:%a %d %b %Y}" + (f" to {last:%a %d %b %Y}" if last != start.date() else "")
        return f"{days}, all day ({ev.tz})"
    until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%a %d %b %Y %H:%M}"
    return f"{start:%a %d %b %Y %H:%M} to {until} ({ev.tz}, UTC{start:%z})"


def _offset(minutes: int) -> str:
    days, rest = divmod(minutes, 1440)
    hours, mins = divmod(rest, 60)
    parts = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in ((days, "day"), (hours, "hour"), (mins, "minute"))
             if n]
    return " ".join(parts)
