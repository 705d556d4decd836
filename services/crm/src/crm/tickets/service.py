"""Use cases of tickets: open (gapless number T-YYYY-NNNNN), change, move through the statuses, reply and note,
merge duplicates, list the queues. Each takes a session and the acting user, records what happened as a ticket
fact (the ticket's own timeline and its SLA clock's input), refreshes the SLA columns, writes the audit trail and
puts the milestones on the customer's timeline; none commits.

Who sees a ticket: its assignee, whoever opened it, members of its team, the managers of the assignee's teams,
those it is shared with, and holders of tickets:read_all (support agents help any customer). Changing follows the
same rule with tickets:update_all.
"""

from datetime import UTC, date, datetime, timedelta

from servicekit import audit
from servicekit.auth.principal import Principal, forbidden
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error, linked
from sqlalchemy import exists, func, or_, select, text
from sqlalchemy.orm import Session

from ..access import service as access
from ..access.models import Team, TeamMember
from ..access.visibility import editable, visible
from ..catalog.models import ProductReplica
from ..db import audit_log, auth
from ..parties.models import Party
from ..parties.service import find_party
from ..timeline import entries as timeline
from ..warranty.coverage import coverage as warranty_coverage
from . import sla
from .claim_models import WarrantyClaim
from .models import OPEN, TRANSITIONS, SlaPolicy, Ticket, TicketAttachment, TicketCounter, TicketFact, TicketMessage

RECORD = "ticket"
_STATE = ("subject", "description", "party_id", "contact_id", "product_id", "serial_number", "channel", "category",
          "priority", "status", "assignee_id", "team_id", "merged_into_id", "sla_policy_id")
CLOCK_ATTRS = ("priority", "category", "channel")


def _my_teams(actor: Principal):
    return select(TeamMember.team_id).where(TeamMember.user_id == actor.user_id)


def _visible(actor: Principal):
    return or_(visible("tickets", RECORD, Ticket.id, Ticket.assignee_id, actor), Ticket.created_by == actor.user_id,
               Ticket.team_id.in_(_my_teams(actor)))


def _editable(actor: Principal):
    return or_(editable("tickets", RECORD, Ticket.id, Ticket.assignee_id, actor), Ticket.created_by == actor.user_id,
               Ticket.team_id.in_(_my_teams(actor)))


def _state(t: Ticket) -> dict:
    return {f: getattr(t, f) for f in _STATE}


def view(t: Ticket) -> dict:
    out = {c.key: getattr(t, c.key) for c in Ticket.__table__.columns if c.key != "sla_state"}
    out["sla"] = {"policy_id": t.sla_policy_id, "reason": t.sla_reason, "set_by_hand": t.sla_policy_override,
                  "first_response_due_at": t.first_response_due_at, "next_response_due_at": t.next_response_due_at,
                  "resolution_due_at": t.resolution_due_at, "paused_seconds": t.paused_seconds,
                  "breached_at": t.breached_at}
    return out


def _actor(actor: Principal | None) -> tuple[str | None, str | None]:
    if actor is None:
        return None, "system"
    return actor.user_id, (actor.name or actor.email)


def record_fact(session: Session, ticket: Ticket, kind: str, data: dict | None = None, actor: Principal | None = None,
                at: datetime | None = None) -> TicketFact:
    """One fact on the ticket's history, at `at` (default now)."""
    actor_id, label = _actor(actor)
    fact = TicketFact(ticket_id=ticket.id, occurred_at=at or datetime.now(UTC), kind=kind, data=data or {},
                      actor_id=actor_id, actor=label)
    session.add(fact)
    return fact


def _next_number(session: Session, year: int) -> str:
    """Locks the year's counter row until commit: a rolled-back ticket gives its number back."""
    number = session.execute(text(
        "INSERT INTO ticket_counters (year, last_number) VALUES (:y, 1) ON CONFLICT (year) DO UPDATE "
        "SET last_number = ticket_counters.last_number + 1 RETURNING last_number"), {"y": year}).scalar_one()
    return f"T-{year}-{number:05d}"


assert TicketCounter.__tablename__ == "ticket_counters"  # the statement above names the table


