"""A salesperson books meetings: a weekly series with a customer contact, one occurrence moved, the following ones
changed, a double booking refused, and the meetings on the customer's timeline."""

import threading
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from servicekit.testing import assert_problem

pytestmark = pytest.mark.db

EVENTS = "/api/v1/agenda/events"
BERLIN = ZoneInfo("Europe/Berlin")


def ok(r, status=200):
    assert r.status_code == status, r.get_data(as_text=True)[:500]
    return r.json


def berlin(*args) -> str:
    return datetime(*args, tzinfo=BERLIN).isoformat()


def occurrences(client, start, end, **query):
    return ok(client.get("/api/v1/agenda/occurrences", query_string={"start": start, "end": end, **query}))


def test_a_weekly_series_keeps_its_wall_clock_across_dst_and_scoped_edits_split_it(as_user):
    rep = as_user("sales_rep")
    company = ok(rep.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Acme {uuid.uuid4().hex[:6]}"}),
                 201)
    series = ok(rep.post(EVENTS, json={
        "title": "Weekly sync", "starts_at": berlin(2031, 3, 3, 10), "ends_at": berlin(2031, 3, 3, 11),
        "tz": "Europe/Berlin", "rrule": "FREQ=WEEKLY;BYDAY=MO", "party_id": company["id"],
        "attendees": [{"party_id": company["id"]}], "reminders": [{"minutes": 15}]}), 201)
    month = occurrences(rep, berlin(2031, 3, 1), berlin(2031, 4, 8), party_id=company["id"])
    starts = [datetime.fromisoformat(o["starts_at"]).astimezone(BERLIN) for o in month]
    assert [(s.day, s.hour) for s in starts] == [(3, 10), (10, 10), (17, 10), (24, 10), (31, 10), (7, 10)]

    moved = ok(rep.patch(EVENTS + f"/{series['id']}", query_string={
        "scope": "this", "occurrence": berlin(2031, 3, 17, 10)},
        json={"starts_at": berlin(2031, 3, 18, 14)}, headers={"If-Match": '"1"'}))
    assert moved["id"] == series["id"] and len(moved["overrides"]) == 1
    later = ok(rep.patch(EVENTS + f"/{series['id']}", query_string={
        "scope": "following", "occurrence": berlin(2031, 3, 31, 10)},
        json={"title": "Weekly sync (new slot)", "starts_at": berlin(2031, 3, 31, 9),
              "ends_at": berlin(2031, 3, 31, 10)}, headers={"If-Match": '"2"'}))
    assert later["id"] != series["id"] and later["split_from_id"] == series["id"]
    month = occurrences(rep, berlin(2031, 3, 1), berlin(2031, 4, 15), party_id=company["id"])
    assert [(datetime.fromisoformat(o["starts_at"]).astimezone(BERLIN).strftime("%d %H"), o["title"])
            for o in month] == [("03 10", "Weekly sync"), ("10 10", "Weekly sync"), ("18 14", "Weekly sync"),
                                ("24 10", "Weekly sync"), ("31 09", "Weekly sync (new slot)"),
                                ("07 09", "Weekly sync (new slot)"), ("14 09", "Weekly sync (new slot)")]
    timeline = ok(rep.get(f"/api/v1/parties/{company['id']}/timeline"))
    assert sum(1 for e in timeline["items"] if e["kind"] == "meeting") == 2


def test_a_double_booking_is_refused_listed_and_allowed_only_on_request(as_user):
    rep = as_user("sales_rep")
    ok(rep.post(EVENTS, json={"title": "Demo", "starts_at": berlin(2031, 5, 5, 10),
                              "ends_at": berlin(2031, 5, 5, 11), "tz": "Europe/Berlin"}), 201)
    preview = ok(rep.get("/api/v1/agenda/conflicts", query_string={
        "starts_at": berlin(2031, 5, 5, 10, 30), "ends_at": berlin(2031, 5, 5, 12)}))
    assert [c["title"] for c in preview] == ["Demo"]
    refused = assert_problem(rep.post(EVENTS, json={"title": "Clash", "starts_at": berlin(2031, 5, 5, 10, 30),
                                                    "ends_at": berlin(2031, 5, 5, 12)}), 409)
    assert [c["title"] for c in refused["conflicts"]] == ["Demo"]
    assert occurrences(rep, berlin(2031, 5, 5), berlin(2031, 5, 6))[-1]["title"] == "Demo"
    ok(rep.post(EVENTS, query_string={"allow_conflicts": "true"}, json={
        "title": "Clash", "starts_at": berlin(2031, 5, 5, 10, 30), "ends_at": berlin(2031, 5, 5, 12)}), 201)


