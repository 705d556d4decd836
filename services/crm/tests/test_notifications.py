"""A user works through their in-app notifications: reads one, snoozes one until later, dismisses one, and never
reaches anybody else's."""

from datetime import UTC, datetime, timedelta

import pytest
from crm.notifications.models import Notification
from crm.notifications.service import notify
from servicekit.testing import assert_problem
from sqlalchemy import select, update

pytestmark = pytest.mark.db

NOTIFICATIONS = "/api/v1/me/notifications"


def ok(r, status=200):
    assert r.status_code == status, r.get_data(as_text=True)[:500]
    return r.json


def titles(client, **query) -> list[str]:
    return [n["title"] for n in ok(client.get(NOTIFICATIONS, query_string=query))["items"]]


@pytest.fixture
def inbox(as_user, db):
    """A sales rep with three notifications (as the agenda's reminders or another module would add them)."""
    rep = as_user("sales_rep")
    ids = {}
    for title in ("Ticket #12 breaches its SLA in 1 hour", "Reminder: Demo, Mon 03 Mar 2031 10:00 Europe/Berlin",
                  "Invoice overdue: Acme"):
        with db.sessions.begin() as s:
            ids[title.split()[0]] = notify(s, rep.user["id"], "test.alert", title, "Details inside.", "ticket", "12")
    return rep, ids


def test_the_active_list_shows_unread_notifications_newest_first(inbox):
    rep, _ = inbox
    page = ok(rep.get(NOTIFICATIONS))
    assert [n["title"] for n in page["items"]] == [
        "Invoice overdue: Acme", "Reminder: Demo, Mon 03 Mar 2031 10:00 Europe/Berlin",
        "Ticket #12 breaches its SLA in 1 hour"]
    assert page["total"] == 3 and {n["state"] for n in page["items"]} == {"unread"}
    assert titles(rep, page_size=1, page=2) == ["Reminder: Demo, Mon 03 Mar 2031 10:00 Europe/Berlin"]


def test_read_snooze_and_dismiss_each_take_a_notification_off_the_active_list(inbox, db):
    rep, ids = inbox
    read = ok(rep.post(f"{NOTIFICATIONS}/{ids['Ticket']}/read"))
    assert read["state"] == "read" and read["read_at"]
    snoozed = ok(rep.post(f"{NOTIFICATIONS}/{ids['Reminder:']}/snooze", json={"minutes": 30}))
    until = datetime.fromisoformat(snoozed["snoozed_until"])
    assert snoozed["state"] == "snoozed" and timedelta(minutes=29) < until - datetime.now(UTC) <= timedelta(minutes=30)
    assert titles(rep) == ["Invoice overdue: Acme"]
    dismissed = ok(rep.post(f"{NOTIFICATIONS}/{ids['Invoice']}/dismiss"))
    assert dismissed["state"] == "dismissed" and titles(rep) == []
    everything = ok(rep.get(NOTIFICATIONS, query_string={"state": "all"}))["items"]
    assert [n["state"] for n in everything] == ["dismissed", "snoozed", "read"]

    # half an hour later the snoozed one is back, unread
    with db.sessions.begin() as s:
        s.execute(update(Notification).where(Notification.id == ids["Reminder:"])
                  .values(snoozed_until=datetime.now(UTC) - timedelta(seconds=1)))
    assert titles(rep) == ["Reminder: Demo, Mon 03 Mar 2031 10:00 Europe/Berlin"]
    # a dismissed one cannot be snoozed back
    assert_problem(rep.post(f"{NOTIFICATIONS}/{ids['Invoice']}/snooze", json={"minutes": 5}), 409)
    assert titles(rep) == ["Reminder: Demo, Mon 03 Mar 2031 10:00 Europe/Berlin"]


def test_snoozing_a_read_notification_until_a_moment_brings_it_back_unread(inbox):
    rep, ids = inbox
    ok(rep.post(f"{NOTIFICATIONS}/{ids['Ticket']}/read"))
    until = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    snoozed = ok(rep.post(f"{NOTIFICATIONS}/{ids['Ticket']}/snooze", json={"until": until.isoformat()}))
    assert datetime.fromisoformat(snoozed["snoozed_until"]) == until and snoozed["read_at"] is None


def test_another_users_notification_is_not_found_and_stays_as_it_was(inbox, as_user, db):
    rep, ids = inbox
    other = as_user("sales_rep")
    for action, body in (("read", None), ("snooze", {"minutes": 10}), ("dismiss", None)):
        assert_problem(other.post(f"{NOTIFICATIONS}/{ids['Ticket']}/{action}", json=body), 404)
    assert titles(other, state="all") == []
    with db.sessions() as s:
        note = s.execute(select(Notification).where(Notification.id == ids["Ticket"])).scalar_one()
    assert (note.read_at, note.snoozed_until, note.dismissed_at) == (None, None, None)
    assert len(titles(rep)) == 3


def test_bad_input_names_the_field_and_changes_nothing(inbox):
    rep, ids = inbox
    url = f"{NOTIFICATIONS}/{ids['Ticket']}/snooze"
    assert_problem(rep.post(url, json={}), 422, "until")
    assert_problem(rep.post(url, json={"minutes": 5, "until": "2031-01-01T10:00:00+00:00"}), 422, "until")
    assert_problem(rep.post(url, json={"until": "2020-01-01T10:00:00+00:00"}), 422, "until")
    assert_problem(rep.post(url, json={"until": (datetime.now(UTC) + timedelta(days=31)).isoformat()}), 422, "until")
    assert_problem(rep.post(url, json={"minutes": 0}), 422, "minutes")
    assert_problem(rep.post(url, json={"minutes": 5, "colour": "red"}), 422, "colour")
    assert_problem(rep.get(NOTIFICATIONS, query_string={"state": "unread-ish"}), 422, "state")
    assert len(titles(rep)) == 3


def test_without_a_token_there_are_no_notifications(anonymous):
    assert_problem(anonymous.get(NOTIFICATIONS), 401)
