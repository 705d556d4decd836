"""Teams (with managers) and record shares (with a user or a team, read or write)."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, UniqueConstraint, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=lambda: str(uuid.uuid4()))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TeamMember(Base):
    __tablename__ = "team_members"
    __table_args__ = (CheckConstraint("role in ('member', 'manager')", name="role"),)

    team_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("teams.id", ondelete="CASCADE"),
                                         primary_key=True)
    user_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(10), default="member")


class RecordShare(Base):
    """A record made visible to a user or a whole team; `access` says whether they may also change it."""

    __tablename__ = "record_shares"
    __table_args__ = (
        CheckConstraint("(user_id is null) <> (team_id is null)", name="one_grantee"),
        CheckConstraint("access in ('read', 'write')", name="access"),
        UniqueConstraint("record_type", "record_id", "user_id", "team_id", name="uq_record_shares_grant"),
        Index("ix_record_shares_record", "record_type", "record_id"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=lambda: str(uuid.uuid4()))
    record_type: Mapped[str] = mapped_column(String(30))
    record_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    user_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id", ondelete="CASCADE"),
                                                index=True)
    team_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("teams.id", ondelete="CASCADE"),
                                                index=True)
    access: Mapped[str] = mapped_column(String(5), default="read")
    granted_by: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
