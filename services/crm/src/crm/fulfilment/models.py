"""fulfilment_replicas: the ERP's work orders and purchase needs (erp.fulfilment.v1), written only by the event
handlers; one row per work order or purchase need, the newest state (sequence-guarded)."""

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, String, func
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