def _check_user(session: Session, user_id: str, field: str) -> None:
    found = session.execute(select(auth.users.c.id).where(auth.users.c.id == user_id, auth.users.c.is_active)).first()
    if not found:
        raise field_error(field, f"no active user with id {user_id}")


def _check_links(session: Session, data: dict, actor: Principal) -> None:
    if data.get("party_id"):
        linked(lambda i: find_party(session, str(i), actor), data["party_id"], "party_id", "party")
    if data.get("contact_id"):
        linked(lambda i: find_party(session, str(i), actor), data["contact_id"], "contact_id", "party")
    if data.get("product_id") and session.get(ProductReplica, str(data["product_id"])) is None:
        raise field_error("product_id", f"no product {data['product_id']} in the catalog")
    if data.get("assignee_id"):
        if data["assignee_id"] != actor.user_id and not actor.can("tickets:assign"):
            raise forbidden("tickets:assign")
        _check_user(session, data["assignee_id"], "assignee_id")
    if data.get("team_id") and session.get(Team, str(data["team_id"])) is None:
        raise field_error("team_id", f"no team with id {data['team_id']}")
    if data.get("sla_policy_id"):
        if session.get(SlaPolicy, str(data["sla_policy_id"])) is None:
            raise field_error("sla_policy_id", f"no SLA policy with id {data['sla_policy_id']}")


def _normalize(data: dict) -> dict:
    out = dict(data)
    for f in ("party_id", "contact_id", "product_id", "assignee_id", "team_id", "sla_policy_id"):
        if out.get(f) is not None:
            out[f] = str(out[f])
    for f in ("subject", "description", "category", "serial_number"):
        if isinstance(out.get(f), str):
            out[f] = out[f].strip() or None
    return out


def _segments(session: Session, party_id: str | None) -> list[str]:
    """The customer's groups a policy may match: the party's roles (customer, prospect, partner...)."""
    party = session.get(Party, party_id) if party_id else None
    return list(party.roles or []) if party else []


def _on_timeline(session: Session, ticket: Ticket, **entry) -> None:
    """A milestone on the customer's timeline (a ticket opened by mail from an unknown address has none)."""
    if ticket.party_id:
        timeline.add_entry(session, **entry)


def open_ticket(session: Session, data: dict, actor: Principal | None) -> Ticket:
    """A new ticket, status new, numbered T-<year>-<n> without gaps; its SLA clock starts now."""
    now = datetime.now(UTC)
    ticket = Ticket(number=_next_number(session, now.year), subject=data["subject"],
                    description=data.get("description"), party_id=data["party_id"],
                    contact_id=data.get("contact_id"), product_id=data.get("product_id"),
                    serial_number=data.get("serial_number"), channel=data.get("channel") or "api",
                    category=data.get("category"), priority=data.get("priority") or "normal", status="new",
                    assignee_id=data.get("assignee_id"), team_id=data.get("team_id"),
                    created_by=getattr(actor, "user_id", None), sla_policy_override=bool(data.get("sla_policy_id")),
                    requester_email=data.get("requester_email"), follow_up_of_id=data.get("follow_up_of_id"),
                    paused_seconds=0, resolution_breached=False, version=1, created_at=now, updated_at=now)
    session.add(ticket)
    session.flush()
    attrs = {a: getattr(ticket, a) for a in CLOCK_ATTRS}
    attrs["segments"] = _segments(session, ticket.party_id)
    if data.get("sla_policy_id"):
        attrs["sla_policy"] = data["sla_policy_id"]
    record_fact(session, ticket, "created", {"status": "new", **attrs}, actor, now)
    sla.refresh(session, ticket)
    _on_timeline(session, ticket, kind="ticket_opened", title=f"Ticket {ticket.number} opened: {ticket.subject}",
                       occurred_at=now, party_id=ticket.party_id, ref_type=RECORD, ref_id=ticket.id, actor=actor,
                       data={"number": ticket.number, "priority": ticket.priority, "channel": ticket.channel})
    audit.record(session, audit_log, actor, "create", RECORD, ticket.id, None, _state(ticket))
    return ticket


