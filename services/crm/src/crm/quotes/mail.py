"""The quote mail (CRM_SMTP_* settings): the message is built in the request and queued in the mail outbox; the
worker sends it after the commit (servicekit.mail_outbox)."""

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from servicekit.mail_outbox import SmtpTransport

from ..config import Settings


@dataclass(frozen=True)
class Mailer:
    host: str
    port: int
    sender: str
    user: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_settings(cls, s: Settings) -> "Mailer":
        return cls(s.smtp_host, s.smtp_port, s.smtp_from, s.smtp_user, s.smtp_password, s.smtp_starttls,
                   s.smtp_timeout)

    def message(self, to: str, subject: str, body: str, attachment: bytes, filename: str,
                reply_to: str | None = None) -> EmailMessage:
        msg = EmailMessage()
        msg["From"] = self.sender
        msg["To"] = to
        msg["Subject"] = subject
        msg["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2].strip("> ") or None)
        if reply_to:
            msg["Reply-To"] = reply_to
        msg.set_content(body)
        msg.add_attachment(attachment, maintype="application", subtype="pdf", filename=filename)
        return msg

    def transport(self) -> SmtpTransport:
        """How the worker reaches the SMTP server (servicekit.mail_outbox sends, after the commit)."""
        return SmtpTransport(self.host, self.port, self.user, self.password, self.starttls, self.timeout)
