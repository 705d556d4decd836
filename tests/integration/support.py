"""Helpers the integration tests share: reading a topic as a new subscriber would, republishing a record, and
checking an HTTP answer."""

from kafka import KafkaConsumer
from kafka.structs import TopicPartition
from shared_events import kafka_clients


def ok(r, status=200):
    """The JSON body of a response that must have this status (the body is the assertion's message)."""
    assert r.status_code == status, r.text
    return r.json()


def messages_about(bootstrap, topic, key: bytes) -> list:
    """Every record on the topic with this key, read from the beginning (what any new subscriber sees)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        end = consumer.end_offsets(parts)
        found = []
        while any(consumer.position(tp) < end[tp] for tp in parts):
            for records in consumer.poll(timeout_ms=1000).values():
                found += [r for r in records if r.key == key]
        return found
    finally:
        consumer.close()


def republish(bootstrap, record, **header_overrides):
    """Send a record again, as it was (a redelivery), with some headers changed."""
    headers = [(k, header_overrides.get(k, v)) for k, v in record.headers]
    producer = kafka_clients.producer(bootstrap)
    try:
        producer.send(record.topic, key=record.key, value=record.value, headers=headers).get(timeout=30)
    finally:
        producer.close()