def create_ticket(session: Session, data: dict, actor: Principal) -> dict:
    """Open a ticket for a customer the caller sees (an unknown party or product is a 422 naming the field)."""
    data = _normalize(data)
    if not data.get("subject"):
        raise field_error("subject", "a ticket needs a subject")
    _check_links(session, data, actor)
    return view(open_ticket(session, data, actor))


def _find(session: Session, ticket_id, actor: Principal, for_update: bool = False) -> Ticket:
    stmt = select(Ticket).where(Ticket.id == str(ticket_id), _visible(actor))
    if for_update:
        stmt = stmt.with_for_update(of=Ticket)
    found = session.execute(stmt).scalar_one_or_none()
    if found is None:
        raise NotFound("ticket", ticket_id)
    return found


def find_ticket(session: Session, ticket_id, actor: Principal) -> Ticket:
    """A ticket the caller may see; any other is "not found", like one that does not exist."""
    return _find(session, ticket_id, actor)


def get_ticket(session: Session, ticket_id, actor: Principal) -> dict:
    ticket = _find(session, ticket_id, actor)
    return {**view(ticket), "warranty_claim": claim_summary(session, ticket.id)}


def _for_change(session: Session, ticket_id, actor: Principal, expected_version: int | None) -> Ticket:
    ticket = _find(session, ticket_id, actor, for_update=True)
    if not session.execute(select(Ticket.id).where(Ticket.id == ticket.id, _editable(actor))).first():
        raise Problem(403, "Forbidden", "You can see this ticket but not change it: ask its assignee to share it "
                      "with write access.", "forbidden")
    if expected_version is not None:
        check_version(ticket.version, expected_version)
    return ticket


def _save(session: Session, ticket: Ticket, before: dict, action: str, actor: Principal | None) -> dict:
    ticket.version += 1
    ticket.updated_at = datetime.now(UTC)
    sla.refresh(session, ticket)
    audit.record(session, audit_log, actor, action, RECORD, ticket.id, before, _state(ticket))
    return view(ticket)


def update_ticket(session: Session, ticket_id, expected_version: int, changes: dict, actor: Principal) -> dict:
    """Change fields of a ticket the caller may edit; a new priority, category, channel or policy recomputes the
    deadlines keeping the time already spent. sla_policy_id null goes back to matching policies."""
    ticket = _for_change(session, ticket_id, actor, expected_version)
    changes = _normalize(changes)
    if "subject" in changes and not changes["subject"]:
        raise field_error("subject", "a ticket needs a subject")
    if ticket.status == "closed":
        raise Problem(409, "Ticket is closed", f"Ticket {ticket.number} is closed: it cannot change.",
                      "ticket-closed")
    policy_given = "sla_policy_id" in changes
    policy = changes.pop("sla_policy_id", None)
    changed = {k: v for k, v in changes.items() if getattr(ticket, k) != v}
    _check_links(session, {**changed, "sla_policy_id": policy}, actor)
    if not changed and not (policy_given and (policy != ticket.sla_policy_id or not ticket.sla_policy_override)
                            and (policy or ticket.sla_policy_override)):
        return view(ticket)
    before = _state(ticket)
    for k, v in changed.items():
        setattr(ticket, k, v)
    now = datetime.now(UTC)
    clock = {a: changed[a] for a in CLOCK_ATTRS if a in changed}
    if clock:
        record_fact(session, ticket, "changed", clock, actor, now)
    if policy_given:
        ticket.sla_policy_override = bool(policy)
        record_fact(session, ticket, "policy", {"sla_policy": policy}, actor, now)
    if "assignee_id" in changed or "team_id" in changed:
        record_fact(session, ticket, "assigned", {"assignee_id": ticket.assignee_id, "team_id": ticket.team_id},
                    actor, now)
    other = sorted(set(changed) - set(CLOCK_ATTRS) - {"assignee_id", "team_id"})
    if other:
        record_fact(session, ticket, "edited", {"fields": other}, actor, now)
    return _save(session, ticket, before, "update", actor)


_STATUS_TITLES = {"resolved": "resolved", "closed": "closed", "open": "reopened"}


