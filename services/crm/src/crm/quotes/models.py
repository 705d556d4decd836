"""The quotes and quote_lines tables, and the sequence their numbers come from.

Every version of a quote is a row of its own: they share the number (Q-2026-00042) and differ by quote_version.
Revising a sent quote adds the next version as a draft and marks the old row superseded, so what was sent to the
customer is never changed afterwards. A line keeps a snapshot of the product as it was when it was added (the
catalog replica may change or be rebuilt: lines carry no foreign key to it).
"""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    Sequence,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base

STATUSES = ("draft", "sent", "accepted", "rejected", "expired", "superseded")

MONEY = Numeric(18, 2)
PRICE = Numeric(18, 4)
QUANTITY = Numeric(18, 4)
RATE = Numeric(6, 4)
PERCENT = Numeric(5, 2)

# numbers are Q-<year>-<five digits>; gaps are possible (a rolled-back creation consumed one)
quote_numbers = Sequence("quote_number_seq", metadata=Base.metadata)


def _new_id() -> str:
    return str(uuid.uuid4())


class Quote(Base):
    __tablename__ = "quotes"
    __table_args__ = (
        CheckConstraint(f"status in ({', '.join(repr(s) for s in STATUSES)})", name="status"),
        CheckConstraint("quote_version >= 1", name="quote_version"),
        UniqueConstraint("number", "quote_version", name="uq_quotes_number_version"),
        Index("ix_quotes_status_valid_until", "status", "valid_until"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    number: Mapped[str] = mapped_column(String(20), index=True)
    quote_version: Mapped[int] = mapped_column(Integer, default=1)
    previous_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("quotes.id"))
    deal_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("deals.id"), index=True)
    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("parties.id"), index=True)
    contact_person_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("parties.id"))
    currency: Mapped[str] = mapped_column(String(3))
    valid_until: Mapped[date] = mapped_column(Date)
    requested_date: Mapped[date | None] = mapped_column(Date)
    customer_reference: Mapped[str | None] = mapped_column(String(100))
    notes: Mapped[str | None] = mapped_column(Text)
    terms: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    owner_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"), index=True)
    net_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    tax_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    gross_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_to: Mapped[str | None] = mapped_column(String(320))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    order_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), unique=True)
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)  # the row's, for ETag / If-Match
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())

    lines: Mapped[list["QuoteLine"]] = relationship(order_by="QuoteLine.line_no", cascade="all, delete-orphan",
                                                    lazy="selectin")


class QuoteLine(Base):
    __tablename__ = "quote_lines"
    __table_args__ = (
        # deferred: renumbering after a removal moves numbers through each other within the transaction
        UniqueConstraint("quote_id", "line_no", name="uq_quote_lines_quote_line_no", deferrable=True,
                         initially="DEFERRED"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint("unit_price >= 0 and list_price >= 0", name="prices"),
        CheckConstraint("discount_percent between 0 and 100", name="discount_percent"),
        CheckConstraint("tax_rate >= 0", name="tax_rate"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    quote_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("quotes.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    # the product as it was when the line was added
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    uom: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(12))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    list_price: Mapped[Decimal] = mapped_column(PRICE)  # what the price lists give for this party and quantity
    price_source: Mapped[str] = mapped_column(String(20))  # the rule that gave list_price (base, general, ...)
    price_list_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    unit_price: Mapped[Decimal] = mapped_column(PRICE)  # the agreed price: list_price unless overridden
    price_overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    discount_percent: Mapped[Decimal] = mapped_column(PERCENT, default=Decimal("0"))
    tax_rate: Mapped[Decimal] = mapped_column(RATE)
    net_amount: Mapped[Decimal] = mapped_column(MONEY)
    tax_amount: Mapped[Decimal] = mapped_column(MONEY)
    gross_amount: Mapped[Decimal] = mapped_column(MONEY)
