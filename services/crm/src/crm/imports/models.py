"""The imports table (one row per import batch) and import_changes (before-images of the records it updated)."""

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Identity, Index, Integer, String
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

TARGETS = ("parties", "leads")
STATUSES = ("queued", "running", "done", "failed", "reverted")
ON_DUPLICATE = ("skip", "update", "create")


class ImportBatch(Base):
    """One import of one file. Its progress (processed_rows) is committed on its own while the import runs, so
    GET /imports/{id} shows it; the records it creates carry its id (import_batch_id). A large file waits as
    "queued" (its bytes in import_files) until the worker takes it."""

    __tablename__ = "imports"
    __table_args__ = (
        CheckConstraint("status in ('queued', 'running', 'done', 'failed', 'reverted')", name="status"),
        CheckConstraint("target in ('parties', 'leads')", name="target"),
        Index("ix_imports_created_by", "created_by", "created_at"),
        Index("ix_imports_queued", "created_at", postgresql_where=sa.text("status in ('queued', 'running')")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=lambda: str(uuid.uuid4()))
    target: Mapped[str] = mapped_column(String(10))
    file_name: Mapped[str] = mapped_column(String(255))
    file_format: Mapped[str] = mapped_column(String(5))
    on_duplicate: Mapped[str] = mapped_column(String(6))
    mapping: Mapped[dict] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="running")
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    processed_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0)
    skipped_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list] = mapped_column(JSONB, default=list)  # the first ones: [{row, field, column, message}]
    failure: Mapped[str | None] = mapped_column(String(2000))
    revert_report: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))
    created_by: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # when its rows began to be written
    progress_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # the last processed_rows update
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # worker runs (a crash retries)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reverted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reverted_by: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"))


class ImportChange(Base):
    """A record an import updated, with its state before and the version the import left it at: a revert restores
    `before` only if the record is still at `version_after` (nobody changed it since)."""

    __tablename__ = "import_changes"
    __table_args__ = (Index("ix_import_changes_import", "import_id", "record_type"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    import_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("imports.id"))
    record_type: Mapped[str] = mapped_column(String(10))  # party | lead
    record_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    before: Mapped[dict] = mapped_column(JSONB)
    version_after: Mapped[int] = mapped_column(Integer)


class ImportFile(Base):
    """The file of a queued import and the options it was sent with, until the worker has imported it (the row
    goes in the import's own transaction)."""

    __tablename__ = "import_files"

    import_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("imports.id", ondelete="CASCADE"),
                                           primary_key=True)
    data: Mapped[bytes] = mapped_column(sa.LargeBinary)
    options: Mapped[dict] = mapped_column(JSONB)
    token_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))  # the token the import was sent with (audit)
