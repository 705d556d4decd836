"""Use cases of mailbox messages: write a mail to a party's contacts (from a template or free text, with
attachments; queued here and sent by the worker through the user's own SMTP account), store a fetched one, list
and read them by folder, thread or customer record, move them and mark them read; and the reusable templates."""

import base64
import binascii
import re
import uuid
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from servicekit import audit
from servicekit.auth.principal import Principal
from servicekit.etag import check_version
from servicekit.pagination import paginate
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from ..campaigns import content
from ..campaigns.models import EmailAddress
from ..db import audit_log, auth
from ..deals.models import Deal
from ..leads.models import Lead
from ..parties.models import Party
from ..tickets.models import Ticket
from . import parsing, threads
from .accounts import folder_for, own_account, role_folder
from .models import MailAccount, MailFolder, MailLink, MailMessage, MailTemplate
from .parsing import Parsed, normalize_subject

MAX_ATTACHMENT = 2 * 1024 * 1024
MAX_ATTACHMENTS = 5
MAX_RAW = 10 * 1024 * 1024  # a fetched message over this keeps its text and attachment list, not its MIME


# -- views -----------------------------------------------------------------------------------------------------

def _links(session: Session, message_id: str) -> list[dict]:
    return [{"kind": k, "record_id": r, "found_by": f} for k, r, f in session.execute(
        select(MailLink.kind, MailLink.record_id, MailLink.found_by).where(MailLink.message_id == message_id)
        .order_by(MailLink.kind, MailLink.record_id))]


def message_view(session: Session, m: MailMessage, full: bool = True) -> dict:
    view = {"id": m.id, "account_id": m.account_id, "folder_id": m.folder_id, "direction": m.direction,
            "status": m.status, "thread_id": m.thread_id, "message_id": m.header_message_id,
            "in_reply_to": m.in_reply_to, "subject": m.subject, "from_address": m.from_address,
            "from_name": m.from_name, "to": m.to, "cc": m.cc, "date": m.date, "is_read": m.is_read,
            "auto_reply": m.auto_reply, "attachments": m.attachments, "has_html": m.has_html,
            "snippet": " ".join((m.text_body or "")[:300].split())[:200], "sent_at": m.sent_at,
            "last_error": m.last_error, "version": m.version}
    if full:
        view.update(text_body=m.text_body, references=m.references, links=_links(session, m.id))
    return view


def _own_message(session: Session, message_id, me: Principal, lock: bool = False) -> MailMessage:
    m = session.get(MailMessage, str(message_id), with_for_update=lock)
    if m is None or session.get(MailAccount, m.account_id).user_id != me.user_id:
        raise NotFound("mail", message_id)
    return m


# -- reading ---------------------------------------------------------------------------------------------------

# served as themselves; any other type (HTML, SVG, XML, scripts: what a browser would run) as a plain download
_SERVED_AS_IS = re.compile(r"^(application/(pdf|zip|octet-stream|msword|vnd\.[a-z0-9.+-]{1,80})"
                           r"|image/(png|jpeg|gif|webp)|text/(plain|csv|calendar|vcard)"
                           r"|audio/[a-z0-9.+-]{1,40}|video/[a-z0-9.+-]{1,40})$")


def read_attachment(session: Session, message_id, index: int, me: Principal) -> tuple[dict, bytes]:
    """The `index`-th attachment (0-based, the order of the mail's `attachments`) of one of your mails: its
    {filename, content_type, size} and bytes. The content type is the mail's own only for types a browser does
    not run (application/octet-stream otherwise). 404 for no such attachment; 410 when the mail was larger than
    the CRM keeps (it is listed, not stored: open it in your mail client)."""
    m = _own_message(session, message_id, me)
    if not 0 <= index < len(m.attachments or []):
        raise NotFound("attachment", index)
    if m.raw is None:
        raise Problem(410, "Mail not kept", "The mail was larger than the CRM keeps: its attachments are listed, "
                      "not stored. Open it in your mail client.", "mail-not-kept")
    for position, (meta, data) in enumerate(parsing.attachment_parts(parsing.read(m.raw))):
        if position == index:
            served = meta["content_type"] if _SERVED_AS_IS.match(meta["content_type"]) else "application/octet-stream"
            return {**meta, "content_type": served}, data
    raise NotFound("attachment", index)


