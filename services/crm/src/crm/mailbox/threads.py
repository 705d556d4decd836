"""Which conversation a mail belongs to, and which customer records it concerns.

Threads: a mail joins the thread of the message its In-Reply-To or References name (in the same account); without
one found, the thread of a mail of the last 30 days with the same normalised subject ("Re: Offer" = "offer") and
a participant in common; else it starts a thread of its own.

Links: the parties holding one of its addresses (a company's timeline shows its people's), the open leads with one
of them, a ticket whose number (T-2026-00042) is in the subject, and whatever the earlier mails of its thread were
linked to (a reply to a mail sent about a deal concerns that deal). Each linked party, lead and deal gets a timeline
entry (`mail_received` / `mail_sent`); a ticket's mails are listed with the ticket's filter."""

from datetime import timedelta

from sqlalchemy import func, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ..leads.models import Lead
from ..parties.models import Party
from ..tickets.models import Ticket
from ..timeline.entries import add_entry, update_entries
from .models import MailLink, MailMessage
from .parsing import TICKET_NUMBER

SUBJECT_WINDOW = timedelta(days=30)


def participants(m: MailMessage) -> set[str]:
    found = {x["address"] for x in [*m.to, *m.cc]}
    if m.from_address:
        found.add(m.from_address)
    return found


def thread_for(session: Session, m: MailMessage) -> str:
    """The thread id the mail joins (an earlier mail's), or its own id."""
    ids = [i for i in [*m.references, m.in_reply_to] if i]
    if ids:
        found = session.execute(select(MailMessage.thread_id).where(
            MailMessage.account_id == m.account_id, MailMessage.header_message_id.in_(ids), MailMessage.id != m.id)
            .order_by(MailMessage.date.desc()).limit(1)).scalar_one_or_none()
        if found:
            return found
    if m.normalized_subject:
        mine = participants(m)
        candidates = session.execute(select(MailMessage).where(
            MailMessage.account_id == m.account_id, MailMessage.normalized_subject == m.normalized_subject,
            MailMessage.id != m.id, MailMessage.date > m.date - SUBJECT_WINDOW)
            .order_by(MailMessage.date.desc()).limit(20)).scalars()
        for other in candidates:
            if participants(other) & mine:
                return other.thread_id
    return m.id


def _parties(session: Session, addresses: list[str]) -> list[str]:
    holds = text("exists (select 1 from jsonb_array_elements(parties.emails) e "
                 "where lower(e ->> 'value') = any(:addresses))").bindparams(addresses=addresses)
    return list(session.execute(select(Party.id).where(Party.status == "active", holds)).scalars())


def _leads(session: Session, addresses: list[str]) -> list[str]:
    return list(session.execute(select(Lead.id).where(func.lower(Lead.email).in_(addresses),
                                                      Lead.status.not_in(("converted", "disqualified")))).scalars())


def _tickets(session: Session, subject: str) -> list[str]:
    numbers = TICKET_NUMBER.findall(subject or "")
    if not numbers:
        return []
    return list(session.execute(select(Ticket.id).where(Ticket.number.in_(numbers))).scalars())


def link(session: Session, m: MailMessage, own_address: str, named: dict | None = None) -> list[tuple[str, str]]:
    """Link the mail to what it concerns and put it on their timelines; [(kind, record id)]."""
    found: dict[tuple[str, str], str] = {}
    for kind, record_id in (named or {}).items():
        if record_id:
            found[(kind.removesuffix("_id"), str(record_id))] = "sender"
    addresses = sorted(participants(m) - {own_address.lower()})
    if addresses:
        for party_id in _parties(session, addresses):
            found.setdefault(("party", party_id), "address")
        for lead_id in _leads(session, addresses):
            found.setdefault(("lead", lead_id), "address")
    for ticket_id in _tickets(session, m.subject):
        found.setdefault(("ticket", ticket_id), "subject")
    if m.thread_id != m.id:
        earlier = session.execute(select(MailLink.kind, MailLink.record_id).join(
            MailMessage, MailMessage.id == MailLink.message_id).where(
            MailMessage.thread_id == m.thread_id, MailMessage.id != m.id).distinct()).all()
        for kind, record_id in earlier:
            found.setdefault((kind, record_id), "thread")
    for (kind, record_id), how in found.items():
        session.execute(insert(MailLink).values(message_id=m.id, kind=kind, record_id=record_id, found_by=how)
                        .on_conflict_do_nothing())
        if kind in ("party", "lead", "deal"):
            _on_timeline(session, m, kind, record_id)
    return list(found)


def _on_timeline(session: Session, m: MailMessage, kind: str, record_id: str) -> None:
    if m.direction == "in":
        who = m.from_name or m.from_address or "unknown sender"
        title, entry_kind = f"Mail from {who}: {m.subject or '(no subject)'}", "mail_received"
    else:
        who = ", ".join(x["address"] for x in m.to[:3])
        title, entry_kind = f"Mail to {who}: {m.subject or '(no subject)'}", "mail_sent"
    add_entry(session, kind=entry_kind, title=title, occurred_at=m.date, summary=(m.text_body or "")[:500] or None,
              ref_type="mail_message", ref_id=m.id, **{f"{kind}_id": record_id},
              data=_entry_data(m))


def _entry_data(m: MailMessage) -> dict:
    return {"message_id": m.id, "thread_id": m.thread_id, "direction": m.direction, "from": m.from_address,
            "to": [x["address"] for x in m.to][:20]}


def not_sent(session: Session, m: MailMessage) -> None:
    """A mail the server refused for good: its timeline entries say it was not sent (they said "Mail to ..." from
    the moment it was queued), so nobody reads a failed mail as one the customer received."""
    who = ", ".join(x["address"] for x in m.to[:3])
    update_entries(session, ref_type="mail_message", ref_id=m.id, kind="mail_failed",
                   title=f"Mail to {who} not sent: {m.subject or '(no subject)'}",
                   data={**_entry_data(m), "status": "failed", "error": (m.last_error or "")[:300]})
