"""Cheques received from customers (received_cheques) and every move each made (cheque_transitions, append-only).

A cheque is received through the payments service as a customer receipt into the company's "cheques in
portfolio" account (a bank_accounts row of kind `cheques` per currency), which settles the customer's invoices;
its value then moves between the portfolio, the bank (for collection) and collateral until it clears or bounces.
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
    Identity,
    Index,
    Integer,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import AMOUNT, Base
from ..payments import models as _payment_models  # noqa: F401 - cheques refer to payments and bank accounts

STATES = ("in_portfolio", "deposited_for_collection", "endorsed", "given_as_collateral", "cleared", "bounced",
          "returned", "re_presented", "protested")


class ReceivedCheque(Base):
    __tablename__ = "received_cheques"
    __table_args__ = (
        CheckConstraint(one_of("state", STATES), name="state"),
        CheckConstraint("amount > 0", name="amount"),
        Index("ix_received_cheques_state_date", "state", "cheque_date"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    number: Mapped[str] = mapped_column(String(50))
    drawer: Mapped[str] = mapped_column(String(200))
    drawer_bank: Mapped[str] = mapped_column(String(100))
    drawer_branch: Mapped[str | None] = mapped_column(String(100))
    cheque_date: Mapped[date] = mapped_column(Date)  # when it may be cashed: later than received_on when post-dated
    received_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(AMOUNT)
    currency: Mapped[str] = mapped_column(String(3))
    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    state: Mapped[str] = mapped_column(String(30), default="in_portfolio")
    receipt_payment_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("payments.id"))
    endorsement_payment_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("payments.id"))
    endorsed_to_party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    bank_account_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("bank_accounts.id"))
    deposit_slip_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), index=True)
    created_by: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ChequeTransition(Base):
    """One move of a cheque, with the entry it posted (if any); never updated or deleted."""

    __tablename__ = "cheque_transitions"

    id: Mapped[int] = mapped_column(BigInteger, Identity(always=False), primary_key=True)
    cheque_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("received_cheques.id"), index=True)
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str] = mapped_column(String(30))
    on_date: Mapped[date] = mapped_column(Date)
    journal_entry_id: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


ISSUED_STATES = ("issued", "presented", "cleared", "voided")


class ChequeBook(Base):
    """A book of our own cheques on one bank account: numbers first..last, handed out in order."""

    __tablename__ = "cheque_books"
    __table_args__ = (CheckConstraint("first_number > 0 and first_number <= next_number and "
                                      "next_number <= last_number + 1", name="numbers"),)

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    bank_account_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("bank_accounts.id"), index=True)
    first_number: Mapped[int] = mapped_column(BigInteger)
    last_number: Mapped[int] = mapped_column(BigInteger)
    next_number: Mapped[int] = mapped_column(BigInteger)
    created_by: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class IssuedCheque(Base):
    """A cheque we wrote to a supplier: a supplier payment through the payments service into "cheques issued"
    (a liability) until the bank pays it (cleared) or we cancel it (voided)."""

    __tablename__ = "issued_cheques"
    __table_args__ = (
        CheckConstraint(one_of("state", ISSUED_STATES), name="state"),
        CheckConstraint("amount > 0", name="amount"),
        Index("uq_issued_cheques_account_number", "bank_account_id", "number", unique=True),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    cheque_book_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("cheque_books.id"), index=True)
    bank_account_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("bank_accounts.id"))
    number: Mapped[str] = mapped_column(String(20))
    supplier_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    amount: Mapped[Decimal] = mapped_column(AMOUNT)
    currency: Mapped[str] = mapped_column(String(3))
    issue_date: Mapped[date] = mapped_column(Date)
    due_date: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(10), default="issued")
    payment_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("payments.id"))
    cleared_on: Mapped[date | None] = mapped_column(Date)
    clearing_entry_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
