"""Property: for any series, reminder offsets and sequence of worker scans, each (occurrence, reminder) that comes
due within the horizon is announced exactly once (late when the worker found it more than two minutes after its
time), or recorded as missed when the worker found it past the look-back, and nothing else is announced.

The expected alarms come from dateutil's rrule expanded here, not from the agenda's own recurrence code."""

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from crm.agenda.models import AgendaEvent, AgendaReminder, FiredReminder
from crm.agenda.reminders import ReminderRunner
from crm.db import mail_outbox
from crm.notifications.models import Notification
from dateutil.rrule import rrulestr
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

pytestmark = pytest.mark.db

LOOKBACK = timedelta(hours=24)
LATE_AFTER = timedelta(minutes=2)
RULES = ["FREQ=DAILY", "FREQ=WEEKLY;BYDAY=MO,TH", "FREQ=DAILY;INTERVAL=3;COUNT=6", "FREQ=MONTHLY;BYMONTHDAY=31",
         "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU"]
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"]


def expected_alarms(rule: str, start_local: datetime, offsets: list[int], scans: list[datetime]) -> dict:
    """(occurrence start in UTC, minutes before) -> "fired", "late" or "missed", as the worker promises it."""
    lo = scans[0] - 3 * LOOKBACK
    hi = scans[-1] + timedelta(minutes=max(offsets))
    starts = [s.astimezone(UTC) for s in rrulestr(rule, dtstart=start_local).between(
        lo.astimezone(start_local.tzinfo), hi.astimezone(start_local.tzinfo), inc=True)]
    outcome = {}
    for start in starts:
        for minutes in offsets:
            due = start - timedelta(minutes=minutes)
            found = next((t for t in scans if t >= due), None)
            if found is None:
                continue  # not due yet at the last scan
            if found - due <= LOOKBACK:
                outcome[(start, minutes)] = "late" if found - due > LATE_AFTER else "fired"
            elif start >= found - 2 * LOOKBACK:
                outcome[(start, minutes)] = "missed"
    return outcome


@pytest.fixture
def rep(as_user):
    """One sales rep books every example's series (free time, so they never conflict)."""
    return as_user("sales_rep")


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(rule=st.sampled_from(RULES), tz=st.sampled_from(ZONES), day=st.integers(0, 45), hour=st.integers(7, 19),
       quarter=st.integers(0, 3),
       offsets=st.lists(st.one_of(st.sampled_from([0, 15, 30, 60, 1440]), st.integers(0, 4 * 1440)), min_size=1,
                        max_size=3, unique=True),
       lead_quarters=st.integers(0, 4 * 30),
       # scans at whole quarter hours plus a few minutes: on, just after and long after due times
       marks=st.lists(st.tuples(st.integers(0, 4 * 24 * 6), st.integers(0, 3)), min_size=2, max_size=12))
def test_each_alarm_within_the_horizon_fires_exactly_once(rep, db, rule, tz, day, hour, quarter, offsets,
                                                          lead_quarters, marks):
    zone = ZoneInfo(tz)
    start_local = datetime(2032, 3, 1, hour, 15 * quarter, tzinfo=zone) + timedelta(days=day)
    created = rep.post("/api/v1/agenda/events", json={
        "title": "Property check", "starts_at": start_local.isoformat(), "tz": tz, "rrule": rule,
        "ends_at": (start_local + timedelta(minutes=30)).isoformat(), "transparency": "free",
        "reminders": [{"minutes": m} for m in offsets]})
    assert created.status_code == 201, created.json
    event_id = created.json["id"]
    first = start_local.astimezone(UTC) - timedelta(minutes=15 * lead_quarters)
    scans = sorted({first + timedelta(minutes=15 * quarters + minutes) for quarters, minutes in marks})

    runner = ReminderRunner(db.sessions, "CRM <reminders@crm.test>", "https://crm.example.test", lookback=LOOKBACK,
                            late_after=LATE_AFTER, batch_size=1, scope=AgendaEvent.id == event_id)
    announced = sum(runner.scan(t).fired for t in scans)

    expected = expected_alarms(rule, start_local, offsets, scans)
    with db.sessions() as s:
        rows = s.execute(select(FiredReminder.occurrence, AgendaReminder.minutes_before, FiredReminder.late,
                                FiredReminder.missed)
                         .join(AgendaReminder, AgendaReminder.id == FiredReminder.reminder_id)
                         .where(FiredReminder.event_id == event_id)).all()
        notes = Counter(s.execute(select(Notification.occurrence).where(Notification.ref_id == event_id)).scalars())
        mails = s.execute(select(func.count()).where(mail_outbox.c.ref_id == event_id)).scalar_one()
    recorded = {(r.occurrence, r.minutes_before): "missed" if r.missed else "late" if r.late else "fired"
                for r in rows}
    assert recorded == expected
    shown = Counter(start for (start, _), outcome in expected.items() if outcome != "missed")
    assert notes == shown  # one notification per announced alarm, none for a missed one
    assert mails == announced == sum(shown.values())
    for outcome in ("fired", "late", "missed"):
        event(f"{outcome}: {'some' if outcome in expected.values() else 'none'}")
