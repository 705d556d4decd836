"""fulfilment_replicas: the ERP's work orders and purchase needs (erp.fulfilment.v1), written only by the event
handlers, one row per work order or purchase need at its newest state (sequence-guarded); installations with their
photos, and the public installation form's rate-limit hits."""

import uuid
from datetime import date, datetime

from servicekit.db import one_of
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

KINDS = ("work_order", "purchase")


class FulfilmentReplica(Base):
    __tablename__ = "fulfilment_replicas"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    sequence: Mapped[int] = mapped_column(BigInteger)
    deal_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), index=True)
    party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    sales_order_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    sales_order_number: Mapped[str] = mapped_column(String(50))
    number: Mapped[str | None] = mapped_column(String(50))  # the work order's, or the purchase order's
    sku: Mapped[str] = mapped_column(String(64))
    product_name: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(20))
    expected_date: Mapped[date | None] = mapped_column(Date)
    data: Mapped[dict] = mapped_column(JSONB)  # the event's whole state
    erp_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replicated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


INSTALLATION_STATUSES = ("open", "done", "problem")


class Installation(Base):
    """Installing what an order of a deal delivered, once all its work orders are done: a task for the installation
    team, closed through a public form link (signed with the link's own key, expiring, revocable, single-use)."""

    __tablename__ = "installations"
    __table_args__ = (CheckConstraint(one_of("status", INSTALLATION_STATUSES), name="status"),
                      CheckConstraint("result is null or result in ('done', 'problem')", name="result"))

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=lambda: str(uuid.uuid4()))
    deal_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("deals.id"), index=True)
    party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    sales_order_id: Mapped[str] = mapped_column(UUID(as_uuid=False), unique=True)  # the ERP's order
    sales_order_number: Mapped[str] = mapped_column(String(50))
    task_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("tasks.id"))
    team_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    status: Mapped[str] = mapped_column(String(10), default="open")
    link_key: Mapped[str | None] = mapped_column(String(64))  # signs the current link; None: no usable link
    link_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    result: Mapped[str | None] = mapped_column(String(10))
    notes: Mapped[str | None] = mapped_column(Text)
    signed_by: Mapped[str | None] = mapped_column(String(200))
    serials: Mapped[list] = mapped_column(JSONB, default=list)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InstallationPhoto(Base):
    __tablename__ = "installation_photos"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=lambda: str(uuid.uuid4()))
    installation_id: Mapped[str] = mapped_column(UUID(as_uuid=False),
                                                 ForeignKey("installations.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InstallationFormHit(Base):
    """One request to the public installation form from one address: counted for the rate limit, kept an hour."""

    __tablename__ = "installation_form_hits"
    __table_args__ = (Index("ix_installation_form_hits_address_at", "address", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
