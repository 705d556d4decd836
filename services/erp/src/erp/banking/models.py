"""The banking module's tables: money moved between a bank account or cash box and the books (bank_movements),
transfers between own accounts (bank_transfers), imported statements and their lines, a CSV column mapping per
bank account, reconciliations (a statement line tied to the ledger lines that explain it) and the user's rules.

The accounts themselves are `bank_accounts` (payments.models.BankAccount), which payments use too.
"""

from datetime import date, datetime
from decimal import Decimal

from servicekit.db import new_id, one_of
from sqlalchemy import (
    BigInteger,
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
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import AMOUNT, RATE, Base
from ..ledger import models as _ledger_models  # noqa: F401 - reconciliation items refer to journal lines
from ..payments import models as _payment_models  # noqa: F401 - everything here refers to bank_accounts

MOVEMENT_KINDS = ("deposit", "withdrawal", "fee", "interest", "other_in", "other_out")
MOVEMENT_STATUSES = ("posted", "reversed")
STATEMENT_FORMATS = ("camt053", "mt940", "ofx", "csv")
RECONCILIATION_STATUSES = ("active", "undone")
DIRECTIONS = ("in", "out")


class BankMovement(Base):
    """Money in or out of one account that no customer or supplier document explains: a deposit, a withdrawal,
    a bank fee, interest, or what a reconciliation rule or write-off booked. `counter_account` is the other side
    of the entry (an account code or a posting role)."""

    __tablename__ = "bank_movements"
    __table_args__ = (
        CheckConstraint(one_of("kind", MOVEMENT_KINDS), name="kind"),
        CheckConstraint(one_of("direction", DIRECTIONS), name="direction"),
        CheckConstraint(one_of("status", MOVEMENT_STATUSES), name="status"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("tax_amount is null or (tax_amount >= 0 and tax_amount < amount)", name="tax"),
        Index("ix_bank_movements_account_date", "bank_account_id", "movement_date"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    bank_account_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("bank_accounts.id"))
    kind: Mapped[str] = mapped_column(String(12))
    direction: Mapped[str] = mapped_column(String(3))
    amount: Mapped[Decimal] = mapped_column(AMOUNT)
    movement_date: Mapped[date] = mapped_column(Date)
    counter_account: Mapped[str] = mapped_column(String(30))
    party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    reference: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    tax_rate: Mapped[Decimal | None] = mapped_column(RATE)      # the amount is gross: net + tax
    tax_amount: Mapped[Decimal | None] = mapped_column(AMOUNT)
    tax_account: Mapped[str | None] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(10), default="posted")
    journal_entry_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BankTransfer(Base):
    """Money moved between two own accounts: one entry when it leaves and arrives the same day, otherwise two
    through the transfer-in-transit account (sent, then received)."""

    __tablename__ = "bank_transfers"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("from_account_id <> to_account_id", name="two_accounts"),
        CheckConstraint("received_on >= sent_on", name="dates"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    from_account_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("bank_accounts.id"), index=True)
    to_account_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("bank_accounts.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(AMOUNT)
    currency: Mapped[str] = mapped_column(String(3))
    sent_on: Mapped[date] = mapped_column(Date)
    received_on: Mapped[date] = mapped_column(Date)
    reference: Mapped[str | None] = mapped_column(String(200))
    sent_entry_id: Mapped[str | None] = mapped_column(String(64))
    received_entry_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BankStatement(Base):
    """One statement of one account as the bank sent it: its balances, dates and sequence number."""

    __tablename__ = "bank_statements"
    __table_args__ = (
        CheckConstraint(one_of("format", STATEMENT_FORMATS), name="format"),
        Index("ix_bank_statements_account_created", "bank_account_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    bank_account_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("bank_accounts.id"))
    format: Mapped[str] = mapped_column(String(8))
    bank_statement_id: Mapped[str | None] = mapped_column(String(100))
    electronic_sequence: Mapped[int | None] = mapped_column(BigInteger)
    file_name: Mapped[str | None] = mapped_column(String(300))
    file_sha256: Mapped[str] = mapped_column(String(64))
    from_date: Mapped[date | None] = mapped_column(Date)
    to_date: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    opening_balance: Mapped[Decimal] = mapped_column(AMOUNT)
    closing_balance: Mapped[Decimal] = mapped_column(AMOUNT)
    line_count: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BankStatementLine(Base):
    """A booked entry of a statement. `amount` is signed (credit to the account > 0); `dedup_key` is the bank's
    reference, else the EndToEndId, else a fingerprint: the same entry imported twice is refused by the unique
    index. `details` holds the transactions of a batched entry."""

    __tablename__ = "bank_statement_lines"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount"),
        UniqueConstraint("bank_account_id", "dedup_key", name="uq_bank_statement_lines_dedup"),
        Index("ix_bank_statement_lines_account_date", "bank_account_id", "booking_date"),
        Index("ix_bank_statement_lines_unreconciled", "bank_account_id", postgresql_where=text("not reconciled")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    statement_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("bank_statements.id"), index=True)
    bank_account_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("bank_accounts.id"))
    position: Mapped[int] = mapped_column(Integer)
    booking_date: Mapped[date] = mapped_column(Date)
    value_date: Mapped[date | None] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(AMOUNT)
    currency: Mapped[str] = mapped_column(String(3))
    reversal: Mapped[bool] = mapped_column(Boolean, default=False)
    bank_reference: Mapped[str | None] = mapped_column(String(100))
    end_to_end_id: Mapped[str | None] = mapped_column(String(100))
    counterparty_name: Mapped[str | None] = mapped_column(String(200))
    counterparty_iban: Mapped[str | None] = mapped_column(String(34))
    remittance: Mapped[str | None] = mapped_column(Text)
    structured_reference: Mapped[str | None] = mapped_column(String(100))
    details: Mapped[list[dict] | None] = mapped_column(JSONB(none_as_null=True))
    dedup_key: Mapped[str] = mapped_column(String(120))
    reconciled: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)


class BankCsvMapping(Base):
    """How one bank's CSV export reads: which column is the date, the amount (or debit and credit), the text."""

    __tablename__ = "bank_csv_mappings"

    bank_account_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("bank_accounts.id"),
                                                 primary_key=True)
    mapping: Mapped[dict] = mapped_column(JSONB)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BankReconciliation(Base):
    """A statement line explained by ledger lines of the account (its items): which rule proposed it, its score,
    and what it created (payments through the payments service, one per customer or supplier; movements for a
    rule or a write-off)."""

    __tablename__ = "bank_reconciliations"
    __table_args__ = (
        CheckConstraint(one_of("status", RECONCILIATION_STATUSES), name="status"),
        Index("uq_bank_reconciliations_active_line", "statement_line_id", unique=True,
              postgresql_where=text("status = 'active'")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    bank_account_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("bank_accounts.id"), index=True)
    statement_line_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("bank_statement_lines.id"))
    rule: Mapped[str] = mapped_column(String(30))
    score: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    explanation: Mapped[str | None] = mapped_column(Text)
    payment_ids: Mapped[list[str] | None] = mapped_column(JSONB(none_as_null=True))
    movement_ids: Mapped[list[str] | None] = mapped_column(JSONB(none_as_null=True))
    status: Mapped[str] = mapped_column(String(6), default="active")
    created_by: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    undone_by: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1)


class BankReconciliationItem(Base):
    """One ledger line on the account's ledger account, tied to the reconciliation that explains it (a ledger
    line is reconciled once; undoing a reconciliation deletes its items)."""

    __tablename__ = "bank_reconciliation_items"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    reconciliation_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("bank_reconciliations.id"),
                                                   index=True)
    journal_line_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("journal_lines.id"), unique=True)
    amount: Mapped[Decimal] = mapped_column(AMOUNT)  # debit - credit: money in > 0


