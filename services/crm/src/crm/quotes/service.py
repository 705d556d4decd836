"""Use cases of quotes: draft on a deal, price lines from the catalog, send by email, revise, accept, reject.

A quote is visible to whoever sees its customer (party) or its deal, and changed by whoever may change either.
Only a draft is edited. Sending renders the PDF and hands the mail to the SMTP server before the transaction
commits, so a failed send leaves the quote a draft. Accepting places the order: crm.order.placed goes to the
outbox in the same transaction, the deal is won, and the customer's timeline says so.
"""

import uuid
from datetime import UTC, date, datetime, timedelta

from servicekit import audit, mail_outbox
from servicekit.auth.principal import Principal
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.mail_outbox import Mailer
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error, linked
from shared_events.outbox import record_event
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, lazyload

from ..access.visibility import editable, visible
from ..billing.service import credit_warnings
from ..company.service import seller_lines
from ..db import audit_log, outbox
from ..db import mail_outbox as mail_table
from ..deals import service as deals
from ..deals.models import Deal
from ..parties import service as parties
from ..parties.models import Party
from ..timeline import entries as timeline
from . import document, lines
from .events import order_placed_event
from .models import Quote, QuoteLine, quote_numbers
from .pdf import render_quote_pdf

VALIDITY = timedelta(days=30)
HEADER_FIELDS = ("contact_person_id", "currency", "valid_until", "requested_date", "customer_reference", "notes",
                 "terms")

SORTABLE = {
    "number": Quote.number,
    "created_at": Quote.created_at,
    "updated_at": Quote.updated_at,
    "valid_until": Quote.valid_until,
    "gross_total": Quote.gross_total,
    "status": Quote.status,
}


def today() -> date:
    return datetime.now(UTC).date()


def status_of(q: Quote, on: date | None = None) -> str:
    """The status a user sees: a sent quote past its validity is expired."""
    if q.status == "sent" and q.valid_until < (on or today()):
        return "expired"
    return q.status


def _visible(actor: Principal, predicate=visible):
    """Whoever sees the customer or the deal sees its quotes (aliases: a list also joins the party for its name)."""
    p, d = aliased(Party), aliased(Deal)
    return or_(
        exists(select(p.id).where(p.id == Quote.party_id, predicate("parties", "party", p.id, p.owner_id, actor))),
        exists(select(d.id).where(d.id == Quote.deal_id, predicate("deals", "deal", d.id, d.owner_id, actor))))


def _editable(actor: Principal):
    return _visible(actor, editable)


def visible_quotes(actor: Principal):
    """Quotes the user may see: those of a customer or a deal they see (statistics count only these too)."""
    return _visible(actor)


def quote_state(q: Quote) -> dict:
    """What the audit trail records of a quote."""
    return {
        **{f: getattr(q, f) for f in ("number", "quote_version", "deal_id", "party_id", "status", "owner_id",
                                      "net_total", "tax_total", "gross_total", "sent_to", "order_id",
                                      "reject_reason", "version", *HEADER_FIELDS)},
        "lines": [{"line_no": line.line_no, "product_id": line.product_id, "sku": line.sku,
                   "quantity": line.quantity, "list_price": line.list_price, "unit_price": line.unit_price,
                   "discount_percent": line.discount_percent, "tax_rate": line.tax_rate, "net": line.net_amount}
                  for line in q.lines],
    }


def quote_view(session: Session, q: Quote) -> dict:
    """The quote as the API shows it: effective status, customer name, lines with stock now, warnings."""
    session.flush()
    stock, warnings = lines.availability(session, q)
    warnings += credit_warnings(session, q.party_id, q.currency, q.gross_total)
    columns = [c.key for c in Quote.__table__.columns]
    line_columns = [c.key for c in QuoteLine.__table__.columns]
    return {
        **{c: getattr(q, c) for c in columns},
        "status": status_of(q),
        "party_name": session.get(Party, q.party_id).display_name,
        "lines": [{**{c: getattr(line, c) for c in line_columns}, "availability": stock[line.id]} for line in q.lines],
        "warnings": warnings,
        "mail": mail_outbox.mail_status(session, mail_table, "quote", q.id),
    }


