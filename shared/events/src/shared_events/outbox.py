"""Transactional outbox: events are rows written with the change; a relay publishes them to Kafka."""

import logging
import os
import select as select_module
import threading
import time
from datetime import timedelta

from cloudevents.core.v1.event import CloudEvent
from prometheus_client import REGISTRY, Counter
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import Table, bindparam, delete, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from tenacity import RetryError, Retrying, retry_if_exception_type, wait_exponential

from . import envelope, kafka_clients
from .catalogue import event_type
from .tables import discard_connection

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "outbox_written"
RECONNECT_PROBE = 0.25  # seconds between probes of a database that went away

PUBLISHED = Counter("outbox_published_total", "Outbox rows published to Kafka", ["service"])
RELAY_ERRORS = Counter("outbox_relay_errors_total", "Failed publish attempts of the outbox relay", ["service"])


def record_event(session: Session, outbox: Table, event: CloudEvent, aggregatetype: str) -> None:
    """Add an event to the outbox inside the caller's transaction (it is published only if that commits)."""
    topic = event_type(event.get_type()).topic
    session.execute(
        outbox.insert().values(
            event_id=event.get_id(),
            aggregatetype=aggregatetype,
            aggregateid=event.get_subject(),
            type=event.get_type(),
            topic=topic,
            payload=envelope.to_record(event),
        )
    )
    # wakes the relay the moment the transaction commits (PostgreSQL delivers NOTIFY on commit, once per channel)
    session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))


def purge_published(engine: Engine, outbox: Table, older_than: timedelta) -> int:
    """Delete rows published longer ago than `older_than` (Kafka holds them now); return how many."""
    with engine.begin() as conn:
        return conn.execute(delete(outbox).where(outbox.c.published_at < func.now() - older_than)).rowcount


def backlog(session: Session, outbox: Table) -> int:
    """Rows not yet published."""
    return session.execute(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))).scalar_one()


