"""Kafka client settings the project relies on, stated explicitly (kafka-python 3 changed defaults)."""

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer


def producer(bootstrap: str, **overrides) -> KafkaProducer:
    """An idempotent producer that waits for all in-sync replicas."""
    cfg = dict(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        retries=5,
        max_in_flight_requests_per_connection=5,
        linger_ms=2,
        max_block_ms=10_000,
        request_timeout_ms=10_000,
        delivery_timeout_ms=30_000,
        bootstrap_timeout_ms=10_000,
        metadata_max_age_ms=10_000,
    )
    cfg.update(overrides)
    return KafkaProducer(**cfg)


def consumer(bootstrap: str, group_id: str | None, topics: list[str], **overrides) -> KafkaConsumer:
    """A consumer with manual commits that reads a new group's topics from the beginning."""
    cfg = dict(
        bootstrap_servers=bootstrap,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
        # a lone event is fetched the moment it is appended (the broker answers a fetch as soon as 1 byte is
        # there and holds an empty one for at most fetch_max_wait_ms, which costs nothing when records arrive);
        # a backlog comes in batches of up to 200 records, one inbox transaction each (500 records and 128 KiB a
        # partition measured the same CPU per drained event: the per-batch costs are already small)
        fetch_min_bytes=1,
        fetch_max_wait_ms=500,
        max_poll_records=200,
        bootstrap_timeout_ms=10_000,
        # a consumer that joins right after its topics were created can be left waiting for partition leaders
        # until the next metadata refresh (kafka-python's default: 5 minutes); refresh often instead
        metadata_max_age_ms=5_000,
        # a consumer catching up takes every partition in turn: at most 64 KiB (about 30 events) of one partition
        # per fetch, instead of draining a whole megabyte of one partition while the others wait
        max_partition_fetch_bytes=64 * 1024,
    )
    cfg.update(overrides)
    c = KafkaConsumer(**cfg)
    if topics:
        c.subscribe(topics)
    return c


def admin(bootstrap: str) -> KafkaAdminClient:
    return KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15_000, bootstrap_timeout_ms=10_000)
