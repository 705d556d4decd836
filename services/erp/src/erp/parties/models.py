"""party_replicas (written only by the CRM event handler), party_replica_changes, party_accounts (ERP-owned)."""

from datetime import datetime
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Index, Integer, Numeric, String, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

# Fields whose owner is the CRM; the ERP refuses to change them.
MASTER_FIELDS = ("kind", "display_name", "legal_name", "first_name", "last_name", "company_id", "job_title",
                 "roles", "tax_id", "emails", "phones", "website", "billing_address", "shipping_address",
                 "owner_id", "status", "merged_into_id")


class PartyReplica(Base):
    """A CRM party as last announced on crm.party.v1; `sequence` is the CRM version it reflects."""

    __tablename__ = "party_replicas"
    __table_args__ = (
        Index("ix_party_replicas_roles", "roles", postgresql_using="gin"),
        Index("ix_party_replicas_display_name_lower", text("lower(display_name)")),
    )

    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(10))
    display_name: Mapped[str] = mapped_column(String(300))
    legal_name: Mapped[str | None] = mapped_column(String(300))
    first_name: Mapped[str | None] = mapped_column(String(150))
    last_name: Mapped[str | None] = mapped_column(String(150))
    company_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    job_title: Mapped[str | None] = mapped_column(String(150))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    tax_id: Mapped[str | None] = mapped_column(String(50))
    emails: Mapped[list[dict]] = mapped_column(JSONB)
    phones: Mapped[list[dict]] = mapped_column(JSONB)
    website: Mapped[str | None] = mapped_column(String(300))
    billing_address: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))
    shipping_address: Mapped[dict | None] = mapped_column(JSONB(none_as_null=True))
    owner_id: Mapped[str | None] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(10))
    # set when the CRM merged this party into another (status 'merged'): documents follow this id
    merged_into_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    crm_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    replicated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PartyReplicaChange(Base):
    """One applied CRM event: the ERP's record of when and how a party's master data changed."""

    __tablename__ = "party_replica_changes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False), index=True)
    event_id: Mapped[str] = mapped_column(UUID(as_uuid=False), unique=True)
    event_type: Mapped[str] = mapped_column(String(100))
    sequence: Mapped[int] = mapped_column(BigInteger)
    actor: Mapped[str | None] = mapped_column(Text)
    changed_fields: Mapped[list[str]] = mapped_column(ARRAY(String(50)))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PartyAccount(Base):
    """What the ERP owns about a customer or supplier, keyed by the CRM party id."""

    __tablename__ = "party_accounts"

    party_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    payment_terms_days: Mapped[int] = mapped_column(Integer, default=30)
    credit_limit: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    customer_group: Mapped[str | None] = mapped_column(String(50), index=True)  # selects group price lists
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
