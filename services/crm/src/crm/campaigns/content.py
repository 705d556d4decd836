"""A campaign's content: sandboxed Jinja2 templates with merge fields, checked when saved; the HTML with its CSS
inlined and its links tracked; a plain-text alternative generated when none is given; and the MIME message of
one recipient with the list headers (RFC 2369, RFC 8058) and, when configured, a DKIM signature."""

import functools
import html
import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, parseaddr

import css_inline
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from servicekit.problems import Problem

from ..mail import message as received
from . import links

MAX_ATTACHMENT = 512 * 1024
MAX_ATTACHMENTS = 5
_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
_text_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)

# The merge fields a template may use, with the values a preview of an unknown recipient shows.
SAMPLE = {
    "recipient": {"email": "ana@example.com", "name": "Ana Lima", "first_name": "Ana", "last_name": "Lima"},
    "company": {"name": "Northwind Ltd"},
    "owner": {"name": "Bruno Costa", "email": "bruno@example.com"},
    "campaign": {"name": "Spring offers"},
    "unsubscribe_url": "https://crm.example/unsubscribe",
}


def _problem(field: str, message: str) -> Problem:
    return Problem(422, "Invalid request", f"{field}: {message}", "validation-error",
                   errors=[{"field": field, "message": message}])


def check_template(field: str, source: str, html_mode: bool) -> None:
    """422 naming the field when the template does not compile or uses a field that does not exist."""
    try:
        (_env if html_mode else _text_env).from_string(source).render(SAMPLE)
    except TemplateSyntaxError as exc:
        raise _problem(field, f"does not compile (line {exc.lineno}): {exc.message}") from None
    except UndefinedError as exc:
        raise _problem(field, f"unknown merge field: {exc.message}; use {', '.join(sorted(SAMPLE))}") from None
    except SecurityError as exc:
        raise _problem(field, f"not allowed in a template: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - a filter given bad input at render time is the author's to fix
        raise _problem(field, f"does not render: {type(exc).__name__}: {exc}") from None


def html_to_text(source: str) -> str:
    """The plain-text alternative of an HTML body (crm.mail.message's reading, ending with a line break)."""
    return received.html_to_text(source) + "\n"


_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?://[^"']+)\2""", re.IGNORECASE)


@functools.lru_cache(maxsize=64)
def _template(source: str, html_mode: bool):
    """Compiled once per source: a campaign's templates are the same for each of its recipients."""
    return (_env if html_mode else _text_env).from_string(source)


@dataclass(frozen=True)
class Rendered:
    subject: str
    html: str
    text: str


def render(subject: str, html_body: str, text_body: str | None, context: dict, track=None) -> Rendered:
    """The recipient's subject, HTML (CSS inlined; links through `track.click(url)` and a pixel at
    `track.pixel` when tracking) and text."""
    body = _template(html_body, True).render(context)
    text = _template(text_body, False).render(context) if text_body else html_to_text(body)
    if track is not None:
        keep = context.get("unsubscribe_url")  # the unsubscribe link goes straight to its page

        def tracked(m):
            url = html.unescape(m.group(3))
            return m.group(0) if url == keep else f"{m.group(1)}{m.group(2)}{html.escape(track.click(url))}{m.group(2)}"
        body = _HREF.sub(tracked, body)
        pixel = f'<img src="{html.escape(track.pixel)}" width="1" height="1" alt="" style="display:none">'
        body = body.replace("</body>", pixel + "</body>") if "</body>" in body else body + pixel
    body = css_inline.inline(body)
    subject_text = one_line(_template(subject, False).render(context))
    return Rendered(subject_text[:500], body, text)


@dataclass(frozen=True)
class Tracker:
    secret: str
    base_url: str
    rid: int

    def click(self, url: str) -> str:
        return self.base_url + links.click_path(self.secret, self.rid, url)

    @property
    def pixel(self) -> str:
        return self.base_url + links.open_path(self.secret, self.rid)


def message(*, sender: str, to: str, to_name: str | None, rendered: Rendered, message_id: str, list_id: str,
            unsubscribe_url: str, unsubscribe_mailto: str, reply_to: str | None = None,
            attachments=()) -> EmailMessage:
    """One recipient's message: multipart/alternative (text, then HTML), attachments, list headers."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = formataddr((one_line(to_name or ""), to))
    msg["Subject"] = one_line(rendered.subject)
    msg["Message-ID"] = message_id
    msg["List-Id"] = one_line(list_id)
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>, <{unsubscribe_mailto}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Precedence"] = "bulk"
    if reply_to:
        msg["Reply-To"] = reply_to
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    for a in attachments:
        maintype, _, subtype = a.content_type.partition("/")
        msg.add_attachment(a.content, maintype=maintype, subtype=subtype or "octet-stream",
                           filename=one_line(a.filename))
    return msg


def one_line(value: str) -> str:
    """A header value on one line: every kind of line break (\\r, \\n, \\v, U+2028...) becomes a space."""
    return " ".join((value or "").splitlines())


def sender_domain(sender: str) -> str:
    return parseaddr(sender)[1].rpartition("@")[2] or "crm.localhost"