def _move(session: Session, ticket: Ticket, status: str, actor: Principal | None, at: datetime) -> None:
    """Move to a status the current one allows (else 409), stamping resolved_at/closed_at."""
    if status not in TRANSITIONS[ticket.status]:
        allowed = ", ".join(TRANSITIONS[ticket.status]) or "none: it is final"
        raise Problem(409, f"Ticket is {ticket.status}", f"Ticket {ticket.number} is {ticket.status}: it can move "
                      f"to {allowed}.", "ticket-status", errors=[{"field": "status", "location": "json",
                                                                   "message": f"not allowed from {ticket.status}"}])
    reopened = ticket.status == "resolved" and status == "open"
    ticket.status = status
    if status == "resolved":
        ticket.resolved_at = at
    elif status == "closed":
        ticket.closed_at = at
    elif reopened:
        ticket.resolved_at = None
    record_fact(session, ticket, "status", {"status": status}, actor, at)
    if status in ("resolved", "closed") or reopened:
        _on_timeline(session, ticket, kind=f"ticket_{_STATUS_TITLES[status]}",
                           title=f"Ticket {ticket.number} {_STATUS_TITLES[status]}: {ticket.subject}",
                           occurred_at=at, party_id=ticket.party_id, ref_type=RECORD, ref_id=ticket.id, actor=actor,
                           data={"number": ticket.number, "status": status})


def change_status(session: Session, ticket_id, expected_version: int | None, status: str, actor: Principal) -> dict:
    """new -> open -> pending (waiting on the customer) -> on_hold -> resolved -> closed; resolved may reopen."""
    ticket = _for_change(session, ticket_id, actor, expected_version)
    if ticket.status == status:
        return view(ticket)
    before = _state(ticket)
    _move(session, ticket, status, actor, datetime.now(UTC))
    return _save(session, ticket, before, "status", actor)


def add_message(session: Session, ticket_id, data: dict, actor: Principal, reopen_days: int) -> dict:
    """A public reply (by an agent, or a customer's reply the agent logs) or an internal note. An agent's first
    reply meets the first response and opens a new ticket; a customer's reply to a pending ticket opens it again,
    to a resolved one reopens it within `reopen_days` of its resolution (later, or once closed, it is a 409: open
    a new ticket)."""
    ticket = _for_change(session, ticket_id, actor, None)
    body = (data.get("body") or "").strip()
    if not body:
        raise field_error("body", "a message needs a body")
    kind, author = data["kind"], data.get("author_type") or "agent"
    if kind == "note" and author != "agent":
        raise field_error("author_type", "internal notes are written by agents")
    if ticket.merged_into_id:
        raise Problem(409, "Ticket was merged", f"Ticket {ticket.number} was merged into another: write there.",
                      "ticket-merged")
    now = datetime.now(UTC)
    before = _state(ticket)
    if kind == "reply" and author == "customer":
        if ticket.status == "closed" or (ticket.status == "resolved" and ticket.resolved_at is not None
                                         and now - ticket.resolved_at > timedelta(days=reopen_days)):
            raise Problem(409, "Ticket is closed", f"Ticket {ticket.number} was closed or resolved more than "
                          f"{reopen_days} days ago: open a new ticket.", "ticket-closed")
        record_fact(session, ticket, "customer_reply", {}, actor, now)
        if ticket.status in ("pending", "resolved"):
            _move(session, ticket, "open", actor, now)
    elif kind == "reply":
        if ticket.status in ("resolved", "closed"):
            raise Problem(409, f"Ticket is {ticket.status}", f"Ticket {ticket.number} is {ticket.status}: reopen it "
                          "to reply.", "ticket-status")
        if ticket.first_responded_at is None:
            ticket.first_responded_at = now
        record_fact(session, ticket, "agent_reply", {}, actor, now)
        if ticket.status == "new":
            _move(session, ticket, "open", actor, now)
    else:
        record_fact(session, ticket, "note", {}, actor, now)
    message = TicketMessage(ticket_id=ticket.id, kind=kind, author_type=author, author_id=actor.user_id, body=body,
                            created_at=now)
    session.add(message)
    _save(session, ticket, before, "message", actor)
    return message_view(message)


