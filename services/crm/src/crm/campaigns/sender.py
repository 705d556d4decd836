"""The worker loop that sends campaigns: exactly one message per recipient per campaign, even when the worker is
killed at any moment or several workers run.

The protocol, per recipient (one row of the campaign_recipients ledger):

1. In a transaction, claim one due row of a campaign that is `sending` with FOR UPDATE SKIP LOCKED (another
   worker skips it while this one holds it; a paused or cancelled campaign has no claimable rows).
2. Talk SMTP up to the end of the message body: MAIL FROM (the VERP return path), RCPT TO, DATA, the body, but
   NOT the final "." line. A server that refuses here (4xx/5xx) is recorded and the row retried or failed.
3. Write the row's new state (sent) into the open transaction, without committing.
4. Write the final "." to the SMTP socket, corked (the kernel holds it: the server is not woken), then COMMIT on
   the database connection, then release the cork: two writes to two sockets, a few microseconds apart,
   with nothing waited for and nobody woken in between.
5. Read the server's answer. 250: done. A refusal (rare at this point: content filters) is recorded in a second
   transaction (4xx: retried later; 5xx: failed).

Bytes written to a socket reach the peer even if the process is killed right after (the kernel sends them before
closing), and PostgreSQL executes a COMMIT it has received even if the client is gone. So a worker killed before
step 4 leaves the row queued (its transaction rolls back) and the server discards the unterminated message: the
next claim sends it once. A worker killed after step 4 has handed both the "." and the COMMIT over: the server
delivers, the row is sent, nothing is sent again.

The remaining ambiguous window is between the two writes of step 4 (a kill there: the server has the ".", the
database not the COMMIT: the message goes out twice, with the same Message-ID). It is measured by the
`campaign_ambiguous_window_seconds` histogram (microseconds; docs/campaigns.md has the figures). Also ambiguous:
a network cut after step 4 before the answer (the row stays sent; a 4xx refusal then is not retried) and a worker
killed between a post-"." refusal and its record (the row stays sent).
"""

import logging
import re
import smtplib
import socket
import ssl
import struct
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.utils import formataddr, parseaddr

import dkim
from prometheus_client import Counter, Histogram
from sqlalchemy import and_, exists, func, literal, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, aliased

from ..db import auth
from ..leads.models import Lead
from ..parties.models import Party
from ..timeline.entries import add_entry, remove_entries
from . import audiences, content, links, newsletters
from .consent import mailable
from .models import Campaign, CampaignAttachment, CampaignRecipient, Segment
from .schemas import SegmentFilterSchema

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=6)

SENT = Counter("campaign_messages_total", "Campaign messages by outcome", ["outcome"])
WINDOW = Histogram("campaign_ambiguous_window_seconds", "Time from the final '.' written to the ledger's COMMIT",
                   buckets=(1e-6, 2e-6, 5e-6, 1e-5, 2e-5, 5e-5, 1e-4, 1e-3, 1e-2))


class Refused(Exception):
    def __init__(self, code: int, answer: str):
        super().__init__(f"{code} {answer}")
        self.code = code

    @property
    def permanent(self) -> bool:
        return self.code >= 500


def retry_delay(attempts: int) -> timedelta:
    return min(FIRST_RETRY * 2 ** max(0, attempts - 1), MAX_RETRY)


_CORK = getattr(socket, "TCP_CORK", 3)  # Linux
_EOL = re.compile(rb"\r\n|\n|\r(?!\n)")
_DOT = re.compile(rb"(?m)^\.")


