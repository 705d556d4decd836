"""Newsletters: recurring campaigns. A newsletter holds a template, an audience and a schedule (an RFC 5545 RRULE
read by python-dateutil, in a time zone, so "every Monday at 09:00" stays 09:00 across daylight saving). The worker
turns each occurrence that has come into one campaign, an issue: the template copied, the audience taken when the
issue starts sending. `issue_due` is safe with any number of workers: the newsletter row is claimed
FOR UPDATE SKIP LOCKED and (newsletter_id, issue_at) is unique, so an occurrence is issued exactly once.

Occurrences missed while the worker was down are issued once, not once each (a reader wants the latest issue,
not a week of them at once); occurrences that fall in a pause are skipped."""

import logging
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr
from servicekit import audit
from servicekit.etag import check_version
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import case, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ..db import audit_log
from . import content
from .models import Campaign, CampaignRecipient, MailingList, Newsletter, Segment

log = logging.getLogger(__name__)

CONTENT = ("subject", "html_body", "text_body", "from_name", "reply_to", "segment_id", "list_id", "require_consent",
           "tracking", "rate_per_second")
FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")


# -- the schedule ------------------------------------------------------------------------------------------------

def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise field_error("timezone", "not a time zone of the tz database, such as Europe/Paris") from None


def normalize_rule(text: str) -> str:
    """One RRULE line (without DTSTART), at most daily; 422 naming the field otherwise."""
    rule = (text or "").strip().removeprefix("RRULE:").upper()
    if not rule or "\n" in rule or "DTSTART" in rule:
        raise field_error("rrule", "one RRULE line such as FREQ=WEEKLY;BYDAY=MO (no DTSTART)")
    parts = dict(p.partition("=")[::2] for p in rule.split(";") if p)
    if parts.get("FREQ") not in FREQUENCIES:
        raise field_error("rrule", f"FREQ must be one of {', '.join(FREQUENCIES)} (a newsletter is at most daily)")
    for key in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        if key in parts and "," in parts[key]:
            raise field_error("rrule", f"one {key} value (a newsletter is at most daily)")
    try:
        rrulestr(rule, dtstart=datetime(2000, 1, 1, tzinfo=UTC))
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise field_error("rrule", f"not a valid RRULE ({exc})") from None
    return rule


def _rule(n: Newsletter) -> rrule:
    return rrulestr(n.rrule, dtstart=n.first_issue_at.astimezone(ZoneInfo(n.timezone)))


def next_occurrence(n: Newsletter, after: datetime, inclusive: bool = False) -> datetime | None:
    """The first occurrence after `after` (UTC), or None when the rule has ended."""
    found = _rule(n).after(after.astimezone(ZoneInfo(n.timezone)), inc=inclusive)
    return found.astimezone(UTC) if found else None


def upcoming(n: Newsletter, count: int = 3) -> list[datetime]:
    found, moment = [], n.next_issue_at
    while moment is not None and len(found) < count:
        found.append(moment)
        moment = next_occurrence(n, moment)
    return found


# -- use cases ---------------------------------------------------------------------------------------------------

def _get(session: Session, newsletter_id, lock: bool = False) -> Newsletter:
    n = session.get(Newsletter, str(newsletter_id), with_for_update=lock)
    if n is None:
        raise NotFound("newsletter", newsletter_id)
    return n


def view(n: Newsletter) -> dict:
    return {**{f: getattr(n, f) for f in CONTENT}, "id": n.id, "name": n.name, "rrule": n.rrule,
            "timezone": n.timezone, "first_issue_at": n.first_issue_at, "next_issue_at": n.next_issue_at,
            "upcoming": upcoming(n) if n.status == "active" else [], "status": n.status, "owner_id": n.owner_id,
            "version": n.version, "created_at": n.created_at, "updated_at": n.updated_at}


def _check(session: Session, data: dict) -> None:
    for name, html_mode in (("subject", False), ("html_body", True), ("text_body", False)):
        if data.get(name):
            content.check_template(name, data[name], html_mode)
    if data.get("segment_id") and session.get(Segment, str(data["segment_id"])) is None:
        raise field_error("segment_id", "no such segment")
    if data.get("list_id") and session.get(MailingList, str(data["list_id"])) is None:
        raise field_error("list_id", "no such mailing list")
    if "timezone" in data:
        zone(data["timezone"])


