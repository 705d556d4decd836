"""The timeline_entries table: what happened, when, to which party, deal or lead, and where it came from."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base


class TimelineEntry(Base):
    """One fact on a timeline. deal_id and lead_id carry no foreign key on purpose: entries outlive what they
    summarise, and the ERP's facts (orders, invoices...) point at records this database does not hold."""

    __tablename__ = "timeline_entries"
    __table_args__ = (
        CheckConstraint("num_nonnulls(party_id, deal_id, lead_id) > 0", name="linked"),
        Index("ix_timeline_entries_party", "party_id", "occurred_at"),
        Index("ix_timeline_entries_deal", "deal_id", "occurred_at", postgresql_where=text("deal_id is not null")),
        Index("ix_timeline_entries_lead", "lead_id", "occurred_at", postgresql_where=text("lead_id is not null")),
        Index("ix_timeline_entries_ref", "ref_type", "ref_id"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=lambda: str(uuid.uuid4()))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str | None] = mapped_column(Text)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("parties.id"))
    deal_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    lead_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    ref_type: Mapped[str | None] = mapped_column(String(40))
    ref_id: Mapped[str | None] = mapped_column(String(100))
    actor_id: Mapped[str | None] = mapped_column(String(100))
    actor: Mapped[str | None] = mapped_column(String(300))
    data: Mapped[dict] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
