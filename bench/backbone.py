"""The event backbone at full speed, each figure beside its raw baseline on the same broker and database:

- relay: a backlog of N outbox rows (crm.party.updated) published by the OutboxRelay, against a raw kafka-python
  producer sending the same N records (acks=all, idempotent, one flush);
- consumer: a backlog of N party events drained by the ERP's party consumer (InboxConsumer, batches, the ERP's
  real handlers into the ERP database), against a raw kafka-python consumer reading the same topic to its end.

Both run in this process on scratch topics and a scratch outbox table (the services' own workers do not see
them), so the figures are the library's, not the HTTP stack's. Peak RSS of this process is printed with them.
Last, the request path: the SQL statements and the CPU time of a party create and update in the CRM app (Flask's
test client in this process, a warm principal cache), counted with SQLAlchemy's cursor events.

    .local/venv/bin/python bench/backbone.py [-n 50000]     (make bench runs it after run.py)

Needs CRM_DATABASE_URL and ERP_DATABASE_URL (migrated) and KAFKA_BOOTSTRAP_SERVERS, as bench.sh exports them.
"""

import argparse
import os
import resource
import time
import uuid

from crm.access.roles import CATALOG
from crm.app import create_app
from crm.config import Settings
from crm.db import audit_log, auth
from erp.db import processed_events
from erp.parties.handlers import HANDLERS
from erp.parties.models import PartyReplica, PartyReplicaChange
from kafka.admin import NewTopic
from kafka.structs import TopicPartition
from servicekit.auth import bootstrap
from servicekit.db import make_engine, make_session_factory
from servicekit.testing import user_with_token
from shared_events import envelope, kafka_clients
from shared_events.inbox import InboxConsumer
from shared_events.outbox import OutboxRelay
from shared_events.tables import outbox_table
from shared_events.testing import party_state
from sqlalchemy import MetaData, delete, func, insert, select
from sqlalchemy import event as sa_event


def say(msg: str) -> None:
    print(msg, flush=True)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def party_events(n: int) -> list:
    """n crm.party.updated events of n/2 parties (two versions each), as the CRM writes them."""
    out = []
    for i in range(n // 2):
        state = party_state(display_name=f"Backbone {i}", legal_name=f"Backbone {i} SA")
        for version in (1, 2):
            data = {**state, "version": version, "display_name": f"Backbone {i} v{version}"}
            out.append(envelope.new_event("crm.party.updated", state["id"], data, version,
                                          actor_id=str(uuid.uuid4()), actor_name="bench@example.com"))
    return out


def new_topic(bootstrap: str, prefix: str) -> str:
    topic = f"bench.{prefix}.{uuid.uuid4().hex[:8]}"
    admin = kafka_clients.admin(bootstrap)
    try:
        admin.create_topics([NewTopic(topic, 3, 1)], wait_for_metadata=True)
    finally:
        admin.close()
    return topic


def drop_topics(bootstrap: str, topics: list[str]) -> None:
    admin = kafka_clients.admin(bootstrap)
    try:
        admin.delete_topics(topics)
    except Exception:  # noqa: BLE001 - a scratch topic left behind is harmless
        pass
    finally:
        admin.close()


class Redirect:
    """The relay's producer, sending to the scratch topic instead of the catalogue's."""

    def __init__(self, producer, topic: str):
        self.producer, self.topic = producer, topic

    def send(self, topic, **kw):
        return self.producer.send(self.topic, **kw)

    def flush(self, timeout=None):
        return self.producer.flush(timeout=timeout)

    def close(self, timeout=None):
        return self.producer.close(timeout=timeout)


def relay_figures(url: str, bootstrap: str, events: list) -> tuple[float, float]:
    """(relay rows/s, raw produce records/s) for the same records."""
    engine = make_engine(url)
    md = MetaData(schema=f"bench_{uuid.uuid4().hex[:8]}")
    with engine.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {md.schema}")
    outbox = outbox_table(md)
    md.create_all(engine)
    rows = [{"event_id": e.get_id(), "aggregatetype": "party", "aggregateid": e.get_subject(), "type": e.get_type(),
             "topic": "crm.party.v1", "payload": envelope.to_record(e)} for e in events]
    with engine.begin() as conn:
        for i in range(0, len(rows), 5000):
            conn.execute(insert(outbox), rows[i:i + 5000])
    relay_topic, raw_topic = new_topic(bootstrap, "relay"), new_topic(bootstrap, "produce")
    try:
        relay = OutboxRelay(engine, outbox, bootstrap, "bench",
                            producer_factory=lambda: Redirect(kafka_clients.producer(bootstrap), relay_topic))
        started = time.perf_counter()
        while relay.publish_batch():
            pass
        relay_rate = len(rows) / (time.perf_counter() - started)
        relay._drop_producer()
        with engine.begin() as conn:
            left = conn.execute(select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None)))
            assert left.scalar_one() == 0
        encoded = [envelope.to_kafka(e) for e in events]
        producer = kafka_clients.producer(bootstrap)
        started = time.perf_counter()
        for _, key, value, headers in encoded:
            producer.send(raw_topic, key=key, value=value, headers=headers)
        producer.flush(timeout=120)
        raw_rate = len(encoded) / (time.perf_counter() - started)
        producer.close(timeout=5)
    finally:
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {md.schema} CASCADE")
        engine.dispose()
        drop_topics(bootstrap, [relay_topic, raw_topic])
    return relay_rate, raw_rate


