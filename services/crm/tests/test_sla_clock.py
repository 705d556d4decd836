"""SLA deadlines in business time, without a database: the golden cases a support lead can check by hand (weekend,
public holiday, half day, lunch break, DST gap and overlap, priority change, policy switch, reopen), and properties
hypothesis tries on random histories."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from crm.tickets import business_time as bt
from crm.tickets.sla_clock import Clock, Fact, Policy, replay
from hypothesis import given, settings
from hypothesis import strategies as st

PARIS = ZoneInfo("Europe/Paris")
OFFICE = {d: [["09:00", "12:00"], ["13:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


def paris(*args) -> datetime:
    return datetime(*args, tzinfo=PARIS)


def office(**kw) -> bt.Calendar:
    return bt.calendar_from_config("Europe/Paris", kw.pop("windows", OFFICE), **kw)


def policy(calendar=None, hours=8, first=2, name="standard", pid="p1", nxt=4) -> Policy:
    return Policy(pid, name, calendar or office(), timedelta(hours=first) if first else None,
                  timedelta(hours=nxt) if nxt else None, timedelta(hours=hours) if hours else None)


def fixed(p: Policy):
    return lambda attrs: (p, f"{p.name}: matched")


# -- business time ---------------------------------------------------------------------------------------------------

def test_a_lunch_break_does_not_count():
    assert bt.add(office(), paris(2026, 3, 2, 11, 0), timedelta(hours=2)) == paris(2026, 3, 2, 14, 0)


def test_a_weekend_is_skipped():
    # Friday 16:00 + 3 working hours = Monday 11:00
    assert bt.add(office(), paris(2026, 3, 6, 16, 0), timedelta(hours=3)) == paris(2026, 3, 9, 11, 0)


def test_a_public_holiday_is_skipped():
    # Thursday 30 April 16:00 + 2h: Friday 1 May is Labour Day in France, then the weekend -> Monday 4 May 10:00
    cal = office(country="FR")
    assert bt.add(cal, paris(2026, 4, 30, 16, 0), timedelta(hours=2)) == paris(2026, 5, 4, 10, 0)
    assert bt.add(office(), paris(2026, 4, 30, 16, 0), timedelta(hours=2)) == paris(2026, 5, 1, 10, 0)


def test_a_custom_closed_day_and_a_half_day():
    cal = office(closed=["2026-03-03"], half_days={"2026-03-04": "12:00"})
    # Monday 16:00 + 5h: 1h Monday, Tuesday closed, Wednesday only the morning (3h), Thursday 09:00 + 1h
    assert bt.add(cal, paris(2026, 3, 2, 16, 0), timedelta(hours=5)) == paris(2026, 3, 5, 10, 0)


def test_the_dst_gap_and_overlap_count_real_hours():
    night = {d: [["01:00", "04:00"]] for d in bt.WEEKDAYS}
    cal = bt.calendar_from_config("Europe/Paris", night)
    spring = paris(2026, 3, 29, 1, 0)  # 02:00-03:00 does not exist that night
    assert bt.between(cal, spring, paris(2026, 3, 29, 4, 0)) == timedelta(hours=2)
    autumn_start = datetime(2026, 10, 25, 1, 0, tzinfo=PARIS)  # 02:00-03:00 happens twice
    assert bt.between(cal, autumn_start, autumn_start + timedelta(hours=5)) == timedelta(hours=4)
    assert bt.add(cal, autumn_start, timedelta(hours=3, minutes=30)).astimezone(UTC) == \
        datetime(2026, 10, 25, 2, 30, tzinfo=UTC)


def test_overlapping_windows_are_refused_with_the_weekday_named():
    with pytest.raises(bt.CalendarError) as refused:
        bt.calendar_from_config("Europe/Paris", {"tue": [["09:00", "13:00"], ["12:00", "17:00"]]})
    assert refused.value.field == "windows.tue"


def test_a_calendar_without_working_time_is_refused_instead_of_looping():
    with pytest.raises(bt.CalendarError):
        bt.add(bt.calendar_from_config("UTC", {}), datetime(2026, 1, 1, tzinfo=UTC), timedelta(hours=1))


def test_a_calendar_closed_for_years_gives_no_deadline_instead_of_failing():
    mondays = [date(2026, 3, 2) + timedelta(weeks=w) for w in range(200)]
    closed = bt.calendar_from_config("Europe/Paris", {"mon": [["09:00", "17:00"]]}, closed=mondays)
    p = Policy("p", "closed", closed, None, None, timedelta(hours=1))
    assert replay(fixed(p), [created(paris(2026, 3, 2, 8, 0))]).due_at("resolution") is None


def test_outside_hours_the_next_working_moment_is_the_next_window():
    assert bt.next_working_moment(office(), paris(2026, 3, 7, 23, 0)) == paris(2026, 3, 9, 9, 0)
    assert bt.next_working_moment(office(), paris(2026, 3, 9, 10, 0)) == paris(2026, 3, 9, 10, 0)


# -- golden SLA cases ------------------------------------------------------------------------------------------------

def created(at, **attrs):
    return Fact(at, "created", {"status": "new", "priority": "normal", **attrs})


def test_resolution_due_across_a_weekend_and_a_holiday():
    p = policy(office(country="FR"), hours=8)
    # opened Thursday 30 April 2026 at 14:00: 3h that day, Friday 1 May holiday, weekend, Monday 09:00 + 5h
    result = replay(fixed(p), [created(paris(2026, 4, 30, 14, 0))])
    assert result.due_at("resolution") == paris(2026, 5, 4, 15, 0)
    assert result.due_at("first_response") == paris(2026, 4, 30, 16, 0)
    assert result.policy_id == "p1" and "standard" in result.reason


def test_pending_pauses_the_clock_and_counts_paused_time():
    p = policy(hours=8)
    facts = [created(paris(2026, 3, 2, 9, 0)), Fact(paris(2026, 3, 2, 10, 0), "agent_reply"),
             Fact(paris(2026, 3, 2, 11, 0), "status", {"status": "pending"}),
             Fact(paris(2026, 3, 3, 11, 0), "status", {"status": "open"})]
    result = replay(fixed(p), facts)
    # 2 working hours consumed before the pause; 6 left from Tuesday 11:00 -> Wednesday 10:00
    assert result.due_at("resolution") == paris(2026, 3, 4, 10, 0)
    assert result.paused == timedelta(hours=24)
    paused = replay(fixed(p), facts[:3])
    assert paused.due_at("resolution") is None and not paused.running


def test_a_priority_change_mid_ticket_keeps_the_time_already_spent():
    urgent, normal = policy(hours=4, pid="urgent", name="urgent"), policy(hours=16, pid="normal", name="normal")

    def by_priority(attrs):
        return (urgent, "priority urgent") if attrs.get("priority") == "urgent" else (normal, "any other")

    facts = [created(paris(2026, 3, 2, 9, 0)), Fact(paris(2026, 3, 2, 11, 0), "changed", {"priority": "urgent"})]
    result = replay(by_priority, facts)
    # 2h spent under "normal"; "urgent" allows 4h: 2h left from Monday 11:00 -> 14:00 (lunch excluded)
    assert result.due_at("resolution") == paris(2026, 3, 2, 14, 0)
    assert result.policy_id == "urgent" and result.reason == "priority urgent"


def test_a_smaller_target_already_spent_is_breached_at_the_switch():
    short, long = policy(hours=1, pid="short"), policy(hours=16, pid="long")
    facts = [created(paris(2026, 3, 2, 9, 0), sla_policy="long"),
             Fact(paris(2026, 3, 2, 11, 0), "policy", {"sla_policy": "short"})]
    result = replay(lambda a: ({"short": short, "long": long}[a["sla_policy"]], "explicit"), facts)
    assert result.breached["resolution"] == paris(2026, 3, 2, 11, 0)


def test_a_smaller_target_set_while_paused_breaches_when_the_clock_runs_again():
    # found by the pause property: the switch happens while the ticket waits on the customer, so the breach is
    # dated when the ticket is worked again, not at the switch (an inserted pause must never bring it forward)
    short, long = policy(hours=1, pid="short"), policy(hours=16, pid="long")
    facts = [created(paris(2026, 3, 2, 9, 0), sla_policy="long"),
             Fact(paris(2026, 3, 2, 11, 0), "status", {"status": "pending"}),
             Fact(paris(2026, 3, 2, 14, 0), "policy", {"sla_policy": "short"}),
             Fact(paris(2026, 3, 3, 10, 0), "status", {"status": "open"})]
    result = replay(lambda a: ({"short": short, "long": long}[a["sla_policy"]], "explicit"), facts)
    assert result.breached["resolution"] == paris(2026, 3, 3, 10, 0)


def test_a_reopened_ticket_continues_from_what_it_had_consumed():
    p = policy(hours=8)
    facts = [created(paris(2026, 3, 2, 9, 0)), Fact(paris(2026, 3, 2, 12, 0), "status", {"status": "resolved"}),
             Fact(paris(2026, 3, 10, 9, 0), "customer_reply"),
             Fact(paris(2026, 3, 10, 9, 0), "status", {"status": "open"})]
    result = replay(fixed(p), facts)
    assert result.breached == {"first_response": paris(2026, 3, 2, 11, 0)}
    assert result.due_at("resolution") == paris(2026, 3, 10, 15, 0)  # 5h left, not breached on reopening


def test_a_breach_is_dated_when_the_target_ran_out():
    result = replay(fixed(policy(hours=8)), [created(paris(2026, 3, 6, 16, 0))], as_of=paris(2026, 3, 12, 0, 0))
    assert result.breached == {"first_response": paris(2026, 3, 9, 10, 0), "resolution": paris(2026, 3, 9, 17, 0)}


def test_the_clock_can_be_recomputed_as_of_any_moment():
    p = policy(hours=8)
    facts = [created(paris(2026, 3, 2, 9, 0)), Fact(paris(2026, 3, 2, 10, 0), "status", {"status": "on_hold"}),
             Fact(paris(2026, 3, 5, 10, 0), "status", {"status": "open"})]
    assert replay(fixed(p), facts, as_of=paris(2026, 3, 3, 0, 0)).running is False
    assert replay(fixed(p), facts, as_of=paris(2026, 3, 3, 0, 0)).paused == timedelta(hours=14)
    assert replay(fixed(p), facts).due_at("resolution") == paris(2026, 3, 6, 10, 0)  # 1h used, 7h left


# -- properties ------------------------------------------------------------------------------------------------------

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
moments = st.integers(min_value=0, max_value=60 * 24 * 20).map(lambda m: START + timedelta(minutes=m))
durations = st.integers(min_value=1, max_value=60 * 80).map(lambda m: timedelta(minutes=m))
calendars = st.sampled_from([office(), office(country="FR", half_days={"2026-03-04": "12:00"}),
                             bt.calendar_from_config("America/New_York", {d: [["08:00", "20:00"]]
                                                                          for d in bt.WEEKDAYS[:6]})])


@settings(max_examples=150, deadline=None)
@given(calendars, moments, durations, durations)
def test_a_longer_target_never_gives_an_earlier_deadline(cal, start, a, b):
    short, long = sorted((a, b))
    assert bt.add(cal, start, short) <= bt.add(cal, start, long)
    assert bt.between(cal, start, bt.add(cal, start, long)) == long


kinds = st.sampled_from(["status:open", "status:pending", "status:on_hold", "status:resolved", "agent_reply",
                         "customer_reply", "changed:urgent", "changed:normal"])
histories = st.lists(st.tuples(st.integers(min_value=1, max_value=60 * 30), kinds), max_size=12)


def facts_of(steps) -> list[Fact]:
    at = START
    facts = [Fact(at, "created", {"status": "new", "priority": "normal"})]
    for minutes, kind in steps:
        at += timedelta(minutes=minutes)
        name, _, value = kind.partition(":")
        data = {"status": value} if name == "status" else {"priority": value} if name == "changed" else {}
        facts.append(Fact(at, name, data))
    return facts


URGENT, NORMAL = policy(hours=6, pid="u"), policy(hours=20, pid="n")


def by_priority(attrs):
    return (URGENT, "urgent") if attrs.get("priority") == "urgent" else (NORMAL, "normal")


@settings(max_examples=150, deadline=None)
@given(histories)
def test_replaying_the_history_equals_applying_it_fact_by_fact(steps):
    facts = facts_of(steps)
    state = None
    for fact in facts:
        clock = Clock(by_priority) if state is None else Clock.from_dict(by_priority, state)
        clock.apply(fact)
        state = clock.to_dict()
    incremental = Clock.from_dict(by_priority, state).result()
    assert incremental == replay(by_priority, facts)


@settings(max_examples=300, deadline=None)
@given(histories, st.integers(min_value=0, max_value=12), st.integers(min_value=1, max_value=60 * 48),
       st.floats(min_value=0, max_value=1))
def test_a_pause_never_makes_a_deadline_earlier(steps, where, length, fraction):
    """The same history with an on_hold spell inserted between two facts (or after the last one)."""
    facts = facts_of(steps)
    cut = min(where, len(facts) - 1)
    gap_end = facts[cut + 1].at if cut + 1 < len(facts) else facts[cut].at + timedelta(minutes=length)
    gap = gap_end - facts[cut].at
    begin = facts[cut].at + gap * fraction / 2
    end = begin + gap * fraction / 2
    resume_status = next((f.data["status"] for f in reversed(facts[:cut + 1]) if f.kind == "status"), "new")
    paused = facts[:cut + 1] + [Fact(begin, "status", {"status": "on_hold"}),
                                Fact(end, "status", {"status": resume_status})] + facts[cut + 1:]
    before, after = replay(by_priority, facts, as_of=gap_end), replay(by_priority, paused, as_of=gap_end)
    for name, due in before.due.items():
        if due is not None and after.due[name] is not None:
            assert after.due[name] >= due
    for name, at in before.breached.items():
        if name in after.breached:
            assert after.breached[name] >= at
