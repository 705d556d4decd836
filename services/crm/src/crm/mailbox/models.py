"""The tables of the mailbox: users' mail accounts, CRM folders, messages (in and out), their links to parties,
leads, deals and tickets, the IMAP position per remote folder, and reusable templates."""

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


def _new_id() -> str:
    return str(uuid.uuid4())


class MailAccount(Base):
    """One user's mailbox at a provider: SMTP to send, IMAP to receive; passwords sealed (servicekit.secretbox)."""

    __tablename__ = "mail_accounts"
    __table_args__ = (
        CheckConstraint("smtp_security in ('none', 'starttls', 'tls')", name="smtp_security"),
        CheckConstraint("imap_security in ('none', 'starttls', 'tls')", name="imap_security"),
        UniqueConstraint("user_id", "email", name="uq_mail_accounts_user_email"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    user_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    display_name: Mapped[str | None] = mapped_column(String(150))
    smtp_host: Mapped[str] = mapped_column(String(253))
    smtp_port: Mapped[int] = mapped_column(Integer)
    smtp_security: Mapped[str] = mapped_column(String(10), default="starttls")
    smtp_username: Mapped[str] = mapped_column(String(254), default="")
    smtp_secret: Mapped[str] = mapped_column(Text, default="")
    imap_host: Mapped[str | None] = mapped_column(String(253))  # None: sending only
    imap_port: Mapped[int | None] = mapped_column(Integer)
    imap_security: Mapped[str] = mapped_column(String(10), default="tls")
    imap_username: Mapped[str] = mapped_column(String(254), default="")
    imap_secret: Mapped[str] = mapped_column(Text, default="")
    imap_folders: Mapped[list] = mapped_column(JSONB, default=lambda: ["INBOX"])  # the remote folders fetched
    last_fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MailFolder(Base):
    """A CRM folder of one account: Inbox and Sent (made with the account), the user's own, and one per remote
    IMAP folder fetched besides the inbox."""

    __tablename__ = "mail_folders"
    __table_args__ = (
        CheckConstraint("role in ('inbox', 'sent', 'user')", name="role"),
        UniqueConstraint("account_id", "name", name="uq_mail_folders_account_name"),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    account_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("mail_accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(10), default="user")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ImapPosition(Base):
    """How far the fetch got in one remote folder: its UIDVALIDITY and the last UID stored. Written in the same
    transaction as the message of that UID, so a restart neither fetches a message twice nor skips one."""

    __tablename__ = "mail_imap_positions"

    account_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("mail_accounts.id"), primary_key=True)
    remote_folder: Mapped[str] = mapped_column(String(200), primary_key=True)
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    last_uid: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class MailMessage(Base):
    """One mail in a CRM folder: received (fetched by IMAP) or sent (queued here, sent by the worker through the
    account's SMTP server)."""

    __tablename__ = "mail_messages"
    __table_args__ = (
        CheckConstraint("direction in ('in', 'out')", name="direction"),
        CheckConstraint("status in ('received', 'queued', 'sent', 'failed')", name="status"),
        UniqueConstraint("account_id", "remote_folder", "remote_uidvalidity", "remote_uid",
                         name="uq_mail_messages_remote"),
        Index("ix_mail_messages_folder", "folder_id", "date"),
        Index("ix_mail_messages_thread", "thread_id", "date"),
        Index("ix_mail_messages_header_id", "account_id", "header_message_id"),
        Index("ix_mail_messages_subject", "account_id", "normalized_subject"),
        Index("ix_mail_messages_due", "next_attempt_at", postgresql_where=text("status = 'queued'")),
    )

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    account_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("mail_accounts.id"))
    folder_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("mail_folders.id"))
    direction: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10))
    thread_id: Mapped[str] = mapped_column(UUID(as_uuid=False))
    header_message_id: Mapped[str | None] = mapped_column(String(500))
    in_reply_to: Mapped[str | None] = mapped_column(String(500))
    references: Mapped[list] = mapped_column(JSONB, default=list)
    subject: Mapped[str] = mapped_column(String(1000), default="")
    normalized_subject: Mapped[str] = mapped_column(String(1000), default="")
    from_address: Mapped[str | None] = mapped_column(String(254))
    from_name: Mapped[str | None] = mapped_column(String(300))
    to: Mapped[list] = mapped_column(JSONB, default=list)  # [{"name", "address"}]
    cc: Mapped[list] = mapped_column(JSONB, default=list)
    date: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    text_body: Mapped[str] = mapped_column(Text, default="")
    has_html: Mapped[bool] = mapped_column(Boolean, default=False)
    attachments: Mapped[list] = mapped_column(JSONB, default=list)  # [{"filename", "content_type", "size"}]
    auto_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    is_read: Mapped[bool] = mapped_column(Boolean, default=False)
    raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # the MIME message (None: over the size kept)
    remote_folder: Mapped[str | None] = mapped_column(String(200))
    remote_uidvalidity: Mapped[int | None] = mapped_column(BigInteger)
    remote_uid: Mapped[int | None] = mapped_column(BigInteger)
    # the CRM's read flag changed and the server's \Seen is still to follow (pushed by the worker's next fetch)
    flag_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    template_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


LINK_KINDS = ("party", "lead", "deal", "ticket")


class MailLink(Base):
    """A record a mail concerns (found by address, by the thread it belongs to, or a ticket number in its subject,
    or named when it was sent)."""

    __tablename__ = "mail_links"
    __table_args__ = (
        CheckConstraint("kind in ('party', 'lead', 'deal', 'ticket')", name="kind"),
        Index("ix_mail_links_record", "kind", "record_id"),
    )

    message_id: Mapped[str] = mapped_column(UUID(as_uuid=False), ForeignKey("mail_messages.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    record_id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True)
    found_by: Mapped[str] = mapped_column(String(20))  # address, thread, subject, sender


class MailTemplate(Base):
    """A reusable mail: sandboxed Jinja2 subject and body with merge fields; a marketing one obeys suppression."""

    __tablename__ = "mail_templates"

    id: Mapped[str] = mapped_column(UUID(as_uuid=False), primary_key=True, default=_new_id)
    name: Mapped[str] = mapped_column(String(150), unique=True)
    subject: Mapped[str] = mapped_column(String(500))
    html_body: Mapped[str] = mapped_column(Text)
    text_body: Mapped[str | None] = mapped_column(Text)
    marketing: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_id: Mapped[str | None] = mapped_column(UUID(as_uuid=False), ForeignKey("users.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
