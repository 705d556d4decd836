"""Test helpers for code that uses the event library: fake Kafka records and a recording producer.

They stand in for the broker only where a test is about the database side; integration tests use a real broker.
"""

import time
import uuid
from dataclasses import dataclass, field


@dataclass
class Record:
    """What kafka-python's consumer yields, for feeding the inbox without a broker (unit level)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list = field(default_factory=list)


class RecordingProducer:
    """Stands in for KafkaProducer where a test is about the database side, not the broker."""

    def __init__(self, fail: Exception | None = None):
        self.sent = []
        self.fail = fail

    def send(self, topic, key=None, value=None, headers=None):
        producer = self

        class Future:
            def get(self, timeout=None):
                if producer.fail:
                    raise producer.fail
                producer.sent.append((topic, key, value, headers))

        return Future()

    def flush(self, timeout=None):
        pass

    def close(self, timeout=None):
        pass


def party_state(**over) -> dict:
    """A valid crm.party.v1 state; keyword arguments override fields."""
    state = {
        "id": str(uuid.uuid4()), "kind": "company", "display_name": "Acme", "legal_name": "Acme",
        "roles": ["customer"], "status": "active", "version": 3, "emails": [{"value": "a@acme.test"}],
        "phones": [], "created_at": "2026-01-01T10:00:00+00:00", "updated_at": "2026-01-02T10:00:00+00:00",
    }
    state.update(over)
    return state


def wait_for(predicate, what: str, timeout: float = 10.0, interval: float = 0.02):
    """Poll until predicate() is truthy and return it; fail naming what never happened."""
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(interval)
    return result
