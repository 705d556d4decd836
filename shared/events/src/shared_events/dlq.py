"""Replay a dead-letter topic into its original topic, once its cause is fixed."""

import time

from kafka.structs import OffsetAndMetadata, TopicPartition

from . import kafka_clients
from .catalogue import dlq_topic


def replay_dlq(bootstrap: str, topic: str, timeout_s: float = 120) -> int:
    """Re-publish every dead letter of `topic` not replayed before (the position is kept per topic); return how many.

    Reads up to the dead-letter topic's current end, so it terminates even while new dead letters arrive.
    """
    source = dlq_topic(topic)
    consumer = kafka_clients.consumer(bootstrap, f"dlq-replay.{topic}", [])
    producer = kafka_clients.producer(bootstrap)
    count = 0
    try:
        partitions = consumer.partitions_for_topic(source)
        if not partitions:
            raise LookupError(f"topic {source} does not exist (run ensure-topics)")
        parts = [TopicPartition(source, p) for p in sorted(partitions)]
        consumer.assign(parts)
        for tp in parts:
            committed = consumer.committed(tp)
            if committed is None:
                consumer.seek_to_beginning(tp)
            else:
                consumer.seek(tp, committed)
        end = consumer.end_offsets(parts)
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in parts):
            if time.monotonic() > deadline:
                raise TimeoutError(f"replay of {source} did not reach its end in {timeout_s}s ({count} replayed)")
            for tp, records in consumer.poll(timeout_ms=1000).items():
                for msg in records:
                    if msg.offset >= end[tp]:
                        continue
                    original = [(k, v) for k, v in (msg.headers or []) if not k.startswith("dlq_")]
                    producer.send(topic, key=msg.key, value=msg.value, headers=original).get(timeout=30)
                    consumer.commit({tp: OffsetAndMetadata(msg.offset + 1, "", -1)})
                    count += 1
    finally:
        consumer.close()
        producer.close()
    return count