def list_messages(session: Session, me: Principal, args: dict) -> dict:
    """The caller's mail, newest first, in a folder, a thread, about a record, or unread only."""
    q = select(MailMessage).join(MailAccount, MailAccount.id == MailMessage.account_id).where(
        MailAccount.user_id == me.user_id)
    for name in ("folder_id", "thread_id", "account_id"):
        if args.get(name):
            q = q.where(getattr(MailMessage, name) == str(args[name]))
    for kind in ("party", "lead", "deal", "ticket"):
        if args.get(f"{kind}_id"):
            q = q.where(exists().where(MailLink.message_id == MailMessage.id, MailLink.kind == kind,
                                       MailLink.record_id == str(args[f"{kind}_id"])))
    if args.get("unread"):
        q = q.where(MailMessage.is_read.is_(False))
    order = (MailMessage.date.asc(), MailMessage.created_at.asc()) if args.get("thread_id") else (
        MailMessage.date.desc(), MailMessage.created_at.desc())
    page = paginate(session, q.order_by(*order), args["page"], args["page_size"])
    return {**page, "items": [message_view(session, m, full=False) for m in page["items"]]}


def get_message(session: Session, message_id, me: Principal) -> dict:
    return message_view(session, _own_message(session, message_id, me))


def update_message(session: Session, message_id, expected: int, changes: dict, me: Principal) -> dict:
    """Move the mail to another folder of its account, or mark it read or unread (for a fetched mail the worker then
    sets or clears \\Seen on the server, so the user's other clients agree)."""
    m = _own_message(session, message_id, me, lock=True)
    check_version(m.version, expected)
    if "folder_id" in changes:
        folder = session.get(MailFolder, str(changes["folder_id"]))
        if folder is None or folder.account_id != m.account_id:
            raise field_error("folder_id", "not a folder of this mail's account")
        m.folder_id = folder.id
    if "is_read" in changes and changes["is_read"] != m.is_read:
        m.is_read = changes["is_read"]
        m.flag_pending = m.remote_uid is not None  # fetched from the server: its \Seen follows
    m.version += 1
    session.flush()
    return message_view(session, m)


# -- receiving -------------------------------------------------------------------------------------------------

def store_fetched(session: Session, account: MailAccount, remote_folder: str, uidvalidity: int, uid: int,
                  raw: bytes, parsed: Parsed, seen: bool) -> MailMessage | None:
    """Keep a fetched mail in the CRM folder of its remote folder, threaded and linked; None when the account
    holds it already (the same Message-ID fetched again after the server renumbered the folder, or, outside the
    inbox, a mail sent from the CRM whose copy the worker put in the server's Sent folder)."""
    own = [MailMessage.direction == "in"] if remote_folder.upper() == "INBOX" else []
    if parsed.message_id and session.execute(select(MailMessage.id).where(
            MailMessage.account_id == account.id, MailMessage.header_message_id == parsed.message_id,
            *own)).first():
        return None
    folder = role_folder(session, account.id, "inbox") if remote_folder.upper() == "INBOX" \
        else folder_for(session, account.id, remote_folder[:100])
    m = MailMessage(id=str(uuid.uuid4()), account_id=account.id, folder_id=folder.id, direction="in",
                    status="received", header_message_id=parsed.message_id, in_reply_to=parsed.in_reply_to,
                    references=parsed.references, subject=parsed.subject,
                    normalized_subject=parsed.normalized_subject, from_address=parsed.from_address,
                    from_name=parsed.from_name, to=parsed.to, cc=parsed.cc, date=parsed.date, text_body=parsed.text,
                    has_html=parsed.has_html, attachments=parsed.attachments, auto_reply=parsed.auto_reply,
                    is_read=seen, raw=raw if len(raw) <= MAX_RAW else None, remote_folder=remote_folder,
                    remote_uidvalidity=uidvalidity, remote_uid=uid, version=1)
    m.thread_id = threads.thread_for(session, m)
    session.add(m)
    session.flush()
    threads.link(session, m, account.email)
    return m


