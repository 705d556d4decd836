"""bank_accounts, payments (customer receipts and supplier payments) and payment_allocations.

A payment's unallocated part is credit held on the party's account (customer credit or supplier advance) until it
is allocated. A bounced cheque reverses its payment: its allocations are marked reversed and stop counting.
"""

from datetime import date, datetime
from decimal import Decimal

from servicekit.db import new_id, one_of
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import AMOUNT, Base
from ..invoicing import models as _invoicing_models  # noqa: F401 - allocations refer to invoices
from ..sales import models as _sales_models  # noqa: F401 - invoices refer to sales orders

DIRECTIONS = ("in", "out")
METHODS = ("bank_transfer", "card", "cash", "cheque", "direct_debit", "other")
STATUSES = ("posted", "bounced")
CHEQUE_STATUSES = ("received", "deposited", "cleared", "bounced")

receipt_numbers = Sequence("customer_receipt_number_seq", metadata=Base.metadata)
payment_numbers = Sequence("supplier_payment_number_seq", metadata=Base.metadata)




BANK_ACCOUNT_KINDS = ("bank", "cash", "cheques")  # cheques: the portfolio of cheques received (one per currency)


class BankAccount(Base):
    """Where money comes in and goes out: a bank account or a cash box (kind). `ledger_account` is the ledger
    account (or mapping role) it posts to; the banking module gives each account it opens a ledger account of its
    own, so that the account's balance is the ledger's. `writeoff_limit` is the largest difference reconciliation
    may write off on one statement line."""

    __tablename__ = "bank_accounts"
    __table_args__ = (Index("uq_bank_accounts_name_lower", text("lower(name)"), unique=True),
                      CheckConstraint(one_of("kind", BANK_ACCOUNT_KINDS), name="kind"),
                      CheckConstraint("kind = 'bank' or (iban is null and bic is null)", name="cash_has_no_iban"),
                      CheckConstraint("writeoff_limit >= 0", name="writeoff_limit"))

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(8), default="bank")
    iban: Mapped[str | None] = mapped_column(String(34))
    bic: Mapped[str | None] = mapped_column(String(11))
    currency: Mapped[str] = mapped_column(String(3))
    ledger_account: Mapped[str] = mapped_column(String(30), default="bank")
    opening_balance: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal("0"))
    opening_date: Mapped[date | None] = mapped_column(Date)
    writeoff_limit: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal("0"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Payment(Base):
    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint(one_of("direction", DIRECTIONS), name="direction"),
        CheckConstraint(one_of("method", METHODS), name="method"),
        CheckConstraint(one_of("status", STATUSES), name="status"),
        CheckConstraint("cheque_status is null or " + one_of("cheque_status", CHEQUE_STATUSES), name="cheque_status"),
        CheckConstraint("amount > 0 and allocated >= 0 and allocated <= amount", name="amounts"),
        Index("ix_payments_party_date", "party_id", "payment_date"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    direction: Mapped[str] = mapped_column(String(3))
    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    amount: Mapped[Decimal] = mapped_column(AMOUNT)
    allocated: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3))
    payment_date: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    bank_account_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("bank_accounts.id"),
                                                        index=True)
    reference: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(10), default="posted")
    cheque_number: Mapped[str | None] = mapped_column(String(50))
    cheque_bank: Mapped[str | None] = mapped_column(String(100))
    cheque_status: Mapped[str | None] = mapped_column(String(10))
    bounced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    bounce_reason: Mapped[str | None] = mapped_column(Text)
    journal_entry_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PaymentAllocation(Base):
    """Part of a payment settling one customer invoice or one supplier bill."""

    __tablename__ = "payment_allocations"
    __table_args__ = (
        CheckConstraint("(invoice_id is null) <> (bill_id is null)", name="one_document"),
        CheckConstraint("amount > 0", name="amount"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    payment_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("payments.id"), index=True)
    invoice_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("invoices.id"), index=True)
    bill_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("supplier_bills.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(AMOUNT)
    allocated_on: Mapped[date] = mapped_column(Date)
    journal_entry_id: Mapped[str | None] = mapped_column(String(64))  # set when held credit was applied later
    reversed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
