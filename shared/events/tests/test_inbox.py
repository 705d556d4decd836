"""The inbox on a real PostgreSQL: once in effect, failures retried then dead-lettered, offsets after commit."""

import threading
import time
import uuid

import pytest
from shared_events import envelope
from shared_events.inbox import InboxConsumer
from shared_events.testing import Record, RecordingProducer, party_state
from sqlalchemy import Column, Integer, MetaData, String, Table, func, select, text
from sqlalchemy.orm import sessionmaker

pytestmark = pytest.mark.db


def record_of(event, offset=0, topic="crm.party.v1", partition=0):
    topic_, key, value, headers = envelope.to_kafka(event)
    return Record(topic, partition, offset, key, value, headers)


@pytest.fixture
def effects(scratch):
    """A table the handler writes to, so a second application would be visible."""
    engine, sessions, t = scratch
    md = MetaData()
    table = Table("effects", md, Column("n", Integer, primary_key=True, autoincrement=True),
                  Column("event_id", String(40)))
    md.create_all(engine)
    return table


def make_inbox(scratch, effects, handler=None, producer=None, max_attempts=3):
    engine, sessions, t = scratch

    def write_effect(session, event):
        session.execute(effects.insert().values(event_id=event.get_id()))

    return InboxConsumer("test.consumer", "unused:1", ["crm.party.v1"],
                         {"crm.party.created": handler or write_effect}, sessions, t["processed"],
                         max_attempts=max_attempts, retry_backoff=0.01,
                         producer_factory=lambda: producer or RecordingProducer())


def count(scratch, table):
    with scratch[1]() as s:
        return s.execute(select(func.count()).select_from(table)).scalar_one()


def test_the_same_event_delivered_twice_has_one_effect(scratch, effects):
    inbox = make_inbox(scratch, effects)
    data = party_state()
    ev = envelope.new_event("crm.party.created", data["id"], data, 1)
    assert inbox.handle_message(record_of(ev, 10)) == "applied"
    assert inbox.handle_message(record_of(ev, 11)) == "duplicate"
    assert count(scratch, effects) == 1


def test_a_failing_handler_is_retried_then_dead_lettered_with_the_error(scratch, effects):
    calls = []

    def broken(session, event):
        calls.append(event.get_id())
        session.execute(effects.insert().values(event_id="half-way"))
        raise KeyError("billing_address")

    dlq = RecordingProducer()
    inbox = make_inbox(scratch, effects, handler=broken, producer=dlq, max_attempts=3)
    data = party_state()
    ev = envelope.new_event("crm.party.created", data["id"], data, 1)
    assert inbox.handle_message(record_of(ev, 42)) == "dead_lettered"
    assert len(calls) == 3
    assert count(scratch, effects) == 0  # every attempt rolled back, half-way writes included
    assert count(scratch, scratch[2]["processed"]) == 0  # so a replay from the DLQ can still apply it
    (topic, key, value, headers), = dlq.sent
    h = dict(headers)
    assert topic == "crm.party.v1.dlq" and key == data["id"].encode()
    assert b"KeyError" in h["dlq_error"] and h["dlq_original_offset"] == b"42" and h["dlq_attempts"] == b"3"
    assert h["ce_id"] == ev.get_id().encode()  # the original event travels intact


def test_a_malformed_message_goes_straight_to_the_dlq(scratch, effects):
    dlq = RecordingProducer()
    inbox = make_inbox(scratch, effects, producer=dlq)
    rec = Record("crm.party.v1", 1, 7, b"k", b"garbage", [("ce_type", b"crm.party.created")])
    assert inbox.handle_message(rec) == "dead_lettered"
    assert dlq.sent[0][0] == "crm.party.v1.dlq" and dlq.sent[0][2] == b"garbage"
    assert count(scratch, effects) == 0


def test_types_without_a_handler_are_ignored(scratch, effects):
    inbox = make_inbox(scratch, effects)
    data = party_state()
    ev = envelope.new_event("crm.party.updated", data["id"], data, 2)
    assert inbox.handle_message(record_of(ev)) == "ignored"
    assert count(scratch, effects) == 0


