"""The mails of tickets: every message received into a ticket or sent from it, by Message-ID (threading and
deduplication)."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, func, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base


class TicketMail(Base):
    """One mail of a ticket's thread: `in` (a customer's, received by LMTP) or `out` (a reply or an
    acknowledgement, sent through the mail outbox). A Message-ID is recorded once: a second delivery is a
    duplicate."""

    __tablename__ = "ticket_mails"
    __table_args__ = (
        CheckConstraint("direction in ('in', 'out')", name="direction"),
        CheckConstraint("kind in ('customer', 'reply', 'ack')", name="kind"),
        Index("ix_ticket_mails_ticket", "ticket_id", "created_at"),
        Index("ix_ticket_mails_acks", "address", "created_at", postgresql_where=text("kind = 'ack'")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=lambda: str(uuid.uuid4()))
    ticket_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("tickets.id"))
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    direction: Mapped[str] = mapped_column(String(3))
    kind: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(300))
    ticket_message_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("ticket_messages.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

