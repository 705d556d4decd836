"""Rebuilding a replica from its topics, on the real broker and PostgreSQL: a missing topic changes nothing; an
existing one empties the replica and its inbox rows, then feeds every event from the beginning to the consumer."""

import os
import uuid

import pytest
from kafka.admin import NewTopic
from shared_events import kafka_clients
from shared_events.rebuild import rebuild_replica
from sqlalchemy import Column, MetaData, String, Table, func, insert, select

pytestmark = pytest.mark.db


@pytest.fixture(scope="module")
def bootstrap():
    servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not servers:
        pytest.fail("KAFKA_BOOTSTRAP_SERVERS is not set: run the tests through `make test`")
    return servers


class Recorder:
    """Stands in for an InboxConsumer: keeps what it was handed, in order."""

    def __init__(self):
        self.values = []

    def handle_message(self, msg) -> None:
        self.values.append(msg.value)


@pytest.fixture
def replica(scratch):
    engine, sessions, tables = scratch
    table = Table("things_replica", MetaData(), Column("id", String(40), primary_key=True))
    table.create(engine)
    with sessions.begin() as s:
        s.execute(insert(table).values(id="stale"))
        for consumer in ("things", "others"):
            s.execute(insert(tables["processed"]).values(consumer=consumer, event_id=str(uuid.uuid4()), type="x",
                                                         topic="t", partition=0, offset=0))
    return sessions, table, tables["processed"]


def _count(sessions, table, **where) -> int:
    with sessions.begin() as s:
        stmt = select(func.count()).select_from(table)
        for column, value in where.items():
            stmt = stmt.where(table.c[column] == value)
        return s.execute(stmt).scalar_one()


def test_a_missing_topic_changes_nothing(bootstrap, replica):
    sessions, table, processed = replica
    with pytest.raises(LookupError, match="does not exist"):
        rebuild_replica(bootstrap, sessions, Recorder(), topics=[f"no-such-topic-{uuid.uuid4().hex[:8]}"],
                        tables=[table], processed_events=processed, consumer="things", timeout_s=30)
    assert _count(sessions, table) == 1
    assert _count(sessions, processed, consumer="things") == 1


def test_an_existing_topic_is_replayed_from_the_beginning_into_an_empty_replica(bootstrap, replica):
    sessions, table, processed = replica
    topic = f"rebuild-test-{uuid.uuid4().hex[:8]}"
    admin = kafka_clients.admin(bootstrap)
    try:
        admin.create_topics([NewTopic(topic, 2, 1)])
        producer = kafka_clients.producer(bootstrap)
        sent = [f"event-{i}".encode() for i in range(7)]
        for i, value in enumerate(sent):
            producer.send(topic, key=str(i % 3).encode(), value=value)
        producer.flush()
        producer.close()
        inbox = Recorder()
        count = rebuild_replica(bootstrap, sessions, inbox, topics=[topic], tables=[table],
                                processed_events=processed, consumer="things", timeout_s=60)
    finally:
        admin.delete_topics([topic])
        admin.close()
    assert count == 7 and sorted(inbox.values) == sorted(sent)
    assert _count(sessions, table) == 0                              # the stale row is gone
    assert _count(sessions, processed, consumer="things") == 0       # so the replay is applied again
    assert _count(sessions, processed, consumer="others") == 1       # another consumer's inbox is untouched
