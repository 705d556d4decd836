"""Replica tables of the ERP catalog, written only by the event handlers (catalog/handlers.py).

Each row carries the `sequence` of the ERP event it reflects. A product's state (erp.product.v1) and its stock
(erp.stock.v1) travel on different topics with independent sequences, so stock has a table of its own.
"""

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Index, Integer, Numeric, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

MONEY = Numeric(18, 4)
QUANTITY = Numeric(18, 4)


class CategoryReplica(Base):
    """A node of the ERP's category tree as last announced on erp.product.v1."""

    __tablename__ = "category_replicas"

    category_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(100))
    # no foreign key: a child may arrive before its parent (they are keyed, hence partitioned, apart)
    parent_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), index=True)
    path: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean)
    erp_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replicated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ProductReplica(Base):
    """An ERP product as last announced on erp.product.v1; `sequence` is the ERP version it reflects."""

    __tablename__ = "product_replicas"
    __table_args__ = (
        Index("ix_product_replicas_sku_lower", text("lower(sku)")),
        Index("ix_product_replicas_name_lower", text("lower(name)")),
    )

    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    category_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), index=True)
    category_path: Mapped[str | None] = mapped_column(Text)  # as of the product's event; the category may be newer
    uom: Mapped[str] = mapped_column(String(20))
    kind: Mapped[str] = mapped_column(String(12))
    currency: Mapped[str] = mapped_column(String(3))
    sale_price: Mapped[Decimal] = mapped_column(MONEY)
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    warranty_months: Mapped[int] = mapped_column(Integer)
    allow_backorder: Mapped[bool] = mapped_column(Boolean)
    active: Mapped[bool] = mapped_column(Boolean)
    erp_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replicated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StockReplica(Base):
    """A product's availability as last announced on erp.stock.v1; may arrive before the product itself."""

    __tablename__ = "stock_replicas"

    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    on_hand: Mapped[Decimal] = mapped_column(QUANTITY)
    reserved: Mapped[Decimal] = mapped_column(QUANTITY)
    available: Mapped[Decimal] = mapped_column(QUANTITY, index=True)
    warehouses: Mapped[list[dict]] = mapped_column(JSONB)  # [{warehouse_id, code, name, on_hand, reserved, available}]
    erp_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replicated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PriceListReplica(Base):
    """An ERP price list with all its items (as in the event: product_id, min_quantity, price as strings)."""

    __tablename__ = "price_list_replicas"
    __table_args__ = (
        # "which lists price this product": items @> '[{"product_id": ...}]'
        Index("ix_price_list_replicas_items", "items", postgresql_using="gin",
              postgresql_ops={"items": "jsonb_path_ops"}),
    )

    price_list_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3))
    customer_group: Mapped[str | None] = mapped_column(String(50))
    party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean)
    items: Mapped[list[dict]] = mapped_column(JSONB)
    erp_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replicated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
