"""Signed links of a sent campaign: unsubscribe, open pixel, click redirect, and the VERP return path.

Each names a ledger row (a recipient of one campaign) and carries an HMAC-SHA256 of what it does under the
CRM's campaign secret, so a forged or altered link (another recipient, another URL) is refused with a 404 and
nothing recorded, and a click can only lead where the campaign's own HTML pointed (no open redirect)."""

import base64
import hashlib
import hmac
import re
from urllib.parse import quote

UNSUBSCRIBE = "/api/v1/public/campaign-mail/unsubscribe/{rid}/{sig}"
OPEN = "/api/v1/public/campaign-mail/open/{rid}/{sig}.gif"
CLICK = "/api/v1/public/campaign-mail/click/{rid}/{sig}?url={url}"
_MAILTO = re.compile(r"^(unsubscribe|unsubscribe-list)\+(\d{1,18})-([A-Za-z0-9_-]{10,40})$", re.IGNORECASE)
UNSUBSCRIBE_ACTION = {"all": "unsubscribe", "list": "unsubscribe-list"}
_VERP = re.compile(r"^bounces\+(\d{1,18})-([A-Za-z0-9_-]{10,40})@", re.IGNORECASE)


def sign(secret: str, *parts) -> str:
    mac = hmac.new(secret.encode(), ":".join(str(p) for p in parts).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:15]).decode()


def valid(secret: str, sig: str, *parts) -> bool:
    """Whether `sig` signs these parts (any text: a forged one may hold anything)."""
    return hmac.compare_digest(sign(secret, *parts).encode(), (sig or "").encode("utf-8", "surrogateescape"))


def unsubscribe_path(secret: str, rid: int, scope: str = "all") -> str:
    """The unsubscribe link of one recipient: from every campaign (`all`), or from the campaign's list only
    (`list`); the scope is part of what is signed, so a list link cannot be turned into the other."""
    return UNSUBSCRIBE.format(rid=rid, sig=sign(secret, UNSUBSCRIBE_ACTION[scope], rid))


def unsubscribe_scope(secret: str, rid, sig: str) -> str | None:
    """What an unsubscribe link's signature allows (`all` or `list`), or None when it is forged."""
    return next((scope for scope, action in UNSUBSCRIBE_ACTION.items() if valid(secret, sig, action, rid)), None)


def unsubscribe_mailto(secret: str, rid: int, domain: str, scope: str = "all") -> str:
    """The List-Unsubscribe mailto: of one recipient (mail to it arrives through the inbound LMTP endpoint)."""
    local = "unsubscribe" if scope == "all" else "unsubscribe-list"
    return f"mailto:{local}+{rid}-{_mailto_sig(secret, rid, scope)}@{domain}?subject=unsubscribe"


def _mailto_sig(secret: str, rid, scope: str) -> str:
    return sign(secret, "verp" if scope == "all" else "unsubscribe-list-mailto", rid)[:12]


def mailto_recipient(secret: str, local_part: str) -> tuple[int, str] | None:
    """(row, scope) of an unsubscribe mailto's local part, or None when it is not one of ours (or forged)."""
    match = _MAILTO.match(local_part or "")
    if not match:
        return None
    scope = "all" if match.group(1).lower() == "unsubscribe" else "list"
    expected = _mailto_sig(secret, match.group(2), scope)
    return (int(match.group(2)), scope) if hmac.compare_digest(expected.encode(), match.group(3).encode()) else None


def open_path(secret: str, rid: int) -> str:
    return OPEN.format(rid=rid, sig=sign(secret, "open", rid))


def click_path(secret: str, rid: int, url: str) -> str:
    return CLICK.format(rid=rid, sig=sign(secret, "click", rid, url), url=quote(url, safe=""))


def verp_address(secret: str, rid: int, domain: str) -> str:
    """The envelope sender of one recipient's message: its bounces come back to an address naming the row."""
    return f"bounces+{rid}-{sign(secret, 'verp', rid)[:12]}@{domain}"


def verp_recipient(secret: str, address: str) -> int | None:
    """The ledger row a bounce's address names, or None when it is not one of ours (or forged)."""
    match = _VERP.match(address or "")
    if not match or not hmac.compare_digest(sign(secret, "verp", match.group(1))[:12].encode(),
                                            match.group(2).encode()):
        return None
    return int(match.group(1))
