"""Invitations to party contacts by iMIP (RFC 6047): a meeting with customer contacts as attendees mails each of
them the event as `METHOD:REQUEST` when it is made or changed (SEQUENCE grows with every change, so their
calendar replaces the older copy) and `METHOD:CANCEL` when it is deleted. The mail is queued in the CRM's mail
outbox in the transaction of the change: it leaves after the commit, never for a refused change. CRM users are
not mailed: the agenda, its feed and the reminders are theirs."""

from email.message import EmailMessage
from email.utils import make_msgid

from servicekit import mail_outbox
from servicekit.mail_outbox import Mailer
from sqlalchemy.orm import Session

from ..db import mail_outbox as mail_table
from . import ics
from .exchange import specs
from .models import AgendaEvent

RECORD = "agenda_event"


def _message(mailer: Mailer, to: str, organizer: ics.Person | None, subject: str, text: str, body: bytes,
             method: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = mailer.sender
    msg["To"] = to
    if organizer:
        msg["Reply-To"] = organizer.email
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain=mailer.sender.rpartition("@")[2].strip("> ") or None)
    msg.set_content(text)
    msg.add_alternative(body.decode(), subtype="calendar", params={"method": method})
    msg.add_attachment(body, maintype="application", subtype="ics", filename="invite.ics")
    return msg


def _when(spec: ics.Export) -> str:
    ev = spec.event
    zone = ics.ZoneInfo(ev["tz"])
    start = ev["starts_at"].astimezone(zone)
    if ev["all_day"]:
        return f"{start:%A %d %B %Y} (all day)"
    repeat = " (recurring)" if ev.get("rrule") or ev.get("rdates") else ""
    return f"{start:%A %d %B %Y, %H:%M} {ev['tz']}{repeat}"


def send(session: Session, ev: AgendaEvent, mailer: Mailer | None, method: str = "REQUEST") -> int:
    """Queue the iMIP message of `ev` to each party attendee with an address; answers how many were queued."""
    if mailer is None:
        return 0
    (spec,) = specs(session, [ev], None, method=method)
    party_people = [p for p in spec.attendees if p.party]
    if not party_people:
        return 0
    if method == "CANCEL":
        spec.event = {**spec.event, "sequence": (spec.event.get("sequence") or 0) + 1}
    body = ics.calendar([spec], method=method)
    title = spec.event["title"]
    verb = "Cancelled" if method == "CANCEL" else ("Updated invitation" if spec.event.get("sequence") else
                                                    "Invitation")
    who = spec.organizer.name if spec.organizer else "us"
    text = (f"{verb}: {title}\n{_when(spec)}\n" + (f"Where: {spec.event['location']}\n" if spec.event.get(
        "location") else "") + f"\nFrom {who}. Your calendar program shows this as "
            + ("a cancellation." if method == "CANCEL" else "an invitation you can accept or decline."))
    for person in party_people:
        mail_outbox.enqueue(session, mail_table, _message(mailer, person.email, spec.organizer,
                                                          f"{verb}: {title} — {_when(spec)}", text, body, method),
                            RECORD, ev.id)
    return len(party_people)

