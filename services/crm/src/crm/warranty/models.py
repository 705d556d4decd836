"""The warranty_replicas table: the ERP's entitlements as last announced on erp.warranty.v1."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Index, Numeric, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base


class WarrantyReplica(Base):
    """One entitlement; `sequence` is the ERP version it reflects. Written only by the erp.warranty.v1 handler."""

    __tablename__ = "warranty_replicas"
    __table_args__ = (Index("ix_warranty_replicas_party_product", "party_id", "product_id"),)

    entitlement_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    invoice_number: Mapped[str] = mapped_column(String(40))
    quantity: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    serial_number: Mapped[str | None] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    covers_parts: Mapped[bool] = mapped_column(Boolean)
    covers_labour: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(10))
    erp_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replicated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
