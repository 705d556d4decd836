"""Double opt-in: a public form takes an address, mails it a confirmation link, and subscribes it only when its
owner presses the button on the page that link opens (a POST): link scanners that fetch every URL in a mail
never confirm anything.

The public endpoint answers the same whatever became of the address (new, pending, subscribed, suppressed), is
rate-limited per form and client address, and bounds its body. The mailed token is random and stored only as its
SHA-256; it expires after TOKEN_TTL, and rotating a form's key (or deactivating it) revokes its pending tokens."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import make_msgid

from servicekit import audit, ratelimit
from servicekit.etag import check_version
from servicekit.mail_outbox import enqueue
from servicekit.problems import NotFound, Problem
from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ..db import audit_log, mail_outbox
from . import consent
from .models import ListMember, MailingList, PendingSubscription, SubscriptionForm, SubscriptionHit

MAX_BODY = 4 * 1024
TOKEN_TTL = timedelta(days=7)
LIMITS = ((timedelta(minutes=1), 5), (timedelta(hours=1), 30))
SUBSCRIBE_PATH = "/api/v1/public/subscriptions/{}"
CONFIRM_PATH = "/api/v1/public/subscriptions/confirm/{}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def form_view(f: SubscriptionForm) -> dict:
    return {"id": f.id, "name": f.name, "form_key": f.form_key, "subscribe_url": SUBSCRIBE_PATH.format(f.form_key),
            "list_id": f.list_id, "active": f.active, "version": f.version, "created_at": f.created_at,
            "updated_at": f.updated_at}


def _get(session: Session, form_id, lock=False) -> SubscriptionForm:
    form = session.get(SubscriptionForm, str(form_id), with_for_update=lock)
    if form is None:
        raise NotFound("subscription form", form_id)
    return form


def create_form(session: Session, data: dict, actor) -> dict:
    if session.get(MailingList, str(data["list_id"])) is None:
        raise Problem(422, "Invalid request", "list_id: no such mailing list", "validation-error",
                      errors=[{"field": "list_id", "message": "no such mailing list"}])
    if session.execute(select(SubscriptionForm.id).where(func.lower(SubscriptionForm.name)
                                                         == data["name"].lower())).first():
        raise Problem(409, "Name taken", "name: already used", "conflict",
                      errors=[{"field": "name", "message": "already used"}])
    form = SubscriptionForm(name=data["name"], form_key=secrets.token_urlsafe(18), list_id=str(data["list_id"]),
                            active=data.get("active", True), version=1)
    session.add(form)
    session.flush()
    audit.record(session, audit_log, actor, "create", "subscription_form", form.id, None, {"name": form.name})
    return form_view(form)


def list_forms(session: Session) -> list[dict]:
    return [form_view(f) for f in session.execute(select(SubscriptionForm).order_by(SubscriptionForm.name)).scalars()]


def update_form(session: Session, form_id, expected: int, changes: dict, actor) -> dict:
    form = _get(session, form_id, lock=True)
    check_version(form.version, expected)
    if changes.get("rotate_key"):
        form.form_key = secrets.token_urlsafe(18)
        session.execute(delete(PendingSubscription).where(PendingSubscription.form_id == form.id,
                                                          PendingSubscription.confirmed_at.is_(None)))
    if "active" in changes:
        form.active = changes["active"]
    form.version += 1
    form.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, audit_log, actor, "update", "subscription_form", form.id,
                 changes={k: ("rotated" if k == "rotate_key" else v) for k, v in changes.items()})
    return form_view(form)


# -- the public side -----------------------------------------------------------------------------------------------

def _admit(session: Session, form_id: str, address: str, now: datetime) -> None:
    ratelimit.admit(session, SubscriptionHit, {"form_id": form_id, "address": address}, LIMITS, name="subscribe",
                    now=now)


def _active_form(session: Session, form_key: str) -> SubscriptionForm:
    form = session.execute(select(SubscriptionForm).where(SubscriptionForm.form_key == form_key[:64],
                                                          SubscriptionForm.active)).scalar_one_or_none()
    if form is None:
        raise Problem(404, "Not found", "No active subscription form has this key.", "not-found")
    return form


def _confirmation(sender: str, to: str, list_name: str, url: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"] = sender, to
    msg["Subject"] = f"Please confirm your subscription to {list_name}"
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2].strip("> ") or None)
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(f"Someone, hopefully you, asked to receive {list_name} at this address.\n\n"
                    f"Open this page and press the button to confirm:\n{url}\n\n"
                    "If it was not you, ignore this message: nothing will be sent to you.\n")
    return msg


def request_subscription(session: Session, form_key: str, email: str, ip: str, sender: str, public_url: str,
                         now: datetime | None = None) -> None:
    """Record a pending subscription and mail its confirmation link; nothing happens for a suppressed address
    (and the visitor is not told). Counting against the limit is committed by the caller's first transaction."""
    now = now or datetime.now(UTC)
    form = _active_form(session, form_key)
    a = consent.address(session, email)
    if a.suppressed_reason is not None and a.suppressed_reason != "unsubscribed":
        return  # bounced, complained or blocked: only a user can release it
    member = session.get(ListMember, (form.list_id, a.email))
    if a.consent == "subscribed" and member is not None and member.unsubscribed_at is None:
        return
    token = secrets.token_urlsafe(32)
    session.add(PendingSubscription(token_hash=_hash(token), form_id=form.id, email=a.email, ip=ip, created_at=now))
    if a.consent in ("none", "unsubscribed"):
        consent.set_consent(session, a.email, "pending", method="form", source=f"subscription form {form.name}",
                            ip=ip, actor=f"subscription form {form.name}")
    list_name = session.get(MailingList, form.list_id).name
    enqueue(session, mail_outbox, _confirmation(sender, a.email, list_name, public_url + CONFIRM_PATH.format(token)),
            "subscription", form.id)


