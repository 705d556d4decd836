"""Warehouses and their locations, stock moves (the only way quantities change), the running quantities they keep
up to date (quants per location, levels per warehouse, totals per product), valuation layers, reservations and
inventory counts."""

from datetime import datetime
from decimal import Decimal

from servicekit.db import new_id
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import MONEY, QUANTITY, UNIT_COST, Base

MOVE_KINDS = ("receipt", "delivery", "transfer", "adjustment")
RESERVATION_STATUSES = ("active", "consumed", "released")
COUNT_STATUSES = ("draft", "validated", "cancelled")
DEFAULT_LOCATION = "STOCK"



class Warehouse(Base):
    __tablename__ = "warehouses"
    __table_args__ = (Index("uq_warehouses_code_lower", text("lower(code)"), unique=True),)

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Location(Base):
    """A place in a warehouse (a tree: zone / aisle / bin); each warehouse has one default location, STOCK."""

    __tablename__ = "stock_locations"
    __table_args__ = (
        UniqueConstraint("warehouse_id", "code", name="uq_stock_locations_warehouse_code"),
        Index("uq_stock_locations_default", "warehouse_id", unique=True, postgresql_where=text("is_default")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    warehouse_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("warehouses.id"), index=True)
    parent_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("stock_locations.id"))
    code: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(Text)  # "STOCK/A/01": the codes from the top of the tree
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StockMove(Base):
    """One movement of goods; never changed or deleted (the database refuses it), corrected by a counter move.

    `from_location_id` is null for goods coming from outside (receipts, positive adjustments), `to_location_id` for
    goods leaving (deliveries, negative adjustments). `value` is quantity × unit_cost.
    """

    __tablename__ = "stock_moves"
    __table_args__ = (
        CheckConstraint("kind in ('receipt', 'delivery', 'transfer', 'adjustment')", name="kind"),
        CheckConstraint("quantity > 0", name="quantity"),
        CheckConstraint(
            "(kind = 'receipt' and from_location_id is null and to_location_id is not null)"
            " or (kind = 'delivery' and from_location_id is not null and to_location_id is null)"
            " or (kind = 'transfer' and from_location_id is not null and to_location_id is not null"
            " and from_location_id <> to_location_id)"
            " or (kind = 'adjustment' and (from_location_id is null) <> (to_location_id is null)"
            " and reason is not null)",
            name="locations"),
        Index("ix_stock_moves_product_done", "product_id", "done_at"),
        Index("ix_stock_moves_source", "source_type", "source_id"),
        Index("ix_stock_moves_done_at", "done_at"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(12))
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    from_location_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("stock_locations.id"))
    to_location_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("stock_locations.id"))
    from_warehouse_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("warehouses.id"),
                                                          index=True)
    to_warehouse_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("warehouses.id"), index=True)
    unit_cost: Mapped[Decimal] = mapped_column(UNIT_COST)
    value: Mapped[Decimal] = mapped_column(MONEY)
    reference: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(String(300))
    source_type: Mapped[str | None] = mapped_column(String(50))
    source_id: Mapped[str | None] = mapped_column(String(100))
    party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), index=True)
    done_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor_id: Mapped[str | None] = mapped_column(String(100))
    actor_name: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StockProduct(Base):
    """A stockable product's running totals and valuation; its row lock serializes every change of its stock."""

    __tablename__ = "stock_products"

    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"), primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=0)  # the `sequence` of erp.stock.v1 events
    on_hand: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("0"))
    reserved: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("0"))
    value: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    average_cost: Mapped[Decimal] = mapped_column(UNIT_COST, default=Decimal("0"))
    last_done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StockLevel(Base):
    """On hand and reserved of a product in one warehouse (reservations are held per warehouse)."""

    __tablename__ = "stock_levels"

    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"), primary_key=True)
    warehouse_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("warehouses.id"), primary_key=True,
                                              index=True)
    on_hand: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("0"))
    reserved: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("0"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class StockQuant(Base):
    """On hand of a product at one location."""

    __tablename__ = "stock_quants"

    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"), primary_key=True)
    location_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("stock_locations.id"), primary_key=True,
                                             index=True)
    warehouse_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("warehouses.id"), index=True)
    on_hand: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("0"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ValuationLayer(Base):
    """The value a move added to (quantity > 0) or took from (< 0) a product's stock; the valuation as of any
    date is the sum of the layers up to it. For FIFO, `remaining_*` is what is left of the layer (negative for a
    backordered shortfall not yet settled)."""

    __tablename__ = "stock_valuation_layers"
    __table_args__ = (
        Index("ix_stock_valuation_layers_product_done", "product_id", "done_at"),
        Index("ix_stock_valuation_layers_open", "product_id", "id", postgresql_where=text("remaining_quantity <> 0")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"))
    move_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("stock_moves.id"), index=True)
    done_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    value: Mapped[Decimal] = mapped_column(MONEY)
    unit_cost: Mapped[Decimal] = mapped_column(UNIT_COST)
    remaining_quantity: Mapped[Decimal] = mapped_column(QUANTITY, default=Decimal("0"))
    remaining_value: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))


class Reservation(Base):
    """Stock held in a warehouse for a document (a sales order): released on cancel, consumed by its delivery."""

    __tablename__ = "stock_reservations"
    __table_args__ = (
        CheckConstraint("status in ('active', 'consumed', 'released')", name="status"),
        CheckConstraint("quantity > 0 and remaining >= 0 and remaining <= quantity", name="quantities"),
        Index("ix_stock_reservations_source", "source_type", "source_id"),
        Index("ix_stock_reservations_product_warehouse", "product_id", "warehouse_id"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"))
    warehouse_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("warehouses.id"))
    source_type: Mapped[str] = mapped_column(String(50))
    source_id: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)  # as reserved
    remaining: Mapped[Decimal] = mapped_column(QUANTITY)  # still held (deliveries consume it)
    status: Mapped[str] = mapped_column(String(10), default="active")
    actor_id: Mapped[str | None] = mapped_column(String(100))
    actor_name: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InventoryCount(Base):
    """A physical count of (part of) one warehouse: draft, then validated (adjustments posted) or cancelled."""

    __tablename__ = "inventory_counts"
    __table_args__ = (CheckConstraint("status in ('draft', 'validated', 'cancelled')", name="status"),)

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    number: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True)
    warehouse_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("warehouses.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    validated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def reference(self) -> str:
        return f"IC-{self.number:05d}"


class InventoryCountLine(Base):
    """A counted quantity, beside what the system held at that location when it was counted."""

    __tablename__ = "inventory_count_lines"
    __table_args__ = (
        UniqueConstraint("count_id", "product_id", "location_id", name="uq_inventory_count_lines_item"),
        CheckConstraint("counted_quantity >= 0", name="counted_quantity"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    count_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("inventory_counts.id", ondelete="CASCADE"),
                                          index=True)
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"))
    location_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("stock_locations.id"))
    counted_quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    system_quantity: Mapped[Decimal] = mapped_column(QUANTITY)  # on hand at the location when counted
    move_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("stock_moves.id"))
    counted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    counted_by: Mapped[str | None] = mapped_column(String(300))
