"""Just enough reading of a MIME message for the mailbox: who, to whom, when, the thread headers, the subject for
threading, a plain-text body and the list of attachments. The standard library's `email` does the parsing.

Unlike crm/mail/message.py's `parse` (mail handed to us by LMTP, refused with a 5xx when unreadable), a mailbox
never refuses what the user's server holds: what cannot be read is kept empty. HTML is not kept (the text part, or
the HTML turned into text); auto-replies and HTML are read by crm/mail/message.py's rules."""

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from ..mail.message import auto_reply_reason, html_to_text

MAX_TEXT = 200_000
_ID = re.compile(r"<[^<>\s]{1,490}>")
_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|vs|tr|rif|antw|odp)(\[\d+\]|\(\d+\))?\s*:\s*)+", re.IGNORECASE)
_TAG = re.compile(r"^\s*\[[^\]]{1,40}\]\s*")
TICKET_NUMBER = re.compile(r"\bT-\d{4}-\d{5}\b")


@dataclass
class Parsed:
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    subject: str
    normalized_subject: str
    from_address: str | None
    from_name: str | None
    to: list[dict]
    cc: list[dict]
    date: datetime
    text: str
    has_html: bool
    attachments: list[dict] = field(default_factory=list)
    auto_reply: bool = False


def normalize_subject(subject: str) -> str:
    """The subject without reply and forward prefixes (Re:, Fwd:, AW:, SV: ...) or a leading [tag], lower-case and
    with single spaces: what replies to one message have in common."""
    s = subject or ""
    while True:
        stripped = _TAG.sub("", _PREFIX.sub("", s), count=1)
        if stripped == s:
            break
        s = stripped
    return " ".join(s.lower().split())[:1000]


def _addresses(msg: EmailMessage, name: str) -> list[dict]:
    try:
        pairs = getaddresses([str(v) for v in msg.get_all(name, [])])
    except (TypeError, ValueError, IndexError):
        return []
    return [{"name": n[:300] or None, "address": a.strip().lower()[:254]} for n, a in pairs if "@" in a]


def _ids(value) -> list[str]:
    return _ID.findall(str(value or ""))


def _date(msg: EmailMessage) -> datetime:
    try:
        d = parsedate_to_datetime(str(msg["Date"]))
    except (TypeError, ValueError, IndexError):
        return datetime.now(UTC)
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _body(msg: EmailMessage) -> tuple[str, bool]:
    has_html = any(part.get_content_type() == "text/html" for part in msg.walk())
    try:
        part = msg.get_body(("plain", "html"))
        if part is None:
            return "", has_html
        content = part.get_content()
    except (LookupError, ValueError, AttributeError):
        return "", has_html
    text = html_to_text(content) if part.get_content_type() == "text/html" else content
    return text[:MAX_TEXT], has_html


def attachment_parts(msg: EmailMessage) -> Iterator[tuple[dict, bytes]]:
    """Each attachment of the mail, in order: ({filename, content_type, size}, its decoded bytes). A named inline
    part (an image in the HTML) counts; an unnamed inline part is the body."""
    for part in msg.walk():
        if part.is_multipart() or part.get_content_disposition() not in ("attachment", "inline"):
            continue
        if part.get_content_disposition() == "inline" and not part.get_filename():
            continue
        payload = part.get_payload(decode=True) or b""
        yield ({"filename": (part.get_filename() or "attachment")[:200],
                "content_type": part.get_content_type()[:100], "size": len(payload)}, payload)


def read(raw: bytes) -> EmailMessage:
    return message_from_bytes(raw, policy=policy.default)


def parse(raw: bytes) -> Parsed:
    msg = read(raw)
    subject = " ".join(str(msg.get("Subject", "") or "").split())[:1000]
    sender = _addresses(msg, "From")
    text, has_html = _body(msg)
    message_id = (_ids(msg.get("Message-ID")) or [None])[0]
    return Parsed(message_id=message_id, in_reply_to=(_ids(msg.get("In-Reply-To")) or [None])[0],
                  references=_ids(msg.get("References"))[-50:], subject=subject,
                  normalized_subject=normalize_subject(subject),
                  from_address=sender[0]["address"] if sender else None,
                  from_name=sender[0]["name"] if sender else None,
                  to=_addresses(msg, "To"), cc=_addresses(msg, "Cc"), date=_date(msg), text=text, has_html=has_html,
                  attachments=[meta for meta, _ in attachment_parts(msg)],
                  auto_reply=auto_reply_reason(msg) is not None)
