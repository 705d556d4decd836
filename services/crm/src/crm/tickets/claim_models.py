"""The warranty_claims table: what a ticket resolved under warranty claims (parts, labour, serials), its revision,
and the ERP's answer."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Integer, Numeric, String, Text, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

CLAIM_STATUSES = ("submitted", "accepted", "rejected")


class WarrantyClaim(Base):
    """One ticket's claim: its current revision (a correction is a new revision, announced again) and the ERP's
    answer to the newest revision it has seen (erp_version guards against older answers)."""

    __tablename__ = "warranty_claims"
    __table_args__ = (
        CheckConstraint("status in ('submitted', 'accepted', 'rejected')", name="status"),
        CheckConstraint("labour_hours >= 0 and labour_rate >= 0", name="labour"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    ticket_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("tickets.id"), unique=True)
    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    entitlement_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    faulty_serial: Mapped[str | None] = mapped_column(String(100))
    replacement_serial: Mapped[str | None] = mapped_column(String(100))
    parts: Mapped[list] = mapped_column(JSONB, default=list)  # [{product_id, sku, name, quantity}]
    labour_hours: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    labour_rate: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    labour_cost: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    resolution: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(10), default="submitted")
    status_reason: Mapped[str | None] = mapped_column(Text)
    answered_revision: Mapped[int | None] = mapped_column(Integer)
    erp_number: Mapped[str | None] = mapped_column(String(40))
    erp_total_cost: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    erp_version: Mapped[int] = mapped_column(BigInteger, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
