"""Two-way sync with a real CalDAV server (Radicale, started here): a salesperson links a calendar, and creating,
editing one occurrence, splitting a series and deleting on either side shows on the other; an edit on both sides
keeps the later one and the other in the event's history."""

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import requests
from crm.agenda.models import CalDavLink
from crm.db import audit_log
from icalendar import Calendar, Event
from servicekit.testing import assert_problem
from sqlalchemy import select

from tests.support.radicale import start_radicale

pytestmark = pytest.mark.db

EVENTS = "/api/v1/agenda/events"
LINKS = "/api/v1/agenda/caldav-links"
BERLIN = ZoneInfo("Europe/Berlin")


def ok(r, status=200):
    assert r.status_code == status, r.get_data(as_text=True)[:500]
    return r.json


def berlin(*args) -> str:
    return datetime(*args, tzinfo=BERLIN).isoformat()


@pytest.fixture
def radicale(tmp_path):
    server = start_radicale(tmp_path / "radicale")
    yield server
    server.stop()


class Remote:
    """The calendar as another client sees it: plain HTTP to the server, icalendar to read and write."""

    def __init__(self, server, name: str):
        self.url = server.calendar_url(name)
        parts = urlsplit(self.url)
        self.base, self.path = f"{parts.scheme}://{parts.netloc}", parts.path
        self.http = requests.Session()
        self.http.auth = (server.user, server.password)
        r = self.http.request("MKCALENDAR", self.url)
        assert r.status_code == 201, r.text

    def objects(self) -> dict[str, tuple[str, Calendar]]:
        """href -> (etag, calendar) of every object, by PROPFIND and GET."""
        r = self.http.request("PROPFIND", self.url, headers={"Depth": "1"})
        assert r.status_code == 207
        hrefs = sorted({part.split("</", 1)[0] for part in r.text.split("href>")[1:]
                        if part.split("</", 1)[0].endswith(".ics")})
        out = {}
        for href in hrefs:
            got = self.http.get(self.base + href)
            out[href] = (got.headers["ETag"], Calendar.from_ical(got.content))
        return out

    def by_title(self) -> dict[str, tuple[str, str, Calendar]]:
        found = {}
        for href, (etag, cal) in self.objects().items():
            master = next(v for v in cal.walk("VEVENT") if "RECURRENCE-ID" not in v)
            found[str(master["SUMMARY"])] = (href, etag, cal)
        return found

    def put(self, href: str, cal: Calendar, etag: str | None = None):
        r = self.http.put(self.base + href, data=cal.to_ical(),
                          headers={"Content-Type": "text/calendar", **({"If-Match": etag} if etag else {})})
        assert r.status_code in (201, 204), r.text

    def delete(self, href: str):
        assert self.http.delete(self.base + href).status_code in (200, 204)


def occurrences(client, start, end):
    found = ok(client.get("/api/v1/agenda/occurrences", query_string={"start": start, "end": end}))
    return [(datetime.fromisoformat(o["starts_at"]).astimezone(BERLIN).strftime("%m-%d %H:%M"), o["title"])
            for o in found]


def sync(client, link) -> dict:
    return ok(client.post(f"{LINKS}/{link['id']}/sync"))["report"]


