"""Reading received mail safely, with no knowledge of tickets or campaigns: `parse` turns raw bytes into a
`Received` (or raises `Rejected`, which the LMTP server answers with a 5xx), `auto_reply_reason` tells an automatic
message from a person's (RFC 3834), `strip_quoted` keeps only what the writer added, `sanitize_html` and
`html_to_text` make an HTML body safe to show and to read."""

import hashlib
import re
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from html.parser import HTMLParser

import nh3


class Rejected(Exception):
    """A message we refuse for good (the SMTP/LMTP answer is `code` with `reason`), never a crash."""

    def __init__(self, reason: str, code: str = "554 5.6.0"):
        super().__init__(reason)
        self.reason, self.code = reason, code

    def answer(self) -> str:
        return f"{self.code} {self.reason}"


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Received:
    """What a received message says, decoded: addresses lower-cased, Message-IDs without their angle brackets."""

    message_id: str
    sender: str
    sender_name: str
    subject: str
    in_reply_to: list[str]
    references: list[str]
    text: str
    html: str | None
    attachments: list[Attachment] = field(default_factory=list)
    auto_reply: str | None = None  # why it is automatic (RFC 3834), or None for a person's message

    @property
    def thread_ids(self) -> list[str]:
        """Message-IDs this one answers, nearest first (In-Reply-To, then References from the newest)."""
        seen, out = set(), []
        for mid in [*self.in_reply_to, *reversed(self.references)]:
            if mid not in seen:
                seen.add(mid)
                out.append(mid)
        return out


_MSGID = re.compile(r"<([\x21-\x3b\x3d\x3f-\x7e]{1,250})>")  # printable ASCII but the angle brackets


def message_ids(value: str | None) -> list[str]:
    """'<a@x> <b@y>' -> ['a@x', 'b@y'] (a header of Message-IDs, in order, without brackets)."""
    return _MSGID.findall(str(value or ""))[:100]


