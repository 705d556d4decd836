"""Two-way sync of a user's agenda with an external CalDAV calendar (Nextcloud, Radicale, iCloud, Fastmail...).

A link holds the calendar's URL and credentials (the password encrypted). Each sync, under a row lock on the link
(two workers never sync one link at once):
1. pull: the server's changes since the last sync token (RFC 6578; an unknown token means a full listing), the
   changed objects in one multiget; each is stored as the user's event keyed by UID (a series with its
   RECURRENCE-ID overrides, exactly like an .ics import); a resource deleted there deletes the event here;
2. push: every event the user owns that is new or changed here since it was last synced is PUT (If-Match its ETag,
   If-None-Match for a new one); an event deleted here is DELETEd there.
When both sides changed one event since the last sync, the later LAST-MODIFIED wins and the losing version is kept
in the event's history (audit log action `caldav_conflict`, with the loser's values). An ETag that moved under a
PUT (412) leaves the event for the next sync's pull. The DB side of a sync is one transaction; a failure rolls it
back and marks the link failing with the reason (the next sync starts again from the stored token)."""

import ipaddress
import logging
import socket
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote, urlsplit

from servicekit import audit
from servicekit.auth import service as auth_service
from servicekit.auth.principal import Principal
from servicekit.problems import NotFound, Problem, field_error
from servicekit.secretbox import SecretBox
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from ..db import audit_log, auth
from . import exchange, ics
from . import service as events
from .dav import DavCalendar, DavError, InvalidSyncToken, PreconditionFailed
from .models import AgendaEvent, CalDavItem, CalDavLink

log = logging.getLogger(__name__)


# -- links -----------------------------------------------------------------------------------------------------

def check_host(url: str, allow_private: bool) -> None:
    """Refuse a calendar on a loopback, private, link-local or reserved address unless allowed (CRM_CALDAV_ALLOW_
    PRIVATE): a link must not make the CRM a way into its own network. Checked when linking and before each sync."""
    host = urlsplit(url).hostname or ""
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        raise DavError(0, f"{host}: no such host") from None
    if allow_private:
        return
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast \
                or ip.is_unspecified:
            raise DavError(0, f"{host} is a private or local address ({address}): not allowed for a calendar link")


def link_view(link: CalDavLink) -> dict:
    return {"id": link.id, "url": link.url, "username": link.username, "status": link.status,
            "last_synced_at": link.last_synced_at, "last_error": link.last_error, "created_at": link.created_at}


def create_link(session: Session, data: dict, actor: Principal, box: SecretBox, allow_private: bool = False) -> dict:
    """Link a CalDAV calendar to the caller's agenda (synced by the worker; POST .../sync to sync now)."""
    url = data["url"].strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise field_error("url", "the calendar collection's http(s) URL")
    try:
        check_host(url, allow_private)
    except DavError as exc:
        raise field_error("url", str(exc)) from None
    url = url if url.endswith("/") else url + "/"
    if session.execute(select(CalDavLink.id).where(CalDavLink.user_id == actor.user_id,
                                                   CalDavLink.url == url)).first():
        raise Problem(409, "Already linked", "This calendar is already linked to your agenda.", "duplicate",
                      errors=[{"field": "url", "message": "already linked"}])
    link = CalDavLink(user_id=actor.user_id, url=url, username=data.get("username") or "",
                      secret=box.seal(data.get("password") or ""), status="active", version=1)
    session.add(link)
    session.flush()
    audit.record(session, audit_log, actor, "create", "caldav_link", link.id, None, {"url": url})
    return link_view(link)


def _own_link(session: Session, link_id, actor: Principal, lock: bool = False) -> CalDavLink:
    stmt = select(CalDavLink).where(CalDavLink.id == str(link_id), CalDavLink.user_id == actor.user_id)
    link = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if link is None:
        raise NotFound("calendar link", link_id)
    return link


def list_links(session: Session, actor: Principal) -> list[dict]:
    return [link_view(link) for link in session.execute(select(CalDavLink).where(
        CalDavLink.user_id == actor.user_id).order_by(CalDavLink.created_at)).scalars()]


def delete_link(session: Session, link_id, actor: Principal) -> None:
    """Unlink: nothing is deleted on either side; the events stay in the agenda."""
    link = _own_link(session, link_id, actor, lock=True)
    audit.record(session, audit_log, actor, "delete", "caldav_link", link.id, {"url": link.url}, None)
    session.delete(link)