def consumer_figures(url: str, bootstrap: str, events: list) -> tuple[float, float]:
    """(inbox events/s into the ERP's party replica, raw consumer records/s) over the same backlog."""
    topic = new_topic(bootstrap, "drain")
    producer = kafka_clients.producer(bootstrap)
    for event in events:
        _, key, value, headers = envelope.to_kafka(event)
        producer.send(topic, key=key, value=value, headers=headers)
    producer.flush(timeout=120)
    producer.close(timeout=5)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    ids = sorted({e.get_subject() for e in events})
    try:
        raw = kafka_clients.consumer(bootstrap, None, [])
        parts = [TopicPartition(topic, p) for p in range(3)]
        raw.assign(parts)
        raw.seek_to_beginning(*parts)
        end = raw.end_offsets(parts)
        seen, started = 0, time.perf_counter()
        while any(raw.position(tp) < end[tp] for tp in parts):
            seen += sum(len(r) for r in raw.poll(timeout_ms=500).values())
        raw_rate = seen / (time.perf_counter() - started)
        raw.close()

        inbox = InboxConsumer(f"bench.drain.{uuid.uuid4().hex[:6]}", bootstrap, [topic], HANDLERS, sessions,
                              processed_events, dead_letters=False)
        applied, started = 0, time.perf_counter()
        deadline = started + 600
        while applied < len(events) and time.perf_counter() < deadline:
            applied += inbox.poll_once()
        inbox_rate = applied / (time.perf_counter() - started)
        inbox.close()
        with sessions.begin() as s:
            held = s.execute(select(func.count()).select_from(PartyReplica)
                             .where(PartyReplica.party_id.in_(ids), PartyReplica.sequence == 2)).scalar_one()
        assert held == len(ids), f"{held} of {len(ids)} parties at version 2 in the ERP"
    finally:
        with sessions.begin() as s:  # leave the ERP as it was
            s.execute(delete(PartyReplicaChange).where(PartyReplicaChange.party_id.in_(ids)))
            s.execute(delete(PartyReplica).where(PartyReplica.party_id.in_(ids)))
            s.execute(delete(processed_events).where(processed_events.c.topic == topic))
        engine.dispose()
        drop_topics(bootstrap, [topic])
    return inbox_rate, raw_rate


