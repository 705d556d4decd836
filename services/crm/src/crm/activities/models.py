"""The activity_types and activities tables."""

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, DateTime, ForeignKey, Index, Integer, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

DIRECTIONS = ("inbound", "outbound")

# Seeded by migration 0005; administrators may relabel or deactivate them but not delete them.
BUILTIN_TYPES = (
    # key, label, icon, has_direction
    ("call", "Call", "phone", True),
    ("email", "Email", "mail", True),
    ("sms", "SMS", "message-square", True),
    ("messenger", "Messenger", "message-circle", True),
    ("meeting", "Meeting", "calendar", False),
    ("note", "Note", "file-text", False),
)


class ActivityType(Base):
    """A kind of activity users can log: the built-in ones, and those that managers add (e.g. site_visit)."""

    __tablename__ = "activity_types"
    __table_args__ = (CheckConstraint("key ~ '^[a-z][a-z0-9_]{1,39}$'", name="key"),)

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(100))
    icon: Mapped[str | None] = mapped_column(String(50))
    color: Mapped[str | None] = mapped_column(String(7))
    has_direction: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    builtin: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=text("true"))
    position: Mapped[int] = mapped_column(Integer, default=100, server_default=text("100"))
    version: Mapped[int] = mapped_column(Integer, default=1, server_default=text("1"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Activity(Base):
    """Something that happened (or, for a meeting, is planned) with a customer. Linked to a party, a deal and/or
    a lead; deal_id and lead_id carry no foreign key so this table does not depend on the sales module's."""

    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint("direction is null or direction in ('inbound', 'outbound')", name="direction"),
        CheckConstraint("num_nonnulls(party_id, deal_id, lead_id) > 0", name="linked"),
        CheckConstraint("ends_at is null or ends_at >= occurred_at", name="ends_after_start"),
        CheckConstraint("duration_minutes is null or duration_minutes >= 0", name="duration"),
        Index("ix_activities_party", "party_id", "occurred_at"),
        Index("ix_activities_deal", "deal_id", postgresql_where=text("deal_id is not null")),
        Index("ix_activities_lead", "lead_id", postgresql_where=text("lead_id is not null")),
        Index("ix_activities_owner", "owner_id", "occurred_at"),
        Index("ix_activities_participants", "participants", postgresql_using="gin"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=lambda: str(uuid.uuid4()))
    type: Mapped[str] = mapped_column(String(40), ForeignKey("activity_types.key"))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str | None] = mapped_column(Text)
    direction: Mapped[str | None] = mapped_column(String(10))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(200))
    party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("parties.id"))
    deal_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    lead_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    owner_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"))
    participants: Mapped[list[str]] = mapped_column(ARRAY(UUID(as_uuid=False)), default=list)
    created_by: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