def log_customer_mail(session: Session, ticket: Ticket, body: str, at: datetime) -> TicketMessage:
    """A customer's reply received by mail on a ticket still open to it (the caller checked the reopening
    window): a pending or resolved ticket moves to open, the SLA clock sees a customer reply."""
    before = _state(ticket)
    record_fact(session, ticket, "customer_reply", {"channel": "email"}, None, at)
    if ticket.status in ("pending", "resolved"):
        _move(session, ticket, "open", None, at)
    message = TicketMessage(ticket_id=ticket.id, kind="reply", author_type="customer", author_id=None, body=body,
                            created_at=at)
    session.add(message)
    _save(session, ticket, before, "message", None)
    session.flush()
    return message


def add_note(session: Session, ticket: Ticket, body: str, at: datetime) -> TicketMessage:
    """An internal note written by the system (e.g. an attachment dropped from a received mail)."""
    record_fact(session, ticket, "note", {}, None, at)
    message = TicketMessage(ticket_id=ticket.id, kind="note", author_type="agent", author_id=None, body=body,
                            created_at=at)
    session.add(message)
    return message


def message_view(m: TicketMessage) -> dict:
    return row_view(m)


def list_messages(session: Session, ticket_id, actor: Principal) -> list[dict]:
    ticket = _find(session, ticket_id, actor)
    rows = session.execute(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
                           .order_by(TicketMessage.created_at, TicketMessage.id)).scalars()
    return [message_view(m) for m in rows]


def history(session: Session, ticket_id, actor: Principal) -> list[dict]:
    """The ticket's own timeline: every fact, oldest first."""
    ticket = _find(session, ticket_id, actor)
    rows = session.execute(select(TicketFact).where(TicketFact.ticket_id == ticket.id)
                           .order_by(TicketFact.occurred_at, TicketFact.seq)).scalars()
    return [{"occurred_at": r.occurred_at, "kind": r.kind, "data": r.data, "actor_id": r.actor_id,
             "actor": r.actor} for r in rows]


def merge_ticket(session: Session, ticket_id, expected_version: int | None, into_id, actor: Principal) -> dict:
    """Close a duplicate into another ticket of the same customer: its replies, notes and attachments move
    there, both histories say so. Returns the surviving ticket."""
    if str(ticket_id) == str(into_id):
        raise field_error("into_id", "a ticket cannot be merged into itself")
    duplicate = _for_change(session, ticket_id, actor, expected_version)
    target = linked(lambda i: _for_change(session, i, actor, None), into_id, "into_id", "ticket")
    if target.status == "closed" or target.merged_into_id:
        raise field_error("into_id", f"ticket {target.number} is closed: merge into an open ticket")
    if duplicate.status == "closed":
        raise Problem(409, "Ticket is closed", f"Ticket {duplicate.number} is closed: it cannot be merged.",
                      "ticket-closed")
    if target.party_id != duplicate.party_id:
        raise field_error("into_id", "both tickets must be about the same customer")
    before_dup, before_target = _state(duplicate), _state(target)
    now = datetime.now(UTC)
    for model in (TicketMessage, TicketAttachment):
        session.execute(model.__table__.update().where(model.ticket_id == duplicate.id).values(ticket_id=target.id))
    duplicate.merged_into_id = target.id
    if duplicate.status != "resolved":
        _move(session, duplicate, "resolved", actor, now)
    _move(session, duplicate, "closed", actor, now)
    record_fact(session, duplicate, "merged", {"into": target.number, "into_id": target.id}, actor, now)
    record_fact(session, target, "merged_in", {"from": duplicate.number, "from_id": duplicate.id}, actor, now)
    _save(session, duplicate, before_dup, "merge", actor)
    return _save(session, target, before_target, "merge", actor)


def _queue(stmt, queue: str, actor: Principal, now: datetime, within: int):
    if queue == "mine":
        return stmt.where(Ticket.assignee_id == actor.user_id)
    if queue == "team":
        return stmt.where(or_(Ticket.team_id.in_(_my_teams(actor)),
                              Ticket.assignee_id.in_(select(TeamMember.user_id).where(
                                  TeamMember.team_id.in_(_my_teams(actor))))))
    if queue == "unassigned":
        return stmt.where(Ticket.assignee_id.is_(None))
    if queue == "breaching_soon":
        return stmt.where(Ticket.resolution_due_at > now, Ticket.resolution_due_at <= now + timedelta(minutes=within))
    if queue == "breached":
        return stmt.where(or_(Ticket.resolution_due_at <= now, Ticket.resolution_breached))
    return stmt


