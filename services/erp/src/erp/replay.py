"""Rebuild a replica from its topic: drop it, then re-apply every event from the beginning."""

import time

from kafka.structs import TopicPartition
from servicekit.db import make_engine, make_session_factory
from shared_events import kafka_clients
from sqlalchemy import delete

from .config import Settings
from .db import processed_events
from .parties.models import PartyReplica, PartyReplicaChange
from .worker import PARTY_CONSUMER, party_consumer

PARTY_TOPIC = "crm.party.v1"


def rebuild_party_replica(settings: Settings, timeout_s: float = 600) -> int:
    """Empty the party replica and its inbox rows, then replay crm.party.v1 up to its current end."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        session.execute(delete(PartyReplicaChange))
        session.execute(delete(PartyReplica))
        session.execute(delete(processed_events).where(processed_events.c.consumer == PARTY_CONSUMER))
    reader = kafka_clients.consumer(settings.kafka_bootstrap, None, [])
    inbox = party_consumer(settings, sessions, dead_letters=False)
    count = 0
    deadline = time.monotonic() + timeout_s
    try:
        found = reader.partitions_for_topic(PARTY_TOPIC)
        if not found:
            raise LookupError(f"topic {PARTY_TOPIC} does not exist")
        partitions = [TopicPartition(PARTY_TOPIC, p) for p in sorted(found)]
        reader.assign(partitions)
        reader.seek_to_beginning(*partitions)
        end = reader.end_offsets(partitions)
        while any(reader.position(tp) < end[tp] for tp in partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"rebuild did not reach the end of {PARTY_TOPIC} in {timeout_s}s")
            for records in reader.poll(timeout_ms=1000).values():
                for msg in records:
                    inbox.handle_message(msg)
                    count += 1
    finally:
        reader.close()
        inbox.close()
        engine.dispose()
    return count