# -- writing ---------------------------------------------------------------------------------------------------

def _context(session: Session, party: Party | None, to: str, me: Principal) -> dict:
    """The merge fields: the recipient (the party when it is a person), their company, their owner (else you)."""
    ctx = {**content.SAMPLE, "recipient": {"email": to, "name": to, "first_name": "", "last_name": ""},
           "company": {"name": ""}, "campaign": {"name": ""}, "unsubscribe_url": ""}
    owner_id = me.user_id
    if party is not None:
        owner_id = party.owner_id or me.user_id
        if party.kind == "person":
            ctx["recipient"] = {"email": to, "name": party.display_name, "first_name": party.first_name or "",
                                "last_name": party.last_name or ""}
            company = session.get(Party, party.company_id) if party.company_id else None
            ctx["company"] = {"name": company.display_name if company else ""}
        else:
            ctx["recipient"]["name"] = party.display_name
            ctx["company"] = {"name": party.display_name}
    owner = session.execute(select(auth.users.c.name, auth.users.c.email).where(auth.users.c.id == owner_id)).first()
    ctx["owner"] = {"name": owner.name or "" if owner else "", "email": owner.email if owner else ""}
    return ctx


def _record(session: Session, model, field: str, value):
    if value is None:
        return None
    record = session.get(model, str(value))
    if record is None:
        raise field_error(field, "no such record")
    return record