def request_figures(count: int = 300) -> dict:
    """SQL statements, round trips to PostgreSQL and CPU ms per request for POST and PATCH /api/v1/parties in the
    CRM app. A round trip is a cursor execution (one may carry several statements), the pool's pre-ping or the
    COMMIT; statements are counted inside each execution."""
    settings = Settings.from_env()
    bootstrap.seed_builtin_roles(settings.database_url, auth, CATALOG)
    app = create_app(settings)
    user = user_with_token(app.extensions["crm.db"].sessions, auth, audit_log, "crm", ["admin"])
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = user["headers"]["Authorization"]
    engine = app.extensions["crm.db"].engine
    counts = {"statements": 0, "round trips": 0}

    def executed(_conn, _cursor, statement, *_):
        counts["statements"] += statement.rstrip().rstrip(";").count(";") + 1
        counts["round trips"] += 1

    def one_more(*_):
        counts["round trips"] += 1

    sa_event.listen(engine, "before_cursor_execute", executed)
    sa_event.listen(engine, "commit", one_more)
    ping = engine.dialect.do_ping
    engine.dialect.do_ping = lambda conn: one_more() or ping(conn)
    figures = {"create": [0, 0, 0.0], "update": [0, 0, 0.0]}
    client.get("/api/v1/parties")  # the token's principal is cached from here on

    def measured(what, method, url, **kwargs):
        counts.update({"statements": 0, "round trips": 0})
        started = time.process_time()
        answer = method(url, **kwargs)
        figures[what][2] += time.process_time() - started
        figures[what][0] += counts["statements"]
        figures[what][1] += counts["round trips"]
        return answer

    for i in range(count):
        created = measured("create", client.post, "/api/v1/parties", json={
            "kind": "company", "legal_name": f"Request {i} {uuid.uuid4()}", "roles": ["customer"],
            "tax_id": f"FR{i:011d}", "emails": [{"value": f"ap{i}@bench.example"}]})
        assert created.status_code == 201, created.json
        changed = measured("update", client.patch, f"/api/v1/parties/{created.json['id']}",
                           json={"website": "https://example.com"}, headers={"If-Match": created.headers["ETag"]})
        assert changed.status_code == 200, changed.json
    engine.dialect.do_ping = ping
    return {k: (n / count, trips / count, cpu * 1000 / count) for k, (n, trips, cpu) in figures.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--events", type=int, default=int(os.environ.get("BENCH_BACKLOG") or 50000),
                    help="the backlog: outbox rows and party events (default 50,000)")
    args = ap.parse_args()
    url, bootstrap = os.environ["ERP_DATABASE_URL"], os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    say(f"backbone: {args.events:,} party events (crm.party.updated, {args.events // 2:,} parties x 2 versions)")
    events = party_events(args.events)
    say(f"  built and validated in this process; peak RSS {rss_mb():.0f} MB")
    relay_rate, produce_rate = relay_figures(url, bootstrap, events)
    say(f"  relay: {relay_rate:8,.0f} rows/s   raw produce: {produce_rate:8,.0f} records/s   "
        f"ratio {relay_rate / produce_rate:.2f}   (peak RSS {rss_mb():.0f} MB)")
    inbox_rate, consume_rate = consumer_figures(url, bootstrap, events)
    say(f"  consumer drain: {inbox_rate:8,.0f} events/s   raw consume: {consume_rate:8,.0f} records/s   "
        f"ratio {inbox_rate / consume_rate:.2f}   (peak RSS {rss_mb():.0f} MB)")
    for what, (statements, trips, cpu_ms) in request_figures().items():
        say(f"  party {what} in the CRM app: {statements:.1f} SQL statements in {trips:.1f} round trips per request "
            f"(auth, pre-ping and COMMIT included), {cpu_ms:.2f} ms CPU per request in this process (Flask + "
            "marshmallow + SQLAlchemy, no HTTP)")


if __name__ == "__main__":
    main()
