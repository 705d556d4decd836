"""A poll's party events applied together (InboxConsumer.handle_batch, apply_party_states) leave the ERP exactly as
applying them one by one does: the same replica rows, the same change rows (one per applied version, with the
fields that changed), late older versions and duplicates ignored, a merge in the middle handled in order."""

import uuid

import pytest
from erp.db import processed_events
from erp.parties.handlers import HANDLERS
from erp.parties.models import PartyReplica, PartyReplicaChange
from shared_events import envelope
from shared_events.inbox import InboxConsumer
from shared_events.testing import Record, RecordingProducer, party_state
from sqlalchemy import select

pytestmark = pytest.mark.db


def story() -> tuple[list, list[str]]:
    """Events about three new parties, in the order a partition would hold them, and the parties' ids."""
    a, b, c = (party_state(display_name=f"{n} {uuid.uuid4().hex[:6]}") for n in "ABC")

    def ev(verb, state, version, **changes):
        data = {**state, **changes, "version": version}
        return envelope.new_event(f"crm.party.{verb}", state["id"], data, version)

    a1, a2, a3 = ev("created", a, 1), ev("updated", a, 2, tax_id="FR1"), ev("updated", a, 3, website="a.example")
    events = [a1, ev("created", b, 1), a3, a2,                         # a2 arrives after a3: not applied
              ev("created", c, 1), ev("updated", b, 2, legal_name="B SA"), a3,   # a3 again: a duplicate
              ev("merged", c, 2, status="merged", merged_into_id=b["id"]), ev("archived", a, 4, status="archived")]
    return events, [a["id"], b["id"], c["id"]]


def outcome(sessions, ids: list[str]) -> list:
    """The replicas and change rows of the parties, with their ids replaced by their position in `ids`."""
    name = {pid: n for n, pid in enumerate(ids)}
    with sessions.begin() as s:
        rows = s.execute(select(PartyReplica).where(PartyReplica.party_id.in_(ids))).scalars().all()
        replicas = sorted((name[r.party_id], r.sequence, r.status, r.tax_id, r.website, r.legal_name,
                           name.get(r.merged_into_id)) for r in rows)
        changes = sorted((name[c.party_id], c.sequence, c.event_type, tuple(c.changed_fields))
                         for c in s.execute(select(PartyReplicaChange)
                                            .where(PartyReplicaChange.party_id.in_(ids))).scalars())
    return [replicas, changes]


def records(events) -> list:
    out = []
    for offset, event in enumerate(events):
        _, key, value, headers = envelope.to_kafka(event)
        out.append(Record("crm.party.v1", 0, offset, key, value, headers))
    return out


def test_a_batch_has_the_effects_of_its_events_one_by_one(app):
    sessions = app.extensions["erp.db"].sessions

    def inbox():
        return InboxConsumer(f"test.batches.{uuid.uuid4().hex[:6]}", "unused:1", ["crm.party.v1"], HANDLERS,
                             sessions, processed_events, producer_factory=RecordingProducer)

    one_by_one, ids_1 = story()
    single = inbox()
    outcomes_1 = [single.handle_message(r) for r in records(one_by_one)]
    together, ids_2 = story()
    outcomes_2 = inbox().handle_batch(records(together))
    assert outcomes_1 == outcomes_2 == ["applied"] * 6 + ["duplicate", "applied", "applied"]
    expected = outcome(sessions, ids_1)
    assert outcome(sessions, ids_2) == expected
    replicas, changes = expected
    assert [r[:3] for r in replicas] == [(0, 4, "archived"), (1, 2, "active"), (2, 2, "merged")]
    assert [c[:2] for c in changes if c[0] == 0] == [(0, 1), (0, 3), (0, 4)]  # a2 came too late: no change row