def admit(sessions, form_key: str, address: str) -> None:
    """Count the request (its own transaction: refused ones count too); 404 for an unknown or inactive key."""
    with sessions.begin() as session:
        form = _active_form(session, form_key)
        _admit(session, form.id, address, datetime.now(UTC))


def _pending(session: Session, token: str, lock: bool = False) -> PendingSubscription:
    stmt = select(PendingSubscription).join(SubscriptionForm, SubscriptionForm.id == PendingSubscription.form_id)\
        .where(PendingSubscription.token_hash == _hash(token[:100]), SubscriptionForm.active,
               PendingSubscription.created_at > datetime.now(UTC) - TOKEN_TTL)
    pending = session.execute(stmt.with_for_update(of=PendingSubscription) if lock else stmt).scalar_one_or_none()
    if pending is None:
        raise Problem(404, "Not found", "This confirmation link is unknown or expired.", "not-found")
    return pending


def confirmation_page(session: Session, token: str) -> dict:
    """What the GET page shows (it changes nothing): the address and the list."""
    pending = _pending(session, token)
    form = session.get(SubscriptionForm, pending.form_id)
    return {"email": pending.email, "list": session.get(MailingList, form.list_id).name,
            "confirmed": pending.confirmed_at is not None}


def confirm(session: Session, token: str, ip: str) -> dict:
    """The owner pressed the button: consent given (double opt-in, with the form and both IPs), and the address
    joins the form's list (again, if it had left it). Confirming twice changes nothing."""
    pending = _pending(session, token, lock=True)
    form = session.get(SubscriptionForm, pending.form_id)
    if pending.confirmed_at is None:
        pending.confirmed_at = datetime.now(UTC)
        consent.set_consent(session, pending.email, "subscribed", method="double_opt_in",
                            source=f"subscription form {form.name}", ip=ip, actor=f"subscription form {form.name}")
        session.execute(insert(ListMember).values(list_id=form.list_id, email=pending.email,
                                                  source=f"subscription form {form.name}")
                        .on_conflict_do_update(index_elements=["list_id", "email"],
                                               set_={"unsubscribed_at": None, "unsubscribe_method": None}))
    return {"email": pending.email, "list": session.get(MailingList, form.list_id).name, "confirmed": True}
