"""purchase_orders and their lines, goods_receipts and their lines, supplier_bills and their lines.

Suppliers are CRM parties (party_replicas); the ids are kept without a foreign key because the replica can
be dropped and rebuilt from its topic. Stock lives in the stock module: a receipt line only keeps the id
of the stock move it caused (stock quantities and values are the stock module's).
"""

from datetime import date, datetime
from decimal import Decimal

from servicekit.db import new_id, one_of
from sqlalchemy import (
    BigInteger,
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
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import AMOUNT, PRICE, QUANTITY, RATE, Base

PO_STATES = ("draft", "sent", "partially_received", "received", "billed", "cancelled")
BILL_STATUSES = ("awaiting_approval", "approved", "rejected")
MATCH_STATUSES = ("matched", "discrepancy")

# Readable numbers (PO-2026-00042) come from sequences: unique, not gapless.
po_numbers = Sequence("purchase_order_number_seq", metadata=Base.metadata)
receipt_numbers = Sequence("goods_receipt_number_seq", metadata=Base.metadata)
bill_numbers = Sequence("supplier_bill_number_seq", metadata=Base.metadata)




class PurchaseOrder(Base):
    __tablename__ = "purchase_orders"
    __table_args__ = (
        CheckConstraint(one_of("state", PO_STATES), name="state"),
        Index("ix_purchase_orders_order_date", "order_date"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    supplier_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    order_date: Mapped[date] = mapped_column(Date)
    expected_date: Mapped[date | None] = mapped_column(Date)
    warehouse_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("warehouses.id"), index=True)
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    notes: Mapped[str | None] = mapped_column(Text)
    subtotal: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal("0"))
    tax_total: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal("0"))
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PurchaseOrderLine(Base):
    """One product ordered; the received, cancelled and billed quantities follow the order's life."""

    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        UniqueConstraint("purchase_order_id", "position", name="uq_purchase_order_lines_position"),
        CheckConstraint("quantity > 0 and unit_price >= 0 and tax_rate >= 0 and tax_rate < 1", name="amounts"),
        CheckConstraint("quantity_received >= 0 and quantity_cancelled >= 0 and quantity_billed >= 0 "
                        "and quantity_received + quantity_cancelled <= quantity", name="progress"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    purchase_order_id: Mapped[str] = mapped_column(
        UUID(as_uuid=False), ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"), index=True)
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal] = mapped_column(PRICE)
    tax_rate: Mapped[Decimal] = mapped_column(RATE, default=Decimal("0"))
    subtotal: Mapped[Decimal] = mapped_column(AMOUNT)
    tax: Mapped[Decimal] = mapped_column(AMOUNT)
    total: Mapped[Decimal] = mapped_column(AMOUNT)
    quantity_received: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("0"))
    quantity_cancelled: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("0"))
    quantity_billed: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("0"))  # on bills not rejected


class GoodsReceipt(Base):
    __tablename__ = "goods_receipts"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    purchase_order_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("purchase_orders.id"),
                                                   index=True)
    note: Mapped[str | None] = mapped_column(Text)
    received_by: Mapped[str | None] = mapped_column(String(300))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GoodsReceiptLine(Base):
    __tablename__ = "goods_receipt_lines"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity"),)

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    receipt_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("goods_receipts.id", ondelete="CASCADE"),
                                            index=True)
    po_line_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("purchase_order_lines.id"), index=True)
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_cost: Mapped[Decimal] = mapped_column(PRICE)
    location_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("stock_locations.id"))
    # the stock move it caused; None for consumables, which are received without being stocked
    stock_move_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("stock_moves.id"))


class SupplierBill(Base):
    """A supplier's invoice as entered by accounts payable, with the result of its three-way match."""

    __tablename__ = "supplier_bills"
    __table_args__ = (
        CheckConstraint(one_of("status", BILL_STATUSES), name="status"),
        CheckConstraint(one_of("match_status", MATCH_STATUSES), name="match_status"),
        CheckConstraint("due_date >= bill_date", name="dates"),
        # a supplier's invoice number is entered once; a rejected entry frees it for a corrected one
        Index("uq_supplier_bills_supplier_invoice", "supplier_id", text("lower(supplier_invoice_number)"),
              unique=True, postgresql_where=text("status <> 'rejected'")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    seq: Mapped[int] = mapped_column(BigInteger, unique=True)  # entry order: earlier bills claim quantities first
    number: Mapped[str] = mapped_column(String(30), unique=True)
    supplier_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    supplier_invoice_number: Mapped[str] = mapped_column(String(64))
    bill_date: Mapped[date] = mapped_column(Date, index=True)
    due_date: Mapped[date] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="awaiting_approval", index=True)
    match_status: Mapped[str] = mapped_column(String(12), index=True)
    match: Mapped[dict] = mapped_column(JSONB)
    subtotal: Mapped[Decimal] = mapped_column(AMOUNT)
    tax_total: Mapped[Decimal] = mapped_column(AMOUNT)
    total: Mapped[Decimal] = mapped_column(AMOUNT)
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(300))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SupplierBillLine(Base):
    __tablename__ = "supplier_bill_lines"
    __table_args__ = (
        UniqueConstraint("bill_id", "position", name="uq_supplier_bill_lines_position"),
        CheckConstraint("quantity > 0 and unit_price >= 0 and tax_rate >= 0 and tax_rate < 1", name="amounts"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    bill_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("supplier_bills.id", ondelete="CASCADE"),
                                         index=True)
    position: Mapped[int] = mapped_column(Integer)
    po_line_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("purchase_order_lines.id"),
                                                   index=True)
    description: Mapped[str] = mapped_column(Text)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal] = mapped_column(PRICE)
    tax_rate: Mapped[Decimal] = mapped_column(RATE, default=Decimal("0"))
    subtotal: Mapped[Decimal] = mapped_column(AMOUNT)
    tax: Mapped[Decimal] = mapped_column(AMOUNT)
    total: Mapped[Decimal] = mapped_column(AMOUNT)
