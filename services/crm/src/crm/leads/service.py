"""Use cases of leads: create, change, qualify, disqualify, assign, share, list and find likely duplicates.

Each takes a session and the acting user and checks what that user may see and change (own leads, team members'
for managers, shared ones, all with leads:read_all). Leads are never deleted: a junk lead is disqualified.
Conversion into parties and a deal lives in conversion.py, website capture in capture.py.
"""

from datetime import UTC, datetime

from servicekit import audit
from servicekit.auth.principal import Principal, forbidden
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import and_, exists, func, literal_column, or_, select
from sqlalchemy.orm import Session

from ..access import service as access
from ..access.visibility import editable, visible
from ..db import audit_log
from ..parties.models import Party
from ..timeline import entries as timeline
from . import dedupe
from .models import Lead

SORTABLE = {
    "display_name": func.lower(Lead.display_name),
    "company_name": func.lower(Lead.company_name),
    "created_at": Lead.created_at,
    "updated_at": Lead.updated_at,
    "status": Lead.status,
    "score": Lead.score,
    "source": Lead.source,
}
TEXT_FIELDS = ("first_name", "last_name", "company_name", "email", "phone", "job_title", "message", "campaign",
               "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "disqualify_reason")
DUPLICATES_LIMIT = 50
PARTY_CANDIDATES = 200  # the SQL filter is coarse (company names by prefix): room for the Python check to choose


def visible_leads(actor: Principal):
    return visible("leads", "lead", Lead.id, Lead.owner_id, actor)


def lead_state(lead: Lead) -> dict:
    return {f: getattr(lead, f) for f in (
        "first_name", "last_name", "company_name", "email", "phone", "job_title", "message", "source", "campaign",
        "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "score", "owner_id", "status",
        "disqualify_reason", "submissions", "converted_party_id", "converted_person_id", "converted_deal_id",
        "version")}


def clean(data: dict) -> dict:
    """Trimmed text, blanks as None, ids as strings."""
    out = dict(data)
    for f in TEXT_FIELDS:
        if isinstance(out.get(f), str):
            out[f] = out[f].strip() or None
    if out.get("owner_id") is not None:
        out["owner_id"] = str(out["owner_id"])
    return out


def refresh_keys(lead: Lead) -> None:
    """The display name and the dedupe keys follow the contact fields."""
    person = " ".join(x for x in (lead.first_name, lead.last_name) if x)
    lead.display_name = (person or lead.company_name or lead.email or lead.phone or "(no name)")[:300]
    # casefolding can lengthen text ("ß" -> "ss"): keys are cut to their columns, the same way on every lead
    lead.email_key = (dedupe.normalize_email(lead.email) or "")[:254] or None
    lead.phone_key = dedupe.normalize_phone(lead.phone)
    lead.name_key = (dedupe.person_key(lead.first_name, lead.last_name) or "")[:300] or None
    lead.company_key = (dedupe.company_key(lead.company_name) or "")[:300] or None


def add_lead(session: Session, data: dict, owner_id: str | None, actor, **extra) -> Lead:
    """Store a new lead and say so in the audit trail and the timeline; `actor` is a Principal or a label."""
    now = datetime.now(UTC)
    lead = Lead(**data, **extra, owner_id=owner_id, status="new", version=1, created_at=now, updated_at=now)
    refresh_keys(lead)
    session.add(lead)
    session.flush()
    audit.record(session, audit_log, actor, "create", "lead", lead.id, None, lead_state(lead))
    timeline.add_entry(session, kind="lead_created", title=f"Lead {lead.display_name} ({lead.source})",
                       occurred_at=now, lead_id=lead.id, ref_type="lead", ref_id=lead.id, actor=actor,
                       summary=lead.message, data={"source": lead.source, "campaign": lead.campaign})
    return lead


def lead_view(lead: Lead) -> dict:
    return row_view(lead)


def create_lead(session: Session, data: dict, actor: Principal) -> dict:
    """A lead owned by the caller (or, with leads:assign, by someone else)."""
    data = clean(data)
    owner = data.pop("owner_id", None) or actor.user_id
    if owner != actor.user_id:
        if not actor.can("leads:assign"):
            raise forbidden("leads:assign")
        access.check_assignee(session, owner)
    return lead_view(add_lead(session, data, owner, actor))


def get_lead(session: Session, lead_id, actor: Principal) -> dict:
    return lead_view(find_lead(session, lead_id, actor))


def find_lead(session: Session, lead_id, actor: Principal) -> Lead:
    """A lead the caller may see; one they may not see is "not found", like one that does not exist."""
    lead = session.execute(select(Lead).where(Lead.id == str(lead_id), visible_leads(actor))).scalar_one_or_none()
    if lead is None:
        raise NotFound("lead", lead_id)
    return lead


def for_change(session: Session, lead_id, actor: Principal, expected_version: int | None = None) -> Lead:
    """The lead, locked, if the caller may change it and saw its current version (when they say which)."""
    lead = session.execute(select(Lead).where(Lead.id == str(lead_id), visible_leads(actor))
                           .with_for_update()).scalar_one_or_none()
    if lead is None:
        raise NotFound("lead", lead_id)
    may_edit = session.execute(select(Lead.id).where(
        Lead.id == lead.id, editable("leads", "lead", Lead.id, Lead.owner_id, actor))).first()
    if not may_edit:
        raise Problem(403, "Forbidden", "You can see this lead but not change it: ask its owner to share it "
                      "with write access.", "forbidden")
    if expected_version is not None:
        check_version(lead.version, expected_version)
    return lead


def not_converted(lead: Lead) -> None:
    if lead.status == "converted":
        raise Problem(409, "Lead is converted", "A converted lead is kept as it was: change its party or deal "
                      "instead.", "lead-converted", party_id=lead.converted_party_id, deal_id=lead.converted_deal_id)


def changed(session: Session, lead: Lead, before: dict, action: str, actor) -> Lead:
    lead.version += 1
    lead.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, audit_log, actor, action, "lead", lead.id, before, lead_state(lead))
    return lead


