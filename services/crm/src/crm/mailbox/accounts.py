"""Use cases of mail accounts and folders: each user links their own mailboxes (SMTP to send, IMAP to receive;
passwords sealed under CRM_CREDENTIALS_KEY) and keeps CRM folders of their own besides Inbox and Sent.

A host must not make the CRM a way into its own network: loopback, private, link-local and reserved addresses
are refused unless CRM_MAILBOX_ALLOW_PRIVATE (tests, a LAN mail server), when linking and before each connection."""

import ipaddress
import socket
from datetime import UTC, datetime

from servicekit import audit
from servicekit.auth.principal import Principal
from servicekit.etag import check_version
from servicekit.problems import NotFound, Problem, field_error
from servicekit.secretbox import SecretBox
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db import audit_log
from .models import MailAccount, MailFolder, MailMessage

SERVER_FIELDS = ("smtp_host", "smtp_port", "smtp_security", "smtp_username", "imap_host", "imap_port",
                 "imap_security", "imap_username", "imap_folders")


class HostRefused(Exception):
    """The host does not resolve, or resolves to an address the CRM may not connect to."""


def check_host(host: str, allow_private: bool) -> None:
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError, ValueError):
        raise HostRefused(f"{host}: no such host") from None
    if allow_private:
        return
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast \
                or ip.is_unspecified:
            raise HostRefused(f"{host} is a private or local address ({address}): not allowed for a mail server")


def _check_hosts(data: dict, allow_private: bool) -> None:
    for name in ("smtp_host", "imap_host"):
        if data.get(name):
            try:
                check_host(data[name], allow_private)
            except HostRefused as exc:
                raise field_error(name, str(exc)) from None


def account_view(a: MailAccount) -> dict:
    """Never the passwords: only whether one is stored."""
    return {"id": a.id, "user_id": a.user_id, "email": a.email, "display_name": a.display_name,
            **{f: getattr(a, f) for f in SERVER_FIELDS}, "smtp_password_set": bool(a.smtp_secret),
            "imap_password_set": bool(a.imap_secret), "last_fetched_at": a.last_fetched_at,
            "last_error": a.last_error, "version": a.version, "created_at": a.created_at, "updated_at": a.updated_at}


def own_account(session: Session, account_id, me: Principal, lock: bool = False) -> MailAccount:
    """The caller's account (another user's is a 404: it does not show that it exists)."""
    a = session.get(MailAccount, str(account_id), with_for_update=lock)
    if a is None or a.user_id != me.user_id:
        raise NotFound("mail account", account_id)
    return a


def create_account(session: Session, data: dict, me: Principal, box: SecretBox, allow_private: bool) -> dict:
    _check_hosts(data, allow_private)
    if bool(data.get("imap_host")) != bool(data.get("imap_port")):
        raise field_error("imap_port", "give the IMAP host and port together (or neither, to send only)")
    email = data["email"].strip().lower()
    if not email.isascii():
        raise field_error("email", "an address with non-ASCII characters (SMTPUTF8) is not supported yet")
    if session.execute(select(MailAccount.id).where(MailAccount.user_id == me.user_id,
                                                    MailAccount.email == email)).first():
        raise Problem(409, "Already linked", "You have linked this address already.", "duplicate",
                      errors=[{"field": "email", "message": "already linked"}])
    a = MailAccount(user_id=me.user_id, email=email, display_name=data.get("display_name"),
                    **{f: data[f] for f in SERVER_FIELDS if f in data},
                    smtp_secret=box.seal(data.get("smtp_password") or ""),
                    imap_secret=box.seal(data.get("imap_password") or ""), version=1)
    a.smtp_username = a.smtp_username or ""
    a.imap_username = a.imap_username or ""
    session.add(a)
    session.flush()
    session.add_all([MailFolder(account_id=a.id, name="Inbox", role="inbox"),
                     MailFolder(account_id=a.id, name="Sent", role="sent")])
    audit.record(session, audit_log, me, "create", "mail_account", a.id, None,
                 {"email": a.email, "smtp_host": a.smtp_host, "imap_host": a.imap_host})
    return account_view(a)


def list_accounts(session: Session, me: Principal) -> list[dict]:
    return [account_view(a) for a in session.execute(select(MailAccount).where(MailAccount.user_id == me.user_id)
                                                      .order_by(MailAccount.email)).scalars()]


def get_account(session: Session, account_id, me: Principal) -> dict:
    return account_view(own_account(session, account_id, me))


def update_account(session: Session, account_id, expected: int, changes: dict, me: Principal, box: SecretBox,
                   allow_private: bool) -> dict:
    a = own_account(session, account_id, me, lock=True)
    check_version(a.version, expected)
    _check_hosts(changes, allow_private)
    for key, value in changes.items():
        if key in ("smtp_password", "imap_password"):
            setattr(a, key.replace("password", "secret"), box.seal(value or ""))
        else:
            setattr(a, key, value)
    if bool(a.imap_host) != bool(a.imap_port):
        raise field_error("imap_port", "give the IMAP host and port together (or neither, to send only)")
    a.version += 1
    a.updated_at = datetime.now(UTC)
    a.last_error = None
    session.flush()
    audit.record(session, audit_log, me, "update", "mail_account", a.id,
                 changes={k: ("(sealed)" if "password" in k else v) for k, v in changes.items()})
    return account_view(a)


# -- folders ---------------------------------------------------------------------------------------------------

def folder_for(session: Session, account_id: str, name: str, role: str = "user") -> MailFolder:
    """The account's folder of that name (made when missing, e.g. for a remote IMAP folder)."""
    folder = session.execute(select(MailFolder).where(MailFolder.account_id == account_id,
                                                      MailFolder.name == name)).scalar_one_or_none()
    if folder is None:
        folder = MailFolder(account_id=account_id, name=name, role=role)
        session.add(folder)
        session.flush()
    return folder


def role_folder(session: Session, account_id: str, role: str) -> MailFolder:
    return session.execute(select(MailFolder).where(MailFolder.account_id == account_id,
                                                    MailFolder.role == role)).scalar_one()


def list_folders(session: Session, me: Principal) -> list[dict]:
    unread = func.count(MailMessage.id).filter(MailMessage.is_read.is_(False))
    rows = session.execute(
        select(MailFolder, MailAccount.email, func.count(MailMessage.id).label("total"), unread.label("unread"))
        .join(MailAccount, MailAccount.id == MailFolder.account_id)
        .outerjoin(MailMessage, MailMessage.folder_id == MailFolder.id)
        .where(MailAccount.user_id == me.user_id)
        .group_by(MailFolder.id, MailAccount.email)
        .order_by(MailAccount.email, MailFolder.role, MailFolder.name)).all()
    return [{"id": f.id, "account_id": f.account_id, "account_email": email, "name": f.name, "role": f.role,
             "total": total, "unread": unread} for f, email, total, unread in rows]


def create_folder(session: Session, data: dict, me: Principal) -> dict:
    a = own_account(session, data["account_id"], me)
    if session.execute(select(MailFolder.id).where(MailFolder.account_id == a.id,
                                                   func.lower(MailFolder.name) == data["name"].lower())).first():
        raise field_error("name", "already used", status=409, title="Name taken", type_="conflict")
    folder = MailFolder(account_id=a.id, name=data["name"], role="user")
    session.add(folder)
    session.flush()
    return {"id": folder.id, "account_id": a.id, "account_email": a.email, "name": folder.name, "role": "user",
            "total": 0, "unread": 0}
