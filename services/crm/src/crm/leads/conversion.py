"""Converting a lead: into an existing party or new ones made from its data, plus a deal, in one transaction.

The lead stays (status converted, pointing at what it became) with its whole history; converting it again is a
409. Anything refused on the way (an invisible party, an unknown pipeline…) rolls the whole conversion back.
"""

from datetime import UTC, datetime

from servicekit import audit
from servicekit.auth.principal import Principal, forbidden
from servicekit.problems import NotFound, Problem, field_error, linked
from sqlalchemy.orm import Session

from ..db import audit_log
from ..deals import service as deals
from ..parties import service as parties
from ..parties.models import Party
from ..timeline import entries as timeline
from .models import Lead
from .service import for_change, lead_state, not_converted


def _existing(session: Session, party_id, actor: Principal, field: str) -> Party:
    party = linked(lambda i: parties.find_party(session, i, actor), party_id, field, "party")
    if party.status != "active":
        raise field_error(field, f"party {party_id} is archived")
    return party


def _owner_for(lead: Lead, actor: Principal, assign_permission: str) -> str:
    """New records go to the lead's owner when the caller may hand records out, else to the caller."""
    return lead.owner_id if lead.owner_id and actor.can(assign_permission) else actor.user_id


def _new_party(session: Session, data: dict, actor: Principal) -> Party:
    if not actor.can("parties:create"):
        raise forbidden("parties:create")
    return parties.add_party(session, data, actor)


def _channels(lead: Lead) -> dict:
    return {"emails": [{"value": lead.email}] if lead.email else [],
            "phones": [{"value": lead.phone}] if lead.phone else []}


def _parties_for(session: Session, lead: Lead, data: dict, actor: Principal) -> tuple[Party | None, Party | None,
                                                                                       list[str]]:
    """(company, person, what was created) for the conversion."""
    owner = _owner_for(lead, actor, "parties:assign")
    has_person = bool(lead.first_name or lead.last_name)
    person_fields = {"kind": "person", "first_name": lead.first_name, "last_name": lead.last_name,
                     "job_title": lead.job_title, "roles": ["prospect"], "owner_id": owner, **_channels(lead)}
    if data.get("party_id"):
        party = _existing(session, data["party_id"], actor, "party_id")
        if party.kind == "person":
            if data.get("person_id"):
                raise field_error("person_id", "party_id already names a person")
            company = None
            if party.company_id:
                try:
                    company = parties.find_party(session, party.company_id, actor)
                except NotFound:
                    company = None  # the person's company is not the caller's to see: the person is the customer
            return company, party, []
        if data.get("person_id"):
            person = _existing(session, data["person_id"], actor, "person_id")
            if person.kind != "person" or person.company_id != party.id:
                raise field_error("person_id", "name a person working for the company in party_id")
            return party, person, []
        if not has_person:
            return party, None, []
        return party, _new_party(session, {**person_fields, "company_id": party.id}, actor), ["person"]
    if not (lead.company_name or has_person):
        raise Problem(409, "Lead is incomplete", "Give the lead a person's name or a company name before "
                      "converting it, or convert it into an existing party.", "lead-incomplete")
    company = person = None
    created = []
    if lead.company_name:
        company = _new_party(session, {"kind": "company", "legal_name": lead.company_name, "roles": ["prospect"],
                                       "owner_id": owner, **({} if has_person else _channels(lead))}, actor)
        created.append("company")
    if has_person:
        person = _new_party(session, {**person_fields, "company_id": company.id if company else None}, actor)
        created.append("person")
    return company, person, created


def convert_lead(session: Session, lead_id, data: dict, actor: Principal, expected_version: int | None = None) -> dict:
    """Make the lead a customer: its party (existing or new company and/or person) and, unless told not to, a deal
    in the default (or given) pipeline."""
    lead = for_change(session, lead_id, actor, expected_version)
    not_converted(lead)
    if lead.status == "disqualified":
        raise Problem(409, "Lead is disqualified", "Qualify the lead again before converting it.", "lead-status")
    before = lead_state(lead)
    company, person, created = _parties_for(session, lead, data, actor)
    customer = company or person
    deal = None
    if data.get("create_deal", True):
        if not actor.can("deals:create"):
            raise forbidden("deals:create")
        wanted = dict(data.get("deal") or {})
        wanted.setdefault("name", customer.display_name[:200])
        deal = deals.add_deal(session, {**wanted, "party_id": customer.id,
                                           "contact_person_id": person.id if person and company else None,
                                           "owner_id": _owner_for(lead, actor, "deals:assign")},
                                 actor, source_lead_id=lead.id)
        created.append("deal")
    now = datetime.now(UTC)
    lead.status, lead.converted_at = "converted", now
    lead.converted_party_id = customer.id
    lead.converted_person_id = person.id if person else None
    lead.converted_deal_id = deal.id if deal else None
    lead.version += 1
    lead.updated_at = now
    session.flush()
    audit.record(session, audit_log, actor, "convert", "lead", lead.id, before, lead_state(lead))
    timeline.add_entry(session, kind="lead_converted", title=f"Lead {lead.display_name} converted",
                       occurred_at=now, party_id=customer.id, deal_id=deal.id if deal else None, lead_id=lead.id,
                       ref_type="lead", ref_id=lead.id, actor=actor, data={"created": created})
    return {"lead": lead, "party_id": customer.id, "person_id": lead.converted_person_id,
            "deal_id": lead.converted_deal_id, "created": created}
