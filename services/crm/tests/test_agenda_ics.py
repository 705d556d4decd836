"""The agenda with other calendars: what a salesperson exports or subscribes to is a true RFC 5545 calendar (read
back by icalendar and by khal, an independent client), and a file exported by Outlook imports without losing an
occurrence, idempotently, all or nothing."""

import io
import os
import shutil
import subprocess
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from crm.db import mail_outbox
from icalendar import Calendar
from servicekit.mail_outbox import Mailer, MailSender
from servicekit.testing import assert_problem

from tests.support.smtp import Inbox, start_server

pytestmark = pytest.mark.db

EVENTS = "/api/v1/agenda/events"
BERLIN = ZoneInfo("Europe/Berlin")
OUTLOOK = Path(__file__).resolve().parents[3] / "tests" / "support" / "outlook.ics"


def ok(r, status=200):
    assert r.status_code == status, r.get_data(as_text=True)[:500]
    return r.json


def berlin(*args) -> str:
    return datetime(*args, tzinfo=BERLIN).isoformat()


def occurrences(client, start, end, **query):
    found = ok(client.get("/api/v1/agenda/occurrences", query_string={"start": start, "end": end, **query}))
    return [(datetime.fromisoformat(o["starts_at"]).astimezone(BERLIN).strftime("%m-%d %H:%M"), o["title"])
            for o in found]


def upload(client, data: bytes):
    """A browser's multipart upload, built here (werkzeug's builder spools big bodies to a file it never closes)."""
    body = (b"--b0und\r\nContent-Disposition: form-data; name=\"file\"; filename=\"calendar.ics\"\r\n"
            b"Content-Type: text/calendar\r\n\r\n" + data + b"\r\n--b0und--\r\n")
    return client.post("/api/v1/agenda/import", input_stream=io.BytesIO(body), content_length=len(body),
                       content_type="multipart/form-data; boundary=b0und")


@pytest.fixture
def series(as_user):
    """A weekly customer meeting in Berlin: one occurrence moved, one cancelled, a 15-minute reminder."""
    rep = as_user("sales_rep")
    tag = uuid.uuid4().hex[:6]
    contact = ok(rep.post("/api/v1/parties", json={"kind": "person", "first_name": "Ada", "last_name": f"L{tag}",
                                                   "emails": [{"value": f"ada-{tag}@customer.test"}]}), 201)
    ev = ok(rep.post(EVENTS, json={
        "title": "Weekly sync", "starts_at": berlin(2031, 3, 3, 10), "ends_at": berlin(2031, 3, 3, 11),
        "tz": "Europe/Berlin", "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=8", "location": "Customer office",
        "attendees": [{"party_id": contact["id"]}], "reminders": [{"minutes": 15}]}), 201)
    ok(rep.patch(EVENTS + f"/{ev['id']}", query_string={"scope": "this", "occurrence": berlin(2031, 3, 17, 10)},
                 json={"starts_at": berlin(2031, 3, 18, 14), "title": "Weekly sync (Tuesday)"},
                 headers={"If-Match": '"1"'}))
    assert rep.delete(EVENTS + f"/{ev['id']}", query_string={"scope": "this", "occurrence": berlin(2031, 3, 24, 10)},
                      headers={"If-Match": '"2"'}).status_code == 204
    return rep, ev, contact


