"""The write side of the timeline: other modules put facts on it inside their own transaction.

It imports only its own models, so any module may import it (the read side, `service.py`, depends on parties,
deals and leads to check visibility)."""

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from .models import TimelineEntry

# The kinds in use (a kind is free text, so a new source needs no migration; keep this list current).
KINDS = (
    "activity",            # a call, email, message, meeting or note logged in the CRM (ref: activity)
    "task_completed",      # a task linked to the record was done (ref: task)
    "deal_created",
    "stage_changed",       # a deal moved to another stage (ref: deal)
    "deal_won", "deal_lost", "deal_reopened",
    "deal_amount_changed",  # the deal's amount was taken from its accepted quote (ref: deal)
    "became_customer",     # a prospect's first accepted order or issued invoice made it a customer (ref: party)
    "lead_created", "lead_qualified", "lead_disqualified", "lead_converted",
    "quote_sent", "quote_accepted", "quote_rejected",
    "order_status",        # the ERP accepted, rejected, shipped... an order (ref: order)
    "delivery", "invoice", "payment", "credit_note",
    "work_order", "purchase",  # the ERP planned, started or finished making / buying something for a deal
    "installation",        # an installation to schedule, or the installer's report (ref: installation)
    "estimate",            # production answered an estimate request: hours and materials (ref: estimate)
    "note",
    "campaign_sent", "campaign_opened", "campaign_clicked", "campaign_unsubscribed",  # ref: campaign_recipient
    "campaign_bounced", "campaign_complained",
    "ticket_opened", "ticket_resolved", "ticket_closed", "ticket_reopened",  # a support ticket (ref: ticket)
    "mail_received", "mail_sent",  # a mail of a user's CRM mailbox concerning the record (ref: mail_message)
    "mail_failed",         # a mail_sent whose server refused it for good (ref: mail_message)
)
_KIND = re.compile(r"^[a-z][a-z0-9_.]{0,39}$")


def _actor_fields(actor) -> tuple[str | None, str | None]:
    if actor is None:
        return None, None
    if isinstance(actor, str):
        return None, actor[:300]
    if isinstance(actor, Mapping):
        return (str(actor["id"]) if actor.get("id") else None), (actor.get("name") or None)
    return actor.user_id, (actor.name or actor.email)


def add_entry(session: Session, *, kind: str, title: str, occurred_at: datetime | None = None,
              party_id: str | None = None, deal_id: str | None = None, lead_id: str | None = None,
              ref_type: str | None = None, ref_id: str | None = None, actor=None, summary: str | None = None,
              data: dict | None = None) -> TimelineEntry:
    """Put one fact on the timeline of a party, deal and/or lead, in the caller's transaction (never commits).

    Call it from the use case that caused the fact, so the entry exists exactly when the change does:
    a deal's stage change, a quote sent, an ERP event handler applying `erp.invoice.issued`...

    - kind: what happened, lower-case (`activity`, `stage_changed`, `quote_sent`, `order_status`, `invoice`,
      `payment`, ... see KINDS); clients pick icons and filters by it.
    - title: one line a user reads ("Quote Q-2026-0042 sent", "Invoice INV-17 paid"); cut to 300 characters.
    - occurred_at: when it happened (timezone-aware; default now). Use the source's time, e.g. the event's.
    - party_id / deal_id / lead_id: where it shows; at least one. A party's timeline also shows the entries of
      the people of a company. Nothing here checks visibility: the caller already decided the fact is real.
    - ref_type / ref_id: the record it comes from (`quote`, id) so the entry can be updated or removed with
      it (update_entries / remove_entries) and clients can link to it. ref_id is text: ERP ids fit too.
    - actor: who did it: a Principal, {"id": ..., "name": ...} (e.g. from an event's actor extensions),
      a plain label such as "ERP", or None for the system.
    - summary: a longer text shown under the title (optional).
    - data: small JSON facts for clients (amounts as strings, status, numbers...), never a whole record.

    Raises ValueError for a programming error (no link, bad kind, naive time); returns the flushed entry.
    """
    if not _KIND.match(kind or ""):
        raise ValueError(f"timeline kind {kind!r}: lower-case letters, digits, _ and . only")
    if not (party_id or deal_id or lead_id):
        raise ValueError("a timeline entry needs a party_id, deal_id or lead_id")
    if occurred_at is not None and occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    if not title:
        raise ValueError("a timeline entry needs a title")
    actor_id, actor_label = _actor_fields(actor)
    entry = TimelineEntry(kind=kind, title=title[:300], summary=summary, occurred_at=occurred_at or datetime.now(UTC),
                          party_id=str(party_id) if party_id else None, deal_id=str(deal_id) if deal_id else None,
                          lead_id=str(lead_id) if lead_id else None, ref_type=ref_type,
                          ref_id=str(ref_id) if ref_id is not None else None, actor_id=actor_id,
                          actor=actor_label[:300] if actor_label else None, data=dict(data or {}))
    session.add(entry)
    session.flush()
    return entry


def update_entries(session: Session, *, ref_type: str, ref_id: str, **changes) -> int:
    """Change the entries that came from one record (e.g. an edited activity); returns how many changed.

    `changes` may name kind, title, summary, occurred_at, party_id, deal_id, lead_id and data.
    """
    allowed = {"kind", "title", "summary", "occurred_at", "party_id", "deal_id", "lead_id", "data"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"timeline entries cannot change {', '.join(sorted(unknown))}")
    if "title" in changes:
        changes["title"] = changes["title"][:300]
    result = session.execute(update(TimelineEntry).where(TimelineEntry.ref_type == ref_type,
                                                         TimelineEntry.ref_id == str(ref_id)).values(**changes))
    return result.rowcount


def remove_entries(session: Session, *, ref_type: str, ref_id: str, kind: str | None = None) -> int:
    """Take the entries of one source record off every timeline (e.g. a deleted activity); returns how many."""
    stmt = delete(TimelineEntry).where(TimelineEntry.ref_type == ref_type, TimelineEntry.ref_id == str(ref_id))
    if kind:
        stmt = stmt.where(TimelineEntry.kind == kind)
    return session.execute(stmt).rowcount
