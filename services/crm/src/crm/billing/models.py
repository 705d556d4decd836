"""order_replicas, invoice_replicas, payment_replicas, credit_replicas: written only by the ERP event handlers."""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Date, DateTime, Index, Integer, Numeric, String, func
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

MONEY = Numeric(18, 2)


class OrderReplica(Base):
    __tablename__ = "order_replicas"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    number: Mapped[str] = mapped_column(String(50))
    crm_order_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), index=True)
    deal_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), index=True)
    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    status: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str | None] = mapped_column(String(500))
    currency: Mapped[str] = mapped_column(String(3))
    gross_total: Mapped[Decimal] = mapped_column(MONEY)
    lines: Mapped[list] = mapped_column(JSONB)
    last_delivery_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    erp_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replicated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InvoiceReplica(Base):
    __tablename__ = "invoice_replicas"
    __table_args__ = (Index("ix_invoice_replicas_party_status", "party_id", "status"),)

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    number: Mapped[str] = mapped_column(String(50))
    kind: Mapped[str] = mapped_column(String(20))
    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    order_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    deal_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), index=True)
    status: Mapped[str] = mapped_column(String(20))
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    gross_total: Mapped[Decimal] = mapped_column(MONEY)
    amount_paid: Mapped[Decimal] = mapped_column(MONEY)
    balance_due: Mapped[Decimal] = mapped_column(MONEY)
    erp_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replicated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PaymentReplica(Base):
    __tablename__ = "payment_replicas"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    number: Mapped[str] = mapped_column(String(50))
    direction: Mapped[str] = mapped_column(String(3))
    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    payment_date: Mapped[date] = mapped_column(Date)
    allocations: Mapped[list] = mapped_column(JSONB)
    unallocated: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(10), server_default="posted")  # posted, or bounced (a cheque)
    party_balance: Mapped[Decimal | None] = mapped_column(MONEY)
    erp_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replicated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CreditReplica(Base):
    """A customer's credit position as the ERP last published it (erp.credit.v1)."""

    __tablename__ = "credit_replicas"

    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    credit_limit: Mapped[Decimal | None] = mapped_column(MONEY)
    open_balance: Mapped[Decimal] = mapped_column(MONEY)
    overdue_amount: Mapped[Decimal] = mapped_column(MONEY)
    available_credit: Mapped[Decimal | None] = mapped_column(MONEY)
    cheques_bounced: Mapped[int] = mapped_column(Integer, server_default="0")  # the customer's bounced cheques
    bounced_total: Mapped[Decimal] = mapped_column(MONEY, server_default="0")
    last_bounced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    erp_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replicated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