# -- sync ------------------------------------------------------------------------------------------------------

class Sync:
    """One sync of one link, inside the caller's transaction."""

    def __init__(self, session: Session, link: CalDavLink, actor: Principal, dav: DavCalendar):
        self.session, self.link, self.actor, self.dav = session, link, actor, dav
        self.items = {i.href: i for i in session.execute(select(CalDavItem).where(
            CalDavItem.link_id == link.id)).scalars()}
        self.report = {"pulled": 0, "deleted_here": 0, "pushed": 0, "deleted_there": 0, "conflicts": 0,
                       "skipped": 0}
        self.pulled: set[str] = set()

    def run(self) -> dict:
        try:
            changes = self.dav.changes(self.link.sync_token)
        except InvalidSyncToken:
            changes = self.dav.changes(None)
        self._pull(changes.changed)
        self._remote_deletions(changes.deleted)
        self._push()
        self.link.sync_token = changes.token or None
        return self.report

    # pull
    def _pull(self, changed: dict[str, str]) -> None:
        wanted = [href for href, etag in changed.items()
                  if href not in self.items or self.items[href].etag != etag]
        for href, (etag, data) in self.dav.fetch(wanted).items():
            try:
                families = ics.parse(data)
            except ics.IcsError as exc:
                log.warning("caldav link %s: %s unreadable (%s), skipped", self.link.id, href, exc)
                self.report["skipped"] += 1
                continue
            users, parties = exchange.people_of(self.session, families)
            for fam in families:
                self._take(href, etag, fam, users, parties)

    def _take(self, href: str, etag: str, fam: ics.Imported, users: dict, parties: dict) -> None:
        item = self.items.get(href) or self.session.execute(select(CalDavItem).where(
            CalDavItem.link_id == self.link.id, CalDavItem.uid == fam.uid)).scalar_one_or_none()
        ev = self.session.get(AgendaEvent, item.event_id) if item and item.event_id else None
        if ev is not None and item is not None and ev.version != item.synced_version:
            remote_newer = fam.modified is not None and fam.modified > ev.updated_at
            self.report["conflicts"] += 1
            if not remote_newer:  # ours wins: keep theirs in the history, push ours below
                audit.record(self.session, audit_log, self.actor, "caldav_conflict", events.RECORD, ev.id,
                             _remote_state(fam), events._state(ev))
                item.etag = etag
                return
            audit.record(self.session, audit_log, self.actor, "caldav_conflict", events.RECORD, ev.id,
                         events._state(ev), _remote_state(fam))
        try:
            kind, ev = exchange.upsert_family(self.session, fam, self.actor, users, parties, action="caldav")
        except Problem as problem:
            log.warning("caldav link %s: %s refused (%s), skipped", self.link.id, href, problem)
            self.report["skipped"] += 1
            return
        if item is None:
            item = CalDavItem(link_id=self.link.id, href=href, uid=fam.uid)
            self.session.add(item)
            self.items[href] = item
        item.href, item.uid, item.etag = href, fam.uid, etag
        item.event_id = ev.id if ev is not None else None
        item.synced_version = ev.version if ev is not None else 0
        self.pulled.add(href)
        self.report["pulled"] += 1
        self.session.flush()

    def _remote_deletions(self, deleted: list[str]) -> None:
        for href in deleted:
            item = self.items.get(href)
            if item is None:
                continue
            ev = self.session.get(AgendaEvent, item.event_id) if item.event_id else None
            if ev is not None and ev.version != item.synced_version:
                item.etag = None  # changed here since: ours survives and is created there again
                continue
            if ev is not None:
                exchange.delete_event(self.session, ev, self.actor, "caldav")
                self.report["deleted_here"] += 1
            self.session.delete(item)
            del self.items[href]
        self.session.flush()

    # push
    def _push(self) -> None:
        by_event = {i.event_id: i for i in self.items.values() if i.event_id}
        owned = self.session.execute(select(AgendaEvent).where(AgendaEvent.owner_id == self.actor.user_id)
                                     .order_by(AgendaEvent.created_at, AgendaEvent.id)).scalars().all()
        base = unquote(urlsplit(self.dav.url).path)
        for ev in owned:
            item = by_event.get(ev.id)
            if item is not None and item.synced_version == ev.version and item.etag is not None:
                continue  # as last synced (or just pulled)
            body = ics.calendar(exchange.specs(self.session, [ev], self.actor.user_id))
            href = item.href if item is not None else base + _safe_name(ev.uid) + ".ics"
            try:
                etag = self.dav.put(href, body, item.etag if item is not None else None)
            except PreconditionFailed:
                continue  # changed there meanwhile: the next pull takes it, then the conflict rule decides
            if item is None:
                item = CalDavItem(link_id=self.link.id, href=href, uid=ev.uid)
                self.session.add(item)
                self.items[href] = item
            item.etag, item.event_id, item.synced_version = etag, ev.id, ev.version
            self.report["pushed"] += 1
        for item in [i for i in self.items.values() if i.event_id is None and i.href not in self.pulled]:
            self.dav.delete(item.href, item.etag)
            self.session.delete(item)
            del self.items[item.href]
            self.report["deleted_there"] += 1
        self.session.flush()