def auto_reply_reason(msg) -> str | None:
    """Why a message is automatic and must neither open a ticket nor be answered (RFC 3834 and common practice),
    or None when a person wrote it."""
    auto = str(msg.get("Auto-Submitted") or "no").strip().lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto}"
    precedence = str(msg.get("Precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "list", "auto_reply"):
        return f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond", "List-Id", "List-Unsubscribe"):
        if msg.get(header) is not None and (header != "X-Autoreply" or str(msg.get(header)).lower() != "no"):
            return f"{header} present"
    sender = parseaddr(str(msg.get("From") or ""))[1].lower()
    local = sender.partition("@")[0]
    if local in ("mailer-daemon", "postmaster") or local.startswith(("noreply", "no-reply", "donotreply")):
        return f"sent by {sender}"
    if msg.get("Return-Path") is not None and str(msg.get("Return-Path")).strip() == "<>":
        return "null return path (a delivery report)"
    return None


_WROTE = re.compile(r"^\s*(On\s.{0,200}\bwrote:|Le\s.{0,200}\ba écrit\s?:|Am\s.{0,200}\bschrieb.{0,50}:)\s*$",
                    re.IGNORECASE)
_OUTLOOK = re.compile(r"^\s*(-{2,}\s*Original Message\s*-{2,}|_{20,})\s*$", re.IGNORECASE)
_HEADER_BLOCK = re.compile(r"^\s*\**(From|De|Von)\s*:\**\s", re.IGNORECASE)
_NEXT_HEADERS = re.compile(r"^\s*\**(Sent|Date|To|Subject|Envoyé|Objet|À|Gesendet|An|Betreff)\s*:", re.IGNORECASE)


def strip_quoted(text: str) -> str:
    """The part of a reply its writer added: stops at a quote header ("On ... wrote:", possibly folded over two
    lines), at Outlook's "-----Original Message-----" or "From: / Sent:" block, at a signature ("-- "), and drops
    ">" quoted lines. Returns the text unchanged (trimmed) when stripping would leave nothing."""
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line == "-- " or line.rstrip() == "--" and i > 0:
            break
        if _WROTE.match(line) or (line.strip().lower().startswith("on ") and _WROTE.match(f"{line} {nxt}")):
            break
        if _OUTLOOK.match(line) or (_HEADER_BLOCK.match(line) and _NEXT_HEADERS.match(nxt)):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    out = "\n".join(kept).strip()
    return out or text.strip()


ALLOWED_TAGS = {"a", "b", "blockquote", "br", "code", "div", "em", "h1", "h2", "h3", "h4", "hr", "i", "li", "ol", "p",
                "pre", "span", "strong", "table", "tbody", "td", "th", "thead", "tr", "u", "ul"}


def sanitize_html(markup: str) -> str:
    """HTML safe to show in the browser (nh3/ammonia): no scripts, styles, event handlers, forms or remote
    images; links keep http(s) and mailto only and get rel="noopener noreferrer"."""
    return nh3.clean(markup, tags=ALLOWED_TAGS, attributes={"a": {"href", "title"}, "td": {"colspan", "rowspan"},
                                                            "th": {"colspan", "rowspan"}},
                     url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer")


class _Text(HTMLParser):
    """HTML to readable plain text: paragraphs and breaks kept, list items as '- ', links as 'text (url)', scripts,
    styles and the head left out."""

    _BLOCK = {"p", "div", "br", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "blockquote",
              "pre", "hr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip, self._href = 0, None

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self._BLOCK:
            self.parts.append("\n")
        if tag == "a":
            self._href = dict(attrs).get("href")
        if tag == "li":
            self.parts.append("- ")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "head"):
            self._skip = max(0, self._skip - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n")
        if tag == "a" and self._href:
            self.parts.append(f" ({self._href})")
            self._href = None

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(re.sub(r"\s+", " ", data))


def html_to_text(markup: str) -> str:
    """The readable text of an HTML body: a received message's fallback when it has no text/plain part, and the
    plain-text alternative of a campaign or a mailbox message written in HTML."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    text = "\n".join(line.strip() for line in "".join(parser.parts).splitlines())
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _decoded(part) -> str:
    """A text part's content; an unknown charset or undecodable bytes are a rejection."""
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, ValueError, AssertionError) as exc:
        raise Rejected(f"undecodable {part.get_content_type()} part ({type(exc).__name__})") from None
    if not isinstance(content, str):
        raise Rejected(f"undecodable {part.get_content_type()} part")
    return content


def _check_charset(part) -> None:
    charset = part.get_content_charset()
    if charset:
        try:
            "".encode(charset)
        except LookupError:
            raise Rejected(f"unknown charset {charset[:40]}") from None
    payload = part.get_payload(decode=True) or b""
    try:
        payload.decode(charset or "ascii", errors="strict")
    except UnicodeDecodeError:
        if charset:
            raise Rejected(f"the {part.get_content_type()} part is not valid {charset[:40]}") from None


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _clean(value: str) -> str:
    """Text a database and a browser can hold: control characters (NUL...) and lone surrogates replaced."""
    return _CONTROL.sub("", value).encode("utf-8", "replace").decode("utf-8")


def parse(raw: bytes, max_bytes: int) -> Received:
    """Decode a received message, or raise `Rejected`: larger than `max_bytes`, no header block, no sender
    address, a text part in an unknown charset or not in the charset it declares. Text is taken from the
    text/plain part, else from the sanitised HTML; attachments are returned with their decoded bytes."""
    if len(raw) > max_bytes:
        raise Rejected(f"message larger than {max_bytes} bytes", "552 5.3.4")
    head, sep, _ = raw.replace(b"\r\n", b"\n").partition(b"\n\n")
    if not sep or not re.match(rb"^[\x21-\x39\x3b-\x7e]+:", head):
        raise Rejected("no header block")
    try:
        msg: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)
        sender_header = str(msg.get("From") or "")
        subject = " ".join(str(msg.get("Subject") or "").split())[:300]
    except (ValueError, LookupError, UnicodeError, IndexError, TypeError) as exc:
        raise Rejected(f"unreadable headers ({type(exc).__name__})") from None
    pairs = [(n, a) for n, a in getaddresses([sender_header]) if "@" in a]
    if not pairs:
        raise Rejected("no sender address in From")
    name, sender = pairs[0]
    try:
        Address(addr_spec=sender)
    except (ValueError, IndexError, TypeError):
        raise Rejected("the From address is malformed") from None
    text_body, html_body, attachments = None, None, []
    for part in msg.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        disposition = part.get_content_disposition()
        if disposition != "attachment" and kind == "text/plain" and text_body is None:
            _check_charset(part)
            text_body = _decoded(part)
        elif disposition != "attachment" and kind == "text/html" and html_body is None:
            _check_charset(part)
            html_body = _decoded(part)
        elif disposition in ("attachment", "inline") or part.get_filename():
            data = part.get_payload(decode=True) or b""
            attachments.append(Attachment(_clean(part.get_filename() or "attachment")[:255], kind, data))
    clean_html = sanitize_html(_clean(html_body)) if html_body else None
    text = _clean(text_body) if text_body is not None else (html_to_text(clean_html) if clean_html else "")
    message_id = (message_ids(msg.get("Message-ID")) or [f"{hashlib.sha256(raw).hexdigest()}@no-message-id"])[0]
    if len(sender) > 254:
        raise Rejected("the From address is longer than 254 characters")
    return Received(message_id=message_id, sender=sender.lower(), sender_name=_clean(name)[:200],
                    subject=_clean(subject),
                    in_reply_to=message_ids(msg.get("In-Reply-To")), references=message_ids(msg.get("References")),
                    text=text, html=clean_html, attachments=attachments, auto_reply=auto_reply_reason(msg))