def test_two_concurrent_bookings_of_the_same_slot_cannot_both_succeed(as_user):
    rep = as_user("sales_rep")
    clients = [as_user("sales_rep"), as_user("sales_rep")]
    statuses = []

    def book(client):
        statuses.append(client.post(EVENTS, json={"title": "Race", "starts_at": berlin(2031, 6, 2, 9),
                                                  "ends_at": berlin(2031, 6, 2, 10),
                                                  "attendees": [{"user_id": rep.user["id"]}]}).status_code)
    threads = [threading.Thread(target=book, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [201, 409]


def test_bad_input_names_the_field_and_changes_nothing(client):
    start = berlin(2031, 7, 1, 9)
    assert_problem(client.post(EVENTS, json={"title": "x", "starts_at": start, "rrule": "FREQ=SOMETIMES"}), 422,
                   "rrule")
    assert_problem(client.post(EVENTS, json={"title": "x", "starts_at": start, "tz": "Mars/Base"}), 422, "tz")
    assert_problem(client.post(EVENTS, json={"title": "x", "starts_at": start,
                                             "ends_at": berlin(2031, 7, 1, 8)}), 422, "ends_at")
    series = ok(client.post(EVENTS, json={"title": "Standup", "starts_at": start, "rrule": "FREQ=DAILY",
                                          "tz": "Europe/Berlin", "transparency": "free"}), 201)
    assert_problem(client.patch(EVENTS + f"/{series['id']}", json={"title": "y"}), 428)
    assert_problem(client.patch(EVENTS + f"/{series['id']}", query_string={
        "scope": "this", "occurrence": berlin(2031, 7, 1, 9, 30)}, json={"title": "y"},
        headers={"If-Match": '"1"'}), 422, "occurrence")
    assert ok(client.get(EVENTS + f"/{series['id']}"))["version"] == 1
    assert len(occurrences(client, berlin(2031, 7, 1), berlin(2031, 7, 8))) >= 7
    assert client.delete(EVENTS + f"/{series['id']}", query_string={
        "scope": "this", "occurrence": berlin(2031, 7, 3, 9)}, headers={"If-Match": '"1"'}).status_code == 204
    days = {datetime.fromisoformat(o["starts_at"]).astimezone(BERLIN).day
            for o in occurrences(client, berlin(2031, 7, 1), berlin(2031, 7, 8)) if o["event_id"] == series["id"]}
    assert days == {1, 2, 4, 5, 6, 7}


def test_a_held_meeting_becomes_a_meeting_activity_on_the_customers_timeline_once(as_user):
    rep = as_user("sales_rep")
    company = ok(rep.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Held {uuid.uuid4().hex[:6]}"}),
                 201)
    series = ok(rep.post(EVENTS, json={"title": "Weekly review", "starts_at": berlin(2025, 1, 6, 10),
                                       "ends_at": berlin(2025, 1, 6, 11), "tz": "Europe/Berlin",
                                       "rrule": "FREQ=WEEKLY;COUNT=8", "party_id": company["id"]}), 201)
    held = f"/api/v1/agenda/events/{series['id']}/held"
    assert_problem(rep.post(held, json={"notes": "x"}), 422, "occurrence")
    assert_problem(rep.post(held, json={"occurrence": berlin(2025, 1, 7, 10)}), 422, "occurrence")
    activity = ok(rep.post(held, json={"occurrence": berlin(2025, 1, 13, 10), "notes": "Agreed the rollout plan.",
                                       "outcome": "next step agreed"}), 201)
    assert activity["type"] == "meeting" and activity["party_id"] == company["id"]
    assert datetime.fromisoformat(activity["occurred_at"]) == datetime(2025, 1, 13, 10, tzinfo=BERLIN)
    assert activity["duration_minutes"] == 60 and activity["body"] == "Agreed the rollout plan."
    again = assert_problem(rep.post(held, json={"occurrence": berlin(2025, 1, 13, 10)}), 409)
    assert again["activity_id"] == activity["id"]
    timeline = ok(rep.get(f"/api/v1/parties/{company['id']}/timeline"))
    assert [e["title"] for e in timeline["items"] if e["kind"] == "activity"] == ["Meeting: Weekly review"]
    future = ok(rep.post(EVENTS, json={"title": "Later", "starts_at": berlin(2039, 1, 6, 10),
                                       "party_id": company["id"]}), 201)
    assert_problem(rep.post(f"/api/v1/agenda/events/{future['id']}/held", json={}), 409)
    unlinked = ok(rep.post(EVENTS, json={"title": "Alone", "starts_at": berlin(2025, 2, 6, 10),
                                         "ends_at": berlin(2025, 2, 6, 11)}), 201)
    assert_problem(rep.post(f"/api/v1/agenda/events/{unlinked['id']}/held", json={}), 422, "event_id")


def test_day_notes_in_colour_show_in_the_month_overview_and_are_each_users_own(as_user):
    rep, other = as_user("sales_rep"), as_user("sales_rep")
    ok(rep.post(EVENTS, json={"title": "Trade fair", "starts_at": berlin(2032, 5, 12, 9),
                              "ends_at": berlin(2032, 5, 12, 17), "tz": "Europe/Berlin"}), 201)
    ok(rep.put("/api/v1/agenda/day-notes/2032-05-12", json={"text": "Bring the demo kit", "color": "#fdd835"}))
    ok(rep.put("/api/v1/agenda/day-notes/2032-05-20", json={"text": "Quarter closes"}))
    ok(rep.put("/api/v1/agenda/day-notes/2032-05-20", json={"text": "Quarter closes: forecast due", "color": None}))
    month = ok(rep.get("/api/v1/agenda/overview", query_string={"year": 2032, "month": 5, "tz": "Europe/Berlin",
                                                                "user_ids": rep.user["id"]}))
    days = {d["date"]: d for d in month["days"]}
    assert (days["2032-05-12"]["count"], days["2032-05-12"]["busy_minutes"]) == (1, 480)
    assert (days["2032-05-12"]["note"], days["2032-05-12"]["note_color"]) == ("Bring the demo kit", "#fdd835")
    assert (days["2032-05-20"]["count"], days["2032-05-20"]["note"]) == (0, "Quarter closes: forecast due")
    assert ok(other.get("/api/v1/agenda/day-notes", query_string={"start": "2032-05-01", "end": "2032-06-01"})) == []
    assert [n["day"] for n in ok(rep.get("/api/v1/agenda/day-notes", query_string={
        "start": "2032-05-01", "end": "2032-06-01"}))] == ["2032-05-12", "2032-05-20"]
    assert_problem(rep.put("/api/v1/agenda/day-notes/2032-13-01", json={"text": "x"}), 422, "day")
    assert_problem(rep.put("/api/v1/agenda/day-notes/2032-05-13", json={"text": "x", "color": "yellow"}), 422,
                   "color")
    assert_problem(other.delete("/api/v1/agenda/day-notes/2032-05-12"), 404)
    assert rep.delete("/api/v1/agenda/day-notes/2032-05-12").status_code == 204
    assert [n["day"] for n in ok(rep.get("/api/v1/agenda/day-notes", query_string={
        "start": "2032-05-01", "end": "2032-06-01"}))] == ["2032-05-20"]


def test_an_event_can_be_linked_to_a_ticket_the_user_may_see(as_user, client):
    agent = as_user("support_agent")
    party = ok(client.post("/api/v1/parties", json={"kind": "company", "legal_name": f"Tkt {uuid.uuid4().hex[:6]}"}),
               201)
    ticket = ok(agent.post("/api/v1/tickets", json={"subject": "Oven does not heat", "party_id": party["id"],
                                                    "channel": "phone"}), 201)
    visit = ok(agent.post(EVENTS, json={"title": "On-site repair", "starts_at": berlin(2032, 6, 1, 9),
                                        "ends_at": berlin(2032, 6, 1, 11), "ticket_id": ticket["id"],
                                        "party_id": party["id"]}), 201)
    assert visit["ticket_id"] == ticket["id"]
    assert_problem(agent.post(EVENTS, json={"title": "x", "starts_at": berlin(2032, 6, 2, 9),
                                            "ticket_id": str(uuid.uuid4())}), 422, "ticket_id")


def test_a_zone_name_too_long_for_the_zone_database_is_a_422_not_a_500(client):
    """schemathesis sent a 300-character `tz`: zoneinfo answers OSError (file name too long), not ValueError."""
    long_zone = "Europe/" + "x" * 300
    assert_problem(client.post(EVENTS, json={"title": "x", "starts_at": berlin(2031, 7, 1, 9), "tz": long_zone}),
                   422, "tz")
    assert_problem(client.get("/api/v1/tasks", query_string={"tz": long_zone}), 422, "tz")
