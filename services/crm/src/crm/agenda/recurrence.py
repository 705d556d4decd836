"""Recurrence without I/O: RFC 5545 RRULE/RDATE/EXDATE expanded with python-dateutil in the event's own zone (an
aware start in that zone keeps the wall clock across DST), overrides applied by RECURRENCE-ID, and only the
occurrences that overlap the asked window come out."""

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrule, rruleset, rrulestr

# A finite series longer than this is treated as open-ended when its end is computed (the SQL filter is then
# only weaker, never wrong); expansion itself has no limit.
_COUNT_SCAN_LIMIT = 100_000
_MARGIN = timedelta(days=1)  # wall-clock window padding around DST shifts


class RecurrenceError(ValueError):
    """The rule cannot be read; the message says why."""


@dataclass(frozen=True)
class Series:
    """What expansion needs of an event (plain values, so this module stays free of the database)."""

    starts_at: datetime  # first occurrence, aware
    ends_at: datetime
    tz: str
    all_day: bool = False
    rrule: str | None = None
    rdates: tuple[datetime, ...] = ()
    exdates: tuple[datetime, ...] = ()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    def local_start(self) -> datetime:
        return self.starts_at.astimezone(self.zone)

    def wall_duration(self) -> timedelta:
        """The length in wall-clock time (an all-day event of one day stays one day across a DST change)."""
        zone = self.zone
        return (self.ends_at.astimezone(zone).replace(tzinfo=None)
                - self.starts_at.astimezone(zone).replace(tzinfo=None))


@dataclass(frozen=True)
class Override:
    recurrence_id: datetime
    cancelled: bool = False
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    fields: dict = field(default_factory=dict)  # title, description, location when changed


@dataclass(frozen=True)
class Occurrence:
    recurrence_id: datetime | None  # the original start (UTC) of an occurrence of a series; None for a single event
    starts_at: datetime
    ends_at: datetime
    overridden: bool = False
    fields: dict = field(default_factory=dict)


def normalize_rule(text: str) -> str:
    """The rule without an `RRULE:` prefix, upper-case, parts in a stable order."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[6:]
    if not body or "\n" in body:
        raise RecurrenceError("one RRULE line such as FREQ=WEEKLY;BYDAY=MO")
    return body.upper()


def rule_parts(text: str) -> dict[str, str]:
    parts = {}
    for piece in normalize_rule(text).split(";"):
        key, sep, value = piece.partition("=")
        if not sep or not key or not value:
            raise RecurrenceError(f"'{piece}' is not NAME=VALUE")
        parts[key] = value
    return parts


def join_parts(parts: dict[str, str]) -> str:
    head = [f"FREQ={parts['FREQ']}"] if "FREQ" in parts else []
    return ";".join(head + [f"{k}={v}" for k, v in parts.items() if k != "FREQ"])


def _wall(series: Series, moment: datetime) -> datetime:
    """A UTC moment as the aware wall-clock time of the series' zone."""
    return moment.astimezone(series.zone)


_STEPS = {"DAILY": timedelta(days=1), "WEEKLY": timedelta(weeks=1)}


def _closer_start(dtstart: datetime, parts: dict[str, str], near: datetime | None) -> datetime:
    """A later DTSTART in the same phase as the rule (whole periods of INTERVAL days or weeks on, same wall
    clock), at least one period before `near`: the expansion then starts near the window instead of walking the
    series from its beginning. Only for DAILY and WEEKLY rules without COUNT or BYSETPOS, whose occurrences do not
    depend on how many came before; any other rule keeps its DTSTART."""
    step = _STEPS.get(parts.get("FREQ", ""))
    if near is None or step is None or "COUNT" in parts or "BYSETPOS" in parts:
        return dtstart
    period = step * int(parts.get("INTERVAL", "1") or 1)
    gap = near.replace(tzinfo=None) - dtstart.replace(tzinfo=None)
    periods = gap // period - 1
    if periods < 1:
        return dtstart
    return (dtstart.replace(tzinfo=None) + periods * period).replace(tzinfo=dtstart.tzinfo)


def _rule(series: Series, near: datetime | None = None) -> rrule | None:
    if not series.rrule:
        return None
    dtstart = series.local_start()
    parts = rule_parts(series.rrule)
    if "UNTIL" in parts:  # a date or a local UNTIL is read as the end of that wall-clock moment in the zone
        until = parts["UNTIL"]
        if not until.endswith("Z"):
            moment = datetime.strptime(until, "%Y%m%d") + timedelta(days=1, seconds=-1) if len(until) == 8 else \
                datetime.strptime(until, "%Y%m%dT%H%M%S")
            parts["UNTIL"] = moment.replace(tzinfo=series.zone).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    try:
        return rrulestr(join_parts(parts), dtstart=_closer_start(dtstart, parts, near))
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise RecurrenceError(str(exc) or "not an RFC 5545 RRULE") from None


def check(series: Series) -> None:
    """Raise RecurrenceError if the rule cannot be expanded."""
    _rule(series)


