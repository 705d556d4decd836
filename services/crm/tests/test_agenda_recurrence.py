"""Recurrence rules without a database: expanding a window is the union of expanding its halves, and DST keeps
the wall clock in Berlin, New York and Sydney."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from crm.agenda import recurrence as rec
from hypothesis import given, settings
from hypothesis import strategies as st

RULES = ["FREQ=DAILY", "FREQ=WEEKLY;BYDAY=MO,WE", "FREQ=MONTHLY;BYMONTHDAY=31", "FREQ=YEARLY;COUNT=40",
         "FREQ=HOURLY;INTERVAL=7", "FREQ=MONTHLY;BYDAY=-1FR"]
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(RULES), st.sampled_from(ZONES), st.integers(0, 3000), st.integers(1, 400),
       st.integers(0, 400 * 24), st.integers(15, 300))
def test_a_window_expands_to_the_union_of_its_halves(rule, tz, offset_days, span_days, cut_hours, minutes):
    start = datetime(2025, 1, 1, 9, 30, tzinfo=ZoneInfo(tz)).astimezone(UTC)
    series = rec.Series(start, start + timedelta(minutes=minutes), tz, rrule=rule)
    lo = start + timedelta(days=offset_days)
    hi = lo + timedelta(days=span_days)
    mid = min(lo + timedelta(hours=cut_hours), hi)
    whole = rec.occurrences(series, (), lo, hi)
    halves = {(o.starts_at, o.ends_at) for o in rec.occurrences(series, (), lo, mid) + rec.occurrences(
        series, (), mid, hi)}
    assert {(o.starts_at, o.ends_at) for o in whole} == halves


def test_dst_keeps_the_wall_clock_in_berlin_new_york_and_sydney():
    for tz in ("Europe/Berlin", "America/New_York", "Australia/Sydney"):
        zone = ZoneInfo(tz)
        start = datetime(2030, 1, 7, 9, 0, tzinfo=zone).astimezone(UTC)
        series = rec.Series(start, start + timedelta(hours=1), tz, rrule="FREQ=WEEKLY")
        found = rec.occurrences(series, (), start, start + timedelta(days=364))
        assert len(found) == 52
        assert {(o.starts_at.astimezone(zone).hour, o.ends_at.astimezone(zone).hour) for o in found} == {(9, 10)}
        assert len({o.starts_at.astimezone(zone).utcoffset() for o in found}) == 2  # both sides of a change


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["FREQ=DAILY", "FREQ=DAILY;INTERVAL=3", "FREQ=WEEKLY;BYDAY=MO,TH", "FREQ=WEEKLY;INTERVAL=2",
                        "FREQ=WEEKLY;INTERVAL=3;BYDAY=SU", "FREQ=DAILY;BYMONTH=3,10", "FREQ=DAILY;BYHOUR=9,14",
                        "FREQ=WEEKLY;UNTIL=20300101T000000Z"]),
       st.sampled_from(ZONES), st.integers(0, 20 * 365), st.integers(1, 60), st.integers(0, 23))
def test_expanding_near_a_window_far_from_the_start_gives_what_a_walk_from_the_start_gives(rule, tz, offset_days,
                                                                                           span_days, hour):
    """A window years after the first occurrence expands from a later start in the same phase (so its cost follows
    the window): the occurrences must be exactly those dateutil finds walking from DTSTART."""
    start = datetime(2021, 3, 1 + offset_days % 28, hour, 15, tzinfo=ZoneInfo(tz)).astimezone(UTC)
    series = rec.Series(start, start + timedelta(minutes=50), tz, rrule=rule)
    lo = start + timedelta(days=offset_days, hours=hour)
    hi = lo + timedelta(days=span_days)
    walked = [s.astimezone(UTC) for s in rec._set(series).between(
        rec._wall(series, lo) - timedelta(hours=1), rec._wall(series, hi), inc=True)]
    expanded = [o.starts_at for o in rec.occurrences(series, (), lo, hi)]
    assert expanded == [s for s in walked if lo - timedelta(minutes=50) < s < hi]
