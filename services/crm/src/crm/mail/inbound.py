"""The worker's one inbound mail endpoint: an LMTP server (aiosmtpd) the mail server hands our domains' mail to.
Each recipient is routed by its address when the mail server names it (RCPT TO):

- `bounces+<row>-<sig>@...`, `unsubscribe+<row>-<sig>@...` and `unsubscribe-list+<row>-<sig>@...` (campaign VERP
  return paths and List-Unsubscribe mailto:, global or for one list) go to campaigns.bounces;
- a support address (CRM_SUPPORT_ADDRESSES) goes to ticket mail (tickets.mail_in);
- anything else is refused at once with 550, so the mail server bounces it to its sender.

A message is read once (crm.mail.message.parse): one too large, without headers or in a broken encoding is
refused with a 5xx and logged, and nothing is stored. Each accepted recipient is applied in its own transaction
before the server answers 250, so a message the server retries (after our 451) is applied once in effect."""

import logging
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from sqlalchemy.orm import sessionmaker

from ..campaigns import bounces
from ..tickets import mail_in
from . import message

log = logging.getLogger(__name__)

CAMPAIGN_PREFIXES = ("bounces+", "unsubscribe+", "unsubscribe-list+")


def route(address: str, support_addresses: tuple[str, ...]) -> str | None:
    """Who takes mail for this recipient: "campaigns", "tickets", or None (refused)."""
    address = address.strip().strip("<>").lower()
    if address.startswith(CAMPAIGN_PREFIXES) and "@" in address:
        return "campaigns"
    if address in support_addresses:
        return "tickets"
    return None


class _Handler:
    def __init__(self, sessions: sessionmaker, settings):
        self.sessions, self.settings = sessions, settings

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 - aiosmtpd's hook
        if route(address, self.settings.support_addresses) is None:
            log.info("inbound mail: recipient %s refused (not ours)", address)
            return f"550 5.1.1 <{address}>: no such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        """LMTP (RFC 2033) answers once per accepted recipient, in order: each is applied on its own."""
        raw = envelope.original_content or b""
        parsed: list = []  # the message read once for every ticket recipient: a Received, or the Rejected
        return "\r\n".join(self._deliver(rcpt, raw, envelope.mail_from, parsed) for rcpt in envelope.rcpt_tos)

    def _deliver(self, rcpt: str, raw: bytes, mail_from: str, parsed: list) -> str:
        try:
            if route(rcpt, self.settings.support_addresses) == "campaigns":
                with self.sessions.begin() as db:
                    outcome = bounces.receive(db, self.settings.campaign_secret, rcpt, raw)
            else:
                if not parsed:
                    try:
                        parsed.append(message.parse(raw, self.settings.inbound_max_bytes))
                    except message.Rejected as exc:
                        parsed.append(exc)
                if isinstance(parsed[0], message.Rejected):
                    log.warning("inbound mail from %s to %s refused: %s", mail_from, rcpt, parsed[0].reason)
                    return parsed[0].answer()
                with self.sessions.begin() as db:
                    outcome = mail_in.receive(db, self.settings, parsed[0], rcpt.strip().strip("<>").lower())
        except Exception:  # noqa: BLE001 - the sender keeps it and tries again later
            log.exception("inbound mail for %s: will be retried by the sender", rcpt)
            return "451 4.3.0 Temporary failure, try again"
        log.info("inbound mail for %s: %s", rcpt, outcome)
        return "250 2.0.0 OK"


class _LmtpController(Controller):
    def __init__(self, handler, max_bytes: int, **kwargs):
        super().__init__(handler, **kwargs)
        self.max_bytes = max_bytes

    def factory(self):
        return LMTP(self.handler, data_size_limit=self.max_bytes, enable_SMTPUTF8=True)


class InboundMail:
    """A worker loop: serves LMTP on host:port until stopped."""

    def __init__(self, sessions: sessionmaker, settings, host: str, port: int):
        self.controller = _LmtpController(_Handler(sessions, settings), settings.inbound_max_bytes, hostname=host,
                                          port=port)
        self._stop = threading.Event()

    def run(self) -> None:
        self.controller.start()
        try:
            self._stop.wait()
        finally:
            self.controller.stop()

    def stop(self) -> None:
        self._stop.set()