def _name_free(session: Session, name: str, newsletter_id: str | None = None) -> None:
    stmt = select(Newsletter.id).where(func.lower(Newsletter.name) == name.lower())
    if newsletter_id:
        stmt = stmt.where(Newsletter.id != newsletter_id)
    if session.execute(stmt).first():
        raise field_error("name", "already used", status=409, title="Name taken", type_="conflict")


def _reschedule(n: Newsletter, now: datetime) -> None:
    """The next occurrence from now on (or from the first issue, if that is later)."""
    n.next_issue_at = next_occurrence(n, max(now, n.first_issue_at), inclusive=True)
    if n.next_issue_at is None and n.status == "active":
        n.status = "ended"


def create(session: Session, data: dict, actor, now: datetime | None = None) -> dict:
    _check(session, data)
    _name_free(session, data["name"])
    values = {f: (str(data[f]) if f in ("segment_id", "list_id") and data.get(f) else data.get(f)) for f in CONTENT
              if f in data}
    n = Newsletter(**values, name=data["name"], rrule=normalize_rule(data["rrule"]), timezone=data["timezone"],
                   first_issue_at=data["first_issue_at"], status="active", owner_id=actor.user_id, version=1)
    _reschedule(n, now or datetime.now(UTC))
    session.add(n)
    session.flush()
    audit.record(session, audit_log, actor, "create", "newsletter", n.id, None, {"name": n.name, "rrule": n.rrule})
    return view(n)


def list_all(session: Session) -> list[dict]:
    return [view(n) for n in session.execute(select(Newsletter).order_by(Newsletter.name)).scalars()]


def get(session: Session, newsletter_id) -> dict:
    return view(_get(session, newsletter_id))


def update(session: Session, newsletter_id, expected: int, changes: dict, actor) -> dict:
    """Change what later issues carry or when they come (issues already made keep their copy)."""
    n = _get(session, newsletter_id, lock=True)
    check_version(n.version, expected)
    _check(session, changes)
    if "name" in changes:
        _name_free(session, changes["name"], n.id)
    audience = {k: changes[k] for k in ("segment_id", "list_id") if k in changes}
    if audience and sum(1 for v in ({"segment_id": n.segment_id, "list_id": n.list_id} | audience).values() if v) != 1:
        raise field_error("segment_id", "a newsletter goes to one segment or one list")
    if "rrule" in changes:
        changes = {**changes, "rrule": normalize_rule(changes["rrule"])}
    for k, v in changes.items():
        setattr(n, k, str(v) if k in ("segment_id", "list_id") and v else v)
    if {"rrule", "timezone", "first_issue_at"} & changes.keys() and n.status != "paused":
        n.status = "active"
        _reschedule(n, datetime.now(UTC))
    n.version += 1
    n.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, audit_log, actor, "update", "newsletter", n.id,
                 changes={k: str(v)[:200] for k, v in changes.items()})
    return view(n)


def _state(n: Newsletter, allowed: tuple, action: str) -> None:
    if n.status not in allowed:
        raise Problem(409, "Not in this state", f"A {n.status} newsletter cannot be {action}d "
                      f"(only {', '.join(allowed)}).", "conflict", errors=[{"field": "status", "message": n.status}])


def pause(session: Session, newsletter_id, expected: int | None, actor) -> dict:
    """No issue is made while paused (an issue already sending goes on: pause that campaign itself)."""
    n = _get(session, newsletter_id, lock=True)
    if expected is not None:
        check_version(n.version, expected)
    _state(n, ("active",), "pause")
    n.status, n.version, n.updated_at = "paused", n.version + 1, datetime.now(UTC)
    audit.record(session, audit_log, actor, "pause", "newsletter", n.id)
    return view(n)


def resume(session: Session, newsletter_id, expected: int | None, actor, now: datetime | None = None) -> dict:
    """Issues come again from the next occurrence on (those that fell in the pause are skipped)."""
    n = _get(session, newsletter_id, lock=True)
    if expected is not None:
        check_version(n.version, expected)
    _state(n, ("paused",), "resume")
    n.status, n.version, n.updated_at = "active", n.version + 1, datetime.now(UTC)
    _reschedule(n, now or datetime.now(UTC))
    audit.record(session, audit_log, actor, "resume", "newsletter", n.id)
    return view(n)


