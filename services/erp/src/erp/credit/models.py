"""credit_positions: each customer's credit position as last published on erp.credit.v1 (the version is the
event's sequence)."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import AMOUNT, Base


class CreditPosition(Base):
    __tablename__ = "credit_positions"

    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    credit_limit: Mapped[Decimal | None] = mapped_column(AMOUNT)
    open_balance: Mapped[Decimal] = mapped_column(AMOUNT)
    overdue_amount: Mapped[Decimal] = mapped_column(AMOUNT)
    cheques_bounced: Mapped[int] = mapped_column(Integer, server_default="0")  # the customer's cheques that bounced
    bounced_total: Mapped[Decimal] = mapped_column(AMOUNT, server_default="0")
    last_bounced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
