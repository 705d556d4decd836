"""The tables of tickets: the ticket, its history (the facts its SLA clock is folded from), its replies and notes,
its attachments, the yearly number counters, and the SLA calendars and policies."""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

STATUSES = ("new", "open", "pending", "on_hold", "resolved", "closed")
OPEN = ("new", "open", "pending", "on_hold")
PRIORITIES = ("low", "normal", "high", "urgent")
CHANNELS = ("email", "phone", "web_form", "api")
# from -> allowed next statuses; resolved -> open is a reopen, closed is final
TRANSITIONS = {
    "new": ("open", "pending", "on_hold", "resolved", "closed"),
    "open": ("pending", "on_hold", "resolved", "closed"),
    "pending": ("open", "on_hold", "resolved", "closed"),
    "on_hold": ("open", "pending", "resolved", "closed"),
    "resolved": ("open", "closed"),
    "closed": (),
}


def _uuid() -> str:
    return str(uuid.uuid4())


class TicketCounter(Base):
    """The last ticket number given in a year: a locked row, so numbers have no gaps (a rolled-back create takes
    none)."""

    __tablename__ = "ticket_counters"

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(Integer)


class Ticket(Base):
    """A customer's request, from its opening to its closing. The SLA columns are the clock's answer as of the
    ticket's last fact (sla_state freezes the fold so the next fact continues it)."""

    __tablename__ = "tickets"
    __table_args__ = (
        CheckConstraint("status in ('new', 'open', 'pending', 'on_hold', 'resolved', 'closed')", name="status"),
        CheckConstraint("priority in ('low', 'normal', 'high', 'urgent')", name="priority"),
        CheckConstraint("channel in ('email', 'phone', 'web_form', 'api')", name="channel"),
        Index("ix_tickets_assignee_open", "assignee_id", postgresql_where=text("status not in ('resolved', 'closed')")),
        Index("ix_tickets_team_open", "team_id", postgresql_where=text("status not in ('resolved', 'closed')")),
        Index("ix_tickets_due_open", "resolution_due_at",
              postgresql_where=text("status not in ('resolved', 'closed')")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_uuid)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    subject: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("parties.id"), index=True)
    contact_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("parties.id"))
    product_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    serial_number: Mapped[str | None] = mapped_column(String(100))
    channel: Mapped[str] = mapped_column(String(10))
    category: Mapped[str | None] = mapped_column(String(100))
    priority: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    assignee_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"))
    team_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("teams.id"))
    created_by: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    merged_into_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("tickets.id"))
    sla_policy_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("sla_policies.id"))
    sla_policy_override: Mapped[bool] = mapped_column(Boolean, default=False)
    sla_reason: Mapped[str | None] = mapped_column(String(300))
    first_response_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_response_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paused_seconds: Mapped[int] = mapped_column(BigInteger, default=0)
    breached_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution_breached: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sla_state: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))
    first_responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # ticket mail (tickets/mail_in.py): who wrote in (kept when no party has the address), and the older ticket
    # a reply after the reopening window follows up
    requester_email: Mapped[str | None] = mapped_column(String(320))
    follow_up_of_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("tickets.id"))


class TicketFact(Base):
    """One thing that happened to a ticket, in order: the ticket's own timeline and the SLA clock's input."""

    __tablename__ = "ticket_facts"
    __table_args__ = (Index("ix_ticket_facts_ticket", "ticket_id", "occurred_at", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    ticket_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("tickets.id"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    kind: Mapped[str] = mapped_column(String(30))
    data: Mapped[dict] = mapped_column(JSONB, default=dict)
    actor_id: Mapped[str | None] = mapped_column(String(100))
    actor: Mapped[str | None] = mapped_column(String(300))


class TicketMessage(Base):
    """A public reply (seen by the customer) or an internal note (agents only)."""

    __tablename__ = "ticket_messages"
    __table_args__ = (
        CheckConstraint("kind in ('reply', 'note')", name="kind"),
        CheckConstraint("author_type in ('agent', 'customer')", name="author_type"),
        CheckConstraint("kind = 'reply' or author_type = 'agent'", name="customer_replies_only"),
        Index("ix_ticket_messages_ticket", "ticket_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_uuid)
    ticket_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("tickets.id"))
    kind: Mapped[str] = mapped_column(String(10))
    author_type: Mapped[str] = mapped_column(String(10))
    author_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TicketAttachment(Base):
    """A file on a ticket; its bytes live once on the storage directory under their SHA-256."""

    __tablename__ = "ticket_attachments"
    __table_args__ = (Index("ix_ticket_attachments_ticket", "ticket_id"),)

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_uuid)
    ticket_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("tickets.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SlaCalendar(Base):
    """Working hours for SLA clocks: windows per weekday ({"mon": [["09:00", "12:00"], ...]}), an IANA zone, public
    holidays of a country (and subdivision), custom closed days and half days ({"2026-12-24": "12:00"})."""

    __tablename__ = "sla_calendars"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_uuid)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    zone: Mapped[str] = mapped_column(String(60))
    windows: Mapped[dict] = mapped_column(JSONB, default=dict)
    holiday_country: Mapped[str | None] = mapped_column(String(10))
    holiday_subdivision: Mapped[str | None] = mapped_column(String(10))
    closed_days: Mapped[list] = mapped_column(JSONB, default=list)
    half_days: Mapped[dict] = mapped_column(JSONB, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SlaPolicy(Base):
    """Targets in working minutes, matched against a ticket (first active policy by position whose every given
    condition holds; an empty condition matches anything)."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("position", name="uq_sla_policies_position"),)

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_uuid)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    priorities: Mapped[list] = mapped_column(JSONB, default=list)
    categories: Mapped[list] = mapped_column(JSONB, default=list)
    channels: Mapped[list] = mapped_column(JSONB, default=list)
    segments: Mapped[list] = mapped_column(JSONB, default=list)
    calendar_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("sla_calendars.id"))
    first_response_minutes: Mapped[int | None] = mapped_column(Integer)
    next_response_minutes: Mapped[int | None] = mapped_column(Integer)
    resolution_minutes: Mapped[int | None] = mapped_column(Integer)
    pause_statuses: Mapped[list] = mapped_column(JSONB, default=lambda: ["pending", "on_hold"])
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SlaRecompute(Base):
    """A request to recompute every open ticket's deadlines (a calendar or policy changed), served by the
    worker so the change's request stays quick."""

    __tablename__ = "sla_recomputes"
    __table_args__ = (Index("ix_sla_recomputes_pending", "id", postgresql_where=text("done_at is null")),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    reason: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