def _audit(session: Session, actor: Principal, action: str, q: Quote, before: dict | None) -> None:
    session.flush()
    audit.record(session, audit_log, actor, action, "quote", q.id, before, quote_state(q))


def _touch(q: Quote) -> None:
    q.version += 1
    q.updated_at = datetime.now(UTC)


def _wrong_status(q: Quote, action: str, hint: str = "") -> Problem:
    status = status_of(q)
    return Problem(409, f"Quote is {status}", f"Quote {q.number} v{q.quote_version} is {status}: it cannot be "
                   f"{action}.{(' ' + hint) if hint else ''}", "quote-status", quote_status=status)


def _require_draft(q: Quote) -> None:
    if q.status != "draft":
        raise _wrong_status(q, "changed", "Only a draft is edited; revise a sent quote to change it.")


def _contact(session: Session, contact_id, actor: Principal) -> str | None:
    if contact_id is None:
        return None
    try:
        person = parties.find_party(session, contact_id, actor)
    except NotFound:
        person = None
    if person is None or person.kind != "person":
        raise field_error("contact_person_id", f"no person with id {contact_id}")
    return person.id


def _load(session: Session, quote_id, actor: Principal) -> Quote:
    q = session.execute(select(Quote).where(Quote.id == str(quote_id), _visible(actor))).scalar_one_or_none()
    if q is None:
        raise NotFound("quote", quote_id)
    return q


def _for_change(session: Session, quote_id, actor: Principal, expected_version: int | None = None) -> Quote:
    q = session.execute(select(Quote).where(Quote.id == str(quote_id), _visible(actor))
                        .with_for_update(of=Quote)).scalar_one_or_none()
    if q is None:
        raise NotFound("quote", quote_id)
    if not session.execute(select(Quote.id).where(Quote.id == q.id, _editable(actor))).first():
        raise Problem(403, "Forbidden", "You can see this quote but not change it: ask the owner of its customer "
                      "or deal to share it with write access.", "forbidden")
    if expected_version is not None:
        check_version(q.version, expected_version)
    return q


def _replace_lines(session: Session, q: Quote, items: list[dict], actor: Principal) -> None:
    new = [lines.new_line(session, q, item, actor, prefix=f"lines.{i}.") for i, item in enumerate(items)]
    q.lines.clear()
    session.flush()  # the old lines are gone before the new ones take their numbers
    q.lines.extend(new)
    lines.renumber(q)
    lines.recompute_totals(q)


# -- use cases ---------------------------------------------------------------------------------------------------

def create_quote(session: Session, data: dict, actor: Principal) -> dict:
    """A draft quote on an open deal the caller sees, for the deal's customer, numbered Q-<year>-<n>, version 1."""
    deal = linked(lambda i: deals.find_deal(session, i, actor), data["deal_id"], "deal_id", "deal")
    if deal.status != "open":
        raise Problem(409, "Deal is closed", f"The deal is {deal.status}: reopen it before quoting.", "deal-closed")
    party_id = str(data.get("party_id") or deal.party_id)
    if party_id != deal.party_id:
        raise field_error("party_id", "a quote is for its deal's customer")
    party = linked(lambda i: parties.find_party(session, i, actor), party_id, "party_id", "party")
    if party.status != "active":
        raise field_error("party_id", f"{party.display_name} is archived")
    contact = _contact(session, data["contact_person_id"], actor) if "contact_person_id" in data \
        else deal.contact_person_id
    valid_until = data.get("valid_until") or today() + VALIDITY
    if valid_until < today():
        raise field_error("valid_until", "a new quote cannot be valid only in the past")
    serial = session.execute(select(quote_numbers.next_value())).scalar_one()
    now = datetime.now(UTC)
    q = Quote(number=f"Q-{now.year}-{serial:05d}", quote_version=1, deal_id=deal.id, party_id=party.id,
              contact_person_id=contact, currency=data.get("currency") or deal.currency, valid_until=valid_until,
              requested_date=data.get("requested_date"), customer_reference=data.get("customer_reference"),
              notes=data.get("notes"), terms=data.get("terms"), status="draft", owner_id=actor.user_id, version=1,
              created_at=now, updated_at=now)
    session.add(q)
    _replace_lines(session, q, data.get("lines") or [], actor)
    _audit(session, actor, "create", q, None)
    return quote_view(session, q)


