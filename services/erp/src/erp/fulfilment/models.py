"""product_supplies (make to order or buy, supplier, lead time), bom_components and routing_operations of a product;
work_orders with their operations and materials; purchase_needs.

A work order or purchase need made for a sales order keeps the order's and the deal's ids; one work order per
made-to-order order line (unique), so a redelivered order never plans twice."""

from datetime import date, datetime
from decimal import Decimal

from servicekit.db import new_id, one_of
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    Sequence,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import MONEY, QUANTITY, Base

PROCUREMENTS = ("make_to_order", "buy")
WORK_ORDER_STATUSES = ("planned", "in_progress", "done")
OPERATION_STATUSES = ("planned", "in_progress", "done")
NEED_STATUSES = ("draft", "ordered", "received", "cancelled", "no_supplier")

work_order_numbers = Sequence("work_order_number_seq", metadata=Base.metadata)


class ProductSupply(Base):
    """How a product is obtained: made to order (from its bill of materials and routing) or bought."""

    __tablename__ = "product_supplies"
    __table_args__ = (
        CheckConstraint(one_of("procurement", PROCUREMENTS), name="procurement"),
        CheckConstraint("lead_time_days >= 0 and (supplier_price is null or supplier_price >= 0)", name="terms"),
    )

    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"), primary_key=True)
    procurement: Mapped[str] = mapped_column(String(14))
    preferred_supplier_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), index=True)  # a CRM party
    supplier_price: Mapped[Decimal | None] = mapped_column(MONEY)
    lead_time_days: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BomComponent(Base):
    """One component of a product's bill of materials: so much of it per unit made."""

    __tablename__ = "bom_components"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity"),
                      CheckConstraint("component_id <> product_id", name="not_itself"))

    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"), primary_key=True)
    component_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"), primary_key=True,
                                              index=True)
    position: Mapped[int] = mapped_column(Integer)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)


class RoutingOperation(Base):
    """One step of making a product (its simple routing), with the hours it is planned to take per order."""

    __tablename__ = "routing_operations"
    __table_args__ = (CheckConstraint("planned_hours >= 0", name="planned_hours"),)

    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    planned_hours: Mapped[Decimal] = mapped_column(Numeric(10, 2))


class WorkOrder(Base):
    __tablename__ = "work_orders"
    __table_args__ = (CheckConstraint(one_of("status", WORK_ORDER_STATUSES), name="status"),
                      CheckConstraint("quantity > 0", name="quantity"))

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    sales_order_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("sales_orders.id"), index=True)
    sales_order_line_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("sales_order_lines.id"),
                                                     unique=True)
    deal_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), index=True)
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"), index=True)
    warehouse_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("warehouses.id"))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    status: Mapped[str] = mapped_column(String(12), index=True)
    assignee: Mapped[str | None] = mapped_column(String(200))
    expected_date: Mapped[date] = mapped_column(Date)
    unit_cost: Mapped[Decimal | None] = mapped_column(MONEY)  # what one unit made cost (materials), once done
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WorkOrderOperation(Base):
    __tablename__ = "work_order_operations"
    __table_args__ = (CheckConstraint(one_of("status", OPERATION_STATUSES), name="status"),)

    work_order_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("work_orders.id", ondelete="CASCADE"),
                                               primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    planned_hours: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    assignee: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))


class WorkOrderMaterial(Base):
    """A component the work order consumes (the bill of materials times the quantity, fixed when planned)."""

    __tablename__ = "work_order_materials"

    work_order_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("work_orders.id", ondelete="CASCADE"),
                                               primary_key=True)
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"), primary_key=True)
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    consumed_value: Mapped[Decimal | None] = mapped_column(MONEY)
    stock_move_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("stock_moves.id"))


class PurchaseNeed(Base):
    """A material or resale product short of stock after reservations: bought on a draft purchase order of its
    preferred supplier, which a purchaser confirms (sends)."""

    __tablename__ = "purchase_needs"
    __table_args__ = (CheckConstraint(one_of("status", NEED_STATUSES), name="status"),
                      CheckConstraint("quantity > 0", name="quantity"))

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    sales_order_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("sales_orders.id"), index=True)
    deal_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), index=True)
    work_order_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("work_orders.id"))
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    supplier_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    purchase_order_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("purchase_orders.id"),
                                                          index=True)
    status: Mapped[str] = mapped_column(String(12), index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    expected_date: Mapped[date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InstallationRecord(Base):
    """What the CRM's installer reported for a sales order (crm.installation.v1): the serials installed and the
    sign-off, kept for the warranty records. Written only by the event handler (sequence-guarded)."""

    __tablename__ = "installation_records"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)  # the CRM installation id
    sequence: Mapped[int] = mapped_column(Integer)
    sales_order_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    sales_order_number: Mapped[str] = mapped_column(String(50))
    deal_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    result: Mapped[str] = mapped_column(String(10))
    serials: Mapped[list] = mapped_column(JSONB)
    signed_by: Mapped[str] = mapped_column(String(200))
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
