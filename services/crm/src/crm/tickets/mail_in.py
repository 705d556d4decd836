"""Ticket mail in: a message to a support address becomes a new ticket (channel email, the customer found by
the sender's address), or lands on the ticket it answers: by In-Reply-To/References (the Message-IDs of the
ticket's mails), then by the T-YYYY-NNNNN in its subject when the sender is the ticket's own. A reply reopens a
pending ticket, or a resolved one within the reopening window; later, or once closed, it opens a new ticket that
follows up the old one. Auto-replies are ignored; a Message-ID already received lands once."""

import logging
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from ..access.models import Team
from ..mail.message import Received, strip_quoted
from ..parties.models import Party
from . import attachments, mail_out, service
from .mail_models import TicketMail
from .models import Ticket

log = logging.getLogger(__name__)

NUMBER = re.compile(r"\bT-\d{4}-\d{5}\b")
MAX_BODY = 100_000


def _party_for(session: Session, email: str) -> tuple[str | None, str | None]:
    """(customer, contact) with this address: a person gives their company (or themselves) and the contact."""
    row = session.execute(text(
        "select p.id, p.kind, p.company_id from parties p, jsonb_array_elements(p.emails) e "
        "where p.status = 'active' and lower(e->>'value') = :email "
        "order by (p.kind = 'person') desc, p.created_at limit 1"), {"email": email}).first()
    if row is None:
        return None, None
    if row.kind == "person":
        return str(row.company_id or row.id), str(row.id)
    return str(row.id), None


def _addresses_of(session: Session, ticket: Ticket) -> set[str]:
    found = {ticket.requester_email} if ticket.requester_email else set()
    for party_id in (ticket.party_id, ticket.contact_id):
        party = session.get(Party, party_id) if party_id else None
        found |= {(e.get("value") or "").lower() for e in (party.emails or [])} if party else set()
    return found


def _lock(session: Session, ticket_id: str) -> Ticket | None:
    ticket = session.execute(select(Ticket).where(Ticket.id == ticket_id).with_for_update()).scalar()
    for _ in range(10):  # a merged ticket's mail goes to the ticket it was merged into
        if ticket is None or not ticket.merged_into_id:
            break
        ticket = session.execute(select(Ticket).where(Ticket.id == ticket.merged_into_id).with_for_update()).scalar()
    return ticket


def find_thread(session: Session, mail: Received) -> Ticket | None:
    """The ticket a received mail answers, locked; None for a new request."""
    ids = mail.thread_ids
    if ids:
        known = dict(session.execute(select(TicketMail.message_id, TicketMail.ticket_id)
                                     .where(TicketMail.message_id.in_(ids))).all())
        for mid in ids:
            if mid in known:
                return _lock(session, known[mid])
    for number in NUMBER.findall(mail.subject):
        ticket_id = session.execute(select(Ticket.id).where(Ticket.number == number)).scalar()
        if ticket_id is None:
            continue
        ticket = _lock(session, ticket_id)
        if ticket is not None and mail.sender in _addresses_of(session, ticket):
            return ticket
        log.info("mail from %s names %s but is not from its customer: a new ticket", mail.sender, number)
    return None


def _attach(session: Session, ticket: Ticket, mail: Received, settings) -> list[str]:
    """Store the mail's attachments within the ticket limits; one refused is dropped with a note."""
    dropped = []
    for a in mail.attachments:
        name = attachments.clean_name(a.filename) or "attachment"
        kind = a.content_type.lower()
        try:
            attachments.check_file(name, kind, a.data, settings)
        except attachments.Refused as exc:
            dropped.append(f"{name}: {exc.reason}")
            continue
        attachments.save_file(session, ticket, name, kind, a.data, None, settings)
    if dropped:
        service.add_note(session, ticket, f"Attachments of the mail from {mail.sender} dropped:\n- "
                         + "\n- ".join(dropped), datetime.now(UTC))
    return dropped


def queue_team(session: Session, settings, rcpt: str | None) -> str | None:
    """The team whose queue a support address feeds (CRM_SUPPORT_ADDRESSES "address=Team name"), if it exists."""
    name = dict(settings.support_queues).get(rcpt or "")
    team = session.execute(select(Team.id).where(func.lower(Team.name) == name.lower())).scalar() if name else None
    if name and team is None:
        log.warning("support address %s names team %r, which does not exist: the ticket stays unassigned", rcpt,
                    name)
    return team


def _open(session: Session, mail: Received, body: str, settings, rcpt: str | None,
          follow_up_of: Ticket | None = None) -> Ticket:
    party_id, contact_id = _party_for(session, mail.sender)
    subject = re.sub(r"^\s*((re|fw|fwd|aw|tr)\s*:\s*)+", "", mail.subject, flags=re.IGNORECASE) or "(no subject)"
    ticket = service.open_ticket(session, {
        "subject": subject[:300], "description": body, "party_id": party_id, "contact_id": contact_id,
        "channel": "email", "requester_email": mail.sender, "team_id": queue_team(session, settings, rcpt),
        "follow_up_of_id": follow_up_of.id if follow_up_of else None}, None)
    session.add(TicketMail(ticket_id=ticket.id, message_id=mail.message_id, direction="in", kind="customer",
                           address=mail.sender, subject=mail.subject, created_at=datetime.now(UTC)))
    _attach(session, ticket, mail, settings)
    mail_out.acknowledge(session, settings, ticket, mail.sender, mail.message_id)
    return ticket


def receive(session: Session, settings, mail: Received, rcpt: str | None = None) -> str:
    """Apply one received mail (to the support address `rcpt`) to the tickets; what happened, in a few words
    (logged by the LMTP server)."""
    if session.execute(select(TicketMail.id).where(TicketMail.message_id == mail.message_id)).first():
        return f"duplicate of <{mail.message_id}>: ignored"
    if mail.auto_reply:
        return f"automatic mail ignored ({mail.auto_reply})"
    if mail.sender in settings.support_addresses:
        return "mail from our own support address ignored"
    body = strip_quoted(mail.text)[:MAX_BODY] or "(empty message)"
    ticket = find_thread(session, mail)
    if ticket is None:
        return f"new ticket {_open(session, mail, body, settings, rcpt).number}"
    now = datetime.now(UTC)
    too_late = ticket.status == "resolved" and ticket.resolved_at is not None \
        and now - ticket.resolved_at > timedelta(days=settings.ticket_reopen_days)
    if ticket.status == "closed" or too_late:
        new = _open(session, mail, body, settings, rcpt, follow_up_of=ticket)
        service.record_fact(session, ticket, "followed_up", {"by": new.number, "by_id": new.id}, None, now)
        return f"new ticket {new.number} following up {ticket.number}"
    message = service.log_customer_mail(session, ticket, body, now)
    session.add(TicketMail(ticket_id=ticket.id, message_id=mail.message_id, direction="in", kind="customer",
                           address=mail.sender, subject=mail.subject, ticket_message_id=message.id, created_at=now))
    _attach(session, ticket, mail, settings)
    return f"reply on {ticket.number}"