def test_poll_commits_offsets_only_after_the_effects_committed(scratch, effects):
    committed = []

    class FakeConsumer:
        def poll(self, timeout_ms):
            from kafka.structs import TopicPartition
            data = party_state()
            evs = [envelope.new_event("crm.party.created", data["id"], data, 1) for _ in range(2)]
            return {TopicPartition("crm.party.v1", 0): [record_of(e, 100 + i) for i, e in enumerate(evs)]}

        def commit(self, offsets):
            # by the time an offset is committed, its effect is visible to another connection
            committed.append((list(offsets.values())[0].offset, count(scratch, effects)))

        def close(self):
            pass

    inbox = make_inbox(scratch, effects)
    inbox._consumer_factory = FakeConsumer
    assert inbox.poll_once() == 2
    assert committed == [(102, 2)]  # one commit for the partition's batch, after both effects were visible


def test_inbox_rows_name_the_consumer_and_position(scratch, effects):
    inbox = make_inbox(scratch, effects)
    data = party_state()
    ev = envelope.new_event("crm.party.created", data["id"], data, 1)
    inbox.handle_message(record_of(ev, 5))
    with scratch[0].connect() as c:
        row = c.execute(text("select consumer, event_id::text, topic, \"offset\" from processed_events")).one()
    assert row == ("test.consumer", ev.get_id(), "crm.party.v1", 5)
    assert uuid.UUID(row[1])


def test_data_that_breaks_the_contract_is_dead_lettered_without_retrying(scratch, effects):
    calls = []
    dlq = RecordingProducer()
    inbox = make_inbox(scratch, effects, handler=lambda s, e: calls.append(e), producer=dlq)
    data = party_state()
    ev = envelope.new_event("crm.party.created", data["id"], data, 1)
    topic, key, _, headers = envelope.to_kafka(ev)
    broken = Record(topic, 0, 3, key, b'{"id": "%s", "kind": "robot"}' % data["id"].encode(), headers)
    assert inbox.handle_message(broken) == "dead_lettered"
    assert calls == [] and b"ContractViolation" in dict(dlq.sent[0][3])["dlq_error"]


def test_a_rebuild_does_not_dead_letter_the_same_poison_twice(scratch, effects):
    dlq = RecordingProducer()
    inbox = make_inbox(scratch, effects, producer=dlq)
    inbox.dead_letters = False
    assert inbox.handle_message(Record("crm.party.v1", 0, 1, b"k", b"garbage", [])) == "dead_lettered"
    assert dlq.sent == []


def test_a_lost_database_is_waited_out_not_dead_lettered(own_database):
    """The consumer holds on to the event while its database is away and applies it once it is back: nothing
    dead-lettered, nothing lost, nothing applied twice."""
    md = MetaData()
    effects = Table("effects", md, Column("n", Integer, primary_key=True, autoincrement=True),
                    Column("event_id", String(40)))
    md.create_all(own_database.engine)
    dlq = RecordingProducer()
    inbox = InboxConsumer("test.consumer", "unused:1", ["crm.party.v1"],
                          {"crm.party.created": lambda s, e: s.execute(effects.insert().values(event_id=e.get_id()))},
                          sessionmaker(own_database.engine), own_database.tables["processed"],
                          producer_factory=lambda: dlq)
    data = party_state()
    record = record_of(envelope.new_event("crm.party.created", data["id"], data, 1), 7)
    outcome = []
    own_database.close()
    worker = threading.Thread(target=lambda: outcome.append(inbox.handle_message(record)))
    worker.start()
    try:
        time.sleep(4)  # more than max_attempts retries' worth of failures
        assert worker.is_alive() and outcome == [] and dlq.sent == []
    finally:
        own_database.open()
        worker.join(15)
    assert outcome == ["applied"] and dlq.sent == []
    with own_database.engine.connect() as c:
        assert c.execute(select(func.count()).select_from(effects)).scalar_one() == 1
        assert c.execute(select(func.count()).select_from(own_database.tables["processed"])).scalar_one() == 1


# -- batches: a poll's records in one transaction ------------------------------------------------------------------

def created(seq=1, **over):
    data = party_state(**over)
    return envelope.new_event("crm.party.created", data["id"], data, seq)


def effect_ids(scratch, effects) -> list[str]:
    with scratch[1]() as s:
        return list(s.execute(select(effects.c.event_id).order_by(effects.c.n)).scalars())