class BankRule(Base):
    """A user's rule for recurring lines without a document (fees, rent, subscriptions): when a line's text,
    counterparty and amount fit, book it to `account` (and a party); with a tax rate, the line is gross and its
    tax goes to the tax account."""

    __tablename__ = "bank_rules"
    __table_args__ = (
        CheckConstraint("direction is null or " + one_of("direction", DIRECTIONS), name="direction"),
        CheckConstraint("amount_min is null or amount_max is null or amount_min <= amount_max",
                        name="amount_range"),
        CheckConstraint("tax_rate is null or (tax_rate > 0 and tax_rate < 1)", name="tax_rate"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    bank_account_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("bank_accounts.id"),
                                                        index=True)
    text_contains: Mapped[str | None] = mapped_column(String(200))
    counterparty_contains: Mapped[str | None] = mapped_column(String(200))
    counterparty_iban: Mapped[str | None] = mapped_column(String(34))
    direction: Mapped[str | None] = mapped_column(String(3))
    amount_min: Mapped[Decimal | None] = mapped_column(AMOUNT)
    amount_max: Mapped[Decimal | None] = mapped_column(AMOUNT)
    account: Mapped[str] = mapped_column(String(30))
    tax_rate: Mapped[Decimal | None] = mapped_column(RATE)  # the line is gross: the tax goes to tax_account
    tax_account: Mapped[str | None] = mapped_column(String(30))  # None: VAT deductible (out) or collected (in)
    party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class BankPartyIban(Base):
    """An IBAN the company knows a customer or supplier pays from or is paid to: learned when a statement line
    from that IBAN is reconciled with the party's invoices. Parties are the CRM's; this is the ERP's own note."""

    __tablename__ = "bank_party_ibans"

    iban: Mapped[str] = mapped_column(String(34), primary_key=True)
    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    learned_from_line_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
