"""Merging duplicate parties into one survivor, in the caller's transaction: all of it happens or none of it.

The survivor takes the absorbed parties' values where it has none (or where the caller chose), their roles, emails
and phones; every record pointing at an absorbed party points at the survivor; each absorbed party stays, with
status 'merged' and merged_into_id, so links held elsewhere (the ERP, bookmarks) can follow it.
"""

from datetime import UTC, datetime

from servicekit import audit
from servicekit.auth.principal import Principal
from servicekit.etag import check_version
from servicekit.problems import NotFound, Problem, field_error
from shared_events.outbox import record_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..access.models import RecordShare
from ..access.visibility import editable, visible
from ..db import audit_log, outbox
from ..leads import dedupe
from ..parties.events import party_event, party_state
from ..parties.models import Party
from ..parties.service import party_view
from ..timeline.entries import add_entry
from . import references

MAX_ABSORBED = 20
# fields the survivor may take from an absorbed party (kind-specific ones only where they apply)
FIELDS = ("legal_name", "first_name", "last_name", "job_title", "company_id", "tax_id", "website",
          "billing_address", "shipping_address")
PERSON_ONLY = {"first_name", "last_name", "job_title", "company_id"}
COMPANY_ONLY = {"legal_name"}
# people's company_id and earlier merges' merged_into_id are re-pointed here, with their events
ANNOUNCED_LINKS = {"parties.company_id", "parties.merged_into_id"}


def fields_for(kind: str) -> tuple[str, ...]:
    return tuple(f for f in FIELDS if f not in (COMPANY_ONLY if kind == "person" else PERSON_ONLY))


def _lock(session: Session, ids: list[str], actor: Principal) -> dict[str, Party]:
    """All the parties, locked in id order (two merges never deadlock); each must be visible and editable."""
    found = {p.id: p for p in session.execute(
        select(Party).where(Party.id.in_(ids), visible("parties", "party", Party.id, Party.owner_id, actor))
        .order_by(Party.id).with_for_update(of=Party)).scalars()}
    for pid in ids:
        if pid not in found:
            raise NotFound("party", pid)
    may_edit = set(session.execute(select(Party.id).where(
        Party.id.in_(ids), editable("parties", "party", Party.id, Party.owner_id, actor))).scalars())
    for pid in ids:
        if pid not in may_edit:
            raise Problem(403, "Forbidden", f"You can see party {pid} but not change it, so it cannot take part in "
                          "a merge: ask its owner to share it with write access.", "forbidden", party_id=pid)
    for pid in ids:
        if found[pid].status == "merged":
            raise Problem(409, "Party is merged", f"Party {pid} was already merged into "
                          f"{found[pid].merged_into_id}.", "party-merged", party_id=pid,
                          merged_into_id=found[pid].merged_into_id)
    return found


def _empty(value) -> bool:
    return value is None or value == "" or value == {} or value == []


def _union(channel_lists: list[list[dict]], normalize) -> list[dict]:
    """Channels in order, each normalized value once; the first list's primary stays the only primary."""
    out, seen = [], set()
    for channels in channel_lists:
        for c in channels or []:
            key = normalize(c.get("value")) or (c.get("value") or "").strip().casefold()
            if key in seen:
                continue
            seen.add(key)
            out.append({**c, "primary": bool(c.get("primary")) and not any(o["primary"] for o in out)})
    if out and not any(c["primary"] for c in out):
        out[0]["primary"] = True
    return out


def _check_choices(choices: dict, kind: str, allowed_ids: set[str]) -> dict[str, str]:
    fields = fields_for(kind)
    out = {}
    for name, pid in (choices or {}).items():
        if name not in fields:
            raise field_error(f"field_choices.{name}", f"a {kind} takes only {', '.join(fields)} from another party")
        if str(pid) not in allowed_ids:
            raise field_error(f"field_choices.{name}", "name the survivor or one of party_ids")
        out[name] = str(pid)
    return out


def _announce(session: Session, verb: str, party: Party, actor: Principal, action: str, before: dict | None,
              extra: dict | None = None) -> None:
    """The party's new state to the outbox and the audit trail (with `extra` facts), in the caller's transaction."""
    session.flush()
    session.refresh(party)
    record_event(session, outbox, party_event(verb, party, actor), "party")
    changes = audit.diff(before, party_state(party))
    for k, v in (extra or {}).items():
        changes[k] = {"before": None, "after": v}
    audit.record(session, audit_log, actor, action, "party", party.id, changes=changes)


def _touch(party: Party, now: datetime) -> None:
    party.version += 1
    party.updated_at = now


def _move_shares(session: Session, absorbed_ids: list[str], survivor: Party, owners: set[str],
                 actor: Principal) -> None:
    """Shares of the absorbed parties now grant the survivor (the stronger access wins where both had one), and the
    absorbed parties' owners keep their customer: they get write access to the survivor."""
    shares = session.execute(select(RecordShare).where(
        RecordShare.record_type == "party", RecordShare.record_id.in_([survivor.id, *absorbed_ids]))
        .order_by(RecordShare.created_at, RecordShare.id)).scalars().all()
    grants = {(s.user_id, s.team_id): s for s in shares if s.record_id == survivor.id}
    for s in shares:
        if s.record_id == survivor.id:
            continue
        kept = grants.get((s.user_id, s.team_id))
        if kept is None:
            s.record_id = survivor.id
            grants[(s.user_id, s.team_id)] = s
        else:
            if s.access == "write":
                kept.access = "write"
            session.delete(s)
    for owner in sorted(o for o in owners if o and o != survivor.owner_id):
        kept = grants.get((owner, None))
        if kept is None:
            session.add(RecordShare(record_type="party", record_id=survivor.id, user_id=owner, access="write",
                                    granted_by=actor.user_id))
        else:
            kept.access = "write"


