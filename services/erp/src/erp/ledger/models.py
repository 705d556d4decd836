"""The ledger's tables: the chart of accounts and its role mapping, journals, journal entries and their lines, the
gapless numbering counters, the hash chain's head and the ledger settings (lock date).

Posted entries and their lines are immutable: the database refuses UPDATE and DELETE of them (triggers in migration
0007), except the one-time sealing of a posted entry in its own transaction (number and hash, see hashchain.py).
Lines keep a copy of their entry's date and journal so that every report reads journal_lines alone.
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
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import AMOUNT, Base

ACCOUNT_TYPES = ("asset", "liability", "equity", "income", "expense")
SIDES = ("debit", "credit")
JOURNAL_TYPES = ("sales", "purchases", "bank", "cash", "general", "stock")
ENTRY_STATUSES = ("draft", "posted")




class Account(Base):
    """An account of the chart; its code is unique. Accounts with postings are deactivated, never deleted."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint(one_of("type", ACCOUNT_TYPES), name="type"),
        CheckConstraint(one_of("normal_side", SIDES), name="normal_side"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(10))
    normal_side: Mapped[str] = mapped_column(String(6))
    reconcilable: Mapped[bool] = mapped_column(Boolean, default=False)  # receivables, payables, bank
    party_required: Mapped[bool] = mapped_column(Boolean, default=False)  # every line names a customer/supplier
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    parent_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("ledger_accounts.id"), index=True)
    description: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AccountMapping(Base):
    """Which account a posting role (receivable, revenue_goods, grni, ...) books to; editable by accountants."""

    __tablename__ = "ledger_account_mapping"

    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    account_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("ledger_accounts.id"), index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_by: Mapped[str | None] = mapped_column(String(300))


class Journal(Base):
    """A book of entries (SAL, PUR, BNK, CSH, GEN, STK); entries are numbered per journal and fiscal year."""

    __tablename__ = "ledger_journals"
    __table_args__ = (CheckConstraint(one_of("type", JOURNAL_TYPES), name="type"),)

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(10))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class JournalEntry(Base):
    """A journal entry: a draft (manual entries only, lines kept in `draft_lines`) or posted (lines in
    journal_lines, immutable). `number`, `chain_seq` and `hash` are set once, when the posting transaction commits.

    (source_type, source_id, purpose) is unique: posting the same document for the same purpose twice returns the
    first entry. A reversal points at the entry it reverses (`reversal_of_id`, unique: an entry is reversed once).
    """

    __tablename__ = "journal_entries"
    __table_args__ = (
        CheckConstraint(one_of("status", ENTRY_STATUSES), name="status"),
        CheckConstraint("status = 'posted' or (number is null and hash is null)", name="draft_unsealed"),
        UniqueConstraint("source_type", "source_id", "purpose", name="uq_journal_entries_source"),
        UniqueConstraint("journal_id", "fiscal_year", "sequence_number", name="uq_journal_entries_journal_number"),
        Index("ix_journal_entries_journal_date", "journal_id", "entry_date"),
        Index("ix_journal_entries_entry_date", "entry_date"),
        Index("ix_journal_entries_status", "status", postgresql_where=text("status = 'draft'")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=new_id)
    journal_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("ledger_journals.id"))
    status: Mapped[str] = mapped_column(String(6), default="draft")
    entry_date: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(200))
    memo: Mapped[str | None] = mapped_column(Text)
    source_type: Mapped[str] = mapped_column(String(50))
    source_id: Mapped[str] = mapped_column(String(100))
    purpose: Mapped[str] = mapped_column(String(100), default="main")
    reversal_of_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("journal_entries.id"),
                                                       unique=True)
    total: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal("0"))  # the debits (= the credits)
    draft_lines: Mapped[list[dict] | None] = mapped_column(JSONB)
    fiscal_year: Mapped[int | None] = mapped_column(Integer)
    sequence_number: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[str | None] = mapped_column(String(30), unique=True)  # SAL-2026-000001
    chain_seq: Mapped[int | None] = mapped_column(BigInteger, unique=True)  # position in the hash chain
    hash: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str | None] = mapped_column(String(300))
    posted_by: Mapped[str | None] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    posted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class JournalLine(Base):
    """One debit or credit of a posted entry (exactly one of them above zero); never changed or deleted."""

    __tablename__ = "journal_lines"
    __table_args__ = (
        CheckConstraint("debit >= 0 and credit >= 0 and (debit > 0) <> (credit > 0)", name="one_side"),
        UniqueConstraint("entry_id", "position", name="uq_journal_lines_position"),
        # trial balance, P&L, balance sheet and the general ledger read this index alone (index-only scans)
        Index("ix_journal_lines_account_date", "account_id", "entry_date", "id",
              postgresql_include=["debit", "credit"]),
        # aging and statements: one party's lines on one account
        Index("ix_journal_lines_party_account", "party_id", "account_id", "entry_date",
              postgresql_where=text("party_id is not null")),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    entry_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("journal_entries.id"))  # see uq position
    position: Mapped[int] = mapped_column(SmallInteger)
    account_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("ledger_accounts.id"))
    debit: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal("0"))
    credit: Mapped[Decimal] = mapped_column(AMOUNT, default=Decimal("0"))
    party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    description: Mapped[str | None] = mapped_column(String(300))
    due_date: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str | None] = mapped_column(String(3))
    entry_date: Mapped[date] = mapped_column(Date)  # the entry's, copied so reports need no join
    journal_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("ledger_journals.id"))


class JournalSequence(Base):
    """The last number given in a journal for a fiscal year; its row lock makes the numbering gapless."""

    __tablename__ = "ledger_journal_sequences"

    journal_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("ledger_journals.id"), primary_key=True)
    fiscal_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class LedgerChain(Base):
    """The head of the hash chain over posted entries (one row); locking it serializes the sealing of entries."""

    __tablename__ = "ledger_chain"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64))


class LedgerSettings(Base):
    """The company's ledger settings (one row): currency and the lock date of closed periods."""

    __tablename__ = "ledger_settings"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    lock_date: Mapped[date | None] = mapped_column(Date)  # postings dated on or before it are refused
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_by: Mapped[str | None] = mapped_column(String(300))
    # drawn from a sequence by triggers whenever accounts, role mapping or journals change (migration 0023): the
    # postings' check that the chart a process keeps in memory is still the current one
    chart_version: Mapped[int] = mapped_column(BigInteger, server_default=text("nextval('ledger_chart_version_seq')"))
