"""Use cases of parties: each takes a session and the acting user, checks what that user may see and change,
changes the party, writes the audit trail and adds the party's event to the outbox.

The use cases the API calls return plain dicts (party_view); other modules that need the row itself use
find_party (a party the user may see) and add_party (a new party), which return the ORM object."""

from datetime import UTC, datetime
from types import SimpleNamespace

from servicekit import audit
from servicekit.auth.principal import Principal, forbidden
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import String, case, cast, func, or_, select
from sqlalchemy.orm import Session

from ..access import service as access
from ..access.visibility import editable, visible
from ..timeline.entries import add_entry
from . import rows
from .events import party_state
from .models import Party

SORTABLE = {
    "display_name": func.lower(Party.display_name),
    "created_at": Party.created_at,
    "updated_at": Party.updated_at,
    "kind": Party.kind,
    "status": Party.status,
}


def _visible(actor: Principal):
    return visible("parties", "party", Party.id, Party.owner_id, actor)


def visible_parties(actor: Principal):
    """Parties the user may see (the audit trail and other cross-record lists filter by it)."""
    return _visible(actor)


def _display_name(kind: str, legal_name, first_name, last_name) -> str:
    if kind == "company":
        return legal_name
    return " ".join(x for x in (first_name, last_name) if x)


def _normalize(data: dict) -> dict:
    out = dict(data)
    for f in ("company_id", "owner_id"):
        if out.get(f) is not None:
            out[f] = str(out[f])
    if out.get("roles") is not None:
        out["roles"] = sorted(set(out["roles"]))
    for f in ("emails", "phones"):
        if out.get(f) is not None:
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


def _check_company(session: Session, company_id: str | None, actor: Principal, party_id: str | None = None) -> None:
    if company_id is None:
        return
    if company_id == party_id:
        raise field_error("company_id", "a party cannot belong to itself")
    company = session.execute(select(Party).where(Party.id == company_id, _visible(actor))).scalar_one_or_none()
    if company is None or company.kind != "company":
        raise field_error("company_id", f"no company with id {company_id}")
    if company.status != "active":
        raise field_error("company_id", f"company {company_id} is archived")


def _publish(session: Session, verb: str, party: Party, actor: Principal, before: dict | None, action: str) -> None:
    """The party's new state goes to the outbox and the audit trail, in the caller's transaction."""
    session.flush()  # the row's change and the database's checks before the event is built
    state = party_state(party)
    rows.record_change(session, verb, party.id, party.version, state, actor, action, audit.diff(before, state))


def party_view(party: Party) -> dict:
    return row_view(party)


def create_party(session: Session, data: dict, actor: Principal) -> dict:
    """Create a company or person owned by the caller (or, with parties:assign, by someone else): the row, its
    crm.party.created event and its audit entry in one round trip (rows.py), answered from the values in hand."""
    data = _normalize(data)
    owner = data.get("owner_id") or actor.user_id
    if owner != actor.user_id:
        if not actor.can("parties:assign"):
            raise forbidden("parties:assign")
        access.check_assignee(session, owner)
    data["owner_id"] = owner
    _check_company(session, data.get("company_id"), actor)
    row = rows.new_party_row(data, _display_name(
        data["kind"], data.get("legal_name"), data.get("first_name"), data.get("last_name")))
    rows.insert_new_party(session, row, party_state(SimpleNamespace(**row)), actor)
    return row


def add_party(session: Session, data: dict, actor: Principal) -> Party:
    """create_party's work, returning the new row as the ORM object (lead conversion goes on with it)."""
    return session.get(Party, create_party(session, data, actor)["id"])


def get_party(session: Session, party_id: str, actor: Principal) -> dict:
    return party_view(find_party(session, party_id, actor))


def find_party(session: Session, party_id: str, actor: Principal) -> Party:
    """A party the caller may see; one they may not see is "not found", exactly like one that does not exist."""
    party = session.execute(select(Party).where(Party.id == str(party_id), _visible(actor))).scalar_one_or_none()
    if party is None:
        raise NotFound("party", party_id)
    return party


def _for_change(session: Session, party_id: str, actor: Principal) -> Party:
    may_edit = case((editable("parties", "party", Party.id, Party.owner_id, actor), True), else_=False)
    found = session.execute(select(Party, may_edit.label("may_edit")).where(Party.id == str(party_id), _visible(actor))
                            .with_for_update(of=Party)).first()  # one query: the row, locked, and the right to edit
    if found is None:
        raise NotFound("party", party_id)
    party = found.Party
    if party.status == "merged":
        raise Problem(409, "Party is merged", f"This party was merged into {party.merged_into_id}: change that one.",
                      "party-merged", merged_into_id=party.merged_into_id)
    if not found.may_edit:
        raise Problem(403, "Forbidden", "You can see this party but not change it: ask its owner to share it "
                      "with write access.", "forbidden")
    return party


