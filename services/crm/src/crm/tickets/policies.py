"""Use cases of SLA calendars and policies (sla:manage), and the SLA report. A change to either asks the worker to
recompute every open ticket's deadlines from its history (sla.request_recompute), so consumed and paused time are
kept and the change itself stays quick however many tickets are open."""

from datetime import UTC, datetime

from servicekit import audit
from servicekit.auth.principal import Principal
from servicekit.etag import check_version
from servicekit.problems import NotFound, field_error
from sqlalchemy import Integer, case, cast, func, select
from sqlalchemy.orm import Session

from ..access.models import Team
from ..db import audit_log
from . import business_time as bt
from . import sla
from .models import SlaCalendar, SlaPolicy, Ticket

_CALENDAR = ("name", "zone", "windows", "holiday_country", "holiday_subdivision", "closed_days", "half_days")
_POLICY = ("name", "position", "active", "priorities", "categories", "channels", "segments", "calendar_id",
           "first_response_minutes", "next_response_minutes", "resolution_minutes", "pause_statuses")


def _row(obj, fields) -> dict:
    return {f: getattr(obj, f) for f in fields}


def calendar_view(c: SlaCalendar) -> dict:
    return {"id": c.id, **_row(c, _CALENDAR), "version": c.version, "created_at": c.created_at}


def policy_view(p: SlaPolicy) -> dict:
    return {"id": p.id, **_row(p, _POLICY), "version": p.version, "created_at": p.created_at}


def _check_calendar(values: dict) -> None:
    """A calendar that the clock can use, or a 422 naming what is wrong (overlapping windows, a bad zone...)."""
    if not any((values.get("windows") or {}).values()):
        raise field_error("windows", "a calendar needs at least one working window")
    try:
        cal = bt.calendar_from_config(values["zone"], values.get("windows") or {}, values.get("holiday_country"),
                                      values.get("holiday_subdivision"), values.get("closed_days") or (),
                                      values.get("half_days") or {})
        bt.next_working_moment(cal, datetime.now(UTC))  # closed days and holidays may leave no working time at all
    except bt.CalendarError as exc:
        raise field_error(exc.field, exc.message) from None


def _unique_name(session: Session, model, name: str, own_id: str | None = None) -> None:
    found = session.execute(select(model.id).where(func.lower(model.name) == name.lower())).scalar()
    if found and found != own_id:
        raise field_error("name", f"the name {name!r} is taken", status=409, title="Conflict")


def create_calendar(session: Session, data: dict, actor: Principal) -> dict:
    values = {"closed_days": [], "half_days": {}, **data}
    values["closed_days"] = [d.isoformat() if hasattr(d, "isoformat") else d for d in values["closed_days"]]
    _check_calendar(values)
    _unique_name(session, SlaCalendar, values["name"])
    cal = SlaCalendar(**values, version=1)
    session.add(cal)
    session.flush()
    audit.record(session, audit_log, actor, "create", "sla_calendar", cal.id, None, _row(cal, _CALENDAR))
    return calendar_view(cal)


def _get(session: Session, model, noun: str, record_id, for_update=False):
    stmt = select(model).where(model.id == str(record_id))
    found = session.execute(stmt.with_for_update() if for_update else stmt).scalar()
    if found is None:
        raise NotFound(noun, record_id)
    return found


def get_calendar(session: Session, calendar_id) -> dict:
    return calendar_view(_get(session, SlaCalendar, "SLA calendar", calendar_id))


def list_calendars(session: Session) -> list[dict]:
    return [calendar_view(c) for c in session.execute(select(SlaCalendar).order_by(SlaCalendar.name)).scalars()]


def update_calendar(session: Session, calendar_id, expected_version: int, changes: dict, actor: Principal) -> dict:
    """Change a calendar; the worker then recomputes every open ticket's deadlines."""
    cal = _get(session, SlaCalendar, "SLA calendar", calendar_id, for_update=True)
    check_version(cal.version, expected_version)
    if "closed_days" in changes:
        changes["closed_days"] = [d.isoformat() if hasattr(d, "isoformat") else d for d in changes["closed_days"]]
    before = _row(cal, _CALENDAR)
    values = {**before, **changes}
    _check_calendar(values)
    if "name" in changes:
        _unique_name(session, SlaCalendar, changes["name"], cal.id)
    for k, v in changes.items():
        setattr(cal, k, v)
    cal.version += 1
    session.flush()
    sla.request_recompute(session, f"calendar {cal.name} changed")
    audit.record(session, audit_log, actor, "update", "sla_calendar", cal.id, before, _row(cal, _CALENDAR))
    return calendar_view(cal)


