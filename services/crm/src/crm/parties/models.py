"""The parties table."""

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

KINDS = ("company", "person")
ROLES = ("customer", "supplier", "prospect", "partner")


class Party(Base):
    __tablename__ = "parties"
    __mapper_args__ = {"eager_defaults": True}  # the INSERT returns created_at/updated_at: no SELECT afterwards
    __table_args__ = (
        CheckConstraint("kind in ('company', 'person')", name="kind"),
        CheckConstraint("status in ('active', 'archived', 'merged')", name="status"),
        CheckConstraint("(status = 'merged') = (merged_into_id is not null)", name="merged"),
        Index("ix_parties_display_name_lower", text("lower(display_name)")),
        Index("ix_parties_roles", "roles", postgresql_using="gin"),
        Index("ix_parties_merged_into_id", "merged_into_id", postgresql_where=text("merged_into_id is not null")),
        Index("ix_parties_import_batch_id", "import_batch_id", postgresql_where=text("import_batch_id is not null")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=lambda: str(uuid.uuid4()))
    kind: Mapped[str] = mapped_column(String(10))
    display_name: Mapped[str] = mapped_column(String(300))
    legal_name: Mapped[str | None] = mapped_column(String(300))
    first_name: Mapped[str | None] = mapped_column(String(150))
    last_name: Mapped[str | None] = mapped_column(String(150))
    company_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("parties.id"), index=True)
    job_title: Mapped[str | None] = mapped_column(String(150))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(20)), default=list)
    tax_id: Mapped[str | None] = mapped_column(String(50), index=True)
    emails: Mapped[list[dict]] = mapped_column(JSONB, default=list)
    phones: Mapped[list[dict]] = mapped_column(JSONB, default=list)
    website: Mapped[str | None] = mapped_column(String(300))
    billing_address: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))
    shipping_address: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))
    owner_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="active")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    archived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # a duplicate absorbed by another party (status 'merged'): clients and subscribers follow this id
    merged_into_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("parties.id"))
    # the import that created this party (imports can be reverted)
    import_batch_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("imports.id"))
