"""Applies crm.party.* events to the replica: newer sequences only, each change noted once. A merge
(crm.party.merged) also hands the absorbed party's ERP terms to the survivor when the survivor has none."""

from datetime import datetime

from cloudevents.core.v1.event import CloudEvent
from servicekit import audit
from shared_events.actors import actor_of
from shared_events.envelope import sequence_of
from shared_events.replica import upsert_newest
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from ..db import audit_log
from .models import MASTER_FIELDS, PartyAccount, PartyReplica, PartyReplicaChange

REPLICATED = [f for f in MASTER_FIELDS if f != "id"]


def _values(state: dict) -> dict:
    """The replica's columns from a crm.party.v1 state."""
    values = {f: state.get(f) for f in REPLICATED}
    values["roles"] = values["roles"] or []
    values["emails"] = values["emails"] or []
    values["phones"] = values["phones"] or []
    values["crm_updated_at"] = datetime.fromisoformat(state["updated_at"])
    values["replicated_at"] = datetime.now().astimezone()
    return values


def _change(event: CloudEvent, sequence: int, changed: list[str]) -> dict:
    return {"party_id": event.get_data()["id"], "event_id": event.get_id(), "event_type": event.get_type(),
            "sequence": sequence, "actor": actor_of(event).label("crm"), "changed_fields": changed,
            "occurred_at": event.get_time()}


def apply_party_state(session: Session, event: CloudEvent) -> bool:
    """Upsert the replica from the event's full state; False (and nothing written) if it is not newer."""
    return event.get_id() in apply_party_states(session, [event])


def apply_party_states(session: Session, events: list[CloudEvent]) -> set[str]:
    """apply_party_state for a run of events, in a few statements: the replicas they touch are read (and locked)
    once, the events are walked in order in memory (an event not newer than what is held is skipped, each applied
    one gets its change row), then the newest state of each party is written with one multi-row upsert (still
    guarded by the sequence) and the change rows with one insert. Returns the ids of the events applied."""
    table = PartyReplica.__table__
    ids = sorted({e.get_data()["id"] for e in events})
    held = {row["party_id"]: dict(row) for row in session.execute(
        select(table).where(table.c.party_id.in_(ids)).with_for_update()).mappings()}
    newest: dict[str, dict] = {}
    changes = []
    for event in events:
        state, sequence = event.get_data(), sequence_of(event)
        current = newest.get(state["id"]) or held.get(state["id"])
        if current is not None and current["sequence"] >= sequence:
            continue  # older than what the replica holds: recorded in the inbox, not applied
        values = _values(state)
        changed = (sorted(f for f in REPLICATED if current.get(f) != values[f]) if current is not None
                   else sorted(REPLICATED))
        changes.append(_change(event, sequence, changed))
        newest[state["id"]] = {"party_id": state["id"], "sequence": sequence, **values}
    upsert_newest(session, table, ("party_id",), list(newest.values()))
    if changes:
        session.execute(insert(PartyReplicaChange.__table__), changes)
    return {change["event_id"] for change in changes}


apply_party_state.batch = apply_party_states  # the inbox hands a run of these events over at once


def apply_party_merged(session: Session, event: CloudEvent) -> bool:
    """The absorbed party's replica becomes status 'merged' (pointing at the survivor); its payment terms, credit
    limit and group move to the survivor unless the survivor has terms of its own (those win)."""
    applied = apply_party_state(session, event)
    survivor_id = event.get_data().get("merged_into_id")
    if applied and survivor_id:
        absorbed_id = event.get_data()["id"]
        survivor_has_terms = session.execute(
            select(PartyAccount.party_id).where(PartyAccount.party_id == survivor_id)).first()
        if not survivor_has_terms:
            moved = session.execute(update(PartyAccount).where(PartyAccount.party_id == absorbed_id)
                                    .values(party_id=survivor_id, version=PartyAccount.version + 1,
                                            updated_at=datetime.now().astimezone())).rowcount
            if moved:
                audit.record(session, audit_log, actor_of(event).label("crm"), "move_terms", "party", survivor_id,
                             changes={"from_party_id": {"before": None, "after": absorbed_id}})
    return applied


HANDLERS = {
    "crm.party.created": apply_party_state,
    "crm.party.updated": apply_party_state,
    "crm.party.archived": apply_party_state,
    "crm.party.merged": apply_party_merged,
}