def _check_policy(session: Session, values: dict, own_id: str | None = None) -> None:
    if session.get(SlaCalendar, str(values["calendar_id"])) is None:
        raise field_error("calendar_id", f"no SLA calendar with id {values['calendar_id']}")
    if not any(values.get(f) for f in ("first_response_minutes", "next_response_minutes", "resolution_minutes")):
        raise field_error("resolution_minutes", "a policy needs at least one target")
    taken = session.execute(select(SlaPolicy.id).where(SlaPolicy.position == values["position"])).scalar()
    if taken and taken != own_id:
        raise field_error("position", f"position {values['position']} is taken by another policy", status=409,
                          title="Conflict")


def create_policy(session: Session, data: dict, actor: Principal) -> dict:
    values = {"priorities": [], "categories": [], "channels": [], "segments": [],
              "pause_statuses": ["pending", "on_hold"], "active": True, **data}
    values["calendar_id"] = str(values["calendar_id"])
    _check_policy(session, values)
    policy = SlaPolicy(**values, version=1)
    session.add(policy)
    session.flush()
    sla.request_recompute(session, f"policy {policy.name} created")
    audit.record(session, audit_log, actor, "create", "sla_policy", policy.id, None, _row(policy, _POLICY))
    return policy_view(policy)


def list_policies(session: Session) -> list[dict]:
    return [policy_view(p) for p in session.execute(select(SlaPolicy).order_by(SlaPolicy.position)).scalars()]


def get_policy(session: Session, policy_id) -> dict:
    return policy_view(_get(session, SlaPolicy, "SLA policy", policy_id))


def update_policy(session: Session, policy_id, expected_version: int, changes: dict, actor: Principal) -> dict:
    """Change a policy (targets, conditions, order, calendar): the worker then matches and recomputes open
    tickets."""
    policy = _get(session, SlaPolicy, "SLA policy", policy_id, for_update=True)
    check_version(policy.version, expected_version)
    if "calendar_id" in changes:
        changes["calendar_id"] = str(changes["calendar_id"])
    before = _row(policy, _POLICY)
    _check_policy(session, {**before, **changes}, policy.id)
    for k, v in changes.items():
        setattr(policy, k, v)
    policy.version += 1
    session.flush()
    sla.request_recompute(session, f"policy {policy.name} changed")
    audit.record(session, audit_log, actor, "update", "sla_policy", policy.id, before, _row(policy, _POLICY))
    return policy_view(policy)


REPORT_GROUPS = ("team", "priority", "category", "month")


def sla_report(session: Session, args: dict) -> list[dict]:
    """Resolution targets met, per team, priority, category or month of opening: tickets measured (with a
    resolution deadline or a breach), met, breached, and met % (resolved ones and open ones alike: an open ticket
    past its deadline counts as breached)."""
    now = datetime.now(UTC)
    group = args.get("group_by", "priority")
    keys = {"team": func.coalesce(Team.name, "(no team)"), "priority": Ticket.priority,
            "category": func.coalesce(Ticket.category, "(none)"),
            "month": func.to_char(func.timezone("UTC", Ticket.created_at), "YYYY-MM")}
    key = keys[group].label("key")
    breached = (Ticket.resolution_breached
                | ((Ticket.resolution_due_at <= now) & Ticket.status.notin_(("resolved", "closed"))))
    measured = (Ticket.resolution_due_at.isnot(None) | Ticket.resolution_breached
                | Ticket.status.in_(("resolved", "closed")) & Ticket.sla_policy_id.isnot(None))
    stmt = (select(key, func.count().label("measured"),
                   func.sum(cast(case((breached, 1), else_=0), Integer)).label("breached"))
            .select_from(Ticket).outerjoin(Team, Team.id == Ticket.team_id)
            .where(measured, Ticket.merged_into_id.is_(None)))
    if args.get("since"):
        stmt = stmt.where(Ticket.created_at >= args["since"])
    if args.get("until"):
        stmt = stmt.where(Ticket.created_at < args["until"])
    rows = session.execute(stmt.group_by(key).order_by(key)).all()
    out = []
    for r in rows:
        met = r.measured - (r.breached or 0)
        out.append({"group_by": group, "key": r.key, "measured": r.measured, "met": met, "breached": r.breached or 0,
                    "met_percent": round(100 * met / r.measured, 1) if r.measured else None})
    return out