@dataclass
class SmtpSession:
    """One SMTP connection kept open across messages, able to stop before the final '.' of a message."""

    host: str
    port: int
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0
    smtp: smtplib.SMTP | None = None
    dot_written: float = 0.0

    def _open(self) -> smtplib.SMTP:
        if self.smtp is None:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            # the final "." is a small write of its own: without this, Nagle holds it for the server's delayed ACK
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if self.user:
                smtp.login(self.user, self.password)
            self.smtp = smtp
        return self.smtp

    def close(self) -> None:
        if self.smtp is not None:
            try:
                self.smtp.close()
            finally:
                self.smtp = None

    def _check(self, code: int, answer: bytes, ok: tuple[int, ...]) -> None:
        if code not in ok:
            if code >= 400:
                try:
                    self.smtp.rset()
                except (OSError, smtplib.SMTPException):
                    self.close()
            raise Refused(code, answer.decode(errors="replace"))

    def begin(self, sender: str, recipient: str, message: bytes) -> None:
        """Everything up to the final '.': MAIL, RCPT, DATA and the body (Refused on a 4xx/5xx answer). A kept-open
        connection the server closed meanwhile is opened again once, without counting an attempt."""
        if self.smtp is not None:
            try:
                self._begin(sender, recipient, message)
                return
            except Refused as refused:
                if self.smtp is not None or refused.code != 451:
                    raise
        self._begin(sender, recipient, message)

    def _begin(self, sender: str, recipient: str, message: bytes) -> None:
        try:
            smtp = self._open()
            self._check(*smtp.mail(sender), ok=(250,))
            self._check(*smtp.rcpt(recipient), ok=(250, 251))
            smtp.putcmd("data")
            self._check(*smtp.getreply(), ok=(354,))
            body = _DOT.sub(b"..", _EOL.sub(b"\r\n", message))
            smtp.send(body if body.endswith(b"\r\n") else body + b"\r\n")
        except Refused:
            raise
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise Refused(451, f"{type(exc).__name__}: {exc}") from exc

    def end_data(self) -> None:
        """Write the final '.' corked: the kernel holds it (the server is not woken, so this process is not
        preempted for it) until `release()`, or sends it when the process dies (a socket is flushed on close)."""
        try:
            self.smtp.sock.setsockopt(socket.IPPROTO_TCP, _CORK, 1)
            self.smtp.sock.sendall(b".\r\n")
            self.dot_written = time.perf_counter()
        except OSError as exc:
            self.close()
            raise Refused(451, f"the end of data could not be written: {exc}") from exc

    def release(self) -> None:
        """Let the corked '.' go (the ledger's COMMIT is written)."""
        try:
            self.smtp.sock.setsockopt(socket.IPPROTO_TCP, _CORK, 0)
        except OSError:
            pass  # the answer will not come: answer() says so

    def discard(self) -> None:
        """Drop the corked '.' unsent (the COMMIT failed): reset the connection, the server discards the message."""
        try:
            self.smtp.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    def answer(self) -> None:
        """The server's answer to the end of data (Refused unless 250)."""
        try:
            code, answer = self.smtp.getreply()
        except (OSError, smtplib.SMTPException) as exc:
            self.close()
            raise Refused(451, f"no answer to the end of data: {exc}") from exc
        if code != 250:
            raise Refused(code, answer.decode(errors="replace"))


@dataclass
class Throttle:
    """Messages per second, overall and per recipient domain, for one worker."""

    rate: float
    domain_rate: float
    _next: float = 0.0
    _domains: dict = field(default_factory=lambda: defaultdict(deque))

    def domain_wait(self, domain: str, now: float) -> float:
        """Seconds until the domain may get another message (0: now)."""
        sent = self._domains[domain]
        while sent and sent[0] <= now - 1.0:
            sent.popleft()
        return 0.0 if len(sent) < self.domain_rate else sent[0] + 1.0 - now

    def pace(self, domain: str, campaign_rate: float | None) -> None:
        """Wait for the next slot of the global (and the campaign's) rate, and count the message."""
        interval = 1.0 / min(self.rate, campaign_rate or self.rate)
        now = time.monotonic()
        if self._next > now:
            time.sleep(self._next - now)
            now = self._next
        self._next = now + interval
        self._domains[domain].append(now)


