"""A real SMTP server for tests (aiosmtpd on a free loopback port) that keeps what it accepted."""

import email
import socket
from email import policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """aiosmtpd's handler: `messages` holds (recipients, parsed message) of what it accepted; `answer` is what it
    says to DATA (set a 4xx or 5xx to refuse)."""

    def __init__(self):
        self.messages = []
        self.senders = []  # the envelope sender (MAIL FROM) of each accepted message, in the same order
        self.answer = "250 Message accepted"
        self.deliver = None  # a fixture may set it: runs the worker's mail sender for the test's mail

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        if self.answer.startswith("250"):
            self.messages.append((envelope.rcpt_tos, email.message_from_bytes(envelope.original_content,
                                                                              policy=policy.default)))
            self.senders.append(envelope.mail_from)
        return self.answer


def start_server(inbox: Inbox) -> Controller:
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    return controller
