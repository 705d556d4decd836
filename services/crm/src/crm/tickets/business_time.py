"""Business-time arithmetic, pure (no I/O): working windows per weekday in an IANA time zone, public holidays
(the `holidays` package, per country and subdivision), custom closed days and half days.

Windows are wall-clock minutes since local midnight; each boundary becomes a UTC instant on its own day, so a
window across a DST change lasts what the clocks really showed (a 01:00-04:00 window is 2 hours on the spring-forward
night, 4 on the fall-back night; a boundary inside the gap moves forward with the clock, one inside the overlap takes
its first occurrence).
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays as public_holidays

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3 * 366  # a calendar with no working time within three years is refused rather than looped over
DAY = 24 * 60


class CalendarError(ValueError):
    """A calendar that cannot be worked with; `field` names what is wrong."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


def parse_minute(text: str, field_name: str) -> int:
    """'09:30' -> 570; '24:00' is the end of the day."""
    try:
        hours, minutes = text.split(":")
        value = int(hours) * 60 + int(minutes)
        ok = len(hours) == 2 and len(minutes) == 2 and 0 <= int(minutes) < 60
    except (ValueError, AttributeError):
        ok, value = False, -1
    if not ok or not 0 <= value <= DAY:
        raise CalendarError(field_name, f"{text!r} is not a time of day HH:MM (00:00 to 24:00)")
    return value


def check_windows(windows: Sequence[tuple[int, int]], field_name: str) -> tuple[tuple[int, int], ...]:
    """Sorted windows of one day; refuses empty, reversed and overlapping ones."""
    ordered = sorted(windows)
    for start, end in ordered:
        if end <= start:
            raise CalendarError(field_name, "a window must end after it starts")
    for (_, end), (start, _) in zip(ordered, ordered[1:], strict=False):
        if start < end:
            raise CalendarError(field_name, "windows overlap")
    return tuple(ordered)


@dataclass(frozen=True)
class Calendar:
    """When the clock runs. week: 7 tuples of (start, end) minutes, Monday first; closed: custom closed days;
    half_days: day -> minute at which work stops that day; country/subdivision: public holidays."""

    zone: str
    week: tuple[tuple[tuple[int, int], ...], ...]
    country: str | None = None
    subdivision: str | None = None
    closed: frozenset[date] = frozenset()
    half_days: Mapping[date, int] = field(default_factory=dict)

    def __post_init__(self):
        if len(self.week) != 7:
            raise CalendarError("windows", "seven weekdays, Monday first")
        for name, day in zip(WEEKDAYS, self.week, strict=True):
            check_windows(day, f"windows.{name}")

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.zone)

    @cached_property
    def _public(self):
        if not self.country:
            return {}
        return public_holidays.country_holidays(self.country, subdiv=self.subdivision)

    def is_closed(self, day: date) -> bool:
        return day in self.closed or (bool(self.country) and day in self._public)

    def _instant(self, day: date, minute: int) -> datetime:
        wall = datetime.combine(day, time()) + timedelta(minutes=minute)
        return wall.replace(tzinfo=self.tz).astimezone(UTC)

    def windows_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of one local day, as UTC instants."""
        if self.is_closed(day):
            return []
        cut = self.half_days.get(day)
        out = []
        for start, end in self.week[day.weekday()]:
            if cut is not None:
                end = min(end, cut)
            if end <= start:
                continue
            a, b = self._instant(day, start), self._instant(day, end)
            if b > a:
                out.append((a, b))
        return out

    def windows_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working intervals that end after `moment`, in order, clipped to start no earlier than it."""
        day = moment.astimezone(self.tz).date() - timedelta(days=1)
        empty = 0
        while empty < MAX_DAYS:
            found = False
            for a, b in self.windows_on(day):
                found = True
                if b <= moment:
                    continue
                yield max(a, moment), b
            empty = 0 if found else empty + 1
            day += timedelta(days=1)
        raise CalendarError("windows", f"no working time within {MAX_DAYS} days")


def add(calendar: Calendar, start: datetime, duration: timedelta) -> datetime:
    """The instant at which `duration` of working time has passed since `start`."""
    if duration <= timedelta(0):
        return start
    left = duration
    for a, b in calendar.windows_from(start):
        if left <= b - a:
            return a + left
        left -= b - a
    raise AssertionError("unreachable")  # windows_from raises when it runs out


def between(calendar: Calendar, start: datetime, end: datetime) -> timedelta:
    """Working time between two instants (zero if end is not after start)."""
    total = timedelta(0)
    if end <= start:
        return total
    for a, b in calendar.windows_from(start):
        if a >= end:
            break
        total += min(b, end) - a
    return total


def next_working_moment(calendar: Calendar, moment: datetime) -> datetime:
    """`moment` if the clock runs then, else the start of the next working window (escalations wait for it)."""
    for a, _ in calendar.windows_from(moment):
        return a
    raise AssertionError("unreachable")


def calendar_from_config(zone: str, windows: Mapping[str, Sequence[Sequence[str]]], country: str | None = None,
                         subdivision: str | None = None, closed: Sequence[str | date] = (),
                         half_days: Mapping[str, str] | None = None) -> Calendar:
    """A Calendar from its stored/JSON form: {"mon": [["09:00", "12:00"], ["13:00", "17:00"]], ...}."""
    try:
        ZoneInfo(zone)
    except (ValueError, KeyError, OSError):
        raise CalendarError("zone", "an IANA time zone such as Europe/Paris") from None
    unknown = set(windows) - set(WEEKDAYS)
    if unknown:
        raise CalendarError("windows", f"unknown weekday {sorted(unknown)[0]!r} (use {', '.join(WEEKDAYS)})")
    week = []
    for name in WEEKDAYS:
        day = [(parse_minute(w[0], f"windows.{name}"), parse_minute(w[1], f"windows.{name}"))
               for w in windows.get(name, ())]
        week.append(check_windows(day, f"windows.{name}"))
    if country:
        try:
            public_holidays.country_holidays(country, subdiv=subdivision)
        except NotImplementedError:
            raise CalendarError("holiday_country", f"no public holidays known for {country!r}"
                                + (f" / {subdivision!r}" if subdivision else "")) from None
    closed_days = frozenset(d if isinstance(d, date) else date.fromisoformat(d) for d in closed)
    halves = {date.fromisoformat(k): parse_minute(v, "half_days") for k, v in (half_days or {}).items()}
    return Calendar(zone, tuple(week), country or None, subdivision or None, closed_days, halves)
