"""Use cases of parties: each takes a session, changes the party and adds its event to the outbox."""

from datetime import UTC, datetime

from servicekit.etag import check_version
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error
from shared_events.outbox import record_event
from sqlalchemy import String, cast, func, or_, select
from sqlalchemy.orm import Session

from ..db import outbox
from .events import party_event
from .models import Party

SORTABLE = {
    "display_name": func.lower(Party.display_name),
    "created_at": Party.created_at,
    "updated_at": Party.updated_at,
    "kind": Party.kind,
    "status": Party.status,
}


def _display_name(kind: str, legal_name, first_name, last_name) -> str:
    if kind == "company":
        return legal_name
    return " ".join(x for x in (first_name, last_name) if x)


def _normalize(data: dict) -> dict:
    out = dict(data)
    if "company_id" in out and out["company_id"] is not None:
        out["company_id"] = str(out["company_id"])
    for f in ("roles",):
        if f in out and out[f] is not None:
            out[f] = sorted(set(out[f]))
    for f in ("emails", "phones"):
        if f in out and out[f] is not None:
            items = [dict(c) for c in out[f]]
            if items and not any(c.get("primary") for c in items):
                items[0]["primary"] = True  # the first channel is the one to use unless told otherwise
            if sum(1 for c in items if c.get("primary")) > 1:
                raise field_error(f, "only one entry can be primary")
            out[f] = items
    for f in ("tax_id", "legal_name", "first_name", "last_name"):
        if isinstance(out.get(f), str):
            out[f] = out[f].strip() or None
    return out


def _check_company(session: Session, company_id: str | None, party_id: str | None = None) -> None:
    if company_id is None:
        return
    if company_id == party_id:
        raise field_error("company_id", "a party cannot belong to itself")
    company = session.get(Party, company_id)
    if company is None or company.kind != "company":
        raise field_error("company_id", f"no company with id {company_id}")
    if company.status != "active":
        raise field_error("company_id", f"company {company_id} is archived")


def _publish(session: Session, verb: str, party: Party, actor: str | None) -> None:
    session.flush()
    session.refresh(party)
    record_event(session, outbox, party_event(verb, party, actor), "party")


def create_party(session: Session, data: dict, actor: str | None = None) -> Party:
    """Create a company or person and publish crm.party.created."""
    data = _normalize(data)
    _check_company(session, data.get("company_id"))
    party = Party(**data, display_name=_display_name(
        data["kind"], data.get("legal_name"), data.get("first_name"), data.get("last_name")))
    party.roles = data.get("roles") or []
    party.emails = data.get("emails") or []
    party.phones = data.get("phones") or []
    party.version = 1
    session.add(party)
    _publish(session, "created", party, actor)
    return party


def get_party(session: Session, party_id: str) -> Party:
    party = session.get(Party, str(party_id))
    if party is None:
        raise NotFound("party", party_id)
    return party


def _locked(session: Session, party_id: str) -> Party:
    party = session.execute(select(Party).where(Party.id == str(party_id)).with_for_update()).scalar_one_or_none()
    if party is None:
        raise NotFound("party", party_id)
    return party


def update_party(session: Session, party_id: str, expected_version: int, changes: dict,
                 actor: str | None = None) -> Party:
    """Apply changes if the caller saw the current version; publish crm.party.updated."""
    party = _locked(session, party_id)
    check_version(party.version, expected_version)
    if party.status == "archived":
        raise Problem(409, "Party is archived", "Restore the party before changing it.", "party-archived")
    changes = _normalize(changes)
    if "company_id" in changes:
        if party.kind != "person" and changes["company_id"] is not None:
            raise field_error("company_id", "only people belong to a company")
        _check_company(session, changes["company_id"], party.id)
    if party.kind == "company":
        for f in ("first_name", "last_name", "job_title"):
            if changes.get(f):
                raise field_error(f, "only people have this field")
        if "legal_name" in changes and not changes["legal_name"]:
            raise field_error("legal_name", "a company needs its legal name")
    elif changes.get("legal_name"):
        raise field_error("legal_name", "only companies have a legal name")
    changed = {k: v for k, v in changes.items() if getattr(party, k) != v}
    if not changed:
        return party
    for k, v in changed.items():
        setattr(party, k, v)
    party.display_name = _display_name(party.kind, party.legal_name, party.first_name, party.last_name)
    if not party.display_name:
        raise field_error("last_name", "a person needs a first or last name")
    party.version += 1
    party.updated_at = datetime.now(UTC)
    _publish(session, "updated", party, actor)
    return party


def archive_party(session: Session, party_id: str, expected_version: int, actor: str | None = None) -> Party:
    """Archive (never delete: documents keep pointing at it); publish crm.party.archived."""
    party = _locked(session, party_id)
    check_version(party.version, expected_version)
    if party.status == "archived":
        return party
    party.status = "archived"
    party.archived_at = party.updated_at = datetime.now(UTC)
    party.version += 1
    _publish(session, "archived", party, actor)
    return party


def restore_party(session: Session, party_id: str, expected_version: int, actor: str | None = None) -> Party:
    party = _locked(session, party_id)
    check_version(party.version, expected_version)
    if party.status == "active":
        return party
    party.status = "active"
    party.archived_at = None
    party.updated_at = datetime.now(UTC)
    party.version += 1
    _publish(session, "updated", party, actor)
    return party


def list_parties(session: Session, args: dict) -> dict:
    stmt = select(Party)
    if args.get("status", "active") != "all":
        stmt = stmt.where(Party.status == args.get("status", "active"))
    if args.get("kind"):
        stmt = stmt.where(Party.kind == args["kind"])
    if args.get("role"):
        stmt = stmt.where(Party.roles.contains([args["role"]]))
    if args.get("company_id"):
        stmt = stmt.where(Party.company_id == str(args["company_id"]))
    if args.get("owner_id"):
        stmt = stmt.where(Party.owner_id == args["owner_id"])
    if args.get("tax_id"):
        stmt = stmt.where(Party.tax_id == args["tax_id"])
    if args.get("country"):
        stmt = stmt.where(Party.billing_address["country"].astext == args["country"].upper())
    if args.get("q"):
        like = f"%{args['q'].lower()}%"
        stmt = stmt.where(or_(
            func.lower(Party.display_name).like(like),
            func.lower(cast(Party.emails, String)).like(like),
            func.lower(Party.tax_id).like(like),
        ))
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE, [func.lower(Party.display_name), Party.id])
    return paginate(session, stmt, args["page"], args["page_size"])
