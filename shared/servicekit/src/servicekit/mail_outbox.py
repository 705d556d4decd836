"""Mail that leaves only after the transaction that wrote it commits, exactly once per row.

A use case adds the whole message (MIME bytes, a stable Message-ID) to `mail_outbox` in its own transaction, so a
rolled-back change sends nothing. The worker's MailSender claims one due row at a time with FOR UPDATE SKIP LOCKED
(two workers never take the same row), hands it to the SMTP server while holding the claim, and records the
outcome in the same transaction: `sent` after the server's 250, retried later with growing delays after a
temporary refusal (4xx, server unreachable), `failed` with the server's answer after a permanent one (5xx) or too
many attempts.

The one ambiguous window: a worker killed after the server's 250 and before its commit leaves the row queued, and
the mail is sent a second time with the same Message-ID (receivers and our own inbound threading can tell). The
window is the time of one UPDATE and COMMIT (about a millisecond locally), against the seconds an SMTP exchange
takes: we accept a rare duplicate over a lost mail.
"""

import logging
import smtplib
import ssl
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8  # then the row is failed: about a day of retries with the delays below
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=6)


def mail_outbox_table(metadata: MetaData) -> Table:
    return Table(
        "mail_outbox", metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("message_id", String(300), nullable=False, unique=True),
        Column("sender", String(300), nullable=False),
        Column("recipients", JSONB, nullable=False),
        Column("message", LargeBinary, nullable=False),
        Column("ref_type", String(50)),
        Column("ref_id", String(100)),
        Column("status", String(10), nullable=False, server_default=text("'queued'")),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("last_error", Text),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("sent_at", DateTime(timezone=True)),
        CheckConstraint("status in ('queued', 'sent', 'failed')", name="status"),
        Index("ix_mail_outbox_due", "next_attempt_at", postgresql_where=text("status = 'queued'")),
        Index("ix_mail_outbox_ref", "ref_type", "ref_id"),
    )


def enqueue(session: Session, table: Table, msg: EmailMessage, ref_type: str | None = None,
            ref_id: str | None = None) -> None:
    """Queue a message in the caller's transaction; it leaves when that commits (never if it rolls back)."""
    recipients = [addr for _, addr in getaddresses(msg.get_all("To", []) + msg.get_all("Cc", [])
                                                   + msg.get_all("Bcc", [])) if addr]
    sender = getaddresses([msg["From"]])[0][1]
    del msg["Bcc"]
    session.execute(table.insert().values(
        message_id=msg["Message-ID"], sender=sender, recipients=recipients,
        message=msg.as_bytes(policy=policy.SMTP), ref_type=ref_type, ref_id=str(ref_id) if ref_id else None))


def mail_status(session: Session, table: Table, ref_type: str, ref_id: str) -> dict | None:
    """The latest message about a record: status (queued, sent, failed), attempts, last error, sent_at."""
    row = session.execute(select(table.c.status, table.c.attempts, table.c.last_error, table.c.sent_at,
                                 table.c.created_at.label("queued_at"), table.c.recipients)
                          .where(table.c.ref_type == ref_type, table.c.ref_id == str(ref_id))
                          .order_by(table.c.id.desc()).limit(1)).first()
    return dict(row._mapping) if row else None


class TemporaryFailure(Exception):
    """Try again later: the server is unreachable or answered 4xx."""


class PermanentFailure(Exception):
    """Do not try again: the server answered 5xx for every recipient."""


