"""A salesperson's reminders arrive once per occurrence, by mail (a real SMTP server) and in the app: through the
DST change, with two workers at once, after a worker killed mid-batch, late after an outage, at a moved
occurrence's new time, and never for an attendee who declined. Time is driven by the scan's `now`, never slept."""

import io
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from crm.agenda import reminders
from crm.agenda.models import AgendaEvent, FiredReminder
from crm.agenda.reminders import ReminderRunner
from crm.db import mail_outbox
from crm.notifications.models import Notification
from servicekit.mail_outbox import MailSender, SmtpTransport
from sqlalchemy import func, select, text

from tests.support.smtp import Inbox, start_server

pytestmark = pytest.mark.db

EVENTS = "/api/v1/agenda/events"
NOTIFICATIONS = "/api/v1/me/notifications"
BERLIN = ZoneInfo("Europe/Berlin")
SENDER = "CRM <reminders@crm.test>"
LINK = "https://crm.example.test"


def ok(r, status=200):
    assert r.status_code == status, r.get_data(as_text=True)[:500]
    return r.json if status != 204 else None


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def runner_for(db, *owners, **over) -> ReminderRunner:
    """The worker's reminder loop, looking only at the events of these users (this test's)."""
    return ReminderRunner(db.sessions, SENDER, LINK, scope=AgendaEvent.owner_id.in_([o.user["id"] for o in owners]),
                          **over)


@pytest.fixture
def smtp(db):
    """A real SMTP server (aiosmtpd); .deliver() sends the reminder mail queued after the test began, as the
    worker's mail sender does after the commit; .messages holds what the server took."""
    inbox = Inbox()
    controller = start_server(inbox)
    with db.sessions() as s:
        before = s.execute(select(func.coalesce(func.max(mail_outbox.c.id), 0))).scalar_one()
    sender = MailSender(db.engine, mail_outbox, SmtpTransport("127.0.0.1", controller.port),
                        scope=(mail_outbox.c.id > before) & (mail_outbox.c.ref_type == reminders.REF_TYPE))
    inbox.deliver = sender.send_due
    yield inbox
    controller.stop()


def series(client, title, start: datetime, rrule="FREQ=WEEKLY", **extra) -> dict:
    return ok(client.post(EVENTS, json={"title": title, "starts_at": start.isoformat(),
                                        "ends_at": (start + timedelta(hours=1)).isoformat(), "tz": "Europe/Berlin",
                                        "rrule": rrule, "reminders": [{"minutes": 15}], **extra}), 201)


def notifications(client, **query) -> list[dict]:
    return ok(client.get(NOTIFICATIONS, query_string=query))["items"]


def ledger(db, event_id) -> list:
    with db.sessions() as s:
        return s.execute(select(FiredReminder).where(FiredReminder.event_id == event_id)
                         .order_by(FiredReminder.occurrence)).scalars().all()


def count(db, column, value) -> int:
    with db.sessions() as s:
        return s.execute(select(func.count()).where(column == value)).scalar_one()


