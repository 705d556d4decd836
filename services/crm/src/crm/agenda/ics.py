"""RFC 5545 out and in, without the database: an event (a series master and its overrides) as VEVENTs, a calendar
of them with VTIMEZONE, VALARM and RFC 7986 NAME/COLOR/REFRESH-INTERVAL; and the reading of a calendar file
exported by Outlook, Google or Apple into plain values the import use case stores.

A recurring series leaves as one master VEVENT (RRULE, RDATE, EXDATE; cancelled occurrences are EXDATEs) plus
one VEVENT per changed occurrence with its RECURRENCE-ID, exactly how it is stored: never expanded. Properties
of an imported VEVENT that the CRM does not map are kept as text and written back unchanged."""

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from icalendar import Alarm, Calendar, Event, vRecur
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

from . import recurrence as rec

PRODID = "-//crm-erp//CRM agenda//EN"
MAX_EVENTS = 20_000  # VEVENTs in one imported file
# What the CRM maps itself; any other property of an imported VEVENT is kept verbatim in ics_extra.
_MAPPED = {"UID", "DTSTART", "DTEND", "DURATION", "SUMMARY", "DESCRIPTION", "LOCATION", "RRULE", "RDATE",
           "EXDATE", "RECURRENCE-ID", "CATEGORIES", "TRANSP", "CLASS", "SEQUENCE", "DTSTAMP", "STATUS",
           "LAST-MODIFIED", "CREATED", "X-CRM-COLOR"}
_CONTENT_LINE = re.compile(r"^[A-Za-z0-9-]+(;[^:]*)?:.*$")


class IcsError(ValueError):
    """The file cannot be imported; `line` is where (1-based, after unfolding), `field` what."""

    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line = line

    @property
    def where(self) -> str:
        return f"line {self.line}" if self.line else "(body)"


# -- out -------------------------------------------------------------------------------------------------------

def _local(moment: datetime, tz: str) -> datetime:
    zone = ZoneInfo(tz)
    local = moment.astimezone(zone)
    return local.astimezone(UTC) if tz == "UTC" else local


def _when(moment: datetime, tz: str, all_day: bool):
    return moment.astimezone(ZoneInfo(tz)).date() if all_day else _local(moment, tz)


def _mailto(email: str) -> str:
    return f"mailto:{email}"


@dataclass
class Person:
    email: str
    name: str | None = None
    status: str = "needs-action"
    party: bool = False  # a customer contact (invited by iMIP), not a CRM user


@dataclass
class Export:
    """What one VEVENT family needs: the event view (service.event_view) plus resolved people and alarms."""

    event: dict
    organizer: Person | None = None
    attendees: list[Person] = field(default_factory=list)
    alarms: list[int] = field(default_factory=list)  # minutes before, for the calendar's reader
    method: str | None = None


def _base(ev: dict, tz: str, all_day: bool) -> Event:
    out = Event()
    out.add("uid", ev["uid"])
    out.add("dtstamp", datetime.now(UTC).replace(microsecond=0))
    out.add("sequence", ev.get("sequence") or 0)
    if ev.get("created_at"):
        out.add("created", ev["created_at"].astimezone(UTC).replace(microsecond=0))
    if ev.get("updated_at"):
        out.add("last-modified", ev["updated_at"].astimezone(UTC).replace(microsecond=0))
    return out


def _texts(out: Event, title: str | None, description: str | None, location: str | None) -> None:
    out.add("summary", title or "")
    if description:
        out.add("description", description)
    if location:
        out.add("location", location)


def _people(out: Event, spec: Export) -> None:
    if spec.organizer and "ORGANIZER" not in out:
        out.add("organizer", _mailto(spec.organizer.email),
                parameters={"CN": spec.organizer.name} if spec.organizer.name else None)
    for p in spec.attendees:
        params = {"PARTSTAT": p.status.upper(), "ROLE": "REQ-PARTICIPANT", "CUTYPE": "INDIVIDUAL"}
        if p.name:
            params["CN"] = p.name
        if spec.method == "REQUEST" and p.status == "needs-action":
            params["RSVP"] = "TRUE"
        out.add("attendee", _mailto(p.email), parameters=params)


def _alarms(out: Event, minutes: list[int], title: str) -> None:
    for m in minutes:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", title or "Reminder")
        alarm.add("trigger", timedelta(minutes=-m))
        out.add_component(alarm)


