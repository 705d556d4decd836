"""SLA warnings and escalations, run by the worker: a ticket about to miss its resolution deadline warns its
assignee; one that missed it is escalated to its team's lead (an urgent task and an in-app notification). Both
happen only within the working hours of the ticket's calendar, so nobody is paged at midnight or on a Sunday for a
clock that is not running then; what falls outside waits for the next window. Each ticket is warned and escalated
at most once per deadline (warned_at / escalated_at)."""

import logging
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session, sessionmaker

from ..access.models import TeamMember
from ..notifications import service as notifications
from ..tasks.service import add_task
from . import business_time as bt
from . import sla
from .models import OPEN, SlaCalendar, SlaPolicy, Ticket
from .service import record_fact

log = logging.getLogger(__name__)


def notify_team_lead(session: Session, user_id: str, ticket: Ticket, task_id: str) -> None:
    """The team lead's in-app notification of an escalation (GET /me/notifications), beside the urgent task."""
    notifications.notify(session, user_id, "ticket_breached", f"SLA breached: {ticket.number} {ticket.subject}",
                         f"The ticket is past its deadline; an urgent task was created for you ({task_id}).",
                         "ticket", ticket.id)


def team_lead(session: Session, ticket: Ticket) -> str | None:
    """Who an escalation goes to: a manager of the ticket's team (else of the assignee's team), else the
    assignee."""
    teams = [ticket.team_id] if ticket.team_id else []
    if ticket.assignee_id:
        teams += list(session.execute(select(TeamMember.team_id).where(TeamMember.user_id == ticket.assignee_id))
                      .scalars())
    for team in teams:
        lead = session.execute(select(TeamMember.user_id).where(TeamMember.team_id == team,
                                                                TeamMember.role == "manager")
                               .order_by(TeamMember.user_id)).scalar()
        if lead:
            return lead
    return ticket.assignee_id


def _in_hours(session: Session, ticket: Ticket, now: datetime, calendars: dict) -> bool:
    policy = session.get(SlaPolicy, ticket.sla_policy_id) if ticket.sla_policy_id else None
    if policy is None:
        return True
    if policy.calendar_id not in calendars:
        calendars[policy.calendar_id] = sla.calendar_of(session.get(SlaCalendar, policy.calendar_id))
    return bt.next_working_moment(calendars[policy.calendar_id], now) == now


def run_escalations(session: Session, now: datetime, warning: timedelta) -> dict:
    """Warn and escalate what is due as of `now`; returns counts. In the caller's transaction."""
    due_soon = and_(Ticket.resolution_due_at <= now + warning, Ticket.warned_at.is_(None))
    breached = and_(or_(Ticket.resolution_due_at <= now, Ticket.resolution_breached), Ticket.escalated_at.is_(None))
    rows = session.execute(select(Ticket).where(Ticket.status.in_(OPEN), or_(due_soon, breached))
                           .order_by(Ticket.resolution_due_at).limit(500)
                           .with_for_update(skip_locked=True)).scalars().all()
    counts = {"warned": 0, "escalated": 0}
    calendars: dict = {}
    resolve = sla.resolver(session)
    for ticket in rows:
        if not _in_hours(session, ticket, now, calendars):
            continue
        sla.refresh(session, ticket, resolve)  # dates the breach, if the clock ran out since the last fact
        late = ticket.resolution_breached or (ticket.resolution_due_at is not None and ticket.resolution_due_at <= now)
        if late and ticket.escalated_at is None:
            lead = team_lead(session, ticket)
            if lead:
                task = add_task(session, title=f"Escalation: ticket {ticket.number} missed its resolution target",
                                assignee_id=lead, description=f"{ticket.subject}\nSLA: {ticket.sla_reason}",
                                priority="urgent", record_type="ticket", record_id=ticket.id, due_at=now)
                notify_team_lead(session, lead, ticket, task.id)
            ticket.escalated_at = now
            ticket.warned_at = ticket.warned_at or now
            record_fact(session, ticket, "escalated", {"to": lead}, None, now)
            counts["escalated"] += 1
        elif not late and ticket.warned_at is None and ticket.assignee_id:
            add_task(session, title=f"Ticket {ticket.number} is due by {ticket.resolution_due_at:%Y-%m-%d %H:%M} UTC",
                     assignee_id=ticket.assignee_id, description=ticket.subject, priority="high",
                     record_type="ticket", record_id=ticket.id, due_at=ticket.resolution_due_at)
            ticket.warned_at = now
            record_fact(session, ticket, "warned", {"due_at": ticket.resolution_due_at.isoformat()}, None, now)
            counts["warned"] += 1
    return counts


class EscalationRunner:
    """The worker loop: every `interval` seconds, one transaction of warnings and escalations."""

    def __init__(self, sessions: sessionmaker, warning_minutes: int, interval: float = 60.0):
        self.sessions, self.warning, self.interval = sessions, timedelta(minutes=warning_minutes), interval
        self._stop = threading.Event()

    def run_once(self, now: datetime | None = None) -> dict:
        with self.sessions.begin() as session:
            return run_escalations(session, now or datetime.now(UTC), self.warning)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("ticket escalations failed")
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