def wait_for_backend_to_go(db, pid: int, timeout: float = 20.0) -> None:
    """PostgreSQL rolls a killed client's transaction back when it notices the closed connection."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.sessions() as s:
            if not s.execute(text("select 1 from pg_stat_activity where pid = :pid"), {"pid": pid}).first():
                return
        time.sleep(0.05)
    pytest.fail(f"the killed worker's database session {pid} is still there after {timeout}s")


def test_a_weekly_series_reminds_once_per_occurrence_by_mail_and_in_the_app(as_user, db, smtp):
    rep = as_user("sales_rep")
    ev = series(rep, "Weekly sync", berlin(2031, 3, 17, 10), location="Room 4")
    runner = runner_for(db, rep)
    fired = [runner.scan(now).fired for now in (
        berlin(2031, 3, 17, 9, 40), berlin(2031, 3, 17, 9, 45), berlin(2031, 3, 17, 9, 46),
        berlin(2031, 3, 17, 10, 30), berlin(2031, 3, 24, 9, 45, 30), berlin(2031, 3, 24, 9, 50),
        berlin(2031, 3, 31, 9, 45), berlin(2031, 3, 31, 9, 59))]  # 30 March: Berlin moves to summer time
    assert fired == [0, 1, 0, 0, 1, 0, 1, 0]

    assert smtp.deliver() == 3 and smtp.deliver() == 0
    assert [m["Subject"] for _, m in smtp.messages] == [
        "Reminder: Weekly sync, Mon 17 Mar 2031 10:00 Europe/Berlin",
        "Reminder: Weekly sync, Mon 24 Mar 2031 10:00 Europe/Berlin",
        "Reminder: Weekly sync, Mon 31 Mar 2031 10:00 Europe/Berlin"]
    recipients, first = smtp.messages[0]
    assert recipients == [rep.user["email"]]
    text = first.get_content()
    assert "When:  Mon 17 Mar 2031 10:00 to 11:00 (Europe/Berlin, UTC+0100)" in text
    assert "Where: Room 4" in text and f"{LINK}/api/v1/agenda/events/{ev['id']}" in text
    assert "UTC+0200" in smtp.messages[2][1].get_content()

    mine = notifications(rep)
    assert [n["title"] for n in mine] == [
        "Weekly sync, Mon 31 Mar 2031 10:00 Europe/Berlin", "Weekly sync, Mon 24 Mar 2031 10:00 Europe/Berlin",
        "Weekly sync, Mon 17 Mar 2031 10:00 Europe/Berlin"]
    assert {n["kind"] for n in mine} == {"agenda.reminder"} and not any(n["late"] for n in mine)
    assert {(n["ref_type"], n["ref_id"]) for n in mine} == {("agenda_event", ev["id"])}
    assert [datetime.fromisoformat(n["occurrence"]) for n in mine] == [
        berlin(2031, 3, 31, 10), berlin(2031, 3, 24, 10), berlin(2031, 3, 17, 10)]


def test_two_workers_at_once_announce_each_alarm_once(as_user, db, smtp):
    rep = as_user("sales_rep")
    events = [ok(rep.post(EVENTS, json={
        "title": f"Call {i}", "starts_at": berlin(2031, 4, 2, 9 + i).isoformat(), "tz": "Europe/Berlin",
        "transparency": "free", "reminders": [{"minutes": m} for m in (5, 10, 15, 20, 30)]}), 201) for i in range(4)]
    runners = [runner_for(db, rep, batch_size=2) for _ in range(4)]
    barrier = threading.Barrier(len(runners))
    results = []

    def work(runner):
        barrier.wait()
        results.append(runner.scan(berlin(2031, 4, 2, 14)).fired)
    threads = [threading.Thread(target=work, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 20
    assert sum(len(ledger(db, e["id"])) for e in events) == 20
    assert len(notifications(rep, page_size=100)) == 20
    assert smtp.deliver() == 20 and len({m["Message-ID"] for _, m in smtp.messages}) == 20
    assert runners[0].scan(berlin(2031, 4, 2, 14, 1)).fired == 0


KILLED_WORKER = """
import sys, time
from datetime import datetime
import crm.models  # noqa: F401 - every table
from crm.agenda import reminders
from crm.agenda.models import AgendaEvent
from crm.config import Settings
from servicekit.db import make_engine, make_session_factory
from sqlalchemy import text

announce = reminders.notify
def stuck(session, *args, **kwargs):  # the mail is queued and the notification added: now wait to be killed
    announce(session, *args, **kwargs)
    print("claimed", session.execute(text("select pg_backend_pid()")).scalar(), flush=True)
    time.sleep(600)
reminders.notify = stuck
sessions = make_session_factory(make_engine(Settings.from_env().database_url))
runner = reminders.ReminderRunner(sessions, "CRM <reminders@crm.test>", "https://crm.example.test",
                                  scope=AgendaEvent.owner_id == sys.argv[1])
