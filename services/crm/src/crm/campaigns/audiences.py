"""Who a segment or a list reaches: one SQL query of (email, name, party_id, lead_id), evaluated when used.

A segment's filter is a closed set of keys (the schema refuses any other with a 422): each key adds one condition
to the query, so counting a segment of a million people is one indexed query, and a send streams its rows
instead of loading them. Suppressed addresses are taken out in the same query; so are, unless a campaign says
otherwise, addresses that withdrew consent."""

from datetime import UTC, datetime

from sqlalchemy import cast, exists, func, literal_column, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from ..activities.models import Activity
from ..billing.models import InvoiceReplica, OrderReplica
from ..deals.models import Deal
from ..leads.models import Lead
from ..parties.models import Party
from .consent import mailable
from .models import EmailAddress, ListMember

PARTY_FILTERS = ("kinds", "roles", "countries", "owner_ids", "created_after", "created_before", "active_after",
                 "active_before", "has_open_deal", "has_overdue_invoice", "bought_product_id", "lead_source",
                 "lead_campaign")
LEAD_FILTERS = ("statuses", "owner_ids", "created_after", "created_before", "lead_source", "lead_campaign",
                "countries")


def _party_email():
    """The party's primary address, else its first one, lower-case."""
    return literal_column("lower(coalesce(jsonb_path_query_first(parties.emails, '$[*] ? (@.primary == true).value')"
                          " #>> '{}', parties.emails -> 0 ->> 'value'))")


def _parties(f: dict) -> Select:
    email = _party_email().label("email")
    q = select(email, Party.display_name.label("name"), Party.id.label("party_id"),
               cast(None, Party.id.type).label("lead_id")).where(Party.status == "active",
                                                                 func.jsonb_array_length(Party.emails) > 0)
    if f.get("kinds"):
        q = q.where(Party.kind.in_(f["kinds"]))
    if f.get("roles"):
        q = q.where(Party.roles.overlap(f["roles"]))
    if f.get("countries"):
        q = q.where(Party.billing_address.op("->>")("country").in_(f["countries"]))
    if f.get("owner_ids"):
        q = q.where(Party.owner_id.in_([str(i) for i in f["owner_ids"]]))
    if f.get("created_after"):
        q = q.where(Party.created_at >= f["created_after"])
    if f.get("created_before"):
        q = q.where(Party.created_at < f["created_before"])
    last_activity = select(func.max(Activity.occurred_at)).where(Activity.party_id == Party.id).scalar_subquery()
    if f.get("active_after"):
        q = q.where(last_activity >= f["active_after"])
    if f.get("active_before"):
        q = q.where(func.coalesce(last_activity, Party.created_at) < f["active_before"])
    if "has_open_deal" in f:
        open_deal = exists().where(Deal.party_id == Party.id, Deal.status == "open")
        q = q.where(open_deal if f["has_open_deal"] else ~open_deal)
    if "has_overdue_invoice" in f:
        overdue = exists().where(InvoiceReplica.party_id.in_([Party.id, Party.company_id]),
                                 InvoiceReplica.balance_due > 0,
                                 InvoiceReplica.due_date < func.current_date())
        q = q.where(overdue if f["has_overdue_invoice"] else ~overdue)
    if f.get("bought_product_id"):
        product = func.jsonb_build_array(func.jsonb_build_object("product_id", str(f["bought_product_id"])))
        q = q.where(exists().where(OrderReplica.party_id.in_([Party.id, Party.company_id]),
                                   OrderReplica.status.not_in(("rejected", "cancelled")),
                                   OrderReplica.lines.op("@>")(product)))
    if f.get("lead_source") or f.get("lead_campaign"):
        came_from = [Lead.converted_party_id == Party.id, Lead.converted_person_id == Party.id]
        conditions = [Lead.source == f["lead_source"]] if f.get("lead_source") else []
        conditions += [Lead.campaign == f["lead_campaign"]] if f.get("lead_campaign") else []
        q = q.where(exists().where(came_from[0] | came_from[1], *conditions))
    return q


def _leads(f: dict) -> Select:
    q = select(func.lower(Lead.email).label("email"), Lead.display_name.label("name"),
               cast(None, Lead.id.type).label("party_id"), Lead.id.label("lead_id")).where(
        Lead.email.is_not(None), Lead.status.not_in(("converted", "disqualified")))
    if f.get("statuses"):
        q = q.where(Lead.status.in_(f["statuses"]))
    if f.get("owner_ids"):
        q = q.where(Lead.owner_id.in_([str(i) for i in f["owner_ids"]]))
    if f.get("created_after"):
        q = q.where(Lead.created_at >= f["created_after"])
    if f.get("created_before"):
        q = q.where(Lead.created_at < f["created_before"])
    if f.get("lead_source"):
        q = q.where(Lead.source == f["lead_source"])
    if f.get("lead_campaign"):
        q = q.where(Lead.campaign == f["lead_campaign"])
    return q


def segment_query(subject: str, f: dict, require_consent: bool = False) -> Select:
    """The segment's audience: one row per address (the first party or lead holding it), suppressed ones out."""
    base = (_parties if subject == "parties" else _leads)(f).subquery()
    q = select(base).ext(distinct_on(base.c.email)).where(mailable(base.c.email))
    return _consented(q, base.c.email, require_consent).order_by(base.c.email)


def list_query(list_id: str, require_consent: bool = False) -> Select:
    """A static list's audience: suppressed ones out, and those who left this list (a list-scoped unsubscribe)."""
    q = select(ListMember.email, ListMember.name, cast(None, Party.id.type).label("party_id"),
               cast(None, Lead.id.type).label("lead_id")).where(ListMember.list_id == str(list_id),
                                                                ListMember.unsubscribed_at.is_(None),
                                                                mailable(ListMember.email))
    return _consented(q, ListMember.email, require_consent).order_by(ListMember.email)


def _consented(q: Select, email_column, require_consent: bool) -> Select:
    """Without an explicit opt-in requirement, only addresses that withdrew consent are out (they are suppressed
    anyway); with it, only subscribed addresses remain."""
    if not require_consent:
        return q
    return q.where(exists().where(EmailAddress.email == email_column, EmailAddress.consent == "subscribed"))


def count(session: Session, q: Select) -> int:
    return session.execute(select(func.count()).select_from(q.order_by(None).subquery())).scalar_one()


def preview(session: Session, q: Select, limit: int = 10) -> dict:
    """How many the audience reaches now, and the first few of them."""
    rows = session.execute(q.limit(limit)).all()
    return {"count": count(session, q), "sample": [dict(r._mapping) for r in rows],
            "evaluated_at": datetime.now(UTC)}

