"""The tasks table."""

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

PRIORITIES = ("low", "normal", "high", "urgent")
STATUSES = ("open", "in_progress", "done", "cancelled")
PENDING = ("open", "in_progress")
# What a task can be about; record ids are not checked against tables (a quote or an ERP invoice may live
# elsewhere), except parties, deals, leads and activities, which must be visible to whoever links them.
RECORD_TYPES = ("party", "deal", "lead", "activity", "quote", "ticket", "order", "invoice", "campaign")


class Task(Base):
    """Due either at a moment (due_at) or on a whole day (due_date), or not at all. Overdue is not stored:
    it is computed in SQL from the current time (see tasks.due)."""

    __tablename__ = "tasks"
    __table_args__ = (
        CheckConstraint("priority in ('low', 'normal', 'high', 'urgent')", name="priority"),
        CheckConstraint("status in ('open', 'in_progress', 'done', 'cancelled')", name="status"),
        CheckConstraint("due_at is null or due_date is null", name="one_due"),
        CheckConstraint("(record_type is null) = (record_id is null)", name="record"),
        CheckConstraint("(status = 'done') = (completed_at is not null)", name="completed"),
        Index("ix_tasks_pending", "assignee_id", "due_at", "due_date",
              postgresql_where=text("status in ('open', 'in_progress')")),
        Index("ix_tasks_assignee", "assignee_id", "status"),
        Index("ix_tasks_record", "record_type", "record_id"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=lambda: str(uuid.uuid4()))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    assignee_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"))
    created_by: Mapped[str | None] = mapped_column(UUID(as_uuid=False), index=True)
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    due_date: Mapped[date | None] = mapped_column(Date)
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    status: Mapped[str] = mapped_column(String(12), default="open")
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    record_type: Mapped[str | None] = mapped_column(String(30))
    record_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    reminder_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
