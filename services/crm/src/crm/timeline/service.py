"""Use cases of the timeline: other modules add entries inside their own transaction; users read a party's."""

import re
from collections.abc import Mapping
from datetime import UTC, datetime

from servicekit.auth.principal import Principal
from servicekit.pagination import apply_sort, paginate
from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from ..parties.models import Party
from .links import visible_record
from .models import TimelineEntry

# The kinds in use (a kind is free text, so a new source needs no migration; keep this list current).
KINDS = (
    "activity",            # a call, email, message, meeting or note logged in the CRM (ref: activity)
    "task_completed",      # a task linked to the record was done (ref: task)
    "deal_created",
    "stage_changed",       # a deal moved to another stage (ref: deal)
    "deal_won", "deal_lost", "deal_reopened",
    "lead_created", "lead_qualified", "lead_disqualified", "lead_converted",
    "quote_sent", "quote_accepted", "quote_rejected",
    "order_status",        # the ERP accepted, rejected, shipped... an order (ref: order)
    "delivery", "invoice", "payment", "credit_note",
    "note",
)
_KIND = re.compile(r"^[a-z][a-z0-9_.]{0,39}$")

SORTABLE = {"occurred_at": TimelineEntry.occurred_at, "kind": TimelineEntry.kind}


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


def _filtered(stmt, args: dict):
    if args.get("kind"):
        stmt = stmt.where(TimelineEntry.kind.in_(args["kind"]))
    if args.get("activity_type"):
        stmt = stmt.where(TimelineEntry.data["activity_type"].astext.in_(args["activity_type"]))
    if args.get("since"):
        stmt = stmt.where(TimelineEntry.occurred_at >= args["since"])
    if args.get("until"):
        stmt = stmt.where(TimelineEntry.occurred_at < args["until"])
    return apply_sort(stmt, args.get("sort"), SORTABLE,
                      [TimelineEntry.occurred_at.desc(), TimelineEntry.created_at.desc(), TimelineEntry.id.desc()])


def party_timeline(session: Session, party_id: str, args: dict, actor: Principal) -> dict:
    """A party's timeline, newest first; a company's also shows its people's entries (unless people=false).

    Whoever may see the party sees its whole timeline: entries are summaries of what happened to the customer.
    """
    party = visible_record(session, "party", party_id, actor)
    if party.kind == "company" and args.get("people", True):
        where = TimelineEntry.party_id.in_(select(Party.id).where(or_(Party.id == party.id,
                                                                      Party.company_id == party.id)))
    else:
        where = TimelineEntry.party_id == party.id
    stmt = (select(TimelineEntry, Party.display_name.label("party_name"))
            .outerjoin(Party, Party.id == TimelineEntry.party_id).where(where))
    return _rows(session, stmt, args)


def record_timeline(session: Session, record_type: str, record_id, args: dict, actor: Principal) -> dict:
    """The timeline of a deal or a lead ("deal" or "lead"), newest first, if the caller may see it."""
    visible_record(session, record_type, record_id, actor)
    stmt = (select(TimelineEntry, Party.display_name.label("party_name"))
            .outerjoin(Party, Party.id == TimelineEntry.party_id)
            .where(getattr(TimelineEntry, f"{record_type}_id") == str(record_id)))
    return _rows(session, stmt, args)


def _rows(session: Session, stmt, args: dict) -> dict:
    page = paginate(session, _filtered(stmt, args), args["page"], args["page_size"], entities=False)
    columns = [c.key for c in TimelineEntry.__table__.columns]
    page["items"] = [{**{c: getattr(row["TimelineEntry"], c) for c in columns}, "party_name": row["party_name"]}
                     for row in page["items"]]
    return page