def get_quote(session: Session, quote_id, actor: Principal) -> dict:
    """A quote the caller may see; one they may not see is "not found", like one that does not exist."""
    return quote_view(session, _load(session, quote_id, actor))


def update_quote(session: Session, quote_id, expected_version: int, changes: dict, actor: Principal) -> dict:
    """Change a draft's header; `lines`, when given, replace all lines."""
    q = _for_change(session, quote_id, actor, expected_version)
    _require_draft(q)
    before = quote_state(q)
    if "contact_person_id" in changes:
        changes["contact_person_id"] = _contact(session, changes["contact_person_id"], actor)
    if changes.get("valid_until") and changes["valid_until"] < today():
        raise field_error("valid_until", "cannot be in the past")
    currency_changes = "currency" in changes and changes["currency"] != q.currency
    if currency_changes and q.lines and "lines" not in changes:
        raise field_error("currency", f"the lines are priced in {q.currency}: replace them (lines) in the same "
                                      "change, or remove them first")
    for f in HEADER_FIELDS:
        if f in changes:
            setattr(q, f, changes[f])
    if "lines" in changes:
        _replace_lines(session, q, changes["lines"], actor)
    if quote_state(q) == before and "lines" not in changes:
        return quote_view(session, q)
    _touch(q)
    _audit(session, actor, "update", q, before)
    return quote_view(session, q)


def add_line(session: Session, quote_id, data: dict, actor: Principal, expected_version: int | None = None) -> dict:
    """Add a product line to a draft, priced from the catalog unless a unit_price is agreed."""
    q = _for_change(session, quote_id, actor, expected_version)
    _require_draft(q)
    before = quote_state(q)
    q.lines.append(lines.new_line(session, q, data, actor))
    lines.renumber(q)
    lines.recompute_totals(q)
    _touch(q)
    _audit(session, actor, "add_line", q, before)
    return quote_view(session, q)


def _line(q: Quote, line_id) -> QuoteLine:
    line = next((x for x in q.lines if x.id == str(line_id)), None)
    if line is None:
        raise NotFound("quote line", line_id)
    return line


def update_line(session: Session, quote_id, line_id, changes: dict, actor: Principal,
                expected_version: int | None = None) -> dict:
    q = _for_change(session, quote_id, actor, expected_version)
    _require_draft(q)
    line = _line(q, line_id)
    before = quote_state(q)
    lines.change_line(session, q, line, changes, actor)
    lines.recompute_totals(q)
    if quote_state(q) != before:
        _touch(q)
        _audit(session, actor, "update_line", q, before)
    return quote_view(session, q)


def remove_line(session: Session, quote_id, line_id, actor: Principal, expected_version: int | None = None) -> dict:
    q = _for_change(session, quote_id, actor, expected_version)
    _require_draft(q)
    line = _line(q, line_id)
    before = quote_state(q)
    q.lines.remove(line)
    session.flush()
    lines.renumber(q)
    lines.recompute_totals(q)
    _touch(q)
    _audit(session, actor, "remove_line", q, before)
    return quote_view(session, q)


def _recipient(session: Session, q: Quote) -> str | None:
    """The contact person's primary email, else the customer's."""
    for party_id in (q.contact_person_id, q.party_id):
        party = session.get(Party, party_id) if party_id else None
        emails = (party.emails or []) if party else []
        primary = next((e for e in emails if e.get("primary")), emails[0] if emails else None)
        if primary:
            return primary["value"]
    return None