runner.scan(datetime.fromisoformat(sys.argv[2]))
"""


def test_a_worker_killed_between_claim_and_commit_leaves_nothing_and_the_next_run_fires_once(as_user, db, smtp):
    rep = as_user("sales_rep")
    ev = series(rep, "Board review", berlin(2031, 5, 5, 10))
    now = berlin(2031, 5, 5, 9, 46)
    worker = subprocess.Popen([sys.executable, "-c", KILLED_WORKER, rep.user["id"], now.isoformat()],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        said, _, backend = worker.stdout.readline().partition(" ")
        assert said == "claimed", worker.stderr.read()
        # while it holds the claim, another worker skips the locked reminder instead of announcing it too
        assert runner_for(db, rep).scan(now).fired == 0
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
        worker.stdout.close()
        worker.stderr.close()
    assert worker.returncode == -signal.SIGKILL
    wait_for_backend_to_go(db, int(backend))
    assert ledger(db, ev["id"]) == [] and notifications(rep) == []
    assert count(db, mail_outbox.c.ref_id, ev["id"]) == 0
    runner = runner_for(db, rep)
    assert runner.scan(now).fired == 1 and runner.scan(now + timedelta(minutes=1)).fired == 0
    assert smtp.deliver() == 1 and len(notifications(rep)) == 1 and len(ledger(db, ev["id"])) == 1


def test_a_failure_mid_batch_rolls_the_whole_batch_back_and_the_next_run_fires_each_once(as_user, db, smtp,
                                                                                         monkeypatch):
    rep = as_user("sales_rep")
    ev = ok(rep.post(EVENTS, json={"title": "Pricing", "starts_at": berlin(2031, 5, 6, 10).isoformat(),
                                   "tz": "Europe/Berlin", "reminders": [{"minutes": 10}, {"minutes": 20}]}), 201)
    real, calls = reminders.notify, []

    def second_fails(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise ConnectionError("database went away")
        return real(*args, **kwargs)
    monkeypatch.setattr(reminders, "notify", second_fails)
    runner = runner_for(db, rep)
    with pytest.raises(ConnectionError):
        runner.scan(berlin(2031, 5, 6, 9, 55))
    assert ledger(db, ev["id"]) == [] and count(db, mail_outbox.c.ref_id, ev["id"]) == 0
    monkeypatch.setattr(reminders, "notify", real)
    assert runner.scan(berlin(2031, 5, 6, 9, 55)).fired == 2
    assert smtp.deliver() == 2 and len(notifications(rep)) == 2


def test_a_reminder_due_while_the_worker_was_down_fires_once_marked_late_and_an_older_one_is_missed(
        as_user, db, smtp):
    rep = as_user("sales_rep")
    ev = ok(rep.post(EVENTS, json={"title": "Site visit", "starts_at": berlin(2031, 9, 1, 10).isoformat(),
                                   "tz": "Europe/Berlin", "location": "Acme plant, Lyon",
                                   "reminders": [{"minutes": 15}]}), 201)
    old = ok(rep.post(EVENTS, json={"title": "Old call", "starts_at": berlin(2031, 8, 30, 16).isoformat(),
                                    "tz": "Europe/Berlin", "reminders": [{"hours": 1}]}), 201)
    runner = runner_for(db, rep)
    assert runner.scan(berlin(2031, 8, 30, 12)).fired == 0  # the last scan before the outage
    back = runner.scan(berlin(2031, 9, 1, 12))  # two days later the worker starts again
    assert (back.fired, back.late, back.missed) == (1, 1, 1)
    assert runner.scan(berlin(2031, 9, 1, 12, 1)).fired == 0

    smtp.deliver()
    (_, msg), = smtp.messages
    assert msg["Subject"] == "Late reminder: Site visit, Mon 01 Sep 2031 10:00 Europe/Berlin"
    assert msg.get_content().startswith("This reminder is late: it was due Mon 01 Sep 2031 09:45")
    (note,) = notifications(rep)
    assert note["late"] and note["title"] == "Late: Site visit, Mon 01 Sep 2031 10:00 Europe/Berlin"
    (fired,) = ledger(db, ev["id"])
    assert fired.late and not fired.missed and fired.due_at == berlin(2031, 9, 1, 9, 45)
    (missed,) = ledger(db, old["id"])  # due 30 Aug 15:00, 45 hours before: past the 24-hour look-back
    assert missed.missed and count(db, mail_outbox.c.ref_id, old["id"]) == 0


def test_an_occurrence_that_began_before_its_reminder_existed_never_fires(as_user, db):
    rep = as_user("sales_rep")
    now = datetime.now(UTC).replace(microsecond=0)
    start = (now - timedelta(hours=30)).astimezone(BERLIN)
    ev = ok(rep.post(EVENTS, json={"title": "Daily standup", "starts_at": start.isoformat(), "tz": "Europe/Berlin",
                                   "rrule": "FREQ=DAILY", "transparency": "free",
                                   "reminders": [{"minutes": 15}]}), 201)
    runner = runner_for(db, rep)
    assert (runner.scan(now).fired, runner.scan(now).missed) == (0, 0)  # two occurrences began before: silence
    tomorrow = start + timedelta(days=2)
    assert runner.scan(tomorrow - timedelta(minutes=15)).fired == 1
    assert [f.occurrence for f in ledger(db, ev["id"])] == [tomorrow]


def test_a_moved_occurrence_fires_once_at_its_new_time_and_a_cancelled_one_not_at_all(as_user, db, smtp):
    rep = as_user("sales_rep")
    ev = series(rep, "Pipeline review", berlin(2031, 4, 7, 10))
    runner = runner_for(db, rep)

    def move(occurrence: datetime, to: datetime, version: int):
        return ok(rep.patch(f"{EVENTS}/{ev['id']}",
                            query_string={"scope": "this", "occurrence": occurrence.isoformat()},
                            json={"starts_at": to.isoformat(), "ends_at": (to + timedelta(hours=1)).isoformat()},
                            headers={"If-Match": f'"{version}"'}))

    # moved before its reminder: nothing at the old time, once at the new one
    move(berlin(2031, 4, 14, 10), berlin(2031, 4, 15, 14), 1)
    assert runner.scan(berlin(2031, 4, 14, 9, 50)).fired == 0
    assert [runner.scan(berlin(2031, 4, 15, 13, m)).fired for m in (44, 45, 50)] == [0, 1, 0]
    # moved after its reminder went out: re-armed for the new time, announced once more there
    assert runner.scan(berlin(2031, 4, 21, 9, 45)).fired == 1
    move(berlin(2031, 4, 21, 10), berlin(2031, 4, 21, 16), 2)
    assert [runner.scan(berlin(2031, 4, 21, h, m)).fired for h, m in ((9, 50), (15, 45), (15, 59))] == [0, 1, 0]
    # cancelled: nothing
    cancelled = berlin(2031, 4, 28, 10).isoformat()
    ok(rep.delete(f"{EVENTS}/{ev['id']}", query_string={"scope": "this", "occurrence": cancelled},
                  headers={"If-Match": '"3"'}), 204)
    assert runner.scan(berlin(2031, 4, 28, 9, 50)).fired == 0

    smtp.deliver()
    assert [m["Subject"].split(", ", 1)[1] for _, m in smtp.messages] == [
        "Tue 15 Apr 2031 14:00 Europe/Berlin", "Mon 21 Apr 2031 10:00 Europe/Berlin",
        "Mon 21 Apr 2031 16:00 Europe/Berlin"]
    assert [(f.occurrence, f.late) for f in ledger(db, ev["id"])] == [
        (berlin(2031, 4, 15, 14), False), (berlin(2031, 4, 21, 10), False), (berlin(2031, 4, 21, 16), False)]


def test_changing_the_series_time_rearms_and_an_edit_that_keeps_the_reminder_does_not_repeat_it(as_user, db, smtp):
    rep = as_user("sales_rep")
    ev = series(rep, "Forecast", berlin(2031, 6, 2, 10))
    runner = runner_for(db, rep)
    assert runner.scan(berlin(2031, 6, 2, 9, 45)).fired == 1
    # the same reminders sent again with a new title: the alarm already announced stays announced
    ok(rep.patch(f"{EVENTS}/{ev['id']}", json={"title": "Forecast call", "reminders": [{"minutes": 15}]},
                 headers={"If-Match": '"1"'}))
    assert runner.scan(berlin(2031, 6, 2, 9, 50)).fired == 0
    # this and the following meetings move to 11:00: the 9 June one reminds at 10:45, once
    ok(rep.patch(f"{EVENTS}/{ev['id']}", query_string={"scope": "following",
                                                       "occurrence": berlin(2031, 6, 9, 10).isoformat()},
                 json={"starts_at": berlin(2031, 6, 9, 11).isoformat(), "ends_at": berlin(2031, 6, 9, 12).isoformat()},
                 headers={"If-Match": '"2"'}))
    assert [runner.scan(berlin(2031, 6, 9, h, m)).fired for h, m in ((9, 45), (10, 45), (10, 50))] == [0, 1, 0]
    smtp.deliver()
    assert [m["Subject"] for _, m in smtp.messages] == [
        "Reminder: Forecast, Mon 02 Jun 2031 10:00 Europe/Berlin",
        "Reminder: Forecast call, Mon 09 Jun 2031 11:00 Europe/Berlin"]


def test_a_split_series_does_not_repeat_a_reminder_already_sent(as_user, db, smtp):
    rep = as_user("sales_rep")
    ev = series(rep, "Ops sync", berlin(2031, 7, 7, 10))
    runner = runner_for(db, rep)
    assert runner.scan(berlin(2031, 7, 14, 9, 46)).fired == 1
    # at 9:50 the rest of the series is renamed from this occurrence on: it is the same 10:00 meeting
    new = ok(rep.patch(f"{EVENTS}/{ev['id']}", query_string={"scope": "following",
                                                             "occurrence": berlin(2031, 7, 14, 10).isoformat()},
                       json={"title": "Ops sync (new format)"}, headers={"If-Match": '"1"'}))
    assert new["id"] != ev["id"]
    assert runner.scan(berlin(2031, 7, 14, 9, 51)).fired == 0
    assert runner.scan(berlin(2031, 7, 21, 9, 45)).fired == 1
    smtp.deliver()
    assert [m["Subject"] for _, m in smtp.messages] == [
        "Reminder: Ops sync, Mon 14 Jul 2031 10:00 Europe/Berlin",
        "Reminder: Ops sync (new format), Mon 21 Jul 2031 10:00 Europe/Berlin"]


def test_an_attendee_who_declined_gets_no_reminder_and_one_who_accepted_does(as_user, db, smtp):
    rep, colleague, manager, former = (as_user("sales_rep") for _ in range(4))
    attendees = [{"user_id": u.user["id"]} for u in (colleague, manager, former)]
    ev = ok(rep.post(EVENTS, json={
        "title": "Customer workshop", "starts_at": berlin(2031, 10, 6, 14).isoformat(), "tz": "Europe/Berlin",
        "attendees": attendees,
        "reminders": [{"minutes": 30}, {"minutes": 30, "user_id": colleague.user["id"]},
                      {"hours": 1, "user_id": manager.user["id"]}, {"hours": 2, "user_id": former.user["id"]}]}), 201)
    ok(colleague.post(f"{EVENTS}/{ev['id']}/respond", json={"status": "declined"}))
    ok(manager.post(f"{EVENTS}/{ev['id']}/respond", json={"status": "accepted"}))
    # the organiser takes `former` off the invitation: their reminder stays on the event but goes nowhere
    ok(rep.patch(f"{EVENTS}/{ev['id']}", json={"attendees": attendees[:2]}, headers={"If-Match": '"1"'}))
    runner = runner_for(db, rep)
    assert runner.scan(berlin(2031, 10, 6, 13, 30)).fired == 2
    assert runner.scan(berlin(2031, 10, 6, 14)).fired == 0
    smtp.deliver()
    assert sorted(r for recipients, _ in smtp.messages for r in recipients) == sorted(
        [rep.user["email"], manager.user["email"]])
    assert notifications(colleague, state="all") == [] and notifications(former, state="all") == []
    assert len(notifications(rep)) == 1 and len(notifications(manager)) == 1


def test_reminders_of_a_deleted_event_stop(as_user, db):
    rep = as_user("sales_rep")
    ev = series(rep, "Cancelled project", berlin(2031, 11, 3, 10))
    runner = runner_for(db, rep)
    assert runner.scan(berlin(2031, 11, 3, 9, 45)).fired == 1
    ok(rep.delete(f"{EVENTS}/{ev['id']}", headers={"If-Match": '"1"'}), 204)
    assert runner.scan(berlin(2031, 11, 10, 9, 45)).fired == 0
    assert count(db, Notification.ref_id, ev["id"]) == 1 and count(db, mail_outbox.c.ref_id, ev["id"]) == 1


def test_a_scan_reads_only_the_window_not_the_whole_series(as_user, db, monkeypatch):
    """A daily series that has run for twenty years and goes on forever costs a scan what two days cost; coming
    back after a long stop, the worker announces the last day late and records the day before as missed."""
    rep = as_user("sales_rep")
    ev = ok(rep.post(EVENTS, json={"title": "Daily check", "starts_at": berlin(2011, 1, 3, 8).isoformat(),
                                   "tz": "Europe/Berlin", "rrule": "FREQ=DAILY", "transparency": "free",
                                   "reminders": [{"minutes": 5}]}), 201)
    runner = runner_for(db, rep)
    expanded = []
    real = reminders.expand

    def counting(session, events, start, end):
        found = real(session, events, start, end)
        expanded.append((end - start, len(found)))
        return found
    monkeypatch.setattr(reminders, "expand", counting)
    result = runner.scan(berlin(2031, 1, 6, 7, 55))
    (span, found), = expanded
    assert span <= timedelta(hours=48, minutes=6) and found == 3
    assert (result.fired, result.late, result.missed) == (2, 1, 1)
    assert [(f.occurrence, f.late, f.missed) for f in ledger(db, ev["id"])] == [
        (berlin(2031, 1, 4, 8), False, True), (berlin(2031, 1, 5, 8), True, False),
        (berlin(2031, 1, 6, 8), False, False)]


OUTLOOK = Path(__file__).resolve().parents[3] / "tests" / "support" / "outlook.ics"


def upload(client, data: bytes):
    body = (b"--b0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"calendar.ics\"\r\n"
            b"Content-Type: text/calendar\r\n\r\n" + data + b"\r\n--b0und--\r\n")
    return client.post("/api/v1/agenda/import", input_stream=io.BytesIO(body), content_length=len(body),
                       content_type="multipart/form-data; boundary=b0und")


def test_an_imported_outlook_series_reminds_by_its_valarm_and_a_changed_reimport_does_not_repeat_it(as_user, db,
                                                                                                      smtp):
    rep = as_user("sales_rep")
    report = ok(upload(rep, OUTLOOK.read_bytes()))  # weekly Mondays 10:00, 17 March excluded, 24th moved, -PT15M
    runner = runner_for(db, rep)
    assert runner.scan(berlin(2031, 3, 3, 9, 45)).fired == 1
    changed = OUTLOOK.read_text().replace("LOCATION:Room 4", "LOCATION:Room 5")
    assert ok(upload(rep, changed.encode()))["updated"] == 1
    assert runner.scan(berlin(2031, 3, 3, 9, 50)).fired == 0  # already announced before the re-import
    assert [runner.scan(when).fired for when in (berlin(2031, 3, 10, 9, 45), berlin(2031, 3, 17, 9, 45),
                                                 berlin(2031, 3, 24, 9, 45), berlin(2031, 3, 25, 13, 45))] == [
        1, 0, 0, 1]
    smtp.deliver()
    assert [m["Subject"] for _, m in smtp.messages] == [
        "Reminder: Status call, Mon 03 Mar 2031 10:00 Europe/Berlin",
        "Reminder: Status call, Mon 10 Mar 2031 10:00 Europe/Berlin",
        "Reminder: Status call (moved), Tue 25 Mar 2031 14:00 Europe/Berlin"]
    assert "Where: Room 5" in smtp.messages[1][1].get_content()
    assert {n["ref_id"] for n in notifications(rep)} == set(report["event_ids"])