def _safe_name(uid: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.@" else "_" for c in uid)[:200]


def _remote_state(fam: ics.Imported) -> dict:
    keep = ("title", "description", "location", "starts_at", "ends_at", "all_day", "tz", "rrule")
    return {k: fam.values.get(k) for k in keep} | {"last_modified": fam.modified,
                                                   "overrides": len(fam.overrides)}


def sync_link(sessions: sessionmaker, link_id: str, box: SecretBox, now: datetime | None = None,
              dav_factory=DavCalendar, allow_private: bool = False) -> dict | None:
    """Sync one link now (None if another sync holds it). A failure rolls the sync back and marks the link."""
    now = now or datetime.now(UTC)
    try:
        with sessions.begin() as session:
            link = session.execute(select(CalDavLink).where(CalDavLink.id == str(link_id))
                                   .with_for_update(skip_locked=True)).scalar_one_or_none()
            if link is None:
                return None
            actor = auth_service.user_principal(session, auth, link.user_id)
            if actor is None:
                raise DavError(0, "the linked user is deactivated")
            check_host(link.url, allow_private)
            password = box.open(link.secret)
            if password is None:
                raise DavError(0, "the stored password cannot be read (CRM_CREDENTIALS_KEY changed): link again")
            report = Sync(session, link, actor, dav_factory(link.url, link.username, password)).run()
            link.status, link.last_error, link.last_synced_at = "active", None, now
            return report
    except DavError as exc:
        with sessions.begin() as session:
            session.execute(CalDavLink.__table__.update().where(CalDavLink.id == str(link_id)).values(
                status="failing", last_error=str(exc)[:500], last_synced_at=now))
        log.warning("caldav link %s: %s", link_id, exc)
        return {"error": str(exc)}


def sync_now(sessions: sessionmaker, link_id, actor: Principal, box: SecretBox, allow_private: bool = False) -> dict:
    """The caller's link synced at once (what the worker does on its schedule)."""
    with sessions.begin() as session:
        _own_link(session, link_id, actor)
    report = sync_link(sessions, str(link_id), box, allow_private=allow_private)
    if report is None:
        raise Problem(409, "Sync running", "This calendar is being synced right now: try again shortly.",
                      "sync-running")
    with sessions.begin() as session:
        return {**link_view(_own_link(session, link_id, actor)), "report": report}


class CalDavRunner:
    """The worker's loop: syncs every link not synced for `interval`, one at a time."""

    def __init__(self, sessions: sessionmaker, box: SecretBox, interval: timedelta, poll_interval: float = 5.0,
                 allow_private: bool = False):
        self.sessions, self.box, self.interval, self.poll_interval = sessions, box, interval, poll_interval
        self.allow_private = allow_private
        self._stop = threading.Event()

    def due(self, now: datetime) -> list[str]:
        with self.sessions.begin() as session:
            return [str(i) for i in session.execute(select(CalDavLink.id).where(or_(
                CalDavLink.last_synced_at.is_(None), CalDavLink.last_synced_at < now - self.interval))
                .order_by(CalDavLink.last_synced_at.nulls_first()).limit(50)).scalars()]

    def run_once(self, now: datetime | None = None) -> int:
        now = now or datetime.now(UTC)
        done = 0
        for link_id in self.due(now):
            if sync_link(self.sessions, link_id, self.box, now, allow_private=self.allow_private) is not None:
                done += 1
        return done

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # noqa: BLE001 - one bad link must not stop the others' syncs
                log.exception("caldav runner: a sync failed")
            self._stop.wait(self.poll_interval)

    def stop(self) -> None:
        self._stop.set()

