"""categories (a tree), products, price lists with quantity breaks."""

from datetime import date, datetime
from decimal import Decimal

from servicekit.db import new_id
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import MONEY, QUANTITY, Base

KINDS = ("stockable", "consumable", "service")
VALUATION_METHODS = ("average", "fifo")



class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (UniqueConstraint("parent_id", "name", name="uq_categories_parent_name"),)

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    parent_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("categories.id"), index=True)
    path: Mapped[str] = mapped_column(Text, index=True)  # "Hardware / Laptops": kept in step with the tree
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Product(Base):
    __tablename__ = "products"
    __table_args__ = (
        CheckConstraint("kind in ('stockable', 'consumable', 'service')", name="kind"),
        CheckConstraint("valuation_method in ('average', 'fifo')", name="valuation_method"),
        CheckConstraint("sale_price >= 0 and cost >= 0", name="prices"),
        CheckConstraint("tax_rate >= 0 and tax_rate < 1", name="tax_rate"),
        Index("uq_products_sku_lower", text("lower(sku)"), unique=True),
        Index("ix_products_name_lower", text("lower(name)")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    sku: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    category_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("categories.id"), index=True)
    uom: Mapped[str] = mapped_column(String(20), default="unit")
    kind: Mapped[str] = mapped_column(String(12), default="stockable")
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    sale_price: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    cost: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))  # standard/last purchase cost
    tax_rate: Mapped[Decimal] = mapped_column(Numeric(6, 4), default=Decimal("0"))  # 0.2000 = 20 %
    warranty_months: Mapped[int] = mapped_column(Integer, default=0)
    allow_backorder: Mapped[bool] = mapped_column(Boolean, default=False)
    valuation_method: Mapped[str] = mapped_column(String(10), default="average")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PriceList(Base):
    """Prices for a customer group or one customer, valid between two dates; items carry quantity breaks."""

    __tablename__ = "price_lists"
    __table_args__ = (
        CheckConstraint("not (customer_group is not null and party_id is not null)", name="one_target"),
        CheckConstraint("valid_to is null or valid_from is null or valid_to >= valid_from", name="validity"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    customer_group: Mapped[str | None] = mapped_column(String(50), index=True)
    party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), index=True)
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PriceListItem(Base):
    __tablename__ = "price_list_items"
    __table_args__ = (
        UniqueConstraint("price_list_id", "product_id", "min_quantity", name="uq_price_list_items_break"),
        CheckConstraint("price >= 0 and min_quantity >= 0", name="amounts"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    price_list_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("price_lists.id", ondelete="CASCADE"),
                                               index=True)
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"), index=True)
    min_quantity: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("1"))
    price: Mapped[Decimal] = mapped_column(MONEY)