def test_two_way_sync_with_a_real_caldav_server(app, monkeypatch, as_user, radicale, db):
    rep = as_user("sales_rep")
    assert_problem(rep.post(LINKS, json={"url": radicale.url + "ada/x/", "password": "p"}), 422, "url")  # loopback
    monkeypatch.setitem(app.config, "CRM_CALDAV_ALLOW_PRIVATE", True)  # a test server on 127.0.0.1
    remote = Remote(radicale, f"work-{uuid.uuid4().hex[:6]}")
    series = ok(rep.post(EVENTS, json={"title": "Weekly sync", "starts_at": berlin(2031, 3, 3, 10),
                                       "ends_at": berlin(2031, 3, 3, 11), "tz": "Europe/Berlin",
                                       "rrule": "FREQ=WEEKLY;BYDAY=MO;COUNT=10"}), 201)

    wrong = ok(rep.post(LINKS, json={"url": remote.url, "username": radicale.user, "password": "wrong"}), 201)
    failed = ok(rep.post(f"{LINKS}/{wrong['id']}/sync"))
    assert failed["status"] == "failing" and "401" in failed["last_error"] and remote.objects() == {}
    assert rep.delete(f"{LINKS}/{wrong['id']}").status_code == 204
    link = ok(rep.post(LINKS, json={"url": remote.url, "username": radicale.user, "password": radicale.password}),
              201)
    assert "password" not in link
    assert_problem(rep.post(LINKS, json={"url": remote.url, "password": "x"}), 409)

    # CRM → server: the series is one object with its rule
    assert sync(rep, link)["pushed"] == 1
    (href, etag, cal), = remote.by_title().values()
    master = cal.walk("VEVENT")[0]
    assert master["UID"] == series["uid"] and master["RRULE"].to_ical() == b"FREQ=WEEKLY;COUNT=10;BYDAY=MO"
    assert master["DTSTART"].dt == datetime(2031, 3, 3, 10, tzinfo=BERLIN)

    # server → CRM: another client moves one occurrence
    moved = Event()
    for key in ("UID", "SUMMARY"):
        moved.add(key.lower(), master[key])
    moved.add("recurrence-id", datetime(2031, 3, 17, 10, tzinfo=BERLIN))
    moved.add("dtstart", datetime(2031, 3, 17, 15, tzinfo=BERLIN))
    moved.add("dtend", datetime(2031, 3, 17, 16, tzinfo=BERLIN))
    moved.add("dtstamp", datetime.now(UTC))
    cal.add_component(moved)
    remote.put(href, cal, etag)
    report = sync(rep, link)
    assert (report["pulled"], report["pushed"]) == (1, 0)
    assert occurrences(rep, berlin(2031, 3, 1), berlin(2031, 3, 25)) == [
        ("03-03 10:00", "Weekly sync"), ("03-10 10:00", "Weekly sync"), ("03-17 15:00", "Weekly sync"),
        ("03-24 10:00", "Weekly sync")]

    # CRM: this and the following occurrences change → the server has two series, the old one ending
    now = ok(rep.get(EVENTS + f"/{series['id']}"))
    following = {"scope": "following", "occurrence": berlin(2031, 3, 31, 10)}
    ok(rep.patch(EVENTS + f"/{series['id']}", query_string=following,
                 json={"title": "Weekly sync (new slot)", "starts_at": berlin(2031, 3, 31, 9),
                       "ends_at": berlin(2031, 3, 31, 10)}, headers={"If-Match": f'"{now["version"]}"'}))
    assert sync(rep, link)["pushed"] == 2
    there = remote.by_title()
    assert set(there) == {"Weekly sync", "Weekly sync (new slot)"}
    old_rule = there["Weekly sync"][2].walk("VEVENT")[0]["RRULE"]
    assert old_rule["UNTIL"][0] < datetime(2031, 3, 31, 8, tzinfo=UTC) and "COUNT" not in old_rule
    assert there["Weekly sync (new slot)"][2].walk("VEVENT")[0]["RRULE"]["COUNT"] == [6]

    # server: a new appointment, then the new series deleted there
    lunch = Calendar()
    lunch.add("prodid", "-//test//EN")
    lunch.add("version", "2.0")
    event = Event()
    event.add("uid", f"lunch-{uuid.uuid4().hex}@phone")
    event.add("summary", "Lunch with Ada")
    event.add("dtstart", datetime(2031, 3, 5, 12, tzinfo=BERLIN))
    event.add("dtend", datetime(2031, 3, 5, 13, tzinfo=BERLIN))
    event.add("dtstamp", datetime.now(UTC))
    lunch.add_component(event)
    lunch.add_missing_timezones()
    remote.put(remote.path + "lunch.ics", lunch)
    remote.delete(there["Weekly sync (new slot)"][0])
    report = sync(rep, link)
    assert (report["pulled"], report["deleted_here"]) == (1, 1)
    assert occurrences(rep, berlin(2031, 3, 30), berlin(2031, 4, 8)) == []
    assert ("03-05 12:00", "Lunch with Ada") in occurrences(rep, berlin(2031, 3, 1), berlin(2031, 3, 8))

    # CRM deletes the lunch → gone there
    (lunch_ev,) = [o for o in ok(rep.get("/api/v1/agenda/occurrences", query_string={
        "start": berlin(2031, 3, 5), "end": berlin(2031, 3, 6)})) if o["title"] == "Lunch with Ada"]
    assert rep.delete(EVENTS + f"/{lunch_ev['event_id']}", headers={"If-Match": '"1"'}).status_code == 204
    assert sync(rep, link)["deleted_there"] == 1
    assert set(remote.by_title()) == {"Weekly sync"}

    # both sides edit the series: the later edit wins, the other stays in the history
    href, etag, cal = remote.by_title()["Weekly sync"]
    now = ok(rep.get(EVENTS + f"/{series['id']}"))
    ok(rep.patch(EVENTS + f"/{series['id']}", json={"location": "Room 1 (CRM)"},
                 headers={"If-Match": f'"{now["version"]}"'}))
    master = cal.walk("VEVENT")[0]
    master["LOCATION"] = "Room 2 (phone)"
    master.pop("LAST-MODIFIED", None)
    master.add("last-modified", datetime.now(UTC) + timedelta(minutes=5))
    remote.put(href, cal, etag)
    assert sync(rep, link)["conflicts"] == 1
    assert ok(rep.get(EVENTS + f"/{series['id']}"))["location"] == "Room 2 (phone)"
    with db.sessions() as s:
        lost = s.execute(select(audit_log.c.changes).where(audit_log.c.entity_id == series["id"],
                                                           audit_log.c.action == "caldav_conflict")).scalar_one()
    assert lost["location"] == {"before": "Room 1 (CRM)", "after": "Room 2 (phone)"}  # the loser, kept

    # nothing left to move: a sync changes nothing on either side
    before = remote.objects()
    assert sync(rep, link) == {"pulled": 0, "deleted_here": 0, "pushed": 0, "deleted_there": 0, "conflicts": 0,
                               "skipped": 0}
    assert {h: e for h, (e, _) in remote.objects().items()} == {h: e for h, (e, _) in before.items()}