class OutboxRelay:
    """Publishes unpublished rows in id order; a row is marked published only after the broker acknowledged it."""

    def __init__(self, engine: Engine, outbox: Table, bootstrap: str, service: str,
                 batch_size: int = 1000, poll_interval: float = 1.0, producer_factory=None,
                 retention: timedelta = timedelta(days=7), purge_every: float = 600):
        self.engine = engine
        self.outbox = outbox
        self.bootstrap = bootstrap
        self.service = service
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self._producer_factory = producer_factory or (lambda: kafka_clients.producer(bootstrap))
        self._producer = None
        self._listener = None
        self._wake_r, self._wake_w = os.pipe()
        self.retention = retention
        self.purge_every = purge_every
        self._next_purge = 0.0
        self.stopping = threading.Event()
        self._conn = None  # the relay's own connection, held between batches (no pool checkout, no pre-ping)
        # Claim and mark in one statement: the oldest unpublished rows nobody else holds are locked (FOR UPDATE SKIP
        # LOCKED) and marked published in the relay's transaction, which commits only after the broker acknowledged
        # every record; a failure rolls the mark back. One SQL text whatever the batch's size: planned once.
        claimable = (select(outbox.c.id).where(outbox.c.published_at.is_(None)).order_by(outbox.c.id)
                     .limit(bindparam("n")).with_for_update(skip_locked=True))
        self._claim = (update(outbox).where(outbox.c.id.in_(claimable.scalar_subquery()))
                       .values(published_at=func.now()).returning(outbox.c.id, outbox.c.payload))

    def _get_producer(self):
        if self._producer is None:
            self._producer = self._producer_factory()
        return self._producer

    def _drop_producer(self):
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception:  # noqa: BLE001 - closing a broken producer must not mask the real error
                pass
            self._producer = None

    def _connection(self):
        if self._conn is None:
            self._conn = self.engine.connect()
        return self._conn

    def _drop_connection(self) -> None:
        self._conn = discard_connection(self._conn)

    def publish_batch(self) -> int:
        """Claim up to batch_size rows and mark them published (one statement), publish them in id order, wait for
        the broker's acknowledgement of every record, commit: two round trips to PostgreSQL per batch."""
        ids: list[int] = []
        try:
            conn = self._connection()
            with conn.begin():
                rows = conn.execute(self._claim, {"n": self.batch_size}).all()
                if not rows:
                    return 0
                rows.sort(key=lambda r: r.id)  # RETURNING has no order; the topic gets them in id order
                ids = [r.id for r in rows]
                producer = self._get_producer()
                futures = []
                for row in rows:
                    topic, key, value, headers = envelope.record_to_kafka(row.payload)
                    futures.append(producer.send(topic, key=key, value=value, headers=headers))
                producer.flush(timeout=30)
                for f in futures:
                    f.get(timeout=30)  # raises unless the broker acknowledged (acks=all)
        except Exception as exc:
            # the rollback released the claim and the mark; the rows stay unpublished and are retried
            if isinstance(exc, DBAPIError):
                self._drop_connection()
            if ids:
                self._note_failure(ids, exc)
            raise
        PUBLISHED.labels(self.service).inc(len(ids))
        return len(ids)

    def _note_failure(self, ids: list[int], exc: Exception) -> None:
        RELAY_ERRORS.labels(self.service).inc()
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    update(self.outbox)
                    .where(self.outbox.c.id.in_(ids), self.outbox.c.published_at.is_(None))
                    .values(attempts=self.outbox.c.attempts + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000])
                )
        except DBAPIError:
            pass  # the database is down too: the note is only diagnostics

    def run(self) -> None:
        """Publish until stopped, riding out broker and database outages with exponential backoff."""
        retrying = Retrying(
            sleep=self._sleep_or_reconnect,
            stop=lambda _state: self.stopping.is_set(),
            wait=wait_exponential(multiplier=0.2, max=10),
            retry=retry_if_exception_type(Exception),
            before_sleep=self._before_retry,
            reraise=False,
        )
        while not self.stopping.is_set():
            try:
                published = retrying(self.publish_batch)
            except RetryError:
                break
            if published < self.batch_size:  # caught up: wait for the next commit's NOTIFY (or the poll interval)
                self._purge_now_and_then()
                self._wait_for_rows()
        self._drop_producer()
        self._close_listener()
        self._drop_connection()

    def _wait_for_rows(self) -> None:
        """Sleep until a transaction announces outbox rows (LISTEN/NOTIFY) or poll_interval passes.

        Polling stays as the fallback, so a lost notification (or a listener that cannot connect) only costs
        latency, never an event.
        """
        try:
            if self._listener is None:
                self._listener = self.engine.raw_connection()
                self._listener.driver_connection.autocommit = True
                with self._listener.driver_connection.cursor() as cur:
                    cur.execute(f"LISTEN {NOTIFY_CHANNEL}")
            conn = self._listener.driver_connection
            if not conn.notifies:
                ready, _, _ = select_module.select([conn, self._wake_r], [], [], self.poll_interval)
                if self._wake_r in ready or not ready:
                    return
            conn.poll()
            conn.notifies.clear()
        except Exception as exc:  # noqa: BLE001 - fall back to polling
            log.debug("outbox relay (%s): listener unavailable (%s); polling", self.service, exc)
            self._close_listener()
            self.stopping.wait(self.poll_interval)

    def _close_listener(self) -> None:
        if self._listener is not None:
            try:
                self._listener.invalidate()
            except Exception:  # noqa: BLE001
                pass
            self._listener = None

    def _purge_now_and_then(self) -> None:
        if time.monotonic() < self._next_purge:
            return
        self._next_purge = time.monotonic() + self.purge_every
        try:
            purged = purge_published(self.engine, self.outbox, self.retention)
            if purged:
                log.info("outbox (%s): purged %d rows published more than %s ago", self.service, purged,
                         self.retention)
        except DBAPIError as exc:
            log.warning("outbox (%s): purge failed: %s", self.service, exc)

    def _before_retry(self, state) -> None:
        log.warning("outbox relay (%s): %s; retrying in %.1fs", self.service,
                    state.outcome.exception(), state.upcoming_sleep)
        self._database_down = isinstance(state.outcome.exception(), DBAPIError)
        if self._database_down:
            self._drop_connection()
        self._drop_producer()

    def _sleep_or_reconnect(self, seconds: float) -> None:
        """The backoff's sleep; while the database is what failed, it is probed every RECONNECT_PROBE seconds and
        the relay resumes as soon as it answers, instead of sleeping out a backoff of up to 10 s."""
        if not getattr(self, "_database_down", False):
            self.stopping.wait(seconds)
            return
        deadline = time.monotonic() + seconds
        while not self.stopping.is_set() and time.monotonic() < deadline:
            self.stopping.wait(min(RECONNECT_PROBE, max(0.0, deadline - time.monotonic())))
            try:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("SELECT 1")
            except DBAPIError:
                continue
            self._database_down = False
            return

    def stop(self) -> None:
        self.stopping.set()
        try:
            os.write(self._wake_w, b"x")  # interrupts a wait on LISTEN at once
        except OSError:
            pass  # the loop has already ended and closed the pipe


class BacklogCollector:
    """Prometheus gauge `outbox_backlog`: unpublished rows, counted at scrape time."""

    def __init__(self, engine: Engine, outbox: Table, service: str):
        self.engine, self.outbox, self.service = engine, outbox, service

    def collect(self):
        g = GaugeMetricFamily("outbox_backlog", "Outbox rows not yet published", labels=["service"])
        try:
            with Session(self.engine) as session:
                g.add_metric([self.service], backlog(session, self.outbox))
        except DBAPIError:
            return
        yield g

    @classmethod
    def register(cls, engine: Engine, outbox: Table, service: str) -> "BacklogCollector":
        collector = cls(engine, outbox, service)
        REGISTRY.register(collector)
        return collector