def _extra(out: Event, text: str | None) -> None:
    """Write back what an import kept: parsed as a VEVENT fragment, so values round-trip with their escaping."""
    if not text:
        return
    fragment = Event.from_ical("BEGIN:VEVENT\r\n" + text + "END:VEVENT\r\n")
    for name, value in fragment.property_items(recursive=False):
        if name not in ("BEGIN", "END") and name not in out:
            out.add(name, value, encode=False)


def vevents(spec: Export) -> list[Event]:
    """The master VEVENT and one per changed occurrence."""
    ev = spec.event
    tz, all_day = ev["tz"], ev["all_day"]
    master = _base(ev, tz, all_day)
    _texts(master, ev["title"], ev.get("description"), ev.get("location"))
    master.add("dtstart", _when(ev["starts_at"], tz, all_day))
    master.add("dtend", _when(ev["ends_at"], tz, all_day))
    overrides = ev.get("overrides") or []
    if ev.get("rrule"):
        master.add("rrule", vRecur.from_ical(ev["rrule"]))
    if ev.get("rdates"):
        master.add("rdate", [_when(d, tz, all_day) for d in ev["rdates"]])
    exdates = list(ev.get("exdates") or []) + [o["recurrence_id"] for o in overrides if o["cancelled"]]
    if exdates:
        master.add("exdate", [_when(d, tz, all_day) for d in sorted(exdates)])
    if ev.get("category"):
        master.add("categories", [ev["category"]])
    if ev.get("color"):
        master.add("x-crm-color", ev["color"])
    master.add("transp", "TRANSPARENT" if ev.get("transparency") == "free" else "OPAQUE")
    master.add("class", "PRIVATE" if ev.get("visibility") == "private" else "PUBLIC")
    master.add("status", "CONFIRMED")
    _extra(master, ev.get("ics_extra"))
    _people(master, spec)
    _alarms(master, spec.alarms, ev["title"])
    out = [master]
    duration = ev["ends_at"] - ev["starts_at"]
    for o in overrides:
        if o["cancelled"]:
            continue
        one = _base(ev, tz, all_day)
        one.add("recurrence-id", _when(o["recurrence_id"], tz, all_day))
        _texts(one, o.get("title") or ev["title"], o.get("description") or ev.get("description"),
               o.get("location") or ev.get("location"))
        start = o.get("starts_at") or o["recurrence_id"]
        end = o.get("ends_at") or (start + duration)
        one.add("dtstart", _when(start, tz, all_day))
        one.add("dtend", _when(end, tz, all_day))
        one.add("transp", master["TRANSP"])
        one.add("status", "CONFIRMED")
        _people(one, spec)
        _alarms(one, spec.alarms, o.get("title") or ev["title"])
        out.append(one)
    return out


def calendar(specs: list[Export], name: str | None = None, color: str | None = None,
             refresh_minutes: int | None = None, method: str | None = None) -> bytes:
    """An RFC 5545 calendar of the events, with a VTIMEZONE for every zone used (RFC 7986 name, color and
    refresh interval when it is a feed; METHOD for an iMIP message)."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    if name:
        cal.add("name", name)
        cal.add("x-wr-calname", name)
    if color:
        cal.add("color", color)
    if refresh_minutes:
        cal.add("refresh-interval", timedelta(minutes=refresh_minutes), parameters={"VALUE": "DURATION"})
        cal.add("x-published-ttl", f"PT{refresh_minutes}M")  # Outlook's refresh hint (an ISO 8601 duration)
    for spec in specs:
        for component in vevents(spec):
            cal.add_component(component)
    if any(s.event["tz"] != "UTC" and not s.event["all_day"] for s in specs):
        first = min(s.event["starts_at"] for s in specs).date() - timedelta(days=1)
        cal.add_missing_timezones(first, date(max(datetime.now(UTC).year, first.year) + 30, 1, 1))
    return cal.to_ical()


# -- in --------------------------------------------------------------------------------------------------------

@dataclass
class Imported:
    """One VEVENT family of a file: the master's values and its overrides, ready for the import use case."""

    uid: str
    line: int
    values: dict = field(default_factory=dict)  # title, description, location, starts_at, ... (service fields)
    attendees: list[tuple[str, str]] = field(default_factory=list)  # (email, partstat)
    alarms: list[int] = field(default_factory=list)
    extra: str | None = None
    overrides: list[dict] = field(default_factory=list)  # recurrence_id, cancelled, starts_at, ... , line
    modified: datetime | None = None  # the master's LAST-MODIFIED (sync resolves conflicting edits by it)


def _unfolded(text: str) -> list[tuple[int, str]]:
    """(line number in the file, content line) after unfolding: numbers are what an editor shows."""
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] = (lines[-1][0], lines[-1][1] + raw[1:])
        else:
            lines.append((number, raw))
    return lines


