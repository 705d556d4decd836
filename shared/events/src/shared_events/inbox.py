"""Inbox consumer: applies each event once in effect, commits offsets after the database commit,
and moves poison messages to `<topic>.dlq` after bounded retries.

A poll's records are applied together: malformed, unknown and contract-breaking records are sorted out first,
then one transaction records the rest in the inbox with one statement (duplicates, inside the batch or seen
before, are recognised there) and runs their handlers in the order of their partitions; then the offsets are
committed. When that transaction fails, the batch is applied again one event per transaction, with retries, so
only the poison event goes to the DLQ and the others are applied once."""

import logging
import threading
import time
import uuid
from collections.abc import Callable

import psycopg2
from cloudevents.core.v1.event import CloudEvent
from kafka.structs import OffsetAndMetadata, TopicPartition
from prometheus_client import Counter
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from . import contracts, envelope, kafka_clients
from .catalogue import dlq_topic
from .tables import discard_connection

log = logging.getLogger(__name__)

# A handler applies one event in the caller's transaction. It may carry `handler.batch(session, events)`, which
# applies a run of consecutive events of its types at once, with the same effect as calling it on each in order.
Handler = Callable[[Session, CloudEvent], None]

CONSUMED = Counter("inbox_events_total", "Events seen by a consumer, by outcome", ["consumer", "outcome"])


def _is_transient(exc: BaseException) -> bool:
    """A lost database connection is an outage to wait out, not a poison message."""
    if isinstance(exc, DBAPIError):
        return bool(exc.connection_invalidated) or isinstance(
            exc.orig, (psycopg2.OperationalError, psycopg2.InterfaceError))
    return False


def _uuid_text(value: str) -> str:
    """An event id as PostgreSQL writes a uuid (lower case, hyphens), so the inbox's answer matches it; an id that
    is no uuid is kept as it is (the insert then fails and the event goes the one-by-one way)."""
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        return value