def update_lead(session: Session, lead_id, expected_version: int, changes: dict, actor: Principal) -> dict:
    """Apply changes if the caller saw the current version."""
    lead = for_change(session, lead_id, actor, expected_version)
    not_converted(lead)
    changes = clean(changes)
    if "status" in changes and lead.status not in ("new", "contacted") and changes["status"] != lead.status:
        raise Problem(409, "Wrong status", f"The lead is {lead.status}: use /qualify or /disqualify.",
                      "lead-status")
    diff = {k: v for k, v in changes.items() if getattr(lead, k) != v}
    if not diff:
        return lead_view(lead)
    before = lead_state(lead)
    for k, v in diff.items():
        setattr(lead, k, v)
    if not any((lead.first_name, lead.last_name, lead.company_name, lead.email, lead.phone)):
        raise field_error("last_name", "a lead needs a name, a company, an email or a phone")
    refresh_keys(lead)
    return lead_view(changed(session, lead, before, "update", actor))


def qualify_lead(session: Session, lead_id, actor: Principal, expected_version: int | None = None) -> dict:
    """Worth pursuing: ready to convert. A disqualified lead can be qualified again."""
    lead = for_change(session, lead_id, actor, expected_version)
    not_converted(lead)
    if lead.status == "qualified":
        return lead_view(lead)
    before = lead_state(lead)
    lead.status, lead.qualified_at = "qualified", datetime.now(UTC)
    lead.disqualify_reason, lead.disqualified_at = None, None
    timeline.add_entry(session, kind="lead_qualified", title=f"Lead {lead.display_name} qualified",
                       lead_id=lead.id, ref_type="lead", ref_id=lead.id, actor=actor)
    return lead_view(changed(session, lead, before, "qualify", actor))


def disqualify_lead(session: Session, lead_id, reason: str, actor: Principal,
                    expected_version: int | None = None) -> dict:
    """Not worth pursuing, and why (spam, no budget, competitor…)."""
    lead = for_change(session, lead_id, actor, expected_version)
    not_converted(lead)
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", "say why the lead is disqualified")
    if lead.status == "disqualified" and lead.disqualify_reason == reason:
        return lead_view(lead)
    before = lead_state(lead)
    lead.status, lead.disqualify_reason, lead.disqualified_at = "disqualified", reason, datetime.now(UTC)
    timeline.add_entry(session, kind="lead_disqualified", title=f"Lead {lead.display_name} disqualified",
                       lead_id=lead.id, ref_type="lead", ref_id=lead.id, actor=actor, summary=reason)
    return lead_view(changed(session, lead, before, "disqualify", actor))


def assign_lead(session: Session, lead_id, owner_id, actor: Principal) -> dict:
    """Hand the lead to another user (a manager within the team, an admin anywhere)."""
    lead = for_change(session, lead_id, actor)
    owner_id = str(owner_id)
    access.check_assignee(session, owner_id)
    if lead.owner_id == owner_id:
        return lead_view(lead)
    before = lead_state(lead)
    lead.owner_id = owner_id
    return lead_view(changed(session, lead, before, "assign", actor))


def list_leads(session: Session, args: dict, actor: Principal) -> dict:
    """Leads the caller may see, filtered, sorted and paginated (counts never include invisible ones)."""
    stmt = select(Lead).where(visible_leads(actor))
    for arg in ("status", "source", "campaign"):
        if args.get(arg):
            stmt = stmt.where(getattr(Lead, arg) == args[arg])
    for arg in ("owner_id", "form_id"):
        if args.get(arg):
            stmt = stmt.where(getattr(Lead, arg) == str(args[arg]))
    if args.get("q"):
        like = f"%{args['q'].lower()}%"
        stmt = stmt.where(or_(func.lower(Lead.display_name).like(like), func.lower(Lead.company_name).like(like),
                              func.lower(Lead.email).like(like)))
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE, [Lead.created_at.desc(), Lead.id])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [lead_view(lead) for lead in page["items"]]
    return page


# -- duplicates ----------------------------------------------------------------------------------

