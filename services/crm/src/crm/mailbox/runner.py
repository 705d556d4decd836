"""The worker's part of the mailbox: send queued mail through each user's SMTP server, and fetch new mail from
their IMAP folders by polling.

Sending: one queued mail at a time, claimed FOR UPDATE SKIP LOCKED and marked sent after the server's 250 in the
same transaction (the mail outbox's protocol: a worker killed between the 250 and the commit sends it again, with
the same Message-ID; temporary refusals retried with growing delays, permanent ones failed). A mail sent from an
account that also has IMAP is then put in the server's Sent folder (the folder marked \\Sent, RFC 6154, else
"Sent", created when missing) flagged \\Seen, as a desktop client does, so the user's other clients show it; a
failed copy never fails the mail, which is sent: it is said in the mail's last_error.

Fetching: an account is held by an advisory lock for the fetch, so two workers never fetch it at once. For
each remote folder the position is its UIDVALIDITY and the last UID stored; new UIDs are fetched in order, each
stored in one transaction together with the position moving to its UID (the UPDATE only moves forward), so a
worker stopped at any moment neither fetches a mail twice nor skips one. A changed UIDVALIDITY (the server
renumbered the folder) starts the folder again from UID 1; mails already held (same Message-ID) are not stored
twice. BODY.PEEK leaves the server's \\Seen flag as it was; the CRM's read flag starts from it, and marking a
fetched mail read or unread in the CRM sets or clears \\Seen on the server at the account's next fetch."""

import imaplib
import logging
import re
import smtplib
import ssl
import threading
from datetime import UTC, datetime, timedelta
from email.utils import getaddresses

from servicekit.mail_outbox import PermanentFailure, TemporaryFailure, retry_delay
from servicekit.secretbox import SecretBox
from sqlalchemy import and_, or_, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import sessionmaker

from . import threads
from .accounts import HostRefused, check_host
from .messages import store_fetched
from .models import ImapPosition, MailAccount, MailMessage
from .parsing import parse

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
BATCH = 200  # mails per folder per round
_FETCHED = re.compile(rb"UID (\d+)")


