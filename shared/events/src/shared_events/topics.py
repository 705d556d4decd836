"""Create the catalogue's topics (idempotent): the project never relies on auto-creation."""

import os
import time

from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from . import kafka_clients
from .catalogue import all_topics


def ensure_topics(bootstrap: str, replication_factor: int | None = None, timeout_s: float = 60) -> list[str]:
    """Create every missing topic of the catalogue and wait until each has a leader; return the created ones.

    The replication factor defaults to KAFKA_REPLICATION_FACTOR (1 for the local single broker).
    """
    if replication_factor is None:
        replication_factor = int(os.environ.get("KAFKA_REPLICATION_FACTOR", "1"))
    admin = kafka_clients.admin(bootstrap)
    try:
        existing = set(admin.list_topics())
        wanted = [t for t in all_topics() if t.name not in existing]
        created = []
        for spec in wanted:
            try:
                config = spec.topic_config()
                # acks=all means "all in-sync replicas": demand at least two of them where there are three
                config.setdefault("min.insync.replicas", str(min(2, replication_factor)))
                admin.create_topics([NewTopic(spec.name, spec.partitions, replication_factor, topic_configs=config)])
                created.append(spec.name)
            except TopicAlreadyExistsError:
                pass
        deadline = time.monotonic() + timeout_s
        names = [t.name for t in all_topics()]
        while True:
            described = admin.describe_topics(names)
            if all(d.get("error_code", 0) == 0 and d["partitions"] and
                   all(p.get("leader_id", p.get("leader", -1)) >= 0 for p in d["partitions"]) for d in described):
                return created
            if time.monotonic() > deadline:
                raise TimeoutError(f"topics not ready after {timeout_s}s: {described}")
            time.sleep(0.2)
    finally:
        admin.close()


def main() -> None:
    import sys

    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092")
    created = ensure_topics(bootstrap)
    print(f"topics ready on {bootstrap}" + (f" (created {', '.join(created)})" if created else ""), file=sys.stderr)


if __name__ == "__main__":
    main()
