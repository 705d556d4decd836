"""Sending a quote by email over SMTP (CRM_SMTP_* settings); any failure is a 502 that leaves the quote a draft."""

import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from servicekit.problems import Problem

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

    def send(self, msg: EmailMessage) -> None:
        """Hand the message to the SMTP server; raise a 502 problem if it cannot be delivered there."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password)
                refused = smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise Problem(502, "Email not sent", f"The mail server {self.host}:{self.port} did not take the quote "
                          f"({type(exc).__name__}: {exc}). Nothing changed: the quote is still a draft.",
                          "smtp-failed") from exc
        if refused:
            raise Problem(502, "Email not sent", f"The mail server refused {', '.join(refused)}. Nothing changed: "
                          "the quote is still a draft.", "smtp-failed")