@dataclass(frozen=True)
class SenderConfig:
    secret: str
    public_url: str
    sender: str
    bounce_domain: str
    rate: float = 100.0
    domain_rate: float = 20.0
    dkim: tuple | None = None  # (selector, domain, private key bytes)

    @classmethod
    def from_settings(cls, s) -> "SenderConfig":
        dkim = None
        if s.dkim_domain and s.dkim_selector and s.dkim_key_file:
            with open(s.dkim_key_file, "rb") as f:
                dkim = (s.dkim_selector, s.dkim_domain, f.read())
        return cls(s.campaign_secret, s.crm_public_url, s.campaign_from, s.bounce_domain, s.campaign_rate,
                   s.campaign_domain_rate, dkim)


DKIM_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id", b"list-id", b"list-unsubscribe",
                b"list-unsubscribe-post", b"mime-version", b"content-type"]


def dkim_sign(message: bytes, dkim_config: tuple) -> bytes:
    """The message with a DKIM-Signature whose signed set includes both List-Unsubscribe headers (RFC 8058)."""
    selector, domain, key = dkim_config
    signature = dkim.sign(message, selector.encode(), domain.encode(), key, include_headers=DKIM_HEADERS)
    return signature + message


class CampaignSender:
    """Starts due campaigns (their audience copied into the ledger in SQL) and sends their recipients."""

    def __init__(self, engine: Engine, config: SenderConfig, smtp: SmtpSession, poll_interval: float = 1.0,
                 campaign_ids: list[str] | None = None):
        """`campaign_ids`: only these campaigns (tests and benchmarks send only their own)."""
        self.engine, self.config, self.smtp, self.poll_interval = engine, config, smtp, poll_interval
        self.campaign_ids = campaign_ids
        self.throttle = Throttle(config.rate, config.domain_rate)
        self._claim_stmt = self._claim_statement()
        self._content: dict = {}
        self._stop = threading.Event()

    def _mine(self, column):
        return column.in_(self.campaign_ids) if self.campaign_ids is not None else literal(True)

    # -- starting --------------------------------------------------------------------------------------------

    def start_due(self) -> int:
        """Scheduled campaigns whose time has come: their audience, as it is now, becomes the ledger."""
        started = 0
        if self.campaign_ids is None:  # the worker: newsletters' occurrences that have come become campaigns
            with Session(self.engine) as session, session.begin():
                newsletters.issue_due(session)
        with Session(self.engine) as session, session.begin():
            due = session.execute(select(Campaign).where(Campaign.status == "scheduled",
                                                         Campaign.scheduled_at <= func.now(),
                                                         self._mine(Campaign.id))
                                  .with_for_update(skip_locked=True)).scalars().all()
            for campaign in due:
                materialize(session, campaign)
                campaign.status, campaign.started_at = "sending", datetime.now(UTC)
                campaign.version += 1
                started += 1
        return started

    def finish_done(self) -> int:
        """Sending campaigns with nothing left to send (or retry) are sent."""
        r = CampaignRecipient
        with self.engine.begin() as conn:
            result = conn.execute(update(Campaign).where(
                Campaign.status == "sending", self._mine(Campaign.id),
                ~exists().where(r.campaign_id == Campaign.id, r.status == "queued"))
                .values(status="sent", finished_at=func.now(), version=Campaign.version + 1))
            return result.rowcount

    # -- sending ---------------------------------------------------------------------------------------------

    def _campaign(self, session: Session, campaign_id: str) -> dict:
        """The campaign's content, read once per version (it cannot change while sending)."""
        c = session.get(Campaign, campaign_id)
        key = (c.id, c.version)
        if key not in self._content:
            attachments = session.execute(select(CampaignAttachment).where(CampaignAttachment.campaign_id == c.id)
                                          .order_by(CampaignAttachment.created_at)).scalars().all()
            audience_id = c.list_id or c.segment_id
            self._content = {key: {
                "name": c.name, "subject": c.subject, "html": c.html_body, "text": c.text_body,
                "tracking": c.tracking, "scope": "list" if c.list_id else "all", "rate": c.rate_per_second,
                "reply_to": c.reply_to,
                "from": formataddr((content.one_line(c.from_name), parseaddr(self.config.sender)[1])) if c.from_name
                else self.config.sender,
                "list_id": f"{c.name.replace('<', '').replace('>', '')} <{audience_id}.{self.config.bounce_domain}>",
                "attachments": [_Attachment(a.filename, a.content_type, a.content) for a in attachments]}}
        return self._content[key]

    def _claim_statement(self):
        """Built once: the claim of the next due row with the merge fields of its person, company and owner."""
        r = CampaignRecipient
        person, company = aliased(Party), aliased(Party)
        users = auth.users
        owner_id = func.coalesce(person.owner_id, Lead.owner_id)
        return (select(r, person.first_name, person.last_name, company.display_name.label("company"),
                       Lead.company_name, users.c.name.label("owner_name"), users.c.email.label("owner_email"),
                       mailable(r.email).label("mailable"))
                .join(Campaign, and_(Campaign.id == r.campaign_id, Campaign.status == "sending"))
                .outerjoin(person, person.id == r.party_id)
                .outerjoin(company, company.id == person.company_id)
                .outerjoin(Lead, Lead.id == r.lead_id)
                .outerjoin(users, users.c.id == owner_id)
                .where(r.status == "queued", r.next_attempt_at <= func.now(), self._mine(r.campaign_id))
                .order_by(r.next_attempt_at, r.id).limit(1)
                .with_for_update(of=r, skip_locked=True))

    def _claim(self, session: Session):
        return session.execute(self._claim_stmt).first()

    def send_one(self) -> bool:
        """Send the next due recipient, if any; True when a row was handled."""
        session = Session(self.engine)
        try:
            session.begin()
            row = self._claim(session)
            if row is None:
                session.rollback()
                return False
            rec = row[0]
            if not row.mailable:
                rec.status, rec.last_error = "skipped", "suppressed"
                session.commit()
                SENT.labels("skipped").inc()
                return True
            domain = rec.email.rpartition("@")[2]
            wait = self.throttle.domain_wait(domain, time.monotonic())
            if wait > 0:
                rec.next_attempt_at = datetime.now(UTC) + timedelta(seconds=wait)
                session.commit()
                return True
            c = self._campaign(session, rec.campaign_id)
            message, message_id = self._message(rec, row, c)
            self.throttle.pace(domain, c["rate"])
            verp = links.verp_address(self.config.secret, rec.id, self.config.bounce_domain)
            try:
                self.smtp.begin(verp, rec.email, message)
            except Refused as refused:
                self._refused(rec, refused)
                session.commit()
                return True
            rec.status, rec.sent_at, rec.message_id = "sent", datetime.now(UTC), message_id
            rec.attempts += 1
            if rec.party_id or rec.lead_id:
                add_entry(session, kind="campaign_sent", title=f"Campaign {c['name']} sent",
                          party_id=rec.party_id, lead_id=rec.lead_id, ref_type="campaign_recipient", ref_id=rec.id,
                          data={"campaign_id": rec.campaign_id, "email": rec.email})
            rid = rec.id
            session.flush()  # the UPDATE is in; only the COMMIT is left
            dbapi = session.connection().connection.dbapi_connection
            try:
                self.smtp.end_data()
            except Refused as refused:  # nothing reached the server: the transaction decides nothing
                session.rollback()
                with Session(self.engine) as retry, retry.begin():
                    self._refused(retry.get(CampaignRecipient, rid, with_for_update=True), refused)
                return True
            WINDOW.observe(time.perf_counter() - self.smtp.dot_written)  # psycopg2 writes COMMIT first thing
            try:
                dbapi.commit()  # straight after the corked "." (step 4): a kill between the two sends it twice
            except Exception:
                self.smtp.discard()
                raise
            self.smtp.release()
            session.commit()
            try:
                self.smtp.answer()
                SENT.labels("sent").inc()
            except Refused as refused:
                self._undo(rid, refused)
            return True
        finally:
            session.close()

    def _refused(self, rec: CampaignRecipient, refused: Refused) -> None:
        rec.attempts += 1
        rec.last_error = str(refused)[:2000]
        if refused.permanent or rec.attempts >= MAX_ATTEMPTS:
            rec.status = "failed"
            SENT.labels("failed").inc()
        else:
            rec.next_attempt_at = datetime.now(UTC) + retry_delay(rec.attempts)
            SENT.labels("deferred").inc()
        log.info("campaign %s to %s: %s", rec.campaign_id, rec.email, rec.last_error)

    def _undo(self, rid: int, refused: Refused) -> None:
        """The server refused the message after the row was marked sent: back to queued (4xx) or failed."""
        with Session(self.engine) as session, session.begin():
            rec = session.get(CampaignRecipient, rid, with_for_update=True)
            rec.status, rec.sent_at, rec.attempts = "queued", None, rec.attempts - 1  # _refused counts it again
            self._refused(rec, refused)
            remove_entries(session, ref_type="campaign_recipient", ref_id=str(rid), kind="campaign_sent")

    def _message(self, rec: CampaignRecipient, row, c: dict) -> tuple[bytes, str]:
        cfg = self.config
        unsubscribe_url = cfg.public_url + links.unsubscribe_path(cfg.secret, rec.id, c["scope"])
        first = row.first_name or (rec.name or "").split(" ")[0] or None
        context = {"recipient": {"email": rec.email, "name": rec.name or rec.email, "first_name": first or "",
                                 "last_name": row.last_name or ""},
                   "company": {"name": row.company or row.company_name or ""},
                   "owner": {"name": row.owner_name or "", "email": row.owner_email or ""},
                   "campaign": {"name": c["name"]}, "unsubscribe_url": unsubscribe_url}
        tracker = content.Tracker(cfg.secret, cfg.public_url, rec.id) if c["tracking"] else None
        rendered = content.render(c["subject"], c["html"], c["text"], context, tracker)
        message_id = f"<campaign.{rec.id}.{rec.campaign_id[:8]}@{cfg.bounce_domain}>"
        mailto = links.unsubscribe_mailto(cfg.secret, rec.id, cfg.bounce_domain, c["scope"])
        msg = content.message(sender=c["from"], to=rec.email, to_name=rec.name, rendered=rendered,
                              message_id=message_id, list_id=c["list_id"], unsubscribe_url=unsubscribe_url,
                              unsubscribe_mailto=mailto, reply_to=c["reply_to"], attachments=c["attachments"])
        data = msg.as_bytes(policy=policy.SMTP)
        return (dkim_sign(data, cfg.dkim) if cfg.dkim else data), message_id

    def send_due(self, limit: int = 1000) -> int:
        handled = 0
        while handled < limit and self.send_one():
            handled += 1
        return handled

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.start_due()
                if self.send_due(200):
                    continue
                self.finish_done()
            except Exception:  # noqa: BLE001 - a database or SMTP outage: wait and try again, the ledger is safe
                log.exception("campaign sender: will retry")
                self.smtp.close()
            self._stop.wait(self.poll_interval)
        self.smtp.close()

    def stop(self) -> None:
        self._stop.set()


@dataclass(frozen=True)
class _Attachment:
    filename: str
    content_type: str
    content: bytes


def materialize(session: Session, campaign: Campaign) -> int:
    """Copy the audience as it is now into the ledger, in SQL (never through Python); present rows stay as they
    are, so running it again adds only addresses that joined since ("send to those not yet sent")."""
    if campaign.segment_id:
        segment = session.get(Segment, campaign.segment_id)
        q = audiences.segment_query(segment.subject, SegmentFilterSchema().load(segment.filter),
                                    campaign.require_consent)
    else:
        q = audiences.list_query(campaign.list_id, campaign.require_consent)
    audience = q.order_by(None).subquery()
    stmt = insert(CampaignRecipient).from_select(
        ["campaign_id", "email", "name", "party_id", "lead_id"],
        select(literal(campaign.id), audience.c.email, audience.c.name, audience.c.party_id, audience.c.lead_id)
    ).on_conflict_do_nothing(index_elements=["campaign_id", "email"])
    return session.execute(stmt).rowcount