class InboxConsumer:
    """Consume topics with one group; dispatch events to handlers by type, each in its own transaction."""

    def __init__(self, name: str, bootstrap: str, topics: list[str], handlers: dict[str, Handler],
                 session_factory: sessionmaker, processed: Table, max_attempts: int = 3,
                 retry_backoff: float = 0.2, group_id: str | None = None, consumer_factory=None,
                 producer_factory=None, dead_letters: bool = True):
        self.name = name
        self.bootstrap = bootstrap
        self.topics = topics
        self.handlers = handlers
        self.session_factory = session_factory
        self.processed = processed
        self.max_attempts = max_attempts
        self.retry_backoff = retry_backoff
        self.group_id = group_id or name
        self._consumer_factory = consumer_factory or (
            lambda: kafka_clients.consumer(bootstrap, self.group_id, topics))
        self._producer_factory = producer_factory or (lambda: kafka_clients.producer(bootstrap))
        self.stall_after = 10.0  # seconds without progress while records wait before reconnecting
        self._last_progress = 0.0
        self.dead_letters = dead_letters  # off when rebuilding or replaying: poison was dead-lettered the first time
        self.last_error: str | None = None
        self._consumer = None
        self._producer = None
        # while run() loops, the consumer keeps its own database connection between batches (no pool checkout and
        # pre-ping per batch); run() gives it back when it ends. Called directly (tests, rebuilds), it uses a
        # pooled session per transaction.
        self._hold_connection = False
        self._conn = None
        self.stopping = threading.Event()
        self._record_stmt = (insert(processed).on_conflict_do_nothing()
                             .returning(processed.c.event_id))  # built once: the inbox rows of a batch

    # -- records -----------------------------------------------------------------------------

    def _screen(self, msg) -> tuple[str | None, CloudEvent | None]:
        """(outcome, None) for a record that is settled without the database: dead-lettered when it is no valid
        event of this project or breaks its contract (retrying cannot fix either), ignored when this consumer has
        no handler for its type; (None, event) for one to apply."""
        try:
            event = envelope.from_kafka(msg.key, msg.value, msg.headers)
        except envelope.MalformedEvent as exc:
            self.dead_letter(msg, exc, attempts=1)
            return "dead_lettered", None
        if event.get_type() not in self.handlers:
            return "ignored", None  # tolerant reader: types this consumer does not need
        try:
            contracts.validate(event.get_type(), event.get_data())
        except contracts.ContractViolation as exc:
            self.dead_letter(msg, exc, attempts=1)
            return "dead_lettered", None
        return None, event

    def handle_message(self, msg) -> str:
        """Process one Kafka record in its own transaction, with retries; return the outcome (applied, duplicate,
        ignored, dead_lettered)."""
        outcome, event = self._screen(msg)
        if outcome is not None:
            return outcome
        attempts = 0
        while True:
            try:
                return "applied" if self._apply_together([(0, msg, event)]) else "duplicate"
            except Exception as exc:  # noqa: BLE001 - any handler failure counts toward the DLQ
                if _is_transient(exc):
                    log.warning("%s: database unavailable (%s); waiting", self.name, exc)
                    if self.stopping.wait(min(5.0, self.retry_backoff * 10)):
                        raise
                    continue
                attempts += 1
                if attempts >= self.max_attempts:
                    self.dead_letter(msg, exc, attempts)
                    return "dead_lettered"
                log.warning("%s: event %s failed (attempt %d): %s", self.name, event.get_id(), attempts, exc)
                self.stopping.wait(self.retry_backoff * 2 ** (attempts - 1))

    def handle_batch(self, msgs: list) -> list[str | None]:
        """Process a poll's records (in partition order) in one transaction; return each one's outcome, None for
        a record left unprocessed because the consumer is stopping."""
        outcomes: list[str | None] = [None] * len(msgs)
        pending = []  # (index, record, event) of the events to apply
        for i, msg in enumerate(msgs):
            outcomes[i], event = self._screen(msg)
            if event is not None:
                pending.append((i, msg, event))
        while pending:
            try:
                applied = self._apply_together(pending)
            except Exception as exc:  # noqa: BLE001 - decided below: wait out an outage, else one by one
                if not _is_transient(exc):
                    log.warning("%s: a batch of %d failed (%s); applying its events one by one", self.name,
                                len(pending), exc)
                    for i, msg, _ in pending:
                        if self.stopping.is_set():
                            break
                        outcomes[i] = self.handle_message(msg)
                    break
                log.warning("%s: database unavailable (%s); waiting", self.name, exc)
                if self.stopping.wait(min(5.0, self.retry_backoff * 10)):
                    break
                continue
            for i, _, _ in pending:
                outcomes[i] = "applied" if i in applied else "duplicate"
            break
        return outcomes

    def _apply_together(self, pending: list) -> set[int]:
        """One transaction: record the events in the inbox with one statement, then run the handlers of the new
        ones in order; returns the indexes of the events applied (the others are duplicates)."""
        first: dict[str, int] = {}  # event id -> the index of its first record in the batch
        rows = []
        for i, msg, event in pending:
            event_id = _uuid_text(event.get_id())
            if event_id in first:
                continue
            first[event_id] = i
            rows.append({"consumer": self.name, "event_id": event_id, "type": event.get_type(),
                         "topic": msg.topic, "partition": msg.partition, "offset": msg.offset})
        try:
            return self._run_handlers(pending, rows, first)
        except DBAPIError as exc:
            if _is_transient(exc):
                self._drop_connection()  # the next attempt connects afresh
            raise

    def _session(self) -> Session:
        """A session on the consumer's held connection while run() loops (it begins and commits its own transaction
        there, with the session's commit hooks); otherwise, or when the factory is not bound to one engine, a
        session of the factory."""
        engine = self.session_factory.kw.get("bind")
        if not self._hold_connection or not isinstance(engine, Engine):
            return self.session_factory()
        if self._conn is None:
            self._conn = engine.connect()
        return self.session_factory(bind=self._conn)

    def _drop_connection(self) -> None:
        self._conn = discard_connection(self._conn)

    def _run_handlers(self, pending: list, rows: list[dict], first: dict[str, int]) -> set[int]:
        with self._session() as session, session.begin():
            new = set(session.execute(self._record_stmt, rows).scalars())
            applied = {first[event_id] for event_id in new}
            run, run_batch = [], None  # consecutive events whose handler takes them together (handler.batch)
            for i, _, event in pending:
                handler = self.handlers[event.get_type()]
                if i not in applied or handler is None:
                    continue
                batch = getattr(handler, "batch", None)
                if run and batch is not run_batch:
                    run_batch(session, run)
                    run = []
                if batch is None:
                    handler(session, event)
                else:
                    run.append(event)
                    run_batch = batch
            if run:
                run_batch(session, run)
        return applied

    def dead_letter(self, msg, exc: BaseException, attempts: int) -> None:
        """Publish the original record to <topic>.dlq with the error in headers, and wait for the ack."""
        self.last_error = f"{type(exc).__name__}: {exc}"
        if not self.dead_letters:
            log.warning("%s: skipping %s[%d]@%d: %s", self.name, msg.topic, msg.partition, msg.offset, exc)
            return
        headers = list(msg.headers or []) + [
            ("dlq_error", f"{type(exc).__name__}: {exc}"[:4000].encode()),
            ("dlq_consumer", self.name.encode()),
            ("dlq_original_topic", msg.topic.encode()),
            ("dlq_original_partition", str(msg.partition).encode()),
            ("dlq_original_offset", str(msg.offset).encode()),
            ("dlq_attempts", str(attempts).encode()),
        ]
        if self._producer is None:
            self._producer = self._producer_factory()
        self._producer.send(dlq_topic(msg.topic), key=msg.key, value=msg.value, headers=headers).get(timeout=30)
        log.error("%s: %s[%d]@%d dead-lettered: %s", self.name, msg.topic, msg.partition, msg.offset, exc)

    # -- the loop ----------------------------------------------------------------------------

    def poll_once(self, timeout_ms: int = 500) -> int:
        """Poll one batch, apply it (handle_batch), then commit each partition's offset: every effect is already
        committed, so a crash before the offset commit only replays records the inbox recognises as duplicates."""
        if self._consumer is None:
            self._consumer = self._consumer_factory()
        batch = self._consumer.poll(timeout_ms=timeout_ms)
        msgs = [msg for records in batch.values() for msg in records]
        if not msgs:
            return 0
        outcomes = self.handle_batch(msgs)
        positions, stopped = {}, set()
        for msg, outcome in zip(msgs, outcomes, strict=True):
            tp = TopicPartition(msg.topic, msg.partition)
            if outcome is None or tp in stopped:  # stopping: commit no further than the records processed
                stopped.add(tp)
                continue
            CONSUMED.labels(self.name, outcome).inc()
            positions[tp] = OffsetAndMetadata(msg.offset + 1, "", -1)
        if positions:
            self._consumer.commit(positions)
        return sum(1 for outcome in outcomes if outcome is not None)

    def _stuck(self) -> bool:
        """True when the assigned partitions have records waiting but polls have returned nothing for a while
        (seen with kafka-python right after a topic is created: the fetcher idles until a reconnect)."""
        if time.monotonic() - self._last_progress < self.stall_after or self._consumer is None:
            return False
        assigned = list(self._consumer.assignment())
        if not assigned:
            return False
        end = self._consumer.end_offsets(assigned)
        return any(self._consumer.position(tp) < end[tp] for tp in assigned)

    def run(self) -> None:
        self._last_progress = time.monotonic()
        self._hold_connection = True
        while not self.stopping.is_set():
            try:
                if self.poll_once():
                    self._last_progress = time.monotonic()
                elif self._stuck():
                    log.warning("%s: records are waiting but none arrive; reconnecting", self.name)
                    self.close()
                    self._last_progress = time.monotonic()
            except Exception as exc:  # noqa: BLE001 - the loop must survive broker outages
                log.warning("%s: %s; reconnecting", self.name, exc)
                self.close()
                self.stopping.wait(1.0)
        self._hold_connection = False
        self.close()

    def stop(self) -> None:
        self.stopping.set()

    def close(self) -> None:
        for client in (self._consumer, self._producer):
            if client is not None:
                try:
                    client.close()
                except Exception:  # noqa: BLE001
                    pass
        self._consumer = self._producer = None
        self._drop_connection()
