"""Rebuild the catalog replica from the ERP's topics: drop it, then re-apply every event from the beginning."""

import time

from kafka.structs import TopicPartition
from servicekit.db import make_engine, make_session_factory
from shared_events import kafka_clients
from sqlalchemy import delete

from ..config import Settings
from ..db import processed_events
from ..worker import catalog_consumer
from .handlers import CONSUMER, TOPICS
from .models import CategoryReplica, PriceListReplica, ProductReplica, StockReplica


def rebuild_catalog_replica(settings: Settings, timeout_s: float = 600) -> int:
    """Empty the catalog replica and its inbox rows, then replay erp.product/pricelist/stock.v1 up to their end."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    reader = kafka_clients.consumer(settings.kafka_bootstrap, None, [])
    inbox = catalog_consumer(settings, sessions, dead_letters=False)
    count = 0
    deadline = time.monotonic() + timeout_s
    try:
        partitions = []
        for topic in TOPICS:  # checked before anything is dropped
            found = reader.partitions_for_topic(topic)
            if not found:
                raise LookupError(f"topic {topic} does not exist")
            partitions += [TopicPartition(topic, p) for p in sorted(found)]
        with sessions.begin() as session:
            for table in (StockReplica, PriceListReplica, ProductReplica, CategoryReplica):
                session.execute(delete(table))
            session.execute(delete(processed_events).where(processed_events.c.consumer == CONSUMER))
        reader.assign(partitions)
        reader.seek_to_beginning(*partitions)
        end = reader.end_offsets(partitions)
        while any(reader.position(tp) < end[tp] for tp in partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"rebuild did not reach the end of {', '.join(TOPICS)} in {timeout_s}s")
            for records in reader.poll(timeout_ms=1000).values():
                for msg in records:
                    inbox.handle_message(msg)
                    count += 1
    finally:
        reader.close()
        inbox.close()
        engine.dispose()
    return count