class MailboxRunner:
    def __init__(self, sessions: sessionmaker, box: SecretBox, interval: timedelta, poll_interval: float = 5.0,
                 allow_private: bool = False, account_ids: list[str] | None = None, timeout: float = 30.0):
        """`account_ids`: only these accounts (tests)."""
        self.sessions, self.box, self.interval, self.poll_interval = sessions, box, interval, poll_interval
        self.allow_private, self.account_ids, self.timeout = allow_private, account_ids, timeout
        self._stop = threading.Event()

    def _mine(self, column):
        return column.in_(self.account_ids) if self.account_ids is not None else text("true")

    # -- sending ---------------------------------------------------------------------------------------------

    def send_one(self) -> bool:
        """Send the oldest due queued mail; True when one was handled."""
        with self.sessions.begin() as session:
            m = session.execute(select(MailMessage).where(
                MailMessage.status == "queued", MailMessage.next_attempt_at <= datetime.now(UTC),
                self._mine(MailMessage.account_id)).order_by(MailMessage.next_attempt_at, MailMessage.id)
                .limit(1).with_for_update(skip_locked=True)).scalar_one_or_none()
            if m is None:
                return False
            account = session.get(MailAccount, m.account_id)
            m.attempts += 1
            now = datetime.now(UTC)
            try:
                self._smtp(account, m)
                m.status, m.sent_at, m.last_error = "sent", now, None
                m.last_error = self._sent_copy(account, m)
            except PermanentFailure as exc:
                m.status, m.last_error = "failed", str(exc)[:2000]
            except TemporaryFailure as exc:
                m.last_error = str(exc)[:2000]
                if m.attempts >= MAX_ATTEMPTS:
                    m.status = "failed"
                else:
                    m.next_attempt_at = now + retry_delay(m.attempts)
            if m.status == "failed":
                threads.not_sent(session, m)
            m.version += 1
            log.info("mailbox: mail %s from %s: %s", m.header_message_id, account.email, m.status)
            return True

    def _smtp(self, account: MailAccount, m: MailMessage) -> None:
        password = self.box.open(account.smtp_secret)
        if password is None:
            raise PermanentFailure("the SMTP password cannot be read (the credentials key changed): enter it again")
        try:
            check_host(account.smtp_host, self.allow_private)
        except HostRefused as exc:
            raise PermanentFailure(str(exc)) from None
        recipients = [a for _, a in getaddresses([x["address"] for x in [*m.to, *m.cc]]) if a]
        context = ssl.create_default_context()
        try:
            if account.smtp_security == "tls":
                smtp = smtplib.SMTP_SSL(account.smtp_host, account.smtp_port, timeout=self.timeout, context=context)
            else:
                smtp = smtplib.SMTP(account.smtp_host, account.smtp_port, timeout=self.timeout)
            with smtp:
                if account.smtp_security == "starttls":
                    smtp.starttls(context=context)
                if account.smtp_username:
                    smtp.login(account.smtp_username, password)
                smtp.sendmail(account.email, recipients, m.raw)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = {code for code, _ in exc.recipients.values()}
            answer = "; ".join(f"{r}: {c} {t.decode(errors='replace')}" for r, (c, t) in exc.recipients.items())
            raise (PermanentFailure if all(c >= 500 for c in codes) else TemporaryFailure)(answer) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise PermanentFailure(f"login refused: {exc.smtp_code}") from exc
        except smtplib.SMTPResponseException as exc:
            said = exc.smtp_error.decode(errors="replace") if isinstance(exc.smtp_error, bytes) else exc.smtp_error
            raise (PermanentFailure if exc.smtp_code >= 500 else TemporaryFailure)(f"{exc.smtp_code} {said}") \
                from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}") from exc

    def _sent_copy(self, account: MailAccount, m: MailMessage) -> str | None:
        """Append the sent mail to the account's IMAP Sent folder, \\Seen; None when done or nothing to do, else
        what went wrong (the mail itself is sent whatever happens here)."""
        if not account.imap_host or not m.raw:
            return None
        password = self.box.open(account.imap_secret)
        if password is None:
            return "sent; no copy in the IMAP Sent folder: the IMAP password cannot be read"
        try:
            imap = self._connect(account)
            try:
                imap.login(account.imap_username or account.email, password)
                folder = _quote(_sent_folder(imap))
                when = imaplib.Time2Internaldate(m.date)
                typ, data = imap.append(folder, "(\\Seen)", when, m.raw)
                if typ == "NO" and b"TRYCREATE" in b" ".join(x for x in data if isinstance(x, bytes)):
                    imap.create(folder)
                    typ, data = imap.append(folder, "(\\Seen)", when, m.raw)
                if typ != "OK":
                    raise imaplib.IMAP4.error(b" ".join(x for x in data if isinstance(x, bytes)).decode(
                        errors="replace"))
            finally:
                try:
                    imap.logout()
                except (OSError, imaplib.IMAP4.error):
                    pass
        except (OSError, imaplib.IMAP4.error, HostRefused) as exc:
            log.warning("mailbox: the copy of %s in the Sent folder failed: %s", m.header_message_id, exc)
            return f"sent; no copy in the IMAP Sent folder: {type(exc).__name__}: {exc}"[:2000]
        return None

    # -- fetching --------------------------------------------------------------------------------------------

    def due(self, now: datetime) -> list[str]:
        with self.sessions.begin() as session:
            return [str(i) for i in session.execute(select(MailAccount.id).where(
                MailAccount.imap_host.is_not(None), self._mine(MailAccount.id),
                or_(MailAccount.last_fetched_at.is_(None), MailAccount.last_fetched_at < now - self.interval))
                .order_by(MailAccount.last_fetched_at.nulls_first()).limit(50)).scalars()]

    def _release(self, account_id: str, error: str | None) -> None:
        with self.sessions.begin() as session:
            session.execute(update(MailAccount).where(MailAccount.id == account_id).values(
                last_fetched_at=datetime.now(UTC), last_error=error))

    def fetch_account(self, account_id: str) -> int | None:
        """Fetch the account's new mail; how many were stored (None: another worker is fetching it).

        The account is held by a PostgreSQL advisory lock on a connection of its own for the fetch: a worker
        killed mid-fetch drops its connection, and with it the lock, so the next one can start at once."""
        with self.sessions.kw["bind"].connect() as holder:  # one connection, kept for the whole fetch
            key = {"key": f"mailbox-fetch:{account_id}"}
            if not holder.execute(text("select pg_try_advisory_lock(hashtext(:key))"), key).scalar_one():
                holder.commit()
                return None
            holder.commit()  # the lock is the connection's, not the transaction's: nothing stays open meanwhile
            stored, error = 0, None
            try:
                stored = self._fetch(account_id)
            except (OSError, imaplib.IMAP4.error, HostRefused, ValueError) as exc:
                error = f"{type(exc).__name__}: {exc}"[:1000]
                log.warning("mailbox: fetching account %s failed: %s", account_id, error)
            finally:
                self._release(account_id, error)
                holder.execute(text("select pg_advisory_unlock(hashtext(:key))"), key)
                holder.commit()
            return stored

    def _connect(self, account: MailAccount) -> imaplib.IMAP4:
        check_host(account.imap_host, self.allow_private)
        context = ssl.create_default_context()
        if account.imap_security == "tls":
            imap = imaplib.IMAP4_SSL(account.imap_host, account.imap_port, ssl_context=context, timeout=self.timeout)
        else:
            imap = imaplib.IMAP4(account.imap_host, account.imap_port, timeout=self.timeout)
            if account.imap_security == "starttls":
                imap.starttls(ssl_context=context)
        return imap

    def _fetch(self, account_id: str) -> int:
        with self.sessions() as session:
            account = session.get(MailAccount, account_id)
            password = self.box.open(account.imap_secret)
            folders = list(account.imap_folders or ["INBOX"])
            session.expunge(account)
        if password is None:
            raise ValueError("the IMAP password cannot be read (the credentials key changed): enter it again")
        imap = self._connect(account)
        try:
            imap.login(account.imap_username or account.email, password)
            self._push_flags(imap, account.id)
            return sum(self._fetch_folder(imap, account, folder) for folder in folders)
        finally:
            try:
                imap.logout()
            except (OSError, imaplib.IMAP4.error):
                pass

    def _push_flags(self, imap: imaplib.IMAP4, account_id: str) -> None:
        """Set or clear \\Seen on the server for the fetched mails the user marked read or unread in the CRM.

        A mail whose folder the server renumbered since (another UIDVALIDITY) is left as the CRM has it. The
        pending mark is cleared only while the read flag is still the one pushed: a user who toggles it again
        meanwhile gets it pushed on the next round."""
        with self.sessions.begin() as session:
            pending = session.execute(select(MailMessage.id, MailMessage.remote_folder, MailMessage.remote_uidvalidity,
                                             MailMessage.remote_uid, MailMessage.is_read).where(
                MailMessage.account_id == account_id, MailMessage.flag_pending,
                MailMessage.remote_uid.is_not(None)).order_by(MailMessage.remote_folder).limit(BATCH)).all()
        for folder in sorted({p.remote_folder for p in pending}):
            typ, _ = imap.select(_quote(folder))
            if typ != "OK":
                continue  # the folder is gone on the server: nothing to flag there
            uidvalidity = int(imap.response("UIDVALIDITY")[1][0])
            for p in (p for p in pending if p.remote_folder == folder):
                if p.remote_uidvalidity == uidvalidity:
                    typ, _ = imap.uid("STORE", str(p.remote_uid), "+FLAGS.SILENT" if p.is_read else "-FLAGS.SILENT",
                                      "(\\Seen)")
                    if typ != "OK":
                        continue
                with self.sessions.begin() as session:
                    session.execute(update(MailMessage).where(MailMessage.id == p.id,
                                                              MailMessage.is_read == p.is_read)
                                    .values(flag_pending=False))
            imap.close()

    def _fetch_folder(self, imap: imaplib.IMAP4, account: MailAccount, folder: str) -> int:
        typ, _ = imap.select(_quote(folder), readonly=True)
        if typ != "OK":
            raise imaplib.IMAP4.error(f"cannot open folder {folder}")
        uidvalidity = int(imap.response("UIDVALIDITY")[1][0])
        last = self._position(account.id, folder, uidvalidity)
        typ, data = imap.uid("SEARCH", None, f"UID {last + 1}:*")
        uids = sorted(u for u in (int(x) for x in (data[0] or b"").split()) if u > last)[:BATCH]
        stored = 0
        for uid in uids:
            typ, fetched = imap.uid("FETCH", str(uid), "(UID FLAGS BODY.PEEK[])")
            raw, flags = _message(fetched, uid)
            if raw is None:
                continue  # expunged meanwhile
            with self.sessions.begin() as session:
                moved = session.execute(update(ImapPosition).where(
                    ImapPosition.account_id == account.id, ImapPosition.remote_folder == folder,
                    ImapPosition.uidvalidity == uidvalidity, ImapPosition.last_uid < uid)
                    .values(last_uid=uid, updated_at=datetime.now(UTC))).rowcount
                if not moved:
                    continue  # the position is past this UID already: stored before
                acct = session.get(MailAccount, account.id)
                if store_fetched(session, acct, folder, uidvalidity, uid, raw, parse(raw),
                                 b"\\Seen" in flags) is not None:
                    stored += 1
        return stored

    def _position(self, account_id: str, folder: str, uidvalidity: int) -> int:
        """The last UID stored from the folder; 0 after a UIDVALIDITY change (renumbered: start again)."""
        with self.sessions.begin() as session:
            session.execute(insert(ImapPosition).values(account_id=account_id, remote_folder=folder,
                                                        uidvalidity=uidvalidity, last_uid=0)
                            .on_conflict_do_update(index_elements=["account_id", "remote_folder"],
                                                   set_={"uidvalidity": uidvalidity, "last_uid": 0},
                                                   where=and_(ImapPosition.uidvalidity != uidvalidity)))
            return session.execute(select(ImapPosition.last_uid).where(
                ImapPosition.account_id == account_id, ImapPosition.remote_folder == folder)).scalar_one()

    # -- the loop --------------------------------------------------------------------------------------------

    def run_once(self, now: datetime | None = None) -> int:
        sent = 0
        while sent < 100 and self.send_one():
            sent += 1
        fetched = 0
        for account_id in self.due(now or datetime.now(UTC)):
            fetched += self.fetch_account(account_id) or 0
        return sent + fetched

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - a database outage or one bad account must not stop the loop
                log.exception("mailbox runner: will retry")
            self._stop.wait(self.poll_interval)

    def stop(self) -> None:
        self._stop.set()


_LISTED = re.compile(rb'^\((?P<flags>[^)]*)\) (?:"(?:[^"\\]|\\.)*"|NIL) (?P<name>.+)$')


def _sent_folder(imap: imaplib.IMAP4) -> str:
    """The name of the folder the server marks \\Sent (RFC 6154 special use), else "Sent"."""
    typ, listed = imap.list()
    for line in listed if typ == "OK" else []:
        match = _LISTED.match(line) if isinstance(line, bytes) else None
        if match and b"\\sent" in match.group("flags").lower().split():
            name = match.group("name").decode("utf-8", errors="replace")
            if name.startswith('"') and name.endswith('"'):
                name = re.sub(r'\\(.)', r'\1', name[1:-1])
            return name
    return "Sent"


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _message(fetched: list, uid: int) -> tuple[bytes | None, bytes]:
    """The message bytes and flags of one UID FETCH answer (None when the server had no such message)."""
    for item in fetched or []:
        if isinstance(item, tuple) and len(item) == 2:
            head = item[0]
            match = _FETCHED.search(head)
            if match and int(match.group(1)) == uid:
                flags = b" ".join(imaplib.ParseFlags(head)) if b"FLAGS" in head else b""
                return item[1], flags
    return None, b""