def test_an_exported_series_is_a_master_with_its_overrides_exdates_alarm_and_attendee(series):
    rep, ev, contact = series
    r = rep.get(EVENTS + f"/{ev['id']}/ics")
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    cal = Calendar.from_ical(r.data)
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/Berlin"]
    vevents = cal.walk("VEVENT")
    master = next(v for v in vevents if "RECURRENCE-ID" not in v)
    moved = [v for v in vevents if "RECURRENCE-ID" in v]
    assert master["UID"] == ev["uid"] and master["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=8;BYDAY=MO"
    assert master["DTSTART"].dt == datetime(2031, 3, 3, 10, tzinfo=BERLIN)
    assert master["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert [d.dt for d in master["EXDATE"].dts] == [datetime(2031, 3, 24, 10, tzinfo=BERLIN)]
    assert [a["TRIGGER"].to_ical() for a in master.walk("VALARM")] == [b"-PT15M"]
    assert str(master["ATTENDEE"]) == f"mailto:{contact['emails'][0]['value']}"
    assert str(master["ORGANIZER"]) == f"mailto:{rep.user['email']}"
    assert len(moved) == 1 and moved[0]["RECURRENCE-ID"].dt == datetime(2031, 3, 17, 10, tzinfo=BERLIN)
    assert moved[0]["DTSTART"].dt == datetime(2031, 3, 18, 14, tzinfo=BERLIN)
    assert str(moved[0]["SUMMARY"]) == "Weekly sync (Tuesday)"


def test_a_feed_url_serves_the_agenda_until_it_is_revoked_and_never_says_why_not(series, anonymous):
    rep, ev, _ = series
    assert ok(rep.get("/api/v1/agenda/feed")) == {"active": False, "created_at": None, "url": None,
                                                  "webcal_url": None}
    made = ok(rep.post("/api/v1/agenda/feed"), 201)
    assert made["webcal_url"].startswith("webcal://") and made["url"].endswith(".ics")
    path = "/" + made["url"].split("/", 3)[3]
    r = anonymous.get(path, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert r.status_code == 200 and r.mimetype == "text/calendar"
    cal = Calendar.from_ical(r.data)
    assert str(cal["NAME"]).startswith("CRM") and cal["REFRESH-INTERVAL"].dt.total_seconds() == 900
    assert str(cal["X-PUBLISHED-TTL"]) == "PT15M"
    assert ev["uid"] in {str(v["UID"]) for v in cal.walk("VEVENT")}
    assert ok(rep.get("/api/v1/agenda/feed"))["active"] is True

    again = ok(rep.post("/api/v1/agenda/feed"), 201)  # rotating: the old URL is dead at once
    forged = path.replace(path.rsplit("/", 1)[1][:8], "AAAAAAAA")
    for dead in (path, forged, "/api/v1/public/agenda/feeds/x.ics"):
        gone = assert_problem(anonymous.get(dead, environ_base={"REMOTE_ADDR": "198.51.100.7"}), 404)
        assert ev["uid"] not in str(gone)
    new_path = "/" + again["url"].split("/", 3)[3]
    assert anonymous.get(new_path, environ_base={"REMOTE_ADDR": "198.51.100.7"}).status_code == 200
    assert rep.delete("/api/v1/agenda/feed").status_code == 204
    assert_problem(anonymous.get(new_path, environ_base={"REMOTE_ADDR": "198.51.100.7"}), 404)


def test_the_public_feed_is_rate_limited_per_address_whatever_the_token(anonymous):
    address = f"203.0.113.{uuid.uuid4().int % 250}"
    statuses = [anonymous.get(f"/api/v1/public/agenda/feeds/{uuid.uuid4().hex}.ics",
                              environ_base={"REMOTE_ADDR": address}).status_code for _ in range(21)]
    assert statuses[:20] == [404] * 20
    limited = assert_problem(anonymous.get("/api/v1/public/agenda/feeds/x.ics",
                                           environ_base={"REMOTE_ADDR": address}), 429)
    assert statuses[20] == 429 and limited


def test_an_outlook_file_imports_with_its_windows_zone_exdate_and_moved_occurrence_idempotently(as_user):
    rep = as_user("sales_rep")
    data = OUTLOOK.read_bytes()
    report = ok(upload(rep, data))
    assert (report["created"], report["updated"], report["unchanged"], report["overrides"]) == (1, 0, 0, 1)
    found = occurrences(rep, berlin(2031, 3, 1), berlin(2031, 5, 12))
    assert found == [("03-03 10:00", "Status call"), ("03-10 10:00", "Status call"),
                     ("03-25 14:00", "Status call (moved)"), ("03-31 10:00", "Status call"),
                     ("04-07 10:00", "Status call"), ("04-14 10:00", "Status call"), ("04-21 10:00", "Status call"),
                     ("04-28 10:00", "Status call"), ("05-05 10:00", "Status call")]
    event = ok(rep.get(EVENTS + f"/{report['event_ids'][0]}"))
    assert event["tz"] == "Europe/Berlin" and event["reminders"][0]["minutes_before"] == 15

    again = ok(upload(rep, data))  # the same file again changes nothing
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
    assert ok(rep.get(EVENTS + f"/{report['event_ids'][0]}"))["version"] == event["version"]

    exported = rep.get(EVENTS + f"/{event['id']}/ics").data
    assert b"X-MICROSOFT-CDO-BUSYSTATUS:BUSY" in exported and b"PRIORITY:5" in exported  # kept verbatim
    colleague = as_user("sales_rep")  # the export, imported elsewhere, gives the same occurrences
    ok(upload(colleague, exported))
    assert occurrences(colleague, berlin(2031, 3, 1), berlin(2031, 5, 12)) == found


def test_bad_files_name_the_line_and_import_nothing(as_user):
    rep = as_user("sales_rep")
    assert_problem(upload(rep, b"Name,Email\nAda,ada@x.test\n"), 422, "line 1")
    good = OUTLOOK.read_text().replace("Status call", "Good one").replace("F3D2C1B0A9", "0000000000")
    bad_rule = OUTLOOK.read_text().replace("RRULE:FREQ=WEEKLY;COUNT=10;BYDAY=MO", "RRULE:FREQ=SOMETIMES")
    problem = assert_problem(upload(rep, bad_rule.encode()), 422)
    assert problem["errors"][0]["field"] == "line 21"
    not_an_occurrence = good.replace("RECURRENCE-ID;TZID=\"W. Europe Standard Time\":20310324T100000",
                                     "RECURRENCE-ID;TZID=\"W. Europe Standard Time\":20310324T103000")
    problem = assert_problem(upload(rep, not_an_occurrence.encode()), 422)
    assert problem["errors"][0]["field"] == "line 46" and "RECURRENCE-ID" in problem["errors"][0]["message"]
    assert occurrences(rep, berlin(2031, 3, 1), berlin(2031, 5, 12)) == []  # all or nothing
    too_big = b"BEGIN:VCALENDAR\r\n" + b"X-PAD:" + b"x" * (10 * 1024 * 1024) + b"\r\nEND:VCALENDAR\r\n"
    assert_problem(upload(rep, too_big), 413)
    assert_problem(upload(rep, b"\xff\xfe\x00garbage"), 422)
    assert occurrences(rep, berlin(2031, 3, 1), berlin(2031, 5, 12)) == []


def test_khal_lists_the_same_occurrences_as_the_api(series, tmp_path):
    """khal (Debian's CLI calendar, its own parser and expansion) reads our export of the window."""
    rep, _, contact = series
    assert shutil.which("khal"), "khal is installed by deploy/local/bootstrap.sh"
    window = {"start": berlin(2031, 3, 1), "end": berlin(2031, 5, 1), "party_id": contact["id"]}
    exported = rep.get("/api/v1/agenda/calendar.ics", query_string=window)
    assert exported.status_code == 200
    vdir = tmp_path / "cal"
    vdir.mkdir()
    (vdir / "agenda.ics").write_bytes(exported.data)
    config = tmp_path / "khal.conf"
    config.write_text(f"[calendars]\n[[crm]]\npath = {vdir}\ntype = calendar\n[locale]\ntimeformat = %H:%M\n"
                      "dateformat = %Y-%m-%d\nlongdateformat = %Y-%m-%d\ndatetimeformat = %Y-%m-%d %H:%M\n"
                      "longdatetimeformat = %Y-%m-%d %H:%M\ndefault_timezone = Europe/Berlin\n"
                      "local_timezone = Europe/Berlin\n[default]\ndefault_calendar = crm\n")
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
           "TZ": "Europe/Berlin"}
    listed = subprocess.run(["khal", "-c", str(config), "list", "--format", "{start} {title}", "--day-format", "",
                             "2031-03-01", "2031-04-30"], capture_output=True, text=True, env=env, timeout=60)
    assert listed.returncode == 0, listed.stderr
    khal = sorted(line.strip() for line in listed.stdout.splitlines() if line.strip())
    ours = sorted(f"{datetime.fromisoformat(o['starts_at']).astimezone(BERLIN):%Y-%m-%d %H:%M} {o['title']}"
                  for o in ok(rep.get("/api/v1/agenda/occurrences", query_string=window)))
    assert ours and khal == ours
    assert date(2031, 3, 24).isoformat() not in " ".join(khal)  # the cancelled one stays cancelled


@pytest.fixture
def smtp(app, monkeypatch, db):
    """A real SMTP server (aiosmtpd); .deliver() sends what was queued since the test began, as the worker does."""
    inbox = Inbox()
    controller = start_server(inbox)
    mailer = Mailer("127.0.0.1", controller.port, "CRM <agenda@northwind.test>")
    monkeypatch.setitem(app.extensions, "crm.agenda.mailer", mailer)
    inbox.deliver = MailSender(db.engine, mail_outbox, mailer.transport(),
                               scope=mail_outbox.c.created_at >= datetime.now(UTC)).send_due
    yield inbox
    controller.stop()


def _invite(msg) -> Calendar:
    (part,) = [p for p in msg.walk() if p.get_content_type() == "text/calendar"]
    assert part.get_param("method") in ("REQUEST", "CANCEL")
    return Calendar.from_ical(part.get_content())


def test_customer_contacts_get_an_imip_request_on_booking_and_change_and_a_cancel_on_deletion(as_user, smtp):
    rep = as_user("sales_rep")
    tag = uuid.uuid4().hex[:6]
    contact = ok(rep.post("/api/v1/parties", json={"kind": "person", "first_name": "Grace", "last_name": f"H{tag}",
                                                   "emails": [{"value": f"grace-{tag}@customer.test"}]}), 201)
    ev = ok(rep.post(EVENTS, json={"title": "Kick-off", "starts_at": berlin(2031, 9, 1, 10),
                                   "ends_at": berlin(2031, 9, 1, 11), "tz": "Europe/Berlin",
                                   "attendees": [{"party_id": contact["id"]}]}), 201)
    assert smtp.deliver() == 1
    (to, first), = smtp.messages
    assert to == [contact["emails"][0]["value"]] and first["Reply-To"] == rep.user["email"]
    cal = _invite(first)
    (vevent,) = cal.walk("VEVENT")
    assert str(cal["METHOD"]) == "REQUEST" and vevent["UID"] == ev["uid"] and vevent["SEQUENCE"] == 0
    assert vevent["DTSTART"].dt == datetime(2031, 9, 1, 10, tzinfo=BERLIN)
    assert vevent["ATTENDEE"].params["RSVP"] == "TRUE"

    moved = ok(rep.patch(EVENTS + f"/{ev['id']}", json={"starts_at": berlin(2031, 9, 2, 9),
                                                        "ends_at": berlin(2031, 9, 2, 10)},
                         headers={"If-Match": '"1"'}))
    assert smtp.deliver() == 1
    (vevent,) = _invite(smtp.messages[-1][1]).walk("VEVENT")
    assert vevent["SEQUENCE"] == 1 and vevent["DTSTART"].dt == datetime(2031, 9, 2, 9, tzinfo=BERLIN)

    refused = rep.patch(EVENTS + f"/{ev['id']}", json={"title": ""}, headers={"If-Match": f'"{moved["version"]}"'})
    assert refused.status_code == 422 and smtp.deliver() == 0  # a refused change mails nothing

    assert rep.delete(EVENTS + f"/{ev['id']}", headers={"If-Match": f'"{moved["version"]}"'}).status_code == 204
    assert smtp.deliver() == 1
    cancel = _invite(smtp.messages[-1][1])
    (vevent,) = cancel.walk("VEVENT")
    assert str(cancel["METHOD"]) == "CANCEL" and vevent["UID"] == ev["uid"] and vevent["SEQUENCE"] == 2
    assert len(smtp.messages) == 3
