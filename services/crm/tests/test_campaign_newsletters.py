"""A marketer starts a newsletter on a weekly schedule; the worker makes each occurrence into one campaign (an
issue) exactly once even with two workers at it, takes its audience when it sends, skips what falls in a pause,
and the figures show each issue and the whole series."""

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from crm.campaigns import newsletters
from crm.campaigns.models import Campaign, Newsletter
from sqlalchemy import func, select, update

from tests.support.campaigns import run

pytestmark = pytest.mark.db


def uid() -> str:
    return uuid.uuid4().hex[:10]


def ok(r, status=200):
    assert r.status_code == status, r.json
    return r.json


@pytest.fixture
def send(sender):
    """Send the given campaigns as the worker does, through the test's SMTP server; how many were sent."""
    return lambda *campaign_ids: run(sender(*campaign_ids))


@pytest.fixture
def marketer(as_user):
    return as_user("marketing")


def a_list(marketer, tag: str, *emails: str) -> dict:
    lst = ok(marketer.post("/api/v1/campaigns/lists", json={"name": f"Weekly {tag}"}), 201)
    add(marketer, lst, *emails)
    return lst


def add(marketer, lst, *emails: str) -> None:
    rows = "\n".join(emails)
    ok(marketer.post(f"/api/v1/campaigns/lists/{lst['id']}/import", json={"csv": f"email\n{rows}\n",
                                                                          "source": "test"}))


def newsletter(marketer, tag: str, lst: dict, **body) -> dict:
    body = {"name": f"Weekly {tag}", "subject": "This week at Northwind", "list_id": lst["id"],
            "html_body": "<p>Hello {{ recipient.email }}</p>", "rrule": "FREQ=WEEKLY;BYDAY=MO",
            "timezone": "Europe/Paris", "first_issue_at": "2027-03-22T09:00:00+01:00", **body}
    return ok(marketer.post("/api/v1/campaigns/newsletters", json=body), 201)


def time_comes(db, n: dict) -> None:
    """Its next occurrence is now (as if the clock had reached it)."""
    with db.sessions.begin() as s:
        s.execute(update(Newsletter).where(Newsletter.id == n["id"])
                  .values(next_issue_at=datetime.now(UTC) - timedelta(seconds=1)))


def issue(db, n: dict) -> int:
    with db.sessions.begin() as s:
        return newsletters.issue_due(s, newsletter_ids=[n["id"]])


def test_a_weekly_newsletter_keeps_its_local_time_across_daylight_saving_and_bad_schedules_are_refused(marketer):
    tag = uid()
    lst = a_list(marketer, tag, f"a-{tag}@example.com")
    n = newsletter(marketer, tag, lst)
    assert n["status"] == "active" and n["rrule"] == "FREQ=WEEKLY;BYDAY=MO"
    # 09:00 in Paris: 08:00 UTC in winter, 07:00 UTC once the clocks have gone forward (28 March 2027)
    assert n["upcoming"] == ["2027-03-22T08:00:00+00:00", "2027-03-29T07:00:00+00:00", "2027-04-05T07:00:00+00:00"]
    assert n["next_issue_at"] == "2027-03-22T08:00:00+00:00"

    for field, value, why in (("rrule", "FREQ=HOURLY", "at most daily"), ("rrule", "FREQ=WEEKLY;BYDAY=XX", "RRULE"),
                              ("rrule", "DTSTART:20270101T000000\nRRULE:FREQ=DAILY", "no DTSTART"),
                              ("timezone", "Mars/Olympus_Mons", "time zone"),
                              ("html_body", "<p>{{ recipient.shoe_size }}</p>", "shoe_size")):
        r = marketer.post("/api/v1/campaigns/newsletters", json={
            "name": f"Bad {uid()}", "subject": "x", "list_id": lst["id"], "html_body": "<p>x</p>",
            "rrule": "FREQ=DAILY", "timezone": "UTC", "first_issue_at": "2027-01-01T09:00:00Z", field: value})
        assert r.status_code == 422 and r.headers["Content-Type"] == "application/problem+json", (field, r.json)
        assert any(e["field"] == field and why in e["message"] for e in r.json["errors"]), r.json
    names = [x["name"] for x in ok(marketer.get("/api/v1/campaigns/newsletters"))]
    assert names.count(f"Weekly {tag}") == 1 and not any(x.startswith("Bad ") for x in names)


def test_each_occurrence_is_issued_once_even_by_two_workers_and_takes_its_audience_when_it_sends(
        marketer, db, send, smtp):
    tag = uid()
    lst = a_list(marketer, tag, f"a-{tag}@example.com", f"b-{tag}@example.com")
    n = newsletter(marketer, tag, lst)
    time_comes(db, n)

    barrier, counts = threading.Barrier(2), []

    def worker():
        barrier.wait()
        counts.append(issue(db, n))
    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(counts) == [0, 1] and issue(db, n) == 0
    (first,) = ok(marketer.get(f"/api/v1/campaigns/newsletters/{n['id']}/issues"))
    assert (first["status"], first["newsletter_id"], first["subject"]) == ("scheduled", n["id"], n["subject"])
    later = ok(marketer.get(f"/api/v1/campaigns/newsletters/{n['id']}"))
    assert datetime.fromisoformat(later["next_issue_at"]) > datetime.now(UTC)  # the next Monday, not again now

    # someone joins the list after the issue was made, before it sends: the issue reaches them too
    add(marketer, lst, f"c-{tag}@example.com")
    assert send(first["id"]) == 3
    assert sorted(r[0] for r, _ in smtp.messages) == [f"{x}-{tag}@example.com" for x in "abc"]

    # paused: its occurrence passes without an issue; resumed, the next one comes
    ok(marketer.post(f"/api/v1/campaigns/newsletters/{n['id']}/pause"))
    time_comes(db, n)
    assert issue(db, n) == 0
    assert marketer.post(f"/api/v1/campaigns/newsletters/{n['id']}/pause").status_code == 409
    resumed = ok(marketer.post(f"/api/v1/campaigns/newsletters/{n['id']}/resume"))
    assert datetime.fromisoformat(resumed["next_issue_at"]) > datetime.now(UTC)

    # the template changes for later issues; the next occurrence comes and is sent with it
    ok(marketer.patch(f"/api/v1/campaigns/newsletters/{n['id']}", json={"subject": "Issue two"},
                      headers={"If-Match": f'"{resumed["version"]}"'}))
    time_comes(db, n)
    assert issue(db, n) == 1
    second = ok(marketer.get(f"/api/v1/campaigns/newsletters/{n['id']}/issues"))[0]
    assert second["id"] != first["id"] and second["subject"] == "Issue two"
    assert send(second["id"]) == 3
    assert [m["Subject"] for _, m in smtp.messages].count("Issue two") == 3

    figures = ok(marketer.get(f"/api/v1/campaigns/newsletters/{n['id']}/statistics"))
    assert figures["issues"] == 2
    assert [(i["campaign_id"], i["sent"]) for i in figures["per_issue"]] == [(first["id"], 3), (second["id"], 3)]
    assert (figures["totals"]["recipients"], figures["totals"]["sent"], figures["totals"]["opened"]) == (6, 6, 0)
    with db.sessions() as s:
        assert s.execute(select(func.count()).where(Campaign.newsletter_id == n["id"])).scalar_one() == 2
