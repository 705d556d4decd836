"""The tables of campaigns: each address's consent and suppression, lists, segments and subscription forms."""

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

CONSENT_STATUSES = ("none", "pending", "subscribed", "unsubscribed")
SUPPRESSION_REASONS = ("unsubscribed", "hard_bounce", "complaint", "manual")


def _new_id() -> str:
    return str(uuid.uuid4())


class EmailAddress(Base):
    """One address as campaigns see it: its marketing consent and whether it is suppressed (never mailed).

    The aggregate of crm.consent.v1 (key = its id; the address is in the data); `version` is its event sequence."""

    __tablename__ = "email_addresses"
    __table_args__ = (
        CheckConstraint("consent in ('none', 'pending', 'subscribed', 'unsubscribed')", name="consent"),
        CheckConstraint("suppressed_reason is null or suppressed_reason in "
                        "('unsubscribed', 'hard_bounce', 'complaint', 'manual')", name="suppressed_reason"),
        Index("ix_email_addresses_suppressed", "email", postgresql_where=text("suppressed_reason is not null")),
    )

    email: Mapped[str] = mapped_column(String(254), primary_key=True)
    id: Mapped[str] = mapped_column(UUID(as_uuid=False), unique=True, default=_new_id)  # the events' key
    consent: Mapped[str] = mapped_column(String(15), default="none")
    consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    consent_method: Mapped[str | None] = mapped_column(String(30))  # form, import, api, unsubscribe...
    consent_source: Mapped[str | None] = mapped_column(String(200))  # which form, list or import
    consent_ip: Mapped[str | None] = mapped_column(String(64))
    suppressed_reason: Mapped[str | None] = mapped_column(String(20))
    suppressed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suppressed_note: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ConsentChange(Base):
    """The history of an address's consent and suppression: one row per change, never updated."""

    __tablename__ = "consent_changes"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), ForeignKey("email_addresses.email"), index=True)
    change: Mapped[str] = mapped_column(String(30))  # subscribed, unsubscribed, pending, suppressed, unsuppressed
    method: Mapped[str | None] = mapped_column(String(30))
    source: Mapped[str | None] = mapped_column(String(200))
    ip: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(300))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MailingList(Base):
    """A static list of addresses (imported, subscribed through a form or added by hand)."""

    __tablename__ = "mailing_lists"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    description: Mapped[str | None] = mapped_column(String(1000))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ListMember(Base):
    __tablename__ = "mailing_list_members"

    list_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("mailing_lists.id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(254), ForeignKey("email_addresses.email"), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str | None] = mapped_column(String(200))
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # left this list only (a list-scoped unsubscribe): the list's campaigns skip it; other sends do not
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribe_method: Mapped[str | None] = mapped_column(String(30))


class Segment(Base):
    """A saved filter over parties or leads, evaluated in SQL each time it is used (never a stored list)."""

    __tablename__ = "segments"
    __table_args__ = (CheckConstraint("subject in ('parties', 'leads')", name="subject"),)

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    subject: Mapped[str] = mapped_column(String(10), default="parties")
    filter: Mapped[dict] = mapped_column(JSONB, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SubscriptionForm(Base):
    """A public double opt-in form: a visitor leaves an address, confirms by POST from the mail's page, and is
    subscribed to the form's list."""

    __tablename__ = "subscription_forms"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    form_key: Mapped[str] = mapped_column(String(64), unique=True)
    list_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("mailing_lists.id"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class PendingSubscription(Base):
    """An address waiting for its owner's confirmation; the mailed token is stored only as its hash."""

    __tablename__ = "pending_subscriptions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    form_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("subscription_forms.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    ip: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SubscriptionHit(Base):
    """Requests to the public subscription endpoint, counted per form and client address (rate limit)."""

    __tablename__ = "subscription_hits"
    __table_args__ = (Index("ix_subscription_hits_form_address_at", "form_id", "address", "at"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    form_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Newsletter(Base):
    """A recurring campaign: a template, an audience and a schedule (an RRULE in a time zone). The worker turns
    each occurrence into one campaign (an issue), exactly once: (newsletter_id, issue_at) is unique."""

    __tablename__ = "newsletters"
    __table_args__ = (
        CheckConstraint("status in ('active', 'paused', 'ended')", name="status"),
        CheckConstraint("(segment_id is null) <> (list_id is null)", name="one_audience"),
        Index("ix_newsletters_due", "next_issue_at", postgresql_where=text("status = 'active'")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    subject: Mapped[str] = mapped_column(String(500))
    html_body: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str | None] = mapped_column(Text)
    from_name: Mapped[str | None] = mapped_column(String(150))
    reply_to: Mapped[str | None] = mapped_column(String(254))
    segment_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("segments.id"))
    list_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("mailing_lists.id"))
    require_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    tracking: Mapped[bool] = mapped_column(Boolean, default=True)
    rate_per_second: Mapped[int | None] = mapped_column(Integer)
    rrule: Mapped[str] = mapped_column(String(500))
    timezone: Mapped[str] = mapped_column(String(64))
    first_issue_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    next_issue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # None: the rule has ended
    status: Mapped[str] = mapped_column(String(10), default="active")
    owner_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


CAMPAIGN_STATUSES = ("draft", "scheduled", "sending", "paused", "cancelled", "sent")
RECIPIENT_STATUSES = ("queued", "sent", "failed", "skipped")


class Campaign(Base):
    """A mailing to a segment or a list: its templates, its audience, its sending state and its throttle."""

    __tablename__ = "campaigns"
    __table_args__ = (
        CheckConstraint("status in ('draft', 'scheduled', 'sending', 'paused', 'cancelled', 'sent')",
                        name="status"),
        CheckConstraint("(segment_id is null) <> (list_id is null)", name="one_audience"),
        Index("ix_campaigns_due", "scheduled_at", postgresql_where=text("status = 'scheduled'")),
        UniqueConstraint("newsletter_id", "issue_at", name="uq_campaigns_newsletter_issue"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    subject: Mapped[str] = mapped_column(String(500))
    html_body: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str | None] = mapped_column(Text)  # None: generated from the HTML
    from_name: Mapped[str | None] = mapped_column(String(150))
    reply_to: Mapped[str | None] = mapped_column(String(254))
    segment_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("segments.id"))
    list_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("mailing_lists.id"))
    require_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    tracking: Mapped[bool] = mapped_column(Boolean, default=True)
    rate_per_second: Mapped[int | None] = mapped_column(Integer)  # None: the worker's global rate only
    status: Mapped[str] = mapped_column(String(10), default="draft")
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    owner_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"))
    newsletter_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("newsletters.id"))
    issue_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # the occurrence it was issued for
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CampaignAttachment(Base):
    __tablename__ = "campaign_attachments"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    campaign_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("campaigns.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CampaignRecipient(Base):
    """The send ledger: one row per address per campaign (unique), claimed FOR UPDATE SKIP LOCKED by the worker
    and marked sent in the transaction that holds the claim (see campaigns.sender for the exact protocol)."""

    __tablename__ = "campaign_recipients"
    __table_args__ = (
        CheckConstraint("status in ('queued', 'sent', 'failed', 'skipped')", name="status"),
        UniqueConstraint("campaign_id", "email", name="uq_campaign_recipients_campaign_email"),
        Index("ix_campaign_recipients_due", "campaign_id", "next_attempt_at", "id",
              postgresql_where=text("status = 'queued'")),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("campaigns.id"))
    email: Mapped[str] = mapped_column(String(254))
    name: Mapped[str | None] = mapped_column(String(300))
    party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    lead_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(300))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opens: Mapped[int] = mapped_column(Integer, default=0)
    clicked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unsubscribe_scope: Mapped[str | None] = mapped_column(String(4))  # list (that list only) or all
    bounce: Mapped[str | None] = mapped_column(String(10))  # hard, soft
    bounced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    complained_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CampaignClick(Base):
    """One click on a tracked link (per-link counts; unique clicks per recipient come from clicked_at)."""

    __tablename__ = "campaign_clicks"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("campaigns.id"), index=True)
    recipient_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("campaign_recipients.id"))
    url: Mapped[str] = mapped_column(String(2000))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Bounce(Base):
    """A delivery status notification or complaint received for an address (soft ones count towards
    suppression: SOFT_BOUNCE_LIMIT within SOFT_BOUNCE_DAYS)."""

    __tablename__ = "campaign_bounces"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    recipient_id: Mapped[int | None] = mapped_column(BigInteger, ForeignKey("campaign_recipients.id"))
    kind: Mapped[str] = mapped_column(String(10))  # hard, soft, complaint
    status: Mapped[str | None] = mapped_column(String(20))  # the DSN's status code, e.g. 5.1.1
    diagnostic: Mapped[str | None] = mapped_column(String(1000))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
