"""Ticket mail out: an agent's public reply is mailed to the customer through the mail outbox, threaded
(Message-ID, In-Reply-To, References, [T-YYYY-NNNNN] in the subject) and sent from the support address; a new
ticket received by mail is acknowledged once (Auto-Submitted, so it never starts a loop)."""

from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from servicekit.auth.principal import Principal
from servicekit.mail_outbox import enqueue
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db import mail_outbox
from ..parties.models import Party
from . import service
from .mail_models import TicketMail
from .models import Ticket

ACKS_PER_HOUR = 3  # acknowledgements to one address in an hour, at most: a loop with a robot stops there
MAX_REFERENCES = 20


def _first_email(party: Party | None) -> str | None:
    emails = (party.emails or []) if party else []
    primary = [e for e in emails if e.get("primary")] or emails
    return primary[0].get("value") if primary else None


def customer_address(session: Session, ticket: Ticket) -> str | None:
    """Where replies go: who wrote in, else the ticket's contact, else its customer."""
    if ticket.requester_email:
        return ticket.requester_email
    for party_id in (ticket.contact_id, ticket.party_id):
        found = _first_email(session.get(Party, party_id) if party_id else None)
        if found:
            return found
    return None


def subject_of(ticket: Ticket) -> str:
    return f"[{ticket.number}] {ticket.subject}"


def _thread(session: Session, ticket: Ticket) -> tuple[str | None, list[str]]:
    """(In-Reply-To, References) for the next mail of the ticket: the customer's last mail, and the thread."""
    rows = session.execute(select(TicketMail.message_id, TicketMail.direction).where(TicketMail.ticket_id == ticket.id)
                           .order_by(TicketMail.created_at, TicketMail.id)).all()
    last_in = next((r.message_id for r in reversed(rows) if r.direction == "in"), None)
    return last_in, [r.message_id for r in rows][-MAX_REFERENCES:]


def _message(settings, to: str, subject: str, body: str, reply_to_id: str | None, refs: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.support_from
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False)
    domain = parseaddr(settings.support_from)[1].rpartition("@")[2] or None
    msg["Message-ID"] = make_msgid(domain=domain)
    if reply_to_id:
        msg["In-Reply-To"] = f"<{reply_to_id}>"
    if refs:
        msg["References"] = " ".join(f"<{r}>" for r in refs)
    msg.set_content(body)
    return msg


def _record(session: Session, ticket: Ticket, msg: EmailMessage, kind: str, to: str, message_id: str | None) -> None:
    enqueue(session, mail_outbox, msg, "ticket_mail", ticket.id)
    session.add(TicketMail(ticket_id=ticket.id, message_id=msg["Message-ID"].strip("<> "), direction="out",
                           kind=kind, address=to, subject=str(msg["Subject"])[:300], ticket_message_id=message_id,
                           created_at=datetime.now(UTC)))


def mail_reply(session: Session, settings, ticket: Ticket, message: dict) -> str | None:
    """Queue an agent's public reply to the customer; the address it goes to (None: the ticket has none)."""
    to = customer_address(session, ticket)
    if not to:
        return None
    in_reply_to, refs = _thread(session, ticket)
    body = (f"{message['body']}\n\n-- \nTicket {ticket.number}: answer this mail to add to it; keep "
            f"[{ticket.number}] in the subject.\n")
    subject = subject_of(ticket) if not in_reply_to else f"Re: {subject_of(ticket)}"
    _record(session, ticket, _message(settings, to, subject, body, in_reply_to, refs), "reply", to, message["id"])
    return to


def acknowledge(session: Session, settings, ticket: Ticket, to: str, received_id: str) -> bool:
    """Tell who wrote in that their ticket exists (when CRM_TICKET_ACK_MAIL is on): marked Auto-Submitted
    (RFC 3834) so a well-behaved robot does not answer it, and at most ACKS_PER_HOUR to one address."""
    if not settings.ticket_ack_mail or to in settings.support_addresses:
        return False
    recent = session.execute(select(func.count()).select_from(TicketMail).where(
        TicketMail.kind == "ack", TicketMail.address == to,
        TicketMail.created_at > datetime.now(UTC) - timedelta(hours=1))).scalar_one()
    if recent >= ACKS_PER_HOUR:
        return False
    body = (f"We received your request and opened ticket {ticket.number}: {ticket.subject}\n\n"
            f"We will answer as soon as we can. To add to it, answer this mail and keep [{ticket.number}] in the "
            "subject.\n")
    msg = _message(settings, to, f"Re: {subject_of(ticket)}", body, received_id, [received_id])
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    _record(session, ticket, msg, "ack", to, None)
    return True


def post_message(session: Session, ticket_id, data: dict, actor: Principal, settings) -> dict:
    """A reply or note on a ticket (tickets.service.add_message); an agent's public reply is also mailed to the
    customer, in the same transaction (it leaves after the commit)."""
    message = service.add_message(session, ticket_id, data, actor, settings.ticket_reopen_days)
    if message["kind"] == "reply" and message["author_type"] == "agent":
        mail_reply(session, settings, session.get(Ticket, message["ticket_id"]), message)
    return message
