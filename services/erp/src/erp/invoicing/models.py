"""invoices (and credit notes) with their lines, and invoice_counters: one row per series and fiscal year.

A draft has no number. Issuing locks its series' counter row for the year (SELECT ... FOR UPDATE) and takes the
next number in the same transaction, so the numbers are gapless and unique however many issue at once. At issue,
the customer's names, tax id and billing address are copied into the invoice (the legal snapshot): a later change
in the CRM does not alter an issued invoice.
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
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import AMOUNT, PERCENT, PRICE, QUANTITY, RATE, Base

KINDS = ("invoice", "credit_note")
STATUSES = ("draft", "issued", "partially_paid", "paid", "overdue", "credited")
REVENUE_KINDS = ("goods", "services")




class InvoiceCounter(Base):
    """The last number issued in a series for a fiscal year; locked by each issue."""

    __tablename__ = "invoice_counters"

    series: Mapped[str] = mapped_column(String(10), primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)
    last_issue_date: Mapped[date | None] = mapped_column(Date)


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        CheckConstraint(one_of("kind", KINDS), name="kind"),
        CheckConstraint(one_of("status", STATUSES), name="status"),
        CheckConstraint("(status = 'draft') = (number is null)", name="numbered_when_issued"),
        CheckConstraint("amount_paid >= 0 and amount_credited >= 0", name="settled"),
        UniqueConstraint("series", "fiscal_year", "sequence_number", name="uq_invoices_series_year_number"),
        Index("ix_invoices_open_due", "due_date",
              postgresql_where=text("status in ('issued', 'partially_paid', 'overdue')")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(12))
    series: Mapped[str] = mapped_column(String(10))
    fiscal_year: Mapped[int | None] = mapped_column(Integer)
    sequence_number: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[str | None] = mapped_column(String(30), unique=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    order_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("sales_orders.id"), index=True)
    crm_order_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    deal_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    credited_invoice_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("invoices.id"),
                                                            index=True)
    currency: Mapped[str] = mapped_column(String(3))
    issue_date: Mapped[date | None] = mapped_column(Date, index=True)
    due_date: Mapped[date | None] = mapped_column(Date)
    payment_terms_days: Mapped[int | None] = mapped_column(Integer)
    # the legal snapshot, copied from the party replica at issue
    customer_name: Mapped[str | None] = mapped_column(String(300))
    customer_legal_name: Mapped[str | None] = mapped_column(String(300))
    customer_tax_id: Mapped[str | None] = mapped_column(String(50))
    billing_address: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))
    net_total: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal("0"))
    tax_total: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal("0"))
    gross_total: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal("0"))
    # an invoice: what receipts paid and credit notes took off; a credit note: what it took off its invoice
    amount_paid: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal("0"))
    amount_credited: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal("0"))
    notes: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)  # why a credit note was issued
    customer_reference: Mapped[str | None] = mapped_column(String(200))  # the customer's PO number
    payment_reference: Mapped[str | None] = mapped_column(String(25), unique=True)  # ISO 11649 RF, set at issue
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # last mailed to the customer
    sent_to: Mapped[list | None] = mapped_column(JSONB(none_as_null=True))
    times_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    dunning_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # last reminder sent: 1-3
    dunned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    journal_entry_id: Mapped[str | None] = mapped_column(String(64))
    overdue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(300))
    issued_by: Mapped[str | None] = mapped_column(String(300))
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (
        UniqueConstraint("invoice_id", "position", name="uq_invoice_lines_position"),
        CheckConstraint(one_of("revenue_kind", REVENUE_KINDS), name="revenue_kind"),
        CheckConstraint("quantity > 0 and unit_price >= 0 and tax_rate >= 0 and tax_rate < 1 "
                        "and discount_percent >= 0 and discount_percent <= 100", name="amounts"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    invoice_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("invoices.id", ondelete="CASCADE"),
                                            index=True)
    position: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("products.id"))
    order_line_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("sales_order_lines.id"),
                                                      index=True)
    credited_line_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("invoice_lines.id"),
                                                         index=True)
    description: Mapped[str] = mapped_column(Text)
    revenue_kind: Mapped[str] = mapped_column(String(10))
    quantity: Mapped[Decimal] = mapped_column(QUANTITY)
    unit_price: Mapped[Decimal] = mapped_column(PRICE)
    discount_percent: Mapped[Decimal] = mapped_column(PERCENT, default=Decimal("0"))
    tax_rate: Mapped[Decimal] = mapped_column(RATE, default=Decimal("0"))
    net: Mapped[Decimal] = mapped_column(AMOUNT)
    tax: Mapped[Decimal] = mapped_column(AMOUNT)
    gross: Mapped[Decimal] = mapped_column(AMOUNT)
