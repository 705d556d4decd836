"""Rebuild a replica from its topics: check every topic exists, empty the replica's tables and its consumer's
inbox rows, then re-apply every event from the beginning up to the topics' current end.

Nothing is deleted when a topic is missing (LookupError before anything changes), so a typo or a broker without
the topic never leaves a service with an empty replica. Both services' `rebuild-replica` commands use it.
"""

import time
from collections.abc import Iterable

from kafka.structs import TopicPartition
from sqlalchemy import Table, delete
from sqlalchemy.orm import sessionmaker

from . import kafka_clients


def rebuild_replica(bootstrap: str, sessions: sessionmaker, inbox, *, topics: Iterable[str], tables: Iterable,
                    processed_events: Table, consumer: str, timeout_s: float = 600) -> int:
    """Replay `topics` through `inbox` (an InboxConsumer made without dead letters) into emptied `tables`
    (models or tables, deleted in the order given: children first); returns how many events were read.

    Raises LookupError (nothing changed) for a missing topic, TimeoutError when the end is not reached in time.
    """
    topics = list(topics)
    reader = kafka_clients.consumer(bootstrap, None, [])
    count = 0
    deadline = time.monotonic() + timeout_s
    try:
        partitions = []
        for topic in topics:  # all checked before anything is deleted
            found = reader.partitions_for_topic(topic)
            if not found:
                raise LookupError(f"topic {topic} does not exist")
            partitions += [TopicPartition(topic, p) for p in sorted(found)]
        with sessions.begin() as session:
            for table in tables:
                session.execute(delete(table))
            session.execute(delete(processed_events).where(processed_events.c.consumer == consumer))
        reader.assign(partitions)
        reader.seek_to_beginning(*partitions)
        end = reader.end_offsets(partitions)
        while any(reader.position(tp) < end[tp] for tp in partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"rebuild did not reach the end of {', '.join(topics)} in {timeout_s}s")
            for records in reader.poll(timeout_ms=1000).values():
                for msg in records:
                    inbox.handle_message(msg)
                    count += 1
    finally:
        reader.close()
    return count
