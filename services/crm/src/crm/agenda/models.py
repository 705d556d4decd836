"""The agenda's tables: an event is one row (a recurring series is its master, never expanded rows), its
overrides of single occurrences, attendees, reminders, the ledger of fired reminders and the per-user feed tokens
(in-app notifications live in crm.notifications)."""

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
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
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base

TRANSPARENCIES = ("busy", "free")
VISIBILITIES = ("public", "private")
PARTSTATS = ("needs-action", "accepted", "declined", "tentative")


def _id() -> str:
    return str(uuid.uuid4())


class AgendaEvent(Base):
    """An appointment, or the master of a recurring series (rrule, rdates, exdates in the event's zone).
    starts_at/ends_at are the first occurrence in UTC; `tz` keeps the wall clock across DST; series_ends_at is
    the end of the last occurrence when the series is finite (null: open-ended), so a window query reads only
    the series that can reach it."""

    __tablename__ = "agenda_events"
    __table_args__ = (
        CheckConstraint("ends_at >= starts_at", name="ends_after_start"),
        CheckConstraint("transparency in ('busy', 'free')", name="transparency"),
        CheckConstraint("visibility in ('public', 'private')", name="visibility"),
        CheckConstraint("color is null or color ~ '^#[0-9a-fA-F]{6}$'", name="color"),
        Index("ix_agenda_events_window", "starts_at", "series_ends_at"),
        Index("ix_agenda_events_owner", "owner_id", "starts_at"),
        Index("ix_agenda_events_party", "party_id", postgresql_where=text("party_id is not null")),
        UniqueConstraint("owner_id", "uid", name="uq_agenda_events_owner_uid"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_id)
    uid: Mapped[str] = mapped_column(String(300))  # RFC 5545 UID: one per owner (an import is keyed by it)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    all_day: Mapped[bool] = mapped_column(Boolean, default=False)
    tz: Mapped[str] = mapped_column(String(64))
    rrule: Mapped[str | None] = mapped_column(Text)
    rdates: Mapped[list[datetime]] = mapped_column(ARRAY(DateTime(timezone=True)), default=list)
    exdates: Mapped[list[datetime]] = mapped_column(ARRAY(DateTime(timezone=True)), default=list)
    series_ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    category: Mapped[str | None] = mapped_column(String(60))
    color: Mapped[str | None] = mapped_column(String(7))
    transparency: Mapped[str] = mapped_column(String(4), default="busy")
    visibility: Mapped[str] = mapped_column(String(7), default="public")
    owner_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"))
    party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("parties.id"))
    deal_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    lead_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    task_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    ticket_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    split_from_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    ics_extra: Mapped[str | None] = mapped_column(Text)  # properties of an imported VEVENT the CRM does not map
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AgendaOverride(Base):
    """One occurrence of a series changed or cancelled, keyed by its original start (RECURRENCE-ID, UTC)."""

    __tablename__ = "agenda_overrides"
    __table_args__ = (
        UniqueConstraint("event_id", "recurrence_id", name="uq_agenda_overrides_occurrence"),
        CheckConstraint("ends_at is null or starts_at is null or ends_at >= starts_at", name="ends_after_start"),
        Index("ix_agenda_overrides_moved", "starts_at", postgresql_where=text("starts_at is not null")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_id)
    event_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("agenda_events.id", ondelete="CASCADE"))
    recurrence_id: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)
    title: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    ics_extra: Mapped[str | None] = mapped_column(Text)
    starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AgendaAttendee(Base):
    """A CRM user or a party contact invited to an event, with their participation status."""

    __tablename__ = "agenda_attendees"
    __table_args__ = (
        CheckConstraint("num_nonnulls(user_id, party_id) = 1", name="who"),
        CheckConstraint("status in ('needs-action', 'accepted', 'declined', 'tentative')", name="status"),
        Index("ix_agenda_attendees_event", "event_id"),
        Index("ix_agenda_attendees_user", "user_id", postgresql_where=text("user_id is not null")),
        Index("ix_agenda_attendees_party", "party_id", postgresql_where=text("party_id is not null")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_id)
    event_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("agenda_events.id", ondelete="CASCADE"))
    user_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"))
    party_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("parties.id"))
    status: Mapped[str] = mapped_column(String(12), default="needs-action")


