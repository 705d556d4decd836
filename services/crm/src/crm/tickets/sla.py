"""SLA policies and calendars as the clock sees them: which policy a ticket gets and why, and the ticket's SLA
columns recomputed from its facts (after each fact, or for every open ticket when a policy or calendar changes:
the change asks, the worker's SlaRecomputeRunner does it), warnings re-armed when a deadline moves later."""

import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from . import business_time as bt
from .models import OPEN, SlaCalendar, SlaPolicy, SlaRecompute, Ticket, TicketFact
from .sla_clock import Clock, Fact, Policy, Resolver, Result, replay

log = logging.getLogger(__name__)
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


def _columns(result: Result, state: dict) -> dict:
    """The ticket's SLA columns for a clock's answer."""
    return {"sla_policy_id": result.policy_id, "sla_reason": result.reason[:300],
            "first_response_due_at": result.due_at("first_response"),
            "next_response_due_at": result.due_at("next_response"),
            "resolution_due_at": result.due_at("resolution"), "paused_seconds": int(result.paused.total_seconds()),
            "breached_at": result.breached_at, "resolution_breached": "resolution" in result.breached,
            "sla_state": state}


def _rearm(facts: list[Fact], columns: dict, warned_at: datetime | None, escalated_at: datetime | None) -> dict:
    """Warnings and escalations are once per deadline: when the resolution deadline moved later than the one
    the last warning was about (a pause, a longer target, a calendar with more hours), the warning is armed
    again; when the ticket is no longer past its deadline, so is the escalation."""
    due, out = columns["resolution_due_at"], {}
    if due is None:
        return out
    if escalated_at is not None and not columns["resolution_breached"] and due > escalated_at:
        out.update(escalated_at=None, warned_at=None)
    if warned_at is not None and "warned_at" not in out:
        warned_for = next((f.data.get("due_at") for f in reversed(facts) if f.kind == "warned"), None)
        if warned_for and due > datetime.fromisoformat(warned_for):
            out["warned_at"] = None
    return out


def _store(ticket: Ticket, result: Result, state: dict, facts: list[Fact]) -> None:
    columns = _columns(result, state)
    columns.update(_rearm(facts, columns, ticket.warned_at, ticket.escalated_at))
    for column, value in columns.items():
        setattr(ticket, column, value)


def refresh(session: Session, ticket: Ticket, resolve: Resolver | None = None) -> Result:
    """Replay the ticket's facts and store the answer on it, as of now: a target that ran out since the last fact
    is dated when it did (the due times themselves do not depend on when this runs)."""
    session.flush()
    clock = Clock(resolve or resolver(session))
    facts = facts_of(session, ticket.id)
    for fact in facts:
        clock.apply(fact)
    result = clock.result(max(datetime.now(UTC), clock.last) if clock.last else None)
    _store(ticket, result, clock.to_dict(), facts)
    return result


def refresh_open(session: Session, batch: int = 5000) -> int:
    """After a policy or calendar change: every open ticket's deadlines again, keeping consumed and paused time
    (they come from the history, not from the old deadlines). Tickets are locked and their facts read a batch at a
    time (one query per batch, not per ticket), and written back in one bulk UPDATE per batch. Returns how many."""
    resolve = resolver(session)
    now = datetime.now(UTC)
    session.flush()
    marks = {r.id: (r.warned_at, r.escalated_at) for r in session.execute(
        select(Ticket.id, Ticket.warned_at, Ticket.escalated_at).where(Ticket.status.in_(OPEN)).order_by(Ticket.id)
        .with_for_update())}
    ids = list(marks)
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        facts: dict[str, list[Fact]] = {t: [] for t in chunk}
        for r in session.execute(select(TicketFact.ticket_id, TicketFact.occurred_at, TicketFact.kind,
                                        TicketFact.data).where(TicketFact.ticket_id.in_(chunk))
                                 .order_by(TicketFact.ticket_id, TicketFact.occurred_at, TicketFact.seq)):
            facts[r.ticket_id].append(Fact(r.occurred_at, r.kind, r.data or {}))
        rows = []
        for ticket_id in chunk:
            clock = Clock(resolve)
            for fact in facts[ticket_id]:
                clock.apply(fact)
            columns = _columns(clock.result(max(now, clock.last) if clock.last else None), clock.to_dict())
            rows.append({"id": ticket_id, **columns, "warned_at": marks[ticket_id][0],
                         "escalated_at": marks[ticket_id][1],
                         **_rearm(facts[ticket_id], columns, *marks[ticket_id])})
        session.execute(update(Ticket), rows)  # bulk UPDATE by primary key
    session.expire_all()  # tickets loaded before see the new columns
    return len(ids)


def as_of(session: Session, ticket: Ticket, moment: datetime) -> Result:
    """The clock as it stood at `moment`, from the facts known then."""
    return replay(resolver(session), facts_of(session, ticket.id, moment), moment)


def request_recompute(session: Session, reason: str) -> None:
    """Ask the worker to recompute every open ticket (a calendar or policy changed), in the caller's transaction:
    the request exists exactly when the change does, and the change's HTTP request stays quick."""
    session.add(SlaRecompute(reason=reason[:200], requested_at=datetime.now(UTC)))


def run_recomputes(session: Session) -> int:
    """Serve every pending request with one recompute (several changes in a row cost one pass); the number of
    tickets recomputed, or -1 when nothing was asked. Requests taken by another worker are skipped."""
    pending = list(session.execute(select(SlaRecompute).where(SlaRecompute.done_at.is_(None))
                                   .with_for_update(skip_locked=True)).scalars())
    if not pending:
        return -1
    count = refresh_open(session)
    now = datetime.now(UTC)
    for request in pending:
        request.done_at = now
    log.info("SLA deadlines of %d open tickets recomputed (%s)", count, "; ".join(r.reason for r in pending)[:500])
    return count


class SlaRecomputeRunner:
    """The worker loop: every `interval` seconds, pending recompute requests served in one transaction."""

    def __init__(self, sessions: sessionmaker, interval: float = 2.0):
        self.sessions, self.interval = sessions, interval
        self._stop = threading.Event()

    def run_once(self) -> int:
        with self.sessions.begin() as session:
            return run_recomputes(session)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - the requests stay pending: the next round tries again
                log.exception("SLA recompute failed")
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
