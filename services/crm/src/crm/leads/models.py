"""Leads, the website forms that capture them, and the hits that rate-limit those forms."""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

SOURCES = ("web_form", "manual", "import", "referral", "event", "partner", "advertising", "cold_call", "social",
           "other")
STATUSES = ("new", "contacted", "qualified", "disqualified", "converted")
UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


def _new_id() -> str:
    return str(uuid.uuid4())


class LeadForm(Base):
    """A website form: its public key names it in the capture URL; captured leads get its campaign and owner."""

    __tablename__ = "lead_forms"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    # an identifier printed in web pages, not a secret: stored as is so administrators can read it back
    form_key: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(20), default="web_form")
    campaign: Mapped[str | None] = mapped_column(String(150))
    owner_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"))
    allowed_origins: Mapped[list[str]] = mapped_column(ARRAY(String(300)), default=list)
    redirect_url: Mapped[str | None] = mapped_column(String(500))  # where a browser's form post lands after
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    key_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Lead(Base):
    __tablename__ = "leads"
    __table_args__ = (
        CheckConstraint(f"status in {STATUSES}", name="status"),
        CheckConstraint("score is null or score between 0 and 100", name="score"),
        Index("ix_leads_display_name_lower", text("lower(display_name)")),
        Index("ix_leads_person_company", "name_key", "company_key"),
        Index("ix_leads_import_batch_id", "import_batch_id", postgresql_where=text("import_batch_id is not null")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    display_name: Mapped[str] = mapped_column(String(300))
    first_name: Mapped[str | None] = mapped_column(String(150))
    last_name: Mapped[str | None] = mapped_column(String(150))
    company_name: Mapped[str | None] = mapped_column(String(300))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    job_title: Mapped[str | None] = mapped_column(String(150))
    message: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(20))
    campaign: Mapped[str | None] = mapped_column(String(150), index=True)
    utm_source: Mapped[str | None] = mapped_column(String(200))
    utm_medium: Mapped[str | None] = mapped_column(String(200))
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    utm_term: Mapped[str | None] = mapped_column(String(200))
    utm_content: Mapped[str | None] = mapped_column(String(200))
    score: Mapped[int | None] = mapped_column(Integer)
    owner_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(15), default="new", index=True)
    disqualify_reason: Mapped[str | None] = mapped_column(String(500))
    form_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("lead_forms.id"), index=True)
    submissions: Mapped[int] = mapped_column(Integer, default=0)
    last_submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # dedupe keys (dedupe.py), kept in step with the fields they come from
    email_key: Mapped[str | None] = mapped_column(String(254), index=True)
    phone_key: Mapped[str | None] = mapped_column(String(20), index=True)
    name_key: Mapped[str | None] = mapped_column(String(300))
    company_key: Mapped[str | None] = mapped_column(String(300), index=True)
    qualified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disqualified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    converted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    converted_party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("parties.id"))
    converted_person_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("parties.id"))
    # deals point back at their source lead, hence use_alter to break the cycle
    converted_deal_id: Mapped[str | None] = mapped_column(
        UUID(as_uuid=False), ForeignKey("deals.id", use_alter=True, name="fk_leads_converted_deal_id_deals"))
    # the import that created this lead (imports can be reverted)
    import_batch_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("imports.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LeadCaptureHit(Base):
    """One request to a form's public endpoint from one address: counted for the rate limit, kept an hour."""

    __tablename__ = "lead_capture_hits"
    __table_args__ = (Index("ix_lead_capture_hits_form_address_at", "form_id", "address", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    form_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("lead_forms.id", ondelete="CASCADE"))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
