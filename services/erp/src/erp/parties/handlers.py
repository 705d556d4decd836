"""Applies crm.party.* events to the replica: newer sequences only, each change noted once. A merge
(crm.party.merged) also hands the absorbed party's ERP terms to the survivor when the survivor has none."""

from datetime import datetime

from cloudevents.core.v1.event import CloudEvent
from servicekit import audit
from shared_events.actors import actor_of
from shared_events.envelope import sequence_of
from shared_events.replica import upsert_if_newer
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ..db import audit_log
from .models import MASTER_FIELDS, PartyAccount, PartyReplica, PartyReplicaChange

REPLICATED = [f for f in MASTER_FIELDS if f != "id"]


def apply_party_state(session: Session, event: CloudEvent) -> bool:
    """Upsert the replica from the event's full state; False (and nothing written) if it is not newer."""
    state = event.get_data()
    sequence = sequence_of(event)
    before = session.execute(select(PartyReplica).where(PartyReplica.party_id == state["id"])).scalar_one_or_none()
    previous = {f: getattr(before, f) for f in REPLICATED} if before else {}
    values = {f: state.get(f) for f in REPLICATED}
    values["roles"] = values["roles"] or []
    values["emails"] = values["emails"] or []
    values["phones"] = values["phones"] or []
    values["crm_updated_at"] = datetime.fromisoformat(state["updated_at"])
    values["replicated_at"] = datetime.now().astimezone()
    applied = upsert_if_newer(session, PartyReplica.__table__, {"party_id": state["id"]}, sequence, values)
    if applied:
        changed = sorted(f for f in REPLICATED if previous.get(f) != values[f]) if before else sorted(REPLICATED)
        session.add(PartyReplicaChange(
            party_id=state["id"], event_id=event.get_id(), event_type=event.get_type(), sequence=sequence,
            actor=actor_of(event).label("crm"), changed_fields=changed, occurred_at=event.get_time()))
    return applied


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