def update_party(session: Session, party_id: str, expected_version: int, changes: dict, actor: Principal) -> dict:
    """Apply changes if the caller saw the current version; publish crm.party.updated."""
    party = _for_change(session, party_id, actor)
    check_version(party.version, expected_version)
    if party.status == "archived":
        raise Problem(409, "Party is archived", "Restore the party before changing it.", "party-archived")
    changes = _normalize(changes)
    if "owner_id" in changes and changes["owner_id"] != party.owner_id:
        raise field_error("owner_id", "use POST /api/v1/parties/{id}/assign to change the owner")
    changes.pop("owner_id", None)
    if "company_id" in changes:
        if party.kind != "person" and changes["company_id"] is not None:
            raise field_error("company_id", "only people belong to a company")
        _check_company(session, changes["company_id"], actor, party.id)
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
        return party_view(party)
    before = party_state(party)
    for k, v in changed.items():
        setattr(party, k, v)
    party.display_name = _display_name(party.kind, party.legal_name, party.first_name, party.last_name)
    if not party.display_name:
        raise field_error("last_name", "a person needs a first or last name")
    party.version += 1
    party.updated_at = datetime.now(UTC)
    _publish(session, "updated", party, actor, before, "update")
    return party_view(party)


def _set_status(session: Session, party_id: str, expected_version: int, actor: Principal, status: str) -> Party:
    party = _for_change(session, party_id, actor)
    check_version(party.version, expected_version)
    if party.status == status:
        return party
    before = party_state(party)
    party.status = status
    party.archived_at = datetime.now(UTC) if status == "archived" else None
    party.updated_at = datetime.now(UTC)
    party.version += 1
    _publish(session, "archived" if status == "archived" else "updated", party, actor, before,
             "archive" if status == "archived" else "restore")
    return party


def archive_party(session: Session, party_id: str, expected_version: int, actor: Principal) -> dict:
    """Archive (never delete: documents keep pointing at it); publish crm.party.archived."""
    return party_view(_set_status(session, party_id, expected_version, actor, "archived"))


def restore_party(session: Session, party_id: str, expected_version: int, actor: Principal) -> dict:
    return party_view(_set_status(session, party_id, expected_version, actor, "active"))


def assign_party(session: Session, party_id: str, owner_id: str, actor: Principal) -> dict:
    """Hand the party to another user (a manager within the team, an admin anywhere)."""
    party = _for_change(session, party_id, actor)
    owner_id = str(owner_id)
    access.check_assignee(session, owner_id)
    if party.owner_id == owner_id:
        return party_view(party)
    before = party_state(party)
    party.owner_id = owner_id
    party.version += 1
    party.updated_at = datetime.now(UTC)
    _publish(session, "updated", party, actor, before, "assign")
    return party_view(party)


def make_customer(session: Session, party_id: str, actor: str, why: str) -> bool:
    """The party bought (the ERP accepted an order or issued an invoice): it gets the role `customer` in place of
    `prospect`, published as crm.party.updated so the ERP lists it among its customers. A party that already is a
    customer, or is merged or gone, is left alone. Returns whether it changed."""
    party = session.execute(select(Party).where(Party.id == str(party_id)).with_for_update()).scalar_one_or_none()
    if party is None or party.status == "merged" or "customer" in (party.roles or []):
        return False
    before = party_state(party)
    party.roles = [r for r in (party.roles or []) if r != "prospect"] + ["customer"]
    party.version += 1
    party.updated_at = datetime.now(UTC)
    _publish(session, "updated", party, actor, before, "become_customer")
    add_entry(session, kind="became_customer", title=f"{party.display_name} became a customer",
              occurred_at=party.updated_at, party_id=party.id, ref_type="party", ref_id=party.id, actor=actor,
              summary=why, data={"roles": list(party.roles)})
    return True


def list_parties(session: Session, args: dict, actor: Principal) -> dict:
    """Parties the caller may see, filtered, sorted and paginated (counts never include invisible ones)."""
    stmt = select(Party).where(_visible(actor))
    if args.get("status", "active") != "all":
        stmt = stmt.where(Party.status == args.get("status", "active"))
    if args.get("kind"):
        stmt = stmt.where(Party.kind == args["kind"])
    if args.get("role"):
        stmt = stmt.where(Party.roles.contains([args["role"]]))
    if args.get("company_id"):
        stmt = stmt.where(Party.company_id == str(args["company_id"]))
    if args.get("owner_id"):
        stmt = stmt.where(Party.owner_id == str(args["owner_id"]))
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
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [party_view(p) for p in page["items"]]
    return page


SHARING = access.Sharing("party", find_party, _for_change)