@dataclass(frozen=True)
class SmtpTransport:
    host: str
    port: int
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0

    def send(self, sender: str, recipients: list[str], message: bytes) -> str | None:
        """Hand the message over; the recipients the server refused (some but not all), or None."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password)
                refused = smtp.sendmail(sender, recipients, message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {code for code, _ in exc.recipients.values()}
            answer = "; ".join(f"{r}: {c} {m.decode(errors='replace')}" for r, (c, m) in exc.recipients.items())
            raise (PermanentFailure if all(c >= 500 for c in codes) else TemporaryFailure)(answer) from exc
        except smtplib.SMTPResponseException as exc:
            said = exc.smtp_error
            answer = f"{exc.smtp_code} {said.decode(errors='replace') if isinstance(said, bytes) else said}"
            raise (PermanentFailure if exc.smtp_code >= 500 else TemporaryFailure)(answer) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc
        if refused:
            return "; ".join(f"{r}: {c} {m.decode(errors='replace')}" for r, (c, m) in refused.items())
        return None


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(0, attempts - 1), MAX_RETRY)


class MailSender:
    """The worker loop that sends queued mail, one claimed row at a time."""

    def __init__(self, engine: Engine, table: Table, transport: SmtpTransport, poll_interval: float = 1.0,
                 scope=None):
        """`scope`: an extra SQL condition on the rows this sender takes (tests send only their own)."""
        self.engine, self.table, self.transport, self.poll_interval = engine, table, transport, poll_interval
        self.scope = scope
        self._stop = threading.Event()

    def send_one(self) -> bool:
        """Send the oldest due message, if any; True when a row was handled."""
        t = self.table
        with Session(self.engine) as session, session.begin():
            due = select(t).where(t.c.status == "queued", t.c.next_attempt_at <= func.now())
            if self.scope is not None:
                due = due.where(self.scope)
            row = session.execute(due.order_by(t.c.id).limit(1).with_for_update(skip_locked=True)).first()
            if row is None:
                return False
            now, attempts = datetime.now(UTC), row.attempts + 1
            values = {"attempts": attempts}
            try:
                partial = self.transport.send(row.sender, list(row.recipients), row.message)
                values.update(status="sent", sent_at=now, last_error=partial)
            except PermanentFailure as exc:
                values.update(status="failed", last_error=str(exc)[:2000])
            except TemporaryFailure as exc:
                gave_up = attempts >= MAX_ATTEMPTS
                values.update(status="failed" if gave_up else "queued", last_error=str(exc)[:2000],
                              next_attempt_at=now + retry_delay(attempts))
            session.execute(update(t).where(t.c.id == row.id).values(**values))
            log.info("mail %s to %s: %s (attempt %d)", row.message_id, ", ".join(row.recipients), values["status"],
                     attempts)
            return True

    def send_due(self, limit: int = 1000) -> int:
        sent = 0
        while sent < limit and self.send_one():
            sent += 1
        return sent

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.send_due(50):
                    continue
            except Exception:  # noqa: BLE001 - a database outage: wait and try again, the rows are safe
                log.exception("mail sender: will retry")
            self._stop.wait(self.poll_interval)

    def stop(self) -> None:
        self._stop.set()


@dataclass(frozen=True)
class Mailer:
    """Builds a service's outgoing messages (a PDF attached) and the transport its worker sends them with; from
    the service's smtp_* settings (CRM_SMTP_*, ERP_SMTP_*)."""

    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, s) -> "Mailer":
        return cls(s.smtp_host, s.smtp_port, s.smtp_from, s.smtp_user, s.smtp_password, s.smtp_starttls,
                   s.smtp_timeout)

    def message(self, to: str, subject: str, body: str, attachment: bytes, filename: str,
                reply_to: str | None = None, cc: str | None = None) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        if cc:
            msg["Cc"] = cc
        msg["Subject"] = subject
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2].strip("> ") or None)
        if reply_to:
            msg["Reply-To"] = reply_to
        msg.set_content(body)
        msg.add_attachment(attachment, maintype="application", subtype="pdf", filename=filename)
        return msg

    def transport(self) -> SmtpTransport:
        """How the worker reaches the SMTP server (MailSender sends, after the commit)."""
        return SmtpTransport(self.host, self.port, self.user, self.password, self.starttls, self.timeout)
