"""The tables of warranties: the terms a product is sold with, and the entitlements invoices create."""

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
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import QUANTITY, Base

STARTS = ("invoice", "delivery")
STATUSES = ("active", "void", "replaced")
REPLACEMENT_POLICIES = ("keep", "renew")


class WarrantyTerm(Base):
    """How a product is guaranteed from now on; entitlements keep a copy of the terms in force when invoiced."""

    __tablename__ = "warranty_terms"
    __table_args__ = (
        CheckConstraint("months > 0 and months <= 240", name="months"),
        CheckConstraint("starts_from in ('invoice', 'delivery')", name="starts_from"),
        CheckConstraint("covers_parts or covers_labour", name="covers"),
        CheckConstraint("(supplier_party_id is null) = (supplier_months is null)", name="supplier"),
    )

    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"), primary_key=True)
    months: Mapped[int] = mapped_column(Integer)
    starts_from: Mapped[str] = mapped_column(String(10), default="invoice")
    covers_parts: Mapped[bool] = mapped_column(Boolean, default=True)
    covers_labour: Mapped[bool] = mapped_column(Boolean, default=True)
    supplier_party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    supplier_months: Mapped[int | None] = mapped_column(Integer)
    # deliveries record one serial number per unit shipped; each invoiced serial gets an entitlement of its own
    serial_tracked: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Entitlement(Base):
    """A customer's right to repairs or replacement for what one invoice line sold, until end_date."""

    __tablename__ = "warranty_entitlements"
    __table_args__ = (
        CheckConstraint("status in ('active', 'void', 'replaced')", name="status"),
        CheckConstraint("quantity >= 0", name="quantity"),
        Index("ix_warranty_entitlements_party_product", "party_id", "product_id"),
        Index("ix_warranty_entitlements_line", "invoice_line_id"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"))
    invoice_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("invoices.id"))
    invoice_number: Mapped[str] = mapped_column(String(40))
    invoice_line_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("invoice_lines.id"))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    serial_number: Mapped[str | None] = mapped_column(String(100))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    covers_parts: Mapped[bool] = mapped_column(Boolean)
    covers_labour: Mapped[bool] = mapped_column(Boolean)
    supplier_party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    supplier_end_date: Mapped[date | None] = mapped_column(Date)
    terms: Mapped[dict] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="active")
    # a unit replaced under warranty: the faulty unit's entitlement this one took over from
    replaces_entitlement_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False),
                                                                ForeignKey("warranty_entitlements.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WarrantySettings(Base):
    """The company's warranty policy (one row): whether a unit replaced under warranty keeps what remained of the
    faulty unit's term or starts a new term on the replacement day, and the warehouse warranty parts leave from."""

    __tablename__ = "warranty_settings"
    __table_args__ = (CheckConstraint("replacement_policy in ('keep', 'renew')", name="replacement_policy"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    replacement_policy: Mapped[str] = mapped_column(String(5), default="keep")
    # where parts sent under warranty come from; None: ERP_SALES_WAREHOUSE, else the oldest active warehouse
    parts_warehouse_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("warehouses.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SerialNumber(Base):
    """A unit of a product known by its serial number: shipped by a delivery line, or sent as a replacement under
    warranty. A serial belongs to one unit of one product (unique per product)."""

    __tablename__ = "serial_numbers"
    __table_args__ = (
        UniqueConstraint("product_id", "serial_number"),
        CheckConstraint("source in ('delivery', 'replacement')", name="source"),
        Index("ix_serial_numbers_order_line", "order_line_id"),
        Index("ix_serial_numbers_serial", "serial_number"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"))
    serial_number: Mapped[str] = mapped_column(String(100))
    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    source: Mapped[str] = mapped_column(String(12), default="delivery")
    delivery_line_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("sales_delivery_lines.id"))
    order_line_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("sales_order_lines.id"))
    shipped_on: Mapped[date] = mapped_column(Date)
    entitlement_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("warranty_entitlements.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WarrantyClaim(Base):
    """A ticket resolved under warranty in the CRM (crm.ticket.warranty_claimed), as the ERP booked it: the parts
    issued from stock, the labour accrued, the supplier's share receivable. `id` is the CRM's claim id; `revision`
    the newest revision applied (an older or repeated one changes nothing); `booked_*` what the ledger holds, so a
    correction books only the difference."""

    __tablename__ = "warranty_claims"
    __table_args__ = (
        CheckConstraint("status in ('accepted', 'rejected')", name="status"),
        Index("ix_warranty_claims_claimed_on", "claimed_on"),
        Index("ix_warranty_claims_entitlement", "entitlement_id"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    ticket_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    ticket_number: Mapped[str] = mapped_column(String(40))
    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    product_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    entitlement_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    faulty_serial: Mapped[str | None] = mapped_column(String(100))
    replacement_serial: Mapped[str | None] = mapped_column(String(100))
    replacement_entitlement_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    revision: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(Text)
    # what the newest revision asked for: [{product_id, sku, quantity}]
    parts: Mapped[list] = mapped_column(JSONB, default=list)
    # what stock issued for it so far, per product: {product_id: {"quantity": "1", "cost": "25.00"}}
    issued: Mapped[dict] = mapped_column(JSONB, default=dict)
    labour_hours: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(0))
    labour_rate: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal(0))
    parts_cost: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal(0))
    labour_cost: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal(0))
    supplier_party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), index=True)
    supplier_receivable: Mapped[Decimal] = mapped_column(Numeric(18, 2), default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    claimed_on: Mapped[date] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