def send_quote(session: Session, quote_id, expected_version: int | None, data: dict, actor: Principal,
               mailer: Mailer, seller: tuple[str, ...]) -> dict:
    """Mark a draft sent, render its PDF and queue the mail in the same transaction: the worker sends it after the
    commit (a refused request sends nothing), and the quote's `mail` says whether it left, waits or failed."""
    q = _for_change(session, quote_id, actor, expected_version)
    if q.status != "draft":
        raise _wrong_status(q, "sent", "Revise it to send a new version.")
    if not q.lines:
        raise field_error("lines", "a quote needs at least one line to be sent")
    if q.valid_until < today():
        raise field_error("valid_until", "the quote's validity has passed: set a new valid_until first")
    to = data.get("to") or _recipient(session, q)
    if not to:
        raise field_error("to", "neither the contact person nor the customer has an email address: give one")
    before = quote_state(q)
    now = datetime.now(UTC)
    q.status, q.sent_at, q.sent_to = "sent", now, to
    _touch(q)
    _audit(session, actor, "send", q, before)
    timeline.add_entry(session, kind="quote_sent", title=f"Quote {q.number} v{q.quote_version} sent to {to}",
                       occurred_at=now, party_id=q.party_id, deal_id=q.deal_id, ref_type="quote", ref_id=q.id,
                       actor=actor, data=document.timeline_data(q))
    seller = seller_lines(session, seller)
    doc = document.quote_document(session, q, seller)
    pdf = render_quote_pdf(doc)
    mail_outbox.enqueue(session, mail_table, mailer.message(
        to, document.email_subject(q, seller), document.email_body(doc, data.get("message"), actor), pdf,
        document.pdf_filename(q), reply_to=actor.email), "quote", q.id)
    return quote_view(session, q)


def revise_quote(session: Session, quote_id, actor: Principal, expected_version: int | None = None) -> dict:
    """The next version of a sent (or rejected) quote as a draft with the same lines; the old one is superseded."""
    old = _for_change(session, quote_id, actor, expected_version)
    if old.status not in ("sent", "rejected"):
        hint = "Edit the draft itself." if old.status == "draft" else ""
        raise _wrong_status(old, "revised", hint)
    before = quote_state(old)
    now = datetime.now(UTC)
    new = Quote(number=old.number, quote_version=old.quote_version + 1, previous_id=old.id, deal_id=old.deal_id,
                party_id=old.party_id, status="draft", owner_id=old.owner_id, version=1, created_at=now,
                updated_at=now, **{f: getattr(old, f) for f in HEADER_FIELDS})
    if new.valid_until < today():  # an expired quote is revised with a fresh validity
        new.valid_until = today() + VALIDITY
    new.lines = [QuoteLine(**{c.key: getattr(line, c.key) for c in QuoteLine.__table__.columns
                              if c.key not in ("id", "quote_id")}) for line in old.lines]
    lines.recompute_totals(new)
    old.status, old.superseded_at = "superseded", now
    _touch(old)
    session.add(new)
    _audit(session, actor, "supersede", old, before)
    _audit(session, actor, "revise", new, None)
    return quote_view(session, new)


