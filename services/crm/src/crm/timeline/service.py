"""The read side of the timeline: a party's, a deal's or a lead's history, for whoever may see the record."""

from servicekit.auth.principal import Principal
from servicekit.pagination import apply_sort, paginate
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from ..deals.service import find_deal
from ..leads.service import find_lead
from ..parties.models import Party
from ..parties.service import find_party
from .models import TimelineEntry

SORTABLE = {"occurred_at": TimelineEntry.occurred_at, "kind": TimelineEntry.kind}
_GETTERS = {"deal": find_deal, "lead": find_lead}


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
    party = find_party(session, str(party_id), actor)
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
    _GETTERS[record_type](session, str(record_id), actor)
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