def test_a_link_keeps_the_password_encrypted_and_refuses_bad_urls(as_user, db):
    rep = as_user("sales_rep")
    assert_problem(rep.post(LINKS, json={"url": "ftp://example.test/cal/", "password": "x"}), 422, "url")
    for inside in ("http://10.1.2.3/dav/", "http://169.254.169.254/latest/", "http://[::1]:5232/ada/"):
        assert_problem(rep.post(LINKS, json={"url": inside, "password": "x"}), 422, "url")
    assert_problem(rep.post(LINKS, json={"url": "https://no-such-host.invalid/dav/"}), 422, "url")
    link = ok(rep.post(LINKS, json={"url": "https://8.8.8.8/ada/work", "username": "ada",
                                    "password": "hunter2-very-secret"}), 201)
    assert link["url"] == "https://8.8.8.8/ada/work/"
    with db.sessions() as s:
        stored = s.get(CalDavLink, link["id"]).secret
    assert "hunter2" not in stored and len(stored) > 40
    other = as_user("sales_rep")
    assert_problem(other.post(f"{LINKS}/{link['id']}/sync"), 404)
    assert_problem(other.delete(f"{LINKS}/{link['id']}"), 404)
    assert [x["id"] for x in ok(rep.get(LINKS))] == [link["id"]]


def test_credentials_beyond_latin_1_reach_the_server_and_a_refusal_is_reported(app, monkeypatch, as_user, radicale):
    """schemathesis found a 500 when the user name was not latin-1: they are sent as UTF-8 (RFC 7617)."""
    monkeypatch.setitem(app.config, "CRM_CALDAV_ALLOW_PRIVATE", True)  # a test server on 127.0.0.1
    rep = as_user("sales_rep")
    remote = Remote(radicale, f"intl-{uuid.uuid4().hex[:6]}")
    link = ok(rep.post(LINKS, json={"url": remote.url, "username": "jörg✓", "password": "pässwörd✓"}), 201)
    report = sync(rep, link)
    assert "401" in report["error"]
    assert ok(rep.get(LINKS))[0]["status"] == "failing"