def _check_lines(text: str) -> list[int]:
    """Refuse what is not a calendar, naming the line; answers the line of every BEGIN:VEVENT, in order."""
    lines = [(n, line) for n, line in _unfolded(text) if line.strip()]
    if not lines or lines[0][1].strip().upper() != "BEGIN:VCALENDAR":
        raise IcsError(lines[0][0] if lines else 1, "not an iCalendar file: it must begin with BEGIN:VCALENDAR")
    starts, depth = [], 0
    for number, line in lines:
        if not _CONTENT_LINE.match(line):
            raise IcsError(number, "not an RFC 5545 content line (NAME;PARAM=...:VALUE)")
        upper = line.upper().strip()
        if upper.startswith("BEGIN:"):
            depth += 1
            if upper == "BEGIN:VEVENT":
                starts.append(number)
        elif upper.startswith("END:"):
            depth -= 1
            if depth < 0:
                raise IcsError(number, "END without a matching BEGIN")
    if depth != 0:
        raise IcsError(lines[-1][0], "the calendar is not closed (BEGIN without END)")
    if len(starts) > MAX_EVENTS:
        raise IcsError(starts[MAX_EVENTS], f"more than {MAX_EVENTS} events in one file: split it")
    return starts


def zone_name(tzid: str | None, moment: datetime | None, default: str) -> str:
    """An IANA zone for a TZID (IANA, Windows names like "W. Europe Standard Time", or a datetime's own zone)."""
    for candidate in (tzid, WINDOWS_TO_OLSON.get(tzid or ""), getattr(getattr(moment, "tzinfo", None), "key", None)):
        if candidate:
            try:
                ZoneInfo(candidate)
                return candidate
            except (ZoneInfoNotFoundError, ValueError, OSError):
                continue
    if moment is not None and moment.tzinfo is not None and moment.utcoffset() == timedelta(0):
        return "UTC"
    return default


