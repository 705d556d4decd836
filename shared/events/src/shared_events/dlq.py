"""Replay a dead-letter topic into its original topic, once its cause is fixed."""

from . import kafka_clients
from .catalogue import dlq_topic


def replay_dlq(bootstrap: str, topic: str, idle_timeout_ms: int = 3000) -> int:
    """Re-publish every dead letter of `topic` not yet replayed; return how many."""
    source = dlq_topic(topic)
    consumer = kafka_clients.consumer(bootstrap, f"dlq-replay.{topic}", [source], consumer_timeout_ms=idle_timeout_ms)
    producer = kafka_clients.producer(bootstrap)
    count = 0
    try:
        for msg in consumer:
            original = [(k, v) for k, v in (msg.headers or []) if not k.startswith("dlq_")]
            producer.send(topic, key=msg.key, value=msg.value, headers=original).get(timeout=30)
            consumer.commit()
            count += 1
    finally:
        consumer.close()
        producer.close()
    return count
