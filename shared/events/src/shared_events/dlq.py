"""Replay a dead-letter topic through the consumer that dead-lettered it, once its cause is fixed.

Each dead letter is handed to the service's own inbox consumer (its handlers, its inbox of processed event ids,
with dead-lettering off): what now applies is applied once (a duplicate is dropped by the inbox), what still
fails is reported and left in place. The dead-letter topic never grows from a replay. The replay's position
(kept per topic) advances only past the dead letters that no longer fail, so the next replay starts with the
first one still failing.
"""

import time
from dataclasses import dataclass, field

from kafka.structs import OffsetAndMetadata, TopicPartition

from . import kafka_clients
from .catalogue import dlq_topic


@dataclass
class Original:
    """A dead letter as the consumer first saw it: its topic, partition, offset and headers."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list


@dataclass
class ReplayReport:
    replayed: int = 0
    outcomes: dict = field(default_factory=dict)  # applied, duplicate, ignored -> count
    still_failing: list = field(default_factory=list)  # (dlq partition, dlq offset, error)

    def summary(self, topic: str) -> str:
        done = ", ".join(f"{n} {o}" for o, n in sorted(self.outcomes.items())) or "nothing"
        lines = [f"replayed {self.replayed} dead letters of {topic}: {done}; "
                 f"{len(self.still_failing)} still failing (left in {dlq_topic(topic)})"]
        lines += [f"  {dlq_topic(topic)}[{p}]@{o}: {error}" for p, o, error in self.still_failing]
        return "\n".join(lines)


def original_of(msg, topic: str) -> Original:
    headers = dict(msg.headers or [])

    def number(name: str, default: int) -> int:
        try:
            return int(headers[name])
        except (KeyError, ValueError):
            return default

    return Original(topic, number("dlq_original_partition", msg.partition), number("dlq_original_offset", msg.offset),
                    msg.key, msg.value, [(k, v) for k, v in (msg.headers or []) if not k.startswith("dlq_")])


def replay_dlq(bootstrap: str, topic: str, inbox, timeout_s: float = 120) -> ReplayReport:
    """Hand every dead letter of `topic` from the replay's position to `inbox` (an InboxConsumer of the topic with
    dead_letters=False); reads up to the dead-letter topic's current end, so it ends even while new ones arrive."""
    source = dlq_topic(topic)
    consumer = kafka_clients.consumer(bootstrap, f"dlq-replay.{topic}", [])
    report = ReplayReport()
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
        blocked: set[TopicPartition] = set()
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < end[tp] for tp in parts):
            if time.monotonic() > deadline:
                raise TimeoutError(f"replay of {source} did not reach its end in {timeout_s}s")
            for tp, records in consumer.poll(timeout_ms=1000).items():
                for msg in records:
                    if msg.offset >= end[tp]:
                        continue
                    report.replayed += 1
                    outcome = inbox.handle_message(original_of(msg, topic))
                    if outcome == "dead_lettered":  # still failing: reported and left where it is
                        report.still_failing.append((msg.partition, msg.offset, str(inbox.last_error)[:500]))
                        blocked.add(tp)
                        continue
                    report.outcomes[outcome] = report.outcomes.get(outcome, 0) + 1
                    if tp not in blocked:
                        consumer.commit({tp: OffsetAndMetadata(msg.offset + 1, "", -1)})
    finally:
        consumer.close()
    return report