def _take_values(survivor: Party, absorbed: list[Party], parties: dict[str, Party], choices: dict) -> None:
    """Chosen values, else the survivor's own, else the first absorbed party's that has one; channels united."""
    for name in fields_for(survivor.kind):
        if name in choices:
            setattr(survivor, name, getattr(parties[choices[name]], name))
        elif _empty(getattr(survivor, name)):
            setattr(survivor, name, next((getattr(p, name) for p in absorbed if not _empty(getattr(p, name))), None))
    if survivor.kind == "company":
        if not survivor.legal_name:
            raise field_error("field_choices.legal_name", "a company needs its legal name")
        survivor.display_name = survivor.legal_name
    else:
        survivor.display_name = " ".join(x for x in (survivor.first_name, survivor.last_name) if x)
        if not survivor.display_name:
            raise field_error("field_choices.last_name", "a person needs a first or last name")
    survivor.roles = sorted(set(survivor.roles or []).union(*(p.roles or [] for p in absorbed)))
    survivor.emails = _union([survivor.emails, *(p.emails for p in absorbed)], dedupe.normalize_email)
    survivor.phones = _union([survivor.phones, *(p.phones for p in absorbed)], dedupe.normalize_phone)


def merge_parties(session: Session, survivor_id, party_ids: list, field_choices: dict | None,
                  expected_version: int, actor: Principal) -> dict:
    """Merge party_ids into the survivor (see the module's docstring); returns the survivor."""
    survivor_id = str(survivor_id)
    ids = _checked_ids(survivor_id, party_ids)
    parties = _lock(session, [survivor_id, *ids], actor)
    survivor, absorbed = parties[survivor_id], [parties[i] for i in ids]
    check_version(survivor.version, expected_version)
    if survivor.status != "active":
        raise Problem(409, "Party is archived", "Restore the surviving party before merging into it.",
                      "party-archived")
    for p in absorbed:
        if p.kind != survivor.kind:
            raise field_error("party_ids", f"party {p.id} is a {p.kind}, the survivor a {survivor.kind}: only "
                                           "parties of the same kind merge")
    choices = _check_choices(field_choices, survivor.kind, {survivor_id, *ids})
    now = datetime.now(UTC)
    before = party_state(survivor)
    _take_values(survivor, absorbed, parties, choices)
    relinked = _relink(session, ids, survivor_id, actor, now)
    _move_shares(session, ids, survivor, {p.owner_id for p in absorbed}, actor)
    for p in absorbed:
        p_before = party_state(p)
        p.status = "merged"
        p.merged_into_id = survivor_id
        _touch(p, now)
        _announce(session, "merged", p, actor, "merge_into", p_before)
    _touch(survivor, now)
    _announce(session, "updated", survivor, actor, "merge", before, {"merged_party_ids": ids, "relinked": relinked})
    add_entry(session, kind="party_merged", title=f"Merged {', '.join(p.display_name for p in absorbed)} into "
                                                  f"{survivor.display_name}",
              occurred_at=now, party_id=survivor_id, ref_type="party", ref_id=survivor_id, actor=actor,
              data={"merged_party_ids": ids, "relinked": {k: len(v) for k, v in relinked.items()}})
    return party_view(survivor)


def _checked_ids(survivor_id: str, party_ids: list) -> list[str]:
    ids = [str(i) for i in party_ids]
    if not ids:
        raise field_error("party_ids", "name at least one party to merge into this one")
    if len(ids) > MAX_ABSORBED:
        raise field_error("party_ids", f"at most {MAX_ABSORBED} parties at once")
    if len(set(ids)) != len(ids):
        raise field_error("party_ids", "a party is named twice")
    if survivor_id in ids:
        raise field_error("party_ids", "a party cannot be merged into itself")
    return ids


def _relink(session: Session, ids: list[str], survivor_id: str, actor: Principal, now: datetime) -> dict:
    """Everything that pointed at an absorbed party points at the survivor: records of other modules (in SQL),
    the people of an absorbed company and parties merged into an absorbed one before (each announced, so
    subscribers learn it from their own events). Returns what was relinked, by table and column."""
    relinked = references.repoint(session, ids, survivor_id, skip=ANNOUNCED_LINKS)
    people = session.execute(select(Party).where(Party.company_id.in_(ids)).order_by(Party.id)
                             .with_for_update()).scalars().all()
    for person in people:
        person_before = party_state(person)
        person.company_id = survivor_id
        _touch(person, now)
        _announce(session, "updated", person, actor, "merge_relink", person_before)
    if people:
        relinked["parties.company_id"] = sorted(p.id for p in people)
    earlier = session.execute(select(Party).where(Party.merged_into_id.in_(ids)).order_by(Party.id)
                              .with_for_update()).scalars().all()
    for old in earlier:  # merged into an absorbed party before: one hop to the survivor now
        old_before = party_state(old)
        old.merged_into_id = survivor_id
        _touch(old, now)
        _announce(session, "merged", old, actor, "merge_relink", old_before)
    return relinked
