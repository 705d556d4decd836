"""A consumer catching up on a backlog takes every partition in turn, so no partition's events wait for another
partition's backlog to drain (kafka-python fetches at most max_partition_fetch_bytes per partition at a time)."""

import os
import uuid

import pytest
from kafka.admin import NewTopic
from shared_events import kafka_clients

pytestmark = pytest.mark.integration


def test_a_backlog_on_three_partitions_is_read_interleaved():
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    topic = f"test.interleave.{uuid.uuid4().hex[:8]}"
    admin = kafka_clients.admin(bootstrap)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        admin.close()
    producer = kafka_clients.producer(bootstrap)
    try:
        for partition in range(3):
            for i in range(150):  # about the size of a party event
                producer.send(topic, key=f"{partition}-{i}".encode(), value=b"x" * 2000, partition=partition)
        producer.flush()
    finally:
        producer.close()
    consumer = kafka_clients.consumer(bootstrap, f"interleave-{uuid.uuid4().hex[:6]}", [topic])
    order = []
    try:
        for _ in range(60):
            for records in consumer.poll(timeout_ms=1000).values():
                order += [r.partition for r in records]
            if len(order) >= 450:
                break
    finally:
        consumer.close()
    assert len(order) == 450
    first_third = order[:150]
    assert set(first_third) == {0, 1, 2}, f"the first 150 records came from partitions {sorted(set(first_third))}"
