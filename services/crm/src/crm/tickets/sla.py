"""SLA policies and calendars as the clock sees them: which policy a ticket gets and why, and the ticket's SLA
columns recomputed from its facts (after each fact, or for every open ticket when a policy or calendar changes)."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import business_time as bt
from .models import OPEN, SlaCalendar, SlaPolicy, Ticket, TicketFact
from .sla_clock import Clock, Fact, Policy, Resolver, Result, replay

MATCHED_ON = (("priorities", "priority"), ("categories", "category"), ("channels", "channel"))


def calendar_of(row: SlaCalendar) -> bt.Calendar:
    return bt.calendar_from_config(row.zone, row.windows, row.holiday_country, row.holiday_subdivision,
                                   row.closed_days, row.half_days)


def _minutes(value: int | None) -> timedelta | None:
    return timedelta(minutes=value) if value else None


def policy_of(row: SlaPolicy, calendar: bt.Calendar) -> Policy:
    return Policy(row.id, row.name, calendar, _minutes(row.first_response_minutes),
                  _minutes(row.next_response_minutes), _minutes(row.resolution_minutes),
                  frozenset(row.pause_statuses or ()))


def _matches(row: SlaPolicy, attrs: dict) -> tuple[bool, list[str]]:
    why = []
    for column, attr in MATCHED_ON:
        wanted = getattr(row, column) or []
        if wanted:
            if attrs.get(attr) not in wanted:
                return False, []
            why.append(f"{attr} {attrs.get(attr)}")
    if row.segments:
        common = sorted(set(row.segments) & set(attrs.get("segments") or ()))
        if not common:
            return False, []
        why.append(f"customer segment {common[0]}")
    return True, why


def resolver(session: Session) -> Resolver:
    """attrs -> (policy, reason): the ticket's hand-picked policy, else the first active one by position that
    matches; (None, reason) when none does."""
    rows = session.execute(select(SlaPolicy).order_by(SlaPolicy.position)).scalars().all()
    calendars = {c.id: calendar_of(c) for c in session.execute(select(SlaCalendar)).scalars()}
    policies = {r.id: policy_of(r, calendars[r.calendar_id]) for r in rows}
    by_id = {r.id: r for r in rows}

    def resolve(attrs: dict):
        chosen = attrs.get("sla_policy")
        if chosen and chosen in policies:
            return policies[chosen], f"policy '{by_id[chosen].name}' set on the ticket by hand"
        for row in rows:
            if not row.active:
                continue
            ok, why = _matches(row, attrs)
            if ok:
                cond = ", ".join(why) if why else "it matches every ticket"
                return policies[row.id], f"policy '{row.name}' (position {row.position}): {cond}"
        return None, "no active SLA policy matches this ticket"
    return resolve


def facts_of(session: Session, ticket_id: str, as_of: datetime | None = None) -> list[Fact]:
    stmt = select(TicketFact).where(TicketFact.ticket_id == ticket_id)
    if as_of is not None:
        stmt = stmt.where(TicketFact.occurred_at <= as_of)
    rows = session.execute(stmt.order_by(TicketFact.occurred_at, TicketFact.seq)).scalars()
    return [Fact(r.occurred_at, r.kind, r.data or {}) for r in rows]


def _store(ticket: Ticket, result: Result, state: dict) -> None:
    ticket.sla_policy_id = result.policy_id
    ticket.sla_reason = result.reason[:300]
    ticket.first_response_due_at = result.due_at("first_response")
    ticket.next_response_due_at = result.due_at("next_response")
    ticket.resolution_due_at = result.due_at("resolution")
    ticket.paused_seconds = int(result.paused.total_seconds())
    ticket.breached_at = result.breached_at
    ticket.resolution_breached = "resolution" in result.breached
    ticket.sla_state = state


def refresh(session: Session, ticket: Ticket, resolve: Resolver | None = None) -> Result:
    """Replay the ticket's facts and store the answer on it, as of now: a target that ran out since the last fact
    is dated when it did (the due times themselves do not depend on when this runs)."""
    session.flush()
    clock = Clock(resolve or resolver(session))
    for fact in facts_of(session, ticket.id):
        clock.apply(fact)
    result = clock.result(max(datetime.now(UTC), clock.last) if clock.last else None)
    _store(ticket, result, clock.to_dict())
    return result


def refresh_open(session: Session) -> int:
    """After a policy or calendar change: every open ticket's deadlines again, keeping consumed and paused time
    (they come from the history, not from the old deadlines). Returns how many."""
    resolve = resolver(session)
    count = 0
    for ticket in session.execute(select(Ticket).where(Ticket.status.in_(OPEN)).with_for_update()).scalars():
        refresh(session, ticket, resolve)
        count += 1
    return count


def as_of(session: Session, ticket: Ticket, moment: datetime) -> Result:
    """The clock as it stood at `moment`, from the facts known then."""
    return replay(resolver(session), facts_of(session, ticket.id, moment), moment)
