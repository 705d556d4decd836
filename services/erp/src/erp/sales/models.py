"""sales_orders and their lines, sales_deliveries and their lines.

Customers are CRM parties (party_replicas) and products may be unknown when a CRM order is rejected, so those ids
are kept without foreign keys. An order placed in the CRM keeps the CRM's order id (unique): a redelivered
`crm.order.placed` finds its order instead of creating a second one.
"""

from datetime import date, datetime
from decimal import Decimal

from servicekit.db import new_id, one_of
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import AMOUNT, PERCENT, PRICE, QUANTITY, RATE, Base

ORDER_STATUSES = ("accepted", "rejected", "partially_delivered", "delivered", "cancelled", "invoiced")
ORDER_SOURCES = ("crm", "erp")

# Readable numbers (SO-2026-00042, DL-2026-00007) come from sequences: unique, not gapless.
order_numbers = Sequence("sales_order_number_seq", metadata=Base.metadata)
delivery_numbers = Sequence("sales_delivery_number_seq", metadata=Base.metadata)




class SalesOrder(Base):
    __tablename__ = "sales_orders"
    __table_args__ = (
        CheckConstraint(one_of("status", ORDER_STATUSES), name="status"),
        CheckConstraint(one_of("source", ORDER_SOURCES), name="source"),
        Index("ix_sales_orders_created_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    source: Mapped[str] = mapped_column(String(3))
    crm_order_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), unique=True)
    quote_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    quote_number: Mapped[str | None] = mapped_column(String(50))
    deal_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), index=True)
    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(Text)
    currency: Mapped[str] = mapped_column(String(3))
    warehouse_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("warehouses.id"))
    requested_date: Mapped[date | None] = mapped_column(Date)
    customer_reference: Mapped[str | None] = mapped_column(String(200))
    shipping_address: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))
    net_total: Mapped[Decimal] = mapped_column(AMOUNT)
    tax_total: Mapped[Decimal] = mapped_column(AMOUNT)
    gross_total: Mapped[Decimal] = mapped_column(AMOUNT)
    placed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    placed_by: Mapped[str | None] = mapped_column(String(300))
    last_delivery_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SalesOrderLine(Base):
    """One product ordered at the agreed price; delivered and invoiced quantities follow the order's life."""

    __tablename__ = "sales_order_lines"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no", name="uq_sales_order_lines_line_no"),
        CheckConstraint("quantity > 0 and unit_price >= 0 and tax_rate >= 0 and tax_rate < 1 "
                        "and discount_percent >= 0 and discount_percent <= 100", name="amounts"),
        CheckConstraint("delivered_quantity >= 0 and delivered_quantity <= quantity "
                        "and invoiced_quantity >= 0 and invoiced_quantity <= delivered_quantity", name="progress"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    order_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("sales_orders.id", ondelete="CASCADE"),
                                          index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    product_kind: Mapped[str | None] = mapped_column(String(12))
    sku: Mapped[str | None] = mapped_column(String(64))
    description: Mapped[str | None] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal] = mapped_column(PRICE)
    discount_percent: Mapped[Decimal] = mapped_column(PERCENT, default=Decimal("0"))
    tax_rate: Mapped[Decimal] = mapped_column(RATE, default=Decimal("0"))
    net: Mapped[Decimal] = mapped_column(AMOUNT)
    tax: Mapped[Decimal] = mapped_column(AMOUNT)
    gross: Mapped[Decimal] = mapped_column(AMOUNT)
    delivered_quantity: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("0"))
    invoiced_quantity: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("0"))  # drafts included


class SalesDelivery(Base):
    __tablename__ = "sales_deliveries"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    order_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("sales_orders.id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    delivered_by: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SalesDeliveryLine(Base):
    __tablename__ = "sales_delivery_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity"),)

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    delivery_id: Mapped[str] = mapped_column(UUID(as_uuid=False),
                                             ForeignKey("sales_deliveries.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("sales_order_lines.id"), index=True)
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    # the stock move it caused; None for services, which ship without one
    stock_move_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("stock_moves.id"))


class WaitingOrder(Base):
    """A crm.order.placed whose customer has not reached the ERP's party replica yet (the two topics are read by
    separate consumers, so an order can overtake its party). It is placed as soon as the party arrives."""

    __tablename__ = "waiting_orders"

    crm_order_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    data: Mapped[dict] = mapped_column(JSONB)  # the event's data, as checked against crm.order.v1
    actor: Mapped[str] = mapped_column(String(300))
    waiting_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
