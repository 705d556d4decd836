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


def record_of(event, offset=0, topic="crm.party.v1"):
    topic_, key, value, headers = envelope.to_kafka(event)
    return Record(topic, 0, offset, key, value, headers)


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
