"""Pipelines and their stages, deals, and each deal's stage history."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base

STAGE_KINDS = ("open", "won", "lost")
DEAL_STATUSES = ("open", "won", "lost")
MONEY = Numeric(18, 2)


def _new_id() -> str:
    return str(uuid.uuid4())


class Pipeline(Base):
    __tablename__ = "pipelines"
    __table_args__ = (
        # at most one default pipeline: the one deals and lead conversions go to unless told otherwise
        Index("uq_pipelines_default", "is_default", unique=True, postgresql_where=text("is_default")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Stage(Base):
    """A step of a pipeline; `probability` (0-100) weighs the open deals in it for the forecast."""

    __tablename__ = "pipeline_stages"
    __table_args__ = (
        CheckConstraint("probability between 0 and 100", name="probability"),
        CheckConstraint("kind in ('open', 'won', 'lost')", name="kind"),
        UniqueConstraint("pipeline_id", "name", name="uq_pipeline_stages_name"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    pipeline_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("pipelines.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    probability: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Deal(Base):
    __tablename__ = "deals"
    __table_args__ = (
        CheckConstraint("status in ('open', 'won', 'lost')", name="status"),
        CheckConstraint("amount >= 0", name="amount"),
        Index("ix_deals_name_lower", text("lower(name)")),
        Index("ix_deals_pipeline_stage", "pipeline_id", "stage_id"),
        Index("ix_deals_status_expected_close", "status", "expected_close_date"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    name: Mapped[str] = mapped_column(String(200))
    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("parties.id"), index=True)
    contact_person_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("parties.id"))
    pipeline_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("pipelines.id"))
    stage_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("pipeline_stages.id"))
    amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    currency: Mapped[str] = mapped_column(String(3))
    expected_close_date: Mapped[date | None] = mapped_column(Date)
    owner_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"), index=True)
    source_lead_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("leads.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="open")
    close_reason: Mapped[str | None] = mapped_column(String(500))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    stage_entered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    stage: Mapped[Stage] = relationship(lazy="joined", innerjoin=True)


class DealStageChange(Base):
    """A deal entering a stage. Stage names are copied so the history reads the same after a stage is removed."""

    __tablename__ = "deal_stage_changes"
    __table_args__ = (Index("ix_deal_stage_changes_deal_at", "deal_id", "changed_at"),)

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    deal_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("deals.id"))
    from_stage_id: Mapped[str | None] = mapped_column(
        UUID(as_uuid=False), ForeignKey("pipeline_stages.id", ondelete="SET NULL"))
    from_stage_name: Mapped[str | None] = mapped_column(String(100))
    to_stage_id: Mapped[str | None] = mapped_column(
        UUID(as_uuid=False), ForeignKey("pipeline_stages.id", ondelete="SET NULL"))
    to_stage_name: Mapped[str] = mapped_column(String(100))
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seconds_in_previous: Mapped[int | None] = mapped_column(Integer)
    actor_id: Mapped[str | None] = mapped_column(String(100))
    actor: Mapped[str | None] = mapped_column(String(300))
