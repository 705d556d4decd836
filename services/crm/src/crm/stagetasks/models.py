"""stage_task_templates (what entering a pipeline stage creates on a deal) and deal_estimates (an estimate request
addressed to production staff, and the hours and materials they answer)."""

import uuid
from datetime import datetime
from decimal import Decimal

from servicekit.db import one_of
from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, Numeric, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

TEMPLATE_KINDS = ("task", "estimate_request")
ASSIGNEE_KINDS = ("deal_owner", "user", "team")  # team: its manager (else its first member)
ESTIMATE_STATUSES = ("requested", "submitted")


def _new_id() -> str:
    return str(uuid.uuid4())


class StageTaskTemplate(Base):
    __tablename__ = "stage_task_templates"
    __table_args__ = (
        CheckConstraint(one_of("kind", TEMPLATE_KINDS), name="kind"),
        CheckConstraint(one_of("assignee_kind", ASSIGNEE_KINDS), name="assignee_kind"),
        CheckConstraint("(assignee_kind = 'deal_owner') = (assignee_id is null)", name="assignee"),
        CheckConstraint("due_in_days >= 0", name="due_in_days"),
        CheckConstraint("priority in ('low', 'normal', 'high', 'urgent')", name="priority"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    stage_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("pipeline_stages.id", ondelete="CASCADE"),
                                          index=True)
    position: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    assignee_kind: Mapped[str] = mapped_column(String(12))
    assignee_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))  # a user or a team
    due_in_days: Mapped[int] = mapped_column(Integer)
    priority: Mapped[str] = mapped_column(String(10))


class DealEstimate(Base):
    __tablename__ = "deal_estimates"
    __table_args__ = (CheckConstraint(one_of("status", ESTIMATE_STATUSES), name="status"),
                      CheckConstraint("hours is null or hours >= 0", name="hours"))

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    deal_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("deals.id"), index=True)
    task_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("tasks.id"), unique=True)
    requested_from: Mapped[str] = mapped_column(UUID(as_uuid=False))  # the user the task went to
    status: Mapped[str] = mapped_column(String(10), default="requested")
    hours: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    materials: Mapped[list] = mapped_column(JSONB, default=list)  # [{description, quantity, unit}]
    notes: Mapped[str | None] = mapped_column(Text)
    submitted_by: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
