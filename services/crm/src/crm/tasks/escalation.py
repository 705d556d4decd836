"""Overdue tasks escalate to the team lead: a pending task past due whose assignee is in a team with a manager
(other than the assignee) gives that manager a follow-up task, once per task. Run by the worker every
CRM_ESCALATION_INTERVAL_MINUTES and on demand (POST /api/v1/tasks/escalations)."""

import logging
import threading
from datetime import UTC, datetime

from servicekit import audit
from sqlalchemy import BigInteger, DateTime, ForeignKey, Identity, String, select
from sqlalchemy.dialects.postgresql import UUID, insert
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from ..access.models import TeamMember
from ..db import Base, audit_log, auth
from . import due
from .models import Task

log = logging.getLogger(__name__)
BATCH = 200


class TaskEscalation(Base):
    """An overdue task escalated to a team lead (at most once per task)."""

    __tablename__ = "task_escalations"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    task_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("tasks.id", ondelete="CASCADE"),
                                         unique=True)
    escalated_to: Mapped[str] = mapped_column(UUID(as_uuid=False))
    follow_up_task_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    reason: Mapped[str] = mapped_column(String(300))
    escalated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def escalate_overdue(session: Session, limit: int = BATCH) -> list[str]:
    """Escalate up to `limit` overdue tasks not escalated yet; returns the ids of the tasks escalated."""
    lead = TeamMember.__table__.alias("lead")
    member = TeamMember.__table__.alias("member")
    rows = session.execute(
        select(Task, lead.c.user_id.label("lead_id"))
        .join(member, member.c.user_id == Task.assignee_id)
        .join(lead, (lead.c.team_id == member.c.team_id) & (lead.c.role == "manager")
              & (lead.c.user_id != Task.assignee_id))
        .where(due.is_overdue("UTC"), ~select(TaskEscalation.id).where(TaskEscalation.task_id == Task.id).exists())
        .order_by(Task.id, lead.c.user_id).limit(limit * 4).with_for_update(of=Task, skip_locked=True)).all()
    now, done = datetime.now(UTC), []
    names = {}
    for task, lead_id in rows:
        if task.id in done or len(done) >= limit:
            continue
        if task.assignee_id not in names:
            names[task.assignee_id] = session.execute(select(auth.users.c.email).where(
                auth.users.c.id == task.assignee_id)).scalar() or task.assignee_id
        follow = Task(title=f"Overdue: {task.title} (assigned to {names[task.assignee_id]})"[:300],
                      description=task.description, assignee_id=lead_id, due_date=now.date(), priority="high",
                      status="open", record_type=task.record_type, record_id=task.record_id, version=1)
        session.add(follow)
        session.flush()
        kept = session.execute(insert(TaskEscalation).values(
            task_id=task.id, escalated_to=lead_id, follow_up_task_id=follow.id, reason="overdue",
            escalated_at=now).on_conflict_do_nothing().returning(TaskEscalation.id)).first()
        if kept is None:  # another worker escalated it meanwhile
            session.delete(follow)
            continue
        audit.record(session, audit_log, None, "escalate", "task", task.id, None,
                     {"escalated_to": lead_id, "follow_up_task_id": follow.id})
        done.append(task.id)
    session.flush()
    return done


def escalation_of(session: Session, task_ids: list[str]) -> dict[str, dict]:
    found = session.execute(select(TaskEscalation).where(TaskEscalation.task_id.in_(task_ids))).scalars()
    return {e.task_id: {"escalated_to": e.escalated_to, "follow_up_task_id": e.follow_up_task_id,
                        "escalated_at": e.escalated_at} for e in found}


class EscalationLoop:
    """Escalates overdue tasks every `interval_minutes` until stopped; a failed run is retried at the next one."""

    def __init__(self, sessions: sessionmaker, interval_minutes: int):
        self.sessions = sessions
        self.interval_s = max(1, interval_minutes) * 60
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                while True:
                    with self.sessions.begin() as session:
                        batch = escalate_overdue(session)
                    if batch:
                        log.info("escalation: %d overdue task(s) escalated to their team leads", len(batch))
                    if len(batch) < BATCH:
                        break
            except Exception as exc:  # noqa: BLE001 - the database may be down; try again next time
                log.warning("escalation: run failed: %s", exc)
            self.stopping.wait(self.interval_s)

    def stop(self) -> None:
        self.stopping.set()