def accept_quote(session: Session, quote_id, data: dict, actor: Principal,
                 expected_version: int | None = None) -> dict:
    """The customer accepted: the order is placed (crm.order.placed in the outbox, same transaction), the deal is
    won if it is still open and the caller may change it, and the customer's timeline shows it."""
    q = _for_change(session, quote_id, actor, expected_version)
    if q.status != "sent" or status_of(q) == "expired":
        raise _wrong_status(q, "accepted", {
            "expired": "Revise it with a new validity and send it again.",
            "draft": "Send it first.", "accepted": f"Its order is {q.order_id}."}.get(status_of(q), ""))
    before = quote_state(q)
    if data.get("customer_reference"):
        q.customer_reference = data["customer_reference"]
    now = datetime.now(UTC)
    q.status, q.accepted_at, q.order_id = "accepted", now, str(uuid.uuid4())
    _touch(q)
    _audit(session, actor, "accept", q, before)
    record_event(session, outbox, order_placed_event(q, session.get(Party, q.party_id), actor), "order")
    deal_may_change = session.execute(select(Deal.id).where(
        Deal.id == q.deal_id, Deal.status == "open", editable("deals", "deal", Deal.id, Deal.owner_id, actor))).first()
    deals.take_quote_amount(session, q.deal_id, q.net_total, q.currency,
                            f"Quote {q.number} v{q.quote_version} accepted", actor)
    if deal_may_change:
        deals.win_deal(session, q.deal_id, f"Quote {q.number} v{q.quote_version} accepted", actor)
    timeline.add_entry(session, kind="quote_accepted", title=f"Quote {q.number} v{q.quote_version} accepted",
                       occurred_at=now, party_id=q.party_id, deal_id=q.deal_id, ref_type="quote", ref_id=q.id,
                       actor=actor, data={**document.timeline_data(q), "order_id": q.order_id})
    return quote_view(session, q)


def reject_quote(session: Session, quote_id, reason: str, actor: Principal,
                 expected_version: int | None = None) -> dict:
    """The customer declined a sent quote (expired ones too); the deal stays as it is."""
    q = _for_change(session, quote_id, actor, expected_version)
    if q.status != "sent":
        raise _wrong_status(q, "rejected")
    reason = reason.strip()
    if not reason:
        raise field_error("reason", "say why the customer declined")
    before = quote_state(q)
    now = datetime.now(UTC)
    q.status, q.rejected_at, q.reject_reason = "rejected", now, reason
    _touch(q)
    _audit(session, actor, "reject", q, before)
    timeline.add_entry(session, kind="quote_rejected", title=f"Quote {q.number} v{q.quote_version} rejected",
                       occurred_at=now, party_id=q.party_id, deal_id=q.deal_id, ref_type="quote", ref_id=q.id,
                       actor=actor, summary=reason, data=document.timeline_data(q))
    return quote_view(session, q)


def quote_pdf(session: Session, quote_id, actor: Principal, seller: tuple[str, ...]) -> tuple[str, bytes]:
    """(file name, PDF) of a quote as it stands (a draft is marked DRAFT); a sent one reads as it was sent."""
    q = _load(session, quote_id, actor)
    return document.pdf_filename(q), render_quote_pdf(document.quote_document(session, q,
                                                                             seller_lines(session, seller)))


def list_quotes(session: Session, args: dict, actor: Principal) -> dict:
    """Quotes the caller may see, filtered, sorted and paginated; status=expired finds sent ones past validity."""
    stmt = (select(Quote, Party.display_name.label("party_name")).join(Party, Party.id == Quote.party_id)
            .where(_visible(actor)).options(lazyload(Quote.lines)))  # a list shows no lines
    for f in ("deal_id", "party_id", "owner_id"):
        if args.get(f):
            stmt = stmt.where(getattr(Quote, f) == str(args[f]))
    status = args.get("status")
    if status == "expired":
        stmt = stmt.where(or_(Quote.status == "expired", and_(Quote.status == "sent", Quote.valid_until < today())))
    elif status == "sent":
        stmt = stmt.where(Quote.status == "sent", Quote.valid_until >= today())
    elif status:
        stmt = stmt.where(Quote.status == status)
    if args.get("latest_only"):
        stmt = stmt.where(Quote.status != "superseded")
    if args.get("q"):
        stmt = stmt.where(func.lower(Quote.number).contains(args["q"].strip().lower(), autoescape=True))
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE, [Quote.created_at.desc(), Quote.id])
    page = paginate(session, stmt, args["page"], args["page_size"], entities=False)
    page["items"] = [{**row_view(r["Quote"]),
                      "status": status_of(r["Quote"]), "party_name": r["party_name"]} for r in page["items"]]
    return page