def _set(series: Series, near: datetime | None = None) -> rruleset:
    rules = rruleset()
    rule = _rule(series, near)
    if rule is not None:
        rules.rrule(rule)
    else:
        rules.rdate(series.local_start())
    for moment in series.rdates:
        rules.rdate(_wall(series, moment))
    for moment in series.exdates:
        rules.exdate(_wall(series, moment))
    return rules


def is_recurring(series: Series) -> bool:
    return bool(series.rrule or series.rdates)


def _starts_between(series: Series, after: datetime, before: datetime) -> Iterable[datetime]:
    """Original starts (aware, in the zone) between two moments, padded for DST; the cost grows with the window (and,
    for rules other than DAILY/WEEKLY without COUNT, with the distance from the series' start)."""
    lo = _wall(series, after) - _MARGIN
    hi = _wall(series, before) + _MARGIN
    return _set(series, near=lo).between(lo, hi, inc=True)


def _make(series: Series, local: datetime, duration: timedelta) -> tuple[datetime, datetime]:
    start = local.astimezone(UTC)
    end = (local.replace(tzinfo=None) + duration).replace(tzinfo=series.zone).astimezone(UTC)
    return start, end


def occurrences(series: Series, overrides: Iterable[Override], window_start: datetime,
                window_end: datetime) -> list[Occurrence]:
    """Every occurrence overlapping [window_start, window_end), overrides applied (a moved occurrence shows where
    it moved to, a cancelled one not at all), sorted by start."""
    by_id = {o.recurrence_id.astimezone(UTC): o for o in overrides}
    duration = series.wall_duration()
    out: dict[datetime, Occurrence] = {}
    span = max(duration, timedelta(0))
    for local in _starts_between(series, window_start - span, window_end):
        start, end = _make(series, local, duration)
        rid = start if is_recurring(series) else None
        out[start] = Occurrence(rid, start, end)
    if is_recurring(series):
        for rid, override in by_id.items():
            base = out.get(rid)
            if base is None:
                if override.starts_at is None or not is_occurrence(series, rid):
                    continue  # not moved into the window (or no longer an occurrence of the series)
                base = Occurrence(rid, *_make(series, _wall(series, rid), duration))
            out[rid] = base if override.cancelled else _apply(base, override)
            if override.cancelled:
                del out[rid]
    found = [o for o in out.values() if o.starts_at < window_end and (
        o.ends_at > window_start or (o.ends_at == o.starts_at and o.starts_at >= window_start))]
    return sorted(found, key=lambda o: (o.starts_at, o.ends_at))


def _apply(base: Occurrence, override: Override) -> Occurrence:
    start = override.starts_at or base.starts_at
    end = override.ends_at or (start + (base.ends_at - base.starts_at))
    return replace(base, starts_at=start.astimezone(UTC), ends_at=end.astimezone(UTC), overridden=True,
                   fields=dict(override.fields))


def is_occurrence(series: Series, moment: datetime) -> bool:
    """Whether `moment` is the original start of an occurrence of the series (a valid RECURRENCE-ID)."""
    moment = moment.astimezone(UTC)
    return any(local.astimezone(UTC) == moment for local in _starts_between(series, moment, moment))


def series_end(series: Series) -> datetime | None:
    """The end of the last occurrence (UTC), or None when the series never ends (or is too long to scan)."""
    duration = series.wall_duration()
    if not series.rrule:
        last = max([series.starts_at, *series.rdates])
        return _make(series, _wall(series, last), duration)[1]
    parts = rule_parts(series.rrule)
    if "UNTIL" not in parts and "COUNT" not in parts:
        return None
    rules = _set(series)
    if "COUNT" in parts and int(parts["COUNT"]) > _COUNT_SCAN_LIMIT:
        return None
    last = None
    for last in rules:  # noqa: B007 - the last one is what we want
        pass
    if last is None:
        return series.ends_at
    ends = [_make(series, last, duration)[1]]
    ends += [_make(series, _wall(series, r), duration)[1] for r in series.rdates]
    return max(ends + [series.ends_at])


def count_before(series: Series, moment: datetime) -> int:
    """How many occurrences start before `moment` (for splitting a COUNT-limited series)."""
    rules = _set(series)
    return sum(1 for _ in rules.between(series.local_start() - timedelta(seconds=1), _wall(series, moment),
                                        inc=False))


def until_before(series: Series, moment: datetime) -> str:
    """The UNTIL value that ends the series just before `moment` (UTC form; a date for all-day events)."""
    stop = moment.astimezone(UTC) - timedelta(seconds=1)
    if series.all_day:
        return (moment.astimezone(series.zone).date() - timedelta(days=1)).strftime("%Y%m%d")
    return stop.strftime("%Y%m%dT%H%M%SZ")


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """Midnight to midnight of a calendar day in a zone, as UTC."""
    zone = ZoneInfo(tz)
    start = datetime(day.year, day.month, day.day, tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)
