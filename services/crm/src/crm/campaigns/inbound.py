"""The worker's inbound mail endpoint: an LMTP server (aiosmtpd) that the mail server hands our return-path
domain's mail to (bounces, complaints, mailto: unsubscribes). Each accepted message is applied in its own
transaction before the server answers 250, so a message the server retries is applied once in effect."""

import logging
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from sqlalchemy.orm import sessionmaker

from . import bounces

log = logging.getLogger(__name__)
MAX_MESSAGE = 2 * 1024 * 1024


class _Handler:
    def __init__(self, sessions: sessionmaker, secret: str):
        self.sessions, self.secret = sessions, secret

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        try:
            for rcpt in envelope.rcpt_tos:
                with self.sessions.begin() as db:
                    outcome = bounces.receive(db, self.secret, rcpt, envelope.original_content or b"")
                log.info("inbound mail for %s: %s", rcpt, outcome)
        except Exception:  # noqa: BLE001 - the sender keeps it and tries again later
            log.exception("inbound mail: will be retried by the sender")
            return "451 4.3.0 Temporary failure, try again"
        return "250 2.0.0 OK"


class _LmtpController(Controller):
    def factory(self):
        return LMTP(self.handler, data_size_limit=MAX_MESSAGE, enable_SMTPUTF8=True)


class InboundMail:
    """A worker loop: serves LMTP on host:port until stopped."""

    def __init__(self, sessions: sessionmaker, secret: str, host: str, port: int):
        self.controller = _LmtpController(_Handler(sessions, secret), hostname=host, port=port)
        self._stop = threading.Event()

    def run(self) -> None:
        self.controller.start()
        try:
            self._stop.wait()
        finally:
            self.controller.stop()

    def stop(self) -> None:
        self._stop.set()