def _attachments(items: list[dict]) -> list[tuple[str, str, bytes]]:
    if len(items) > MAX_ATTACHMENTS:
        raise field_error("attachments", f"at most {MAX_ATTACHMENTS} files", status=413, title="Content too large",
                          type_="content-too-large")
    files = []
    for i, item in enumerate(items):
        try:
            raw = base64.b64decode(item["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise field_error(f"attachments[{i}].content_base64", "not base64") from None
        if len(raw) > MAX_ATTACHMENT:
            raise field_error(f"attachments[{i}].content_base64", f"over {MAX_ATTACHMENT // 1024 // 1024} MiB",
                              status=413, title="Content too large", type_="content-too-large")
        files.append((item["filename"], item["content_type"], raw))
    return files


def _suppressed(session: Session, addresses: list[str]) -> list[str]:
    return list(session.execute(select(EmailAddress.email).where(EmailAddress.email.in_(addresses),
                                                                 EmailAddress.suppressed_reason.is_not(None))
                                .order_by(EmailAddress.email)).scalars())


def send(session: Session, data: dict, me: Principal, now: datetime | None = None) -> dict:
    """Queue a mail in the account's Sent folder (status queued); the worker sends it through the account's SMTP
    server. A marketing template is never sent to a suppressed address (409 naming it)."""
    now = now or datetime.now(UTC)
    account = own_account(session, data["account_id"], me)
    to = [x.strip().lower() for x in data["to"]]
    cc = [x.strip().lower() for x in data.get("cc") or []]
    for name, addresses in (("to", to), ("cc", cc)):
        if not all(a.isascii() for a in addresses):
            raise field_error(name, "an address with non-ASCII characters (SMTPUTF8) cannot be sent yet")
    party = _record(session, Party, "party_id", data.get("party_id"))
    _record(session, Deal, "deal_id", data.get("deal_id"))
    _record(session, Lead, "lead_id", data.get("lead_id"))
    _record(session, Ticket, "ticket_id", data.get("ticket_id"))
    template = _record(session, MailTemplate, "template_id", data.get("template_id"))
    if template is not None and template.marketing:
        blocked = _suppressed(session, to + cc)
        if blocked:
            raise Problem(409, "Suppressed address", f"A marketing template is not sent to {', '.join(blocked)} "
                          "(unsubscribed, bounced, complained or blocked).", "suppressed",
                          errors=[{"field": "to", "message": f"suppressed: {a}"} for a in blocked])
    if template is not None:
        rendered = content.render(template.subject, template.html_body, template.text_body,
                                  _context(session, party, to[0], me))
        subject, html_body, text_body = rendered.subject, rendered.html, rendered.text
    else:
        if not data.get("subject") or not (data.get("text_body") or data.get("html_body")):
            raise field_error("subject" if not data.get("subject") else "text_body",
                              "give a template_id, or a subject and a text or HTML body")
        subject, html_body = content.one_line(data["subject"]), data.get("html_body")
        text_body = data.get("text_body") or content.html_to_text(html_body)
    files = _attachments(data.get("attachments") or [])
    parent = _own_message(session, data["reply_to_message_id"], me) if data.get("reply_to_message_id") else None
    if parent is not None and parent.account_id != account.id:
        raise field_error("reply_to_message_id", "a mail of another of your accounts: reply from that one")

    domain = account.email.rpartition("@")[2] or "crm.localhost"
    header_id = f"<{uuid.uuid4()}@{domain}>"
    references = [*(parent.references if parent else []), *([parent.header_message_id]
                                                            if parent and parent.header_message_id else [])][-50:]
    msg = EmailMessage()
    msg["From"] = formataddr((content.one_line(account.display_name or ""), account.email))
    msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Subject"] = subject
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = header_id
    if parent is not None and parent.header_message_id:
        msg["In-Reply-To"] = parent.header_message_id
        msg["References"] = " ".join(references)
    msg.set_content(text_body)
    if html_body:
        msg.add_alternative(html_body, subtype="html")
    for filename, content_type, raw in files:
        maintype, _, subtype = content_type.partition("/")
        msg.add_attachment(raw, maintype=maintype, subtype=subtype, filename=content.one_line(filename))

    m = MailMessage(id=str(uuid.uuid4()), account_id=account.id, folder_id=role_folder(session, account.id, "sent").id,
                    direction="out", status="queued", header_message_id=header_id,
                    in_reply_to=parent.header_message_id if parent else None, references=references,
                    subject=subject, normalized_subject=normalize_subject(subject), from_address=account.email,
                    from_name=account.display_name, to=[{"name": None, "address": a} for a in to],
                    cc=[{"name": None, "address": a} for a in cc], date=now, text_body=text_body,
                    has_html=bool(html_body), is_read=True, raw=msg.as_bytes(policy=policy.SMTP),
                    attachments=[{"filename": f, "content_type": t, "size": len(r)} for f, t, r in files],
                    template_id=template.id if template else None, next_attempt_at=now, version=1)
    m.thread_id = parent.thread_id if parent else threads.thread_for(session, m)
    session.add(m)
    session.flush()
    threads.link(session, m, account.email, {k: data.get(k) for k in ("party_id", "deal_id", "lead_id",
                                                                        "ticket_id")})
    audit.record(session, audit_log, me, "send", "mail_message", m.id, None,
                 {"to": to, "cc": cc, "subject": subject, "template_id": m.template_id})
    return message_view(session, m)


# -- templates -------------------------------------------------------------------------------------------------

def template_view(t: MailTemplate) -> dict:
    return {"id": t.id, "name": t.name, "subject": t.subject, "html_body": t.html_body, "text_body": t.text_body,
            "marketing": t.marketing, "owner_id": t.owner_id, "version": t.version, "created_at": t.created_at}


def create_template(session: Session, data: dict, me: Principal) -> dict:
    for name, html_mode in (("subject", False), ("html_body", True), ("text_body", False)):
        if data.get(name):
            content.check_template(name, data[name], html_mode)
    if session.execute(select(MailTemplate.id).where(func.lower(MailTemplate.name) == data["name"].lower())).first():
        raise field_error("name", "already used", status=409, title="Name taken", type_="conflict")
    t = MailTemplate(name=data["name"], subject=data["subject"], html_body=data["html_body"],
                     text_body=data.get("text_body"), marketing=data.get("marketing", False), owner_id=me.user_id,
                     version=1)
    session.add(t)
    session.flush()
    return template_view(t)


def list_templates(session: Session) -> list[dict]:
    return [template_view(t) for t in session.execute(select(MailTemplate).order_by(MailTemplate.name)).scalars()]
