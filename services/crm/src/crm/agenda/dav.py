"""A small CalDAV client (RFC 4791 over WebDAV, RFC 6578 sync-collection) on `requests`: what two-way sync needs
and nothing more — changes since a sync token, a multiget of calendar data, PUT with If-Match/If-None-Match, DELETE,
MKCALENDAR.

Why not the `caldav` package: every release needs `recurring-ical-events`, which pins python-dateutil < 3 and
icalendar < 7, while the agenda runs on python-dateutil 4 and icalendar 7 (see docs/crm.md). The protocol part used
here is a few requests; the parsing is defusedxml."""

from dataclasses import dataclass
from urllib.parse import quote, unquote, urljoin, urlsplit

import requests
from defusedxml import ElementTree

DAV = "DAV:"
CALDAV = "urn:ietf:params:xml:ns:caldav"
MAX_OBJECT_BYTES = 2 * 1024 * 1024  # one calendar object
_SYNC = """<?xml version="1.0" encoding="utf-8"?>
<d:sync-collection xmlns:d="DAV:"><d:sync-token>{token}</d:sync-token><d:sync-level>1</d:sync-level>
<d:prop><d:getetag/></d:prop></d:sync-collection>"""
_MULTIGET = """<?xml version="1.0" encoding="utf-8"?>
<c:calendar-multiget xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
<d:prop><d:getetag/><c:calendar-data/></d:prop>{hrefs}</c:calendar-multiget>"""
_MKCALENDAR = """<?xml version="1.0" encoding="utf-8"?>
<c:mkcalendar xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav"><d:set><d:prop>
<d:displayname>{name}</d:displayname><c:supported-calendar-component-set><c:comp name="VEVENT"/>
</c:supported-calendar-component-set></d:prop></d:set></c:mkcalendar>"""


class DavError(Exception):
    """The server refused or could not be reached; `status` is its HTTP status (0: no answer)."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


class InvalidSyncToken(DavError):
    """The server no longer knows the token (RFC 6578 valid-sync-token): sync again from scratch."""


class PreconditionFailed(DavError):
    """The resource changed on the server since its ETag was read (412)."""


@dataclass
class Changes:
    changed: dict[str, str]  # href -> etag
    deleted: list[str]
    token: str


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class DavCalendar:
    """One calendar collection (its URL ends with a slash)."""

    def __init__(self, url: str, username: str = "", password: str = "", timeout: float = 20.0,
                 session: requests.Session | None = None):
        self.url = url if url.endswith("/") else url + "/"
        self.http = session or requests.Session()
        # UTF-8 (RFC 7617): requests would encode str credentials as latin-1 and fail on other characters
        self.http.auth = (username.encode(), password.encode()) if username else None
        self.timeout = timeout

    def _call(self, method: str, url: str, body: bytes | str | None = None, headers: dict | None = None,
              ok: tuple[int, ...] = (200, 201, 204, 207)) -> requests.Response:
        try:
            r = self.http.request(method, url, data=body.encode() if isinstance(body, str) else body,
                                  headers=headers or {}, timeout=self.timeout, allow_redirects=False)
        except requests.RequestException as exc:
            raise DavError(0, f"{method} {url}: {exc.__class__.__name__}") from None
        if r.status_code == 412:
            raise PreconditionFailed(412, f"{method} {url}: the resource changed on the server")
        if r.status_code in (403, 409) and b"valid-sync-token" in r.content:
            raise InvalidSyncToken(r.status_code, "the server no longer knows the sync token")
        if r.status_code not in ok:
            raise DavError(r.status_code, f"{method} {url} answered {r.status_code}")
        return r

    def href_url(self, href: str) -> str:
        """hrefs are kept decoded (as sync reports give them after unquoting); the wire gets them encoded."""
        return urljoin(self.url, quote(href))

    def make(self, name: str = "CRM") -> None:
        """MKCALENDAR this collection (tests and first-time set-up)."""
        self._call("MKCALENDAR", self.url, _MKCALENDAR.format(name=_escape(name)),
                   {"Content-Type": "application/xml; charset=utf-8"}, ok=(201,))

    def changes(self, token: str | None) -> Changes:
        """What changed since `token` (everything, with an empty one): hrefs with their ETags, deleted hrefs."""
        r = self._call("REPORT", self.url, _SYNC.format(token=_escape(token or "")),
                       {"Content-Type": "application/xml; charset=utf-8", "Depth": "1"}, ok=(207,))
        root = ElementTree.fromstring(r.content)
        changed, deleted = {}, []
        own = urlsplit(self.url).path
        for response in root.findall(f"{{{DAV}}}response"):
            href = unquote(response.findtext(f"{{{DAV}}}href") or "")
            if not href or href.rstrip("/") == own.rstrip("/"):
                continue
            status = response.findtext(f"{{{DAV}}}status") or ""
            if " 404 " in status:
                deleted.append(href)
                continue
            etag = None
            for propstat in response.findall(f"{{{DAV}}}propstat"):
                if " 200 " in (propstat.findtext(f"{{{DAV}}}status") or ""):
                    etag = propstat.findtext(f"{{{DAV}}}prop/{{{DAV}}}getetag")
            if etag:
                changed[href] = etag
        token = root.findtext(f"{{{DAV}}}sync-token") or ""
        return Changes(changed, deleted, token)

    def fetch(self, hrefs: list[str]) -> dict[str, tuple[str, bytes]]:
        """href -> (etag, calendar data) for these resources, in one multiget."""
        if not hrefs:
            return {}
        body = _MULTIGET.format(hrefs="".join(f"<d:href>{_escape(quote(h))}</d:href>" for h in hrefs))
        r = self._call("REPORT", self.url, body, {"Content-Type": "application/xml; charset=utf-8", "Depth": "1"},
                       ok=(207,))
        root = ElementTree.fromstring(r.content)
        out = {}
        for response in root.findall(f"{{{DAV}}}response"):
            href = unquote(response.findtext(f"{{{DAV}}}href") or "")
            for propstat in response.findall(f"{{{DAV}}}propstat"):
                if " 200 " not in (propstat.findtext(f"{{{DAV}}}status") or ""):
                    continue
                data = propstat.findtext(f"{{{DAV}}}prop/{{{CALDAV}}}calendar-data")
                etag = propstat.findtext(f"{{{DAV}}}prop/{{{DAV}}}getetag")
                if data is not None and etag and len(data) <= MAX_OBJECT_BYTES:
                    out[href] = (etag, data.encode())
        return out

    def put(self, href: str, data: bytes, etag: str | None = None) -> str | None:
        """Create (etag None: If-None-Match *) or replace (If-Match) a resource; answers its new ETag if given."""
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        headers["If-Match" if etag else "If-None-Match"] = etag or "*"
        r = self._call("PUT", self.href_url(href), data, headers, ok=(200, 201, 204))
        return r.headers.get("ETag")

    def delete(self, href: str, etag: str | None = None) -> None:
        self._call("DELETE", self.href_url(href), headers={"If-Match": etag} if etag else {}, ok=(200, 204, 404))