def _moment(value, tz: str) -> datetime:
    """A DATE, floating DATE-TIME or aware DATE-TIME as an aware UTC moment (dates at midnight in `tz`)."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=ZoneInfo(tz))
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=ZoneInfo(tz)).astimezone(UTC)
    raise ValueError("not a date or date-time")


def _dates(component, name: str, tz: str) -> list[datetime]:
    found = component.get(name)
    if found is None:
        return []
    out = []
    for group in found if isinstance(found, list) else [found]:
        for d in group.dts:
            value = d.dt[0] if isinstance(d.dt, tuple) else d.dt  # a PERIOD: its start
            out.append(_moment(value, tz))
    return out


def _text(component, name: str, limit: int) -> str | None:
    value = component.get(name)
    if value is None:
        return None
    return str(value)[:limit] or None


def _timing(component, line: int, default_tz: str) -> dict:
    start_prop = component.get("DTSTART")
    if start_prop is None:
        raise IcsError(line, "the event has no DTSTART")
    start = start_prop.dt
    all_day = not isinstance(start, datetime)
    tz = zone_name(start_prop.params.get("TZID"), start if not all_day else None, default_tz)
    starts_at = _moment(start, tz)
    end_prop = component.get("DTEND")
    if end_prop is not None:
        ends_at = _moment(end_prop.dt, tz)
    elif component.get("DURATION") is not None:
        ends_at = starts_at + component["DURATION"].dt
    else:
        ends_at = starts_at + (timedelta(days=1) if all_day else timedelta(0))
    if ends_at < starts_at:
        raise IcsError(line, "DTEND is before DTSTART")
    return {"starts_at": starts_at, "ends_at": ends_at, "all_day": all_day, "tz": tz}


def _people_and_alarms(component, found: Imported) -> None:
    attendees = component.get("ATTENDEE")
    for a in attendees if isinstance(attendees, list) else ([attendees] if attendees is not None else []):
        address = str(a)
        if address.lower().startswith("mailto:"):
            found.attendees.append((address[7:].strip().lower(), str(a.params.get("PARTSTAT", "NEEDS-ACTION"))))
    for alarm in component.walk("VALARM"):
        trigger = alarm.get("TRIGGER")
        if trigger is None or not isinstance(trigger.dt, timedelta) or trigger.params.get("RELATED") == "END":
            continue
        minutes = int(-trigger.dt.total_seconds() // 60)
        if 0 <= minutes <= 40320:
            found.alarms.append(minutes)


def _kept(component) -> str | None:
    """The properties the CRM does not map (ATTENDEE and ORGANIZER included: a reader sees them again)."""
    keep = Event()
    for name, value in component.property_items(recursive=False):
        if name not in ("BEGIN", "END") and name not in _MAPPED:
            keep.add(name, value, encode=False)
    text = keep.to_ical().decode()
    body = text.split("\r\n", 1)[1].rsplit("END:VEVENT", 1)[0]
    return body or None


def _values(component, line: int, default_tz: str) -> dict:
    values = _timing(component, line, default_tz)
    values["title"] = _text(component, "SUMMARY", 300) or "(no title)"
    values["description"] = _text(component, "DESCRIPTION", 20_000)
    values["location"] = _text(component, "LOCATION", 500)
    return values


def parse(data: bytes, default_tz: str = "UTC") -> list[Imported]:
    """Every VEVENT family of a calendar file, or IcsError naming the line. Nothing here touches the database."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IcsError(None, f"the file is not UTF-8 (byte {exc.start})") from None
    starts = _check_lines(text)
    try:
        cal = Calendar.from_ical(text)
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise IcsError(None, f"not a valid iCalendar file: {exc}") from None
    if cal.name != "VCALENDAR":
        raise IcsError(1, "not an iCalendar file: the outer component must be VCALENDAR")
    wr_zone = str(cal.get("X-WR-TIMEZONE") or "")
    default_tz = zone_name(wr_zone, None, default_tz) if wr_zone else default_tz
    families: dict[str, Imported] = {}
    events = [c for c in cal.subcomponents if c.name == "VEVENT"]
    for component, line in zip(events, starts, strict=False):
        uid = _text(component, "UID", 300)
        if not uid:
            raise IcsError(line, "the event has no UID")
        try:
            if component.get("RECURRENCE-ID") is not None:
                family = families.setdefault(uid, Imported(uid, line))
                values = _values(component, line, default_tz)
                values["recurrence_id"] = _moment(component["RECURRENCE-ID"].dt, values["tz"])
                values["cancelled"] = str(component.get("STATUS", "")).upper() == "CANCELLED"
                values["line"] = line
                family.overrides.append(values)
                continue
            family = families.get(uid)
            if family is not None and family.values:
                raise IcsError(line, f"a second event with UID {uid} (and no RECURRENCE-ID)")
            family = families.setdefault(uid, Imported(uid, line))
            family.line = line
            family.values = _values(component, line, default_tz)
            rule = component.get("RRULE")
            if isinstance(rule, list):
                raise IcsError(line, "more than one RRULE in an event")
            tz = family.values["tz"]
            family.values["rrule"] = rule.to_ical().decode() if rule is not None else None
            family.values["rdates"] = _dates(component, "RDATE", tz)
            family.values["exdates"] = _dates(component, "EXDATE", tz)
            family.values["transparency"] = "free" if str(component.get("TRANSP", "")).upper() == "TRANSPARENT" \
                else "busy"
            family.values["visibility"] = "private" if str(component.get("CLASS", "")).upper() in (
                "PRIVATE", "CONFIDENTIAL") else "public"
            categories = component.get("CATEGORIES")
            if categories is not None:
                first = categories[0] if isinstance(categories, list) else categories
                family.values["category"] = str(first.cats[0])[:60] if first.cats else None
            color = _text(component, "X-CRM-COLOR", 7)
            family.values["color"] = color if color and re.fullmatch(r"#[0-9a-fA-F]{6}", color) else None
            family.values["cancelled"] = str(component.get("STATUS", "")).upper() == "CANCELLED"
            _people_and_alarms(component, family)
            family.extra = _kept(component)
            modified = component.get("LAST-MODIFIED")
            family.modified = _moment(modified.dt, "UTC") if modified is not None else None
        except IcsError:
            raise
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            raise IcsError(line, f"the event cannot be read: {exc}") from None
    for family in families.values():
        if not family.values:
            raise IcsError(family.overrides[0]["line"], f"RECURRENCE-ID of UID {family.uid} without its series "
                           "in the file")
        series = rec.Series(family.values["starts_at"], family.values["ends_at"], family.values["tz"],
                            family.values["all_day"], family.values["rrule"], tuple(family.values["rdates"]),
                            tuple(family.values["exdates"]))
        try:
            rec.check(series)
        except rec.RecurrenceError as exc:
            raise IcsError(family.line, f"RRULE: {exc}") from None
        for o in family.overrides:
            if not rec.is_occurrence(series, o["recurrence_id"]) and o["recurrence_id"] not in series.exdates:
                raise IcsError(o["line"], "RECURRENCE-ID is not an occurrence of its series")
    return list(families.values())
