"""Files on tickets, stored content-addressed (<dir>/<sha256[:2]>/<sha256>) on a configurable directory: the same
bytes are kept once, whatever ticket they come with. Size and type are checked, then the virus-scan hook (a
"package.module:function" given by CRM_TICKET_VIRUS_SCAN, called with the bytes and the file name, returning a reason
to refuse or None) runs before anything is written.

The bytes are written before the row commits; a rolled-back upload leaves an unreferenced file, harmless (the next
upload of the same bytes reuses it), never a row without its file."""

import hashlib
import importlib
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from servicekit import audit
from servicekit.auth.principal import Principal
from servicekit.db import row_view
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import audit_log
from .models import TicketAttachment
from .service import find_ticket, record_fact, ticket_for_change

Scanner = Callable[[bytes, str], str | None]


def load_scanner(spec: str) -> Scanner | None:
    """The virus-scan callable named "module:function" (None when no hook is configured)."""
    if not spec:
        return None
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


EICAR = b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE"


def refuse_eicar_test_file(data: bytes, filename: str) -> str | None:
    """A minimal scan hook (CRM_TICKET_VIRUS_SCAN=crm.tickets.attachments:refuse_eicar_test_file): refuses the EICAR
    test file, so the hook point can be checked end to end; plug a real scanner (clamd...) the same way."""
    return "EICAR test signature" if EICAR in data else None


def _path(storage: str, sha: str) -> Path:
    return Path(storage) / sha[:2] / sha


def _store(storage: str, sha: str, data: bytes) -> None:
    target = _path(storage, sha)
    if target.exists():
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{sha}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)  # atomic: a reader never sees half a file


def view(a: TicketAttachment) -> dict:
    return row_view(a)


class Refused(Exception):
    """A file the limits or the scanner refuse: the HTTP status and title to answer with, and why."""

    def __init__(self, status: int, title: str, reason: str):
        super().__init__(reason)
        self.status, self.title, self.reason = status, title, reason


def check_file(name: str, kind: str, data: bytes, settings) -> None:
    """Raise Refused for a file over the size limit (413), of a type not accepted (415), empty or refused by
    the virus-scan hook (422)."""
    if len(data) > settings.ticket_attachment_max_bytes:
        raise Refused(413, "Attachment too large", f"larger than {settings.ticket_attachment_max_bytes} bytes")
    if kind not in settings.ticket_attachment_types:
        raise Refused(415, "Unsupported type", f"type {kind or 'unknown'} is not accepted (accepted: "
                      f"{', '.join(settings.ticket_attachment_types)})")
    if not data:
        raise Refused(422, "Invalid request", "the file is empty")
    scanner = load_scanner(settings.ticket_virus_scan)
    reason = scanner(data, name) if scanner else None
    if reason:
        raise Refused(422, "Invalid request", f"refused by the virus scan: {reason}")


def clean_name(filename: str | None) -> str:
    return os.path.basename((filename or "").replace("\\", "/")).strip()[:255]


def save_file(session: Session, ticket, name: str, kind: str, data: bytes, actor: Principal | None,
              settings) -> TicketAttachment:
    """Store checked bytes once by content and link them to the ticket (a fact on its history, the audit)."""
    sha = hashlib.sha256(data).hexdigest()
    _store(settings.ticket_storage_dir, sha, data)
    attachment = TicketAttachment(ticket_id=ticket.id, sha256=sha, filename=name, content_type=kind, size=len(data),
                                  created_by=actor.user_id if actor else None, created_at=datetime.now(UTC))
    session.add(attachment)
    session.flush()
    record_fact(session, ticket, "attachment", {"filename": name, "size": len(data)}, actor)
    audit.record(session, audit_log, actor, "attach", "ticket", ticket.id, None, view(attachment))
    return attachment


def add_attachment(session: Session, ticket_id, filename: str, content_type: str, data: bytes, actor: Principal,
                   settings) -> dict:
    """Attach a file to a ticket the caller may change: over the size limit is a 413, a type not allowed a 415,
    a file the scanner refuses a 422, each naming the field `file`, and nothing is stored."""
    ticket = ticket_for_change(session, ticket_id, actor)
    name = clean_name(filename)
    if not name:
        raise field_error("file", "the file needs a name")
    kind = (content_type or "").split(";")[0].strip().lower()
    try:
        check_file(name, kind, data, settings)
    except Refused as exc:
        raise field_error("file", exc.reason, status=exc.status, title=exc.title) from None
    return view(save_file(session, ticket, name, kind, data, actor, settings))


def list_attachments(session: Session, ticket_id, actor: Principal) -> list[dict]:
    ticket = find_ticket(session, ticket_id, actor)
    rows = session.execute(select(TicketAttachment).where(TicketAttachment.ticket_id == ticket.id)
                           .order_by(TicketAttachment.created_at)).scalars()
    return [view(a) for a in rows]


def read_attachment(session: Session, ticket_id, attachment_id, actor: Principal, settings) -> tuple[dict, bytes]:
    ticket = find_ticket(session, ticket_id, actor)
    found = session.execute(select(TicketAttachment).where(TicketAttachment.id == str(attachment_id),
                                                           TicketAttachment.ticket_id == ticket.id)).scalar()
    if found is None:
        raise NotFound("attachment", attachment_id)
    path = _path(settings.ticket_storage_dir, found.sha256)
    if not path.exists():
        raise Problem(410, "File missing", "The attachment's file is no longer on the storage directory.",
                      "attachment-missing")
    return view(found), path.read_bytes()