def list_tickets(session: Session, args: dict, actor: Principal) -> dict:
    """Tickets the caller sees: a queue (mine, team, unassigned, breaching_soon, breached: open tickets only),
    filters, sort (default: soonest resolution deadline first), paginated."""
    now = datetime.now(UTC)
    stmt = select(Ticket).where(_visible(actor))
    if args.get("queue"):
        stmt = _queue(stmt.where(Ticket.status.in_(OPEN)), args["queue"], actor, now, args.get("within", 60))
    if args.get("status"):
        statuses = {s for s in args["status"] if s != "open_any"} | (set(OPEN) if "open_any" in args["status"]
                                                                      else set())
        stmt = stmt.where(Ticket.status.in_(sorted(statuses)))
    for f in ("priority", "channel"):
        if args.get(f):
            stmt = stmt.where(getattr(Ticket, f).in_(args[f]))
    for f in ("party_id", "assignee_id", "team_id", "product_id"):
        if args.get(f):
            stmt = stmt.where(getattr(Ticket, f) == str(args[f]))
    if args.get("category"):
        stmt = stmt.where(Ticket.category == args["category"])
    if args.get("q"):
        like = f"%{args['q'].lower()}%"
        stmt = stmt.where(or_(func.lower(Ticket.subject).like(like), func.lower(Ticket.number).like(like)))
    sortable = {"due": Ticket.resolution_due_at, "created_at": Ticket.created_at, "updated_at": Ticket.updated_at,
                "number": Ticket.number, "priority": Ticket.priority, "status": Ticket.status}
    stmt = apply_sort(stmt, args.get("sort"), sortable,
                      [Ticket.resolution_due_at.asc().nulls_last(), Ticket.created_at, Ticket.id])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [view(t) for t in page["items"]]
    return page


def sla_as_of(session: Session, ticket_id, moment: datetime, actor: Principal) -> dict:
    """The ticket's SLA clock recomputed from its history as it stood at `moment`."""
    ticket = _find(session, ticket_id, actor)
    result = sla.as_of(session, ticket, moment)
    return {"as_of": moment, "policy_id": result.policy_id, "reason": result.reason, "running": result.running,
            "first_response_due_at": result.due_at("first_response"),
            "next_response_due_at": result.due_at("next_response"),
            "resolution_due_at": result.due_at("resolution"), "paused_seconds": int(result.paused.total_seconds()),
            "breached_at": result.breached_at,
            "consumed_seconds": {k: int(v.total_seconds()) for k, v in result.consumed.items()}}


def ticket_coverage(session: Session, ticket_id, on: date | None, actor: Principal) -> dict:
    """Is the ticket's product (and serial) under warranty for its customer on a day (default today)?"""
    ticket = _find(session, ticket_id, actor)
    return warranty_coverage(session, ticket.party_id, ticket.product_id, ticket.serial_number,
                             on or datetime.now(UTC).date())


def claim_summary(session: Session, ticket_id: str) -> dict | None:
    """The ticket's warranty claim as the ticket shows it: revision, status (and why), the ERP's cost."""
    c = session.execute(select(WarrantyClaim).where(WarrantyClaim.ticket_id == ticket_id)).scalar()
    if c is None:
        return None
    return {"id": c.id, "revision": c.revision, "status": c.status, "status_reason": c.status_reason,
            "entitlement_id": c.entitlement_id, "labour_cost": c.labour_cost, "erp_number": c.erp_number,
            "erp_total_cost": c.erp_total_cost, "currency": c.currency}


def has_tickets(session: Session, party_id: str) -> bool:
    return bool(session.execute(select(exists().where(Ticket.party_id == party_id))).scalar())


SHARING = access.Sharing(RECORD, _find, lambda session, ticket_id, actor: _for_change(session, ticket_id, actor, None))


def ticket_for_change(session: Session, ticket_id, actor: Principal, expected_version: int | None = None) -> Ticket:
    """A ticket the caller may change, locked (for sibling use cases such as attachments)."""
    return _for_change(session, ticket_id, actor, expected_version)