class AgendaReminder(Base):
    """An alarm: `minutes_before` each occurrence, for one user (the owner or a user attendee)."""

    __tablename__ = "agenda_reminders"
    __table_args__ = (
        CheckConstraint("minutes_before >= 0 and minutes_before <= 40320", name="minutes_before"),
        Index("ix_agenda_reminders_event", "event_id"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_id)
    event_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("agenda_events.id", ondelete="CASCADE"))
    user_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"))
    minutes_before: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FiredReminder(Base):
    """The ledger: one row per (event, occurrence, alarm) that fired, written in the transaction that queued the
    mail and the notification, so a reminder fires exactly once whatever the workers do."""

    __tablename__ = "agenda_fired_reminders"

    event_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    occurrence: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    reminder_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fired_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # older than the look-back when the worker first saw it: recorded, neither mailed nor notified
    missed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class FeedToken(Base):
    """A user's secret calendar feed: only the SHA-256 of the token is kept; revoking deletes the row."""

    __tablename__ = "agenda_feed_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FeedHit(Base):
    """A request to the public feed, per client address: the rate limit counts them (whatever the token)."""

    __tablename__ = "agenda_feed_hits"
    __table_args__ = (Index("ix_agenda_feed_hits_address", "address", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CalDavLink(Base):
    """An external CalDAV calendar a user syncs their agenda with, both ways. The password is stored encrypted
    (servicekit.secretbox, CRM_CREDENTIALS_KEY) and never shown again."""

    __tablename__ = "agenda_caldav_links"
    __table_args__ = (
        UniqueConstraint("user_id", "url", name="uq_agenda_caldav_links_user_url"),
        CheckConstraint("status in ('active', 'failing')", name="status"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_id)
    user_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"))
    url: Mapped[str] = mapped_column(String(1000))
    username: Mapped[str] = mapped_column(String(200), default="")
    secret: Mapped[str] = mapped_column(Text, default="")  # the encrypted password
    sync_token: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(10), default="active")
    last_synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CalDavItem(Base):
    """One calendar object on the remote side and the event it mirrors: its ETag when last seen or written, and the
    event's version then (a different version now means the CRM side changed since)."""

    __tablename__ = "agenda_caldav_items"
    __table_args__ = (
        Index("ix_agenda_caldav_items_event", "event_id"),
        UniqueConstraint("link_id", "uid", name="uq_agenda_caldav_items_uid"),
    )

    link_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("agenda_caldav_links.id",
                                                                        ondelete="CASCADE"), primary_key=True)
    href: Mapped[str] = mapped_column(String(1000), primary_key=True)
    uid: Mapped[str] = mapped_column(String(300))
    etag: Mapped[str | None] = mapped_column(String(300))
    event_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("agenda_events.id",
                                                                                 ondelete="SET NULL"))
    synced_version: Mapped[int] = mapped_column(Integer, default=0)


class HeldMeeting(Base):
    """An occurrence that was held and logged as an activity (once)."""

    __tablename__ = "agenda_held_meetings"

    event_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("agenda_events.id", ondelete="CASCADE"),
                                          primary_key=True)
    occurrence: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    activity_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DayNote(Base):
    """A user's note for one day of their agenda (a colour to spot it in the month view)."""

    __tablename__ = "agenda_day_notes"
    __table_args__ = (CheckConstraint("color is null or color ~ '^#[0-9a-fA-F]{6}$'", name="color"),)

    user_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    color: Mapped[str | None] = mapped_column(String(7))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