def _compact_sql(column):
    """The SQL twin of dedupe.compact(normalize_text(...)): a coarse filter, confirmed in Python."""
    return func.regexp_replace(func.lower(func.unaccent(column)), "[^[:alnum:]]+", "", "g")


def _json_values(column, alias: str):
    return func.jsonb_array_elements(column).table_valued("value").alias(alias)


def _party_candidates(session: Session, lead: Lead, actor: Principal) -> list[Party]:
    conditions = []
    if lead.email_key:
        e = _json_values(Party.emails, "e")
        conditions.append(exists(select(literal_column("1")).select_from(e).where(
            func.lower(func.trim(e.c.value.op("->>")("value"))) == lead.email_key)))
    if lead.phone_key:
        p = _json_values(Party.phones, "p")
        digits = func.regexp_replace(p.c.value.op("->>")("value"), "[^0-9]", "", "g")
        conditions.append(exists(select(literal_column("1")).select_from(p).where(
            func.char_length(digits) >= dedupe.PHONE_MIN_DIGITS,
            func.right(digits, dedupe.PHONE_KEY_DIGITS) == lead.phone_key)))
    if lead.name_key and lead.company_key:
        conditions.append(and_(Party.kind == "person", Party.company_id.is_not(None),
                               _compact_sql(Party.display_name) == dedupe.compact(lead.name_key)))
    if lead.company_key:
        conditions.append(and_(Party.kind == "company",
                               _compact_sql(Party.display_name).like(dedupe.compact(lead.company_key) + "%")))
    if not conditions:
        return []
    visible_parties = visible("parties", "party", Party.id, Party.owner_id, actor)
    return list(session.execute(select(Party).where(or_(*conditions), Party.status == "active", visible_parties)
                                .order_by(Party.created_at).limit(PARTY_CANDIDATES)).scalars())


def _party_reasons(lead: Lead, party: Party, company_names: dict[str, str]) -> list[str]:
    reasons = []
    if lead.email_key and lead.email_key in {dedupe.normalize_email(e.get("value")) for e in party.emails or []}:
        reasons.append("email")
    if lead.phone_key and lead.phone_key in {dedupe.normalize_phone(p.get("value")) for p in party.phones or []}:
        reasons.append("phone")
    if party.kind == "person":
        if (lead.name_key and lead.name_key == dedupe.person_key(party.first_name, party.last_name)
                and lead.company_key and lead.company_key == dedupe.company_key(company_names.get(party.company_id))):
            reasons.append("name_company")
    elif lead.company_key and lead.company_key in {dedupe.company_key(party.display_name),
                                                   dedupe.company_key(party.legal_name)}:
        reasons.append("company")
    return reasons


def _lead_reasons(lead: Lead, other: Lead) -> list[str]:
    reasons = [r for r, key in (("email", "email_key"), ("phone", "phone_key"))
               if getattr(lead, key) and getattr(lead, key) == getattr(other, key)]
    if lead.name_key and lead.company_key and (lead.name_key, lead.company_key) == (other.name_key,
                                                                                    other.company_key):
        reasons.append("name_company")
    return reasons


def find_duplicates(session: Session, lead_id, actor: Principal) -> list[dict]:
    """Leads and parties the caller can see that are probably the same person or company as this lead: same
    email, same phone (last 9 digits), same person name at the same company, or (parties) the same company."""
    lead = find_lead(session, lead_id, actor)
    found = []
    same = [getattr(Lead, key) == getattr(lead, key) for key in ("email_key", "phone_key") if getattr(lead, key)]
    if lead.name_key and lead.company_key:
        same.append(and_(Lead.name_key == lead.name_key, Lead.company_key == lead.company_key))
    if same:
        others = session.execute(select(Lead).where(or_(*same), Lead.id != lead.id, visible_leads(actor))
                                 .order_by(Lead.created_at).limit(DUPLICATES_LIMIT)).scalars()
        for other in others:
            found.append({"record_type": "lead", "id": other.id, "kind": None, "display_name": other.display_name,
                          "company_name": other.company_name, "email": other.email, "phone": other.phone,
                          "status": other.status, "owner_id": other.owner_id, "reasons": _lead_reasons(lead, other)})
    parties = _party_candidates(session, lead, actor)
    company_ids = {p.company_id for p in parties if p.company_id}
    company_names = dict(session.execute(select(Party.id, Party.display_name).where(
        Party.id.in_(company_ids))).all()) if company_ids else {}
    for party in parties:
        reasons = _party_reasons(lead, party, company_names)
        if reasons:
            found.append({"record_type": "party", "id": party.id, "kind": party.kind,
                          "display_name": party.display_name,
                          "company_name": company_names.get(party.company_id) if party.kind == "person"
                          else party.display_name,
                          "email": next((e.get("value") for e in party.emails or []), None),
                          "phone": next((p.get("value") for p in party.phones or []), None),
                          "status": party.status, "owner_id": party.owner_id, "reasons": reasons})
    found.sort(key=lambda m: (-len(m["reasons"]), m["record_type"] != "party"))
    return found[:DUPLICATES_LIMIT * 2]


SHARING = access.Sharing("lead", find_lead, for_change)