# -- the worker's part -------------------------------------------------------------------------------------------

def issue_name(session: Session, n: Newsletter, at: datetime) -> str:
    """"<newsletter> #<number> · <local date and time>" (the newsletter row is locked: numbers do not race); a name
    some other campaign took already gets the occurrence's instant as well."""
    number = session.execute(select(func.count()).where(Campaign.newsletter_id == n.id)).scalar_one() + 1
    name = f"{n.name} #{number} · {at.astimezone(ZoneInfo(n.timezone)).strftime('%Y-%m-%d %H:%M %Z')}"
    if session.execute(select(Campaign.id).where(func.lower(Campaign.name) == name.lower())).first():
        name = f"{name} ({at.timestamp():.0f})"
    return name[:150]


def issue_due(session: Session, now: datetime | None = None, newsletter_ids: list[str] | None = None) -> int:
    """Turn each occurrence that has come into a scheduled campaign, once; returns how many were issued."""
    now = now or datetime.now(UTC)
    stmt = select(Newsletter).where(Newsletter.status == "active", Newsletter.next_issue_at <= now)
    if newsletter_ids is not None:
        stmt = stmt.where(Newsletter.id.in_(newsletter_ids))
    issued = 0
    for n in session.execute(stmt.with_for_update(skip_locked=True)).scalars().all():
        at = n.next_issue_at
        values = {f: getattr(n, f) for f in CONTENT}
        result = session.execute(insert(Campaign).values(
            **values, name=issue_name(session, n, at), newsletter_id=n.id, issue_at=at, status="scheduled",
            scheduled_at=at, owner_id=n.owner_id, version=1)
            .on_conflict_do_nothing(constraint="uq_campaigns_newsletter_issue"))
        issued += result.rowcount
        n.next_issue_at = next_occurrence(n, max(at, now))
        if n.next_issue_at is None:
            n.status = "ended"
        n.version += 1
        log.info("newsletter %s: issue of %s %s", n.name, at.isoformat(), "made" if result.rowcount else "existed")
    return issued


def issues(session: Session, newsletter_id) -> list[Campaign]:
    _get(session, newsletter_id)
    return list(session.execute(select(Campaign).where(Campaign.newsletter_id == str(newsletter_id))
                                .order_by(Campaign.issue_at.desc())).scalars())


FIGURES = ("recipients", "sent", "failed", "bounced", "opened", "clicked", "unsubscribed", "complained")


def statistics(session: Session, newsletter_id) -> dict:
    """Figures per issue and across the series (one grouped query over the send ledgers)."""
    n = _get(session, newsletter_id)
    r = CampaignRecipient

    def count(cond):
        return func.count(case((cond, 1)))
    rows = session.execute(
        select(Campaign.id.label("campaign_id"), Campaign.name, Campaign.issue_at, Campaign.status,
               count(r.id.is_not(None)).label("recipients"), count(r.status == "sent").label("sent"),
               count(r.status == "failed").label("failed"), count(r.bounce.is_not(None)).label("bounced"),
               count(r.opened_at.is_not(None)).label("opened"), count(r.clicked_at.is_not(None)).label("clicked"),
               count(r.unsubscribed_at.is_not(None)).label("unsubscribed"),
               count(r.complained_at.is_not(None)).label("complained"))
        .outerjoin(r, r.campaign_id == Campaign.id).where(Campaign.newsletter_id == n.id)
        .group_by(Campaign.id).order_by(Campaign.issue_at)).all()
    per_issue = [dict(row._mapping) for row in rows]
    totals = {f: sum(i[f] for i in per_issue) for f in FIGURES}
    sent = totals["sent"]
    return {"newsletter_id": n.id, "issues": len(per_issue), "per_issue": per_issue,
            "totals": {**totals, "open_rate": round(totals["opened"] / sent, 4) if sent else None,
                       "click_rate": round(totals["clicked"] / sent, 4) if sent else None}}