def test_duplicates_inside_one_batch_and_across_batches_have_one_effect(scratch, effects):
    inbox = make_inbox(scratch, effects)
    a, b, c, d = created(), created(), created(), created()
    first = [record_of(a, 1), record_of(b, 2), record_of(a, 3), record_of(c, 4)]
    assert inbox.handle_batch(first) == ["applied", "applied", "duplicate", "applied"]
    assert inbox.handle_batch([record_of(b, 5), record_of(d, 6)]) == ["duplicate", "applied"]
    assert effect_ids(scratch, effects) == [a.get_id(), b.get_id(), c.get_id(), d.get_id()]  # once each, in order
    assert count(scratch, scratch[2]["processed"]) == 4


def test_an_older_version_after_a_newer_one_in_one_batch_changes_nothing(scratch):
    from shared_events.replica import upsert_if_newer

    engine, sessions, t = scratch
    md = MetaData()
    replica = Table("party_copies", md, Column("party_id", String(40), primary_key=True),
                    Column("sequence", Integer, nullable=False), Column("name", String(100)))
    md.create_all(engine)
    applied = []

    def keep(session, event):
        data = event.get_data()
        applied.append(upsert_if_newer(session, replica, {"party_id": data["id"]}, envelope.sequence_of(event),
                                       {"name": data["display_name"]}))

    inbox = InboxConsumer("test.replica", "unused:1", ["crm.party.v1"], {"crm.party.updated": keep}, sessions,
                          t["processed"], producer_factory=RecordingProducer)
    state = party_state()
    v1, v2, v3 = (envelope.new_event("crm.party.updated", state["id"], {**state, "display_name": f"Acme {n}",
                                                                        "version": n}, n) for n in (1, 2, 3))
    assert inbox.handle_batch([record_of(v1, 1), record_of(v3, 2), record_of(v2, 3)]) == ["applied"] * 3
    assert applied == [True, True, False]  # v2 came after v3: recorded, not applied
    with sessions() as s:
        assert s.execute(select(replica.c.sequence, replica.c.name)).one() == (3, "Acme 3")


def test_a_poison_event_in_the_middle_of_a_batch_is_dead_lettered_alone(scratch, effects):
    poison = created(display_name="Poison")
    calls = []

    def handler(session, event):
        calls.append(event.get_id())
        session.execute(effects.insert().values(event_id=event.get_id()))
        if event.get_data()["display_name"] == "Poison":
            raise KeyError("billing_address")

    dlq = RecordingProducer()
    inbox = make_inbox(scratch, effects, handler=handler, producer=dlq, max_attempts=2)
    before, after = created(), created()
    malformed = Record("crm.party.v1", 0, 11, b"k", b"not json", [])
    records = [record_of(before, 10), malformed, record_of(poison, 12), record_of(after, 13)]
    assert inbox.handle_batch(records) == ["applied", "dead_lettered", "dead_lettered", "applied"]
    assert effect_ids(scratch, effects) == [before.get_id(), after.get_id()]  # the batch's try was rolled back
    assert [h for h in (dict(sent[3]).get("ce_id") for sent in dlq.sent)] == [None, poison.get_id().encode()]
    assert count(scratch, scratch[2]["processed"]) == 2  # the poison can still be replayed from the DLQ


def test_a_batch_is_one_transaction_and_its_offsets_are_committed_after_it(scratch, effects):
    committed, seen_in_handlers = [], []

    def handler(session, event):
        session.execute(effects.insert().values(event_id=event.get_id()))
        seen_in_handlers.append(count(scratch, effects))  # another connection sees nothing before the commit

    class FakeConsumer:
        def poll(self, timeout_ms):
            from kafka.structs import TopicPartition
            return {TopicPartition("crm.party.v1", p): [record_of(created(), 10 * p + i, partition=p) for i in range(3)]
                    for p in (0, 1)}

        def commit(self, offsets):
            committed.append(({tp.partition: o.offset for tp, o in offsets.items()}, count(scratch, effects)))

        def close(self):
            pass

    inbox = make_inbox(scratch, effects, handler=handler)
    inbox._consumer_factory = FakeConsumer
    assert inbox.poll_once() == 6
    assert seen_in_handlers == [0] * 6
    assert committed == [({0: 3, 1: 13}, 6)]  # one commit, every partition, after all six effects were visible
