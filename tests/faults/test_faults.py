"""Faults while customers are being written in the CRM, and what the ERP ends with.

Each scenario runs a writer (creates and If-Match updates of parties, retried until the CRM acknowledges them, as
a client would after a 503) while something breaks: the broker stops for 30 s; the relay and the consumer are
killed with SIGKILL at random moments; the consumer is frozen past its session timeout; PostgreSQL restarts;
many clients update the same records at once. Then, for every acknowledged write: the ERP's replica holds the
CRM's version (nothing lost), each version was applied once (nothing twice), no dead letter was added and the
outbox drained. Each scenario prints its figures.
"""

import os
import random
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import create_engine, text

from tests.conftest import wait_until

pytestmark = pytest.mark.integration

TOPIC = "crm.party.v1"
rng = random.Random(20261205)
KILLS = int(os.environ.get("FAULT_KILLS", "5"))  # of each worker; `make fuzz` asks for more


class Writer:
    """Creates parties and updates some of them until stopped; remembers what the CRM acknowledged."""

    def __init__(self, stack, label: str, update_every: int = 3):
        self.stack, self.label, self.update_every = stack, label, update_every
        self.http = requests.Session()
        self.http.headers.update(stack.crm_http.headers)
        self.acknowledged: dict[str, int] = {}  # party id -> latest acknowledged version
        self.refused = 0  # answers that acknowledged nothing (503 while the database is away, errors)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _call(self, method, url, **kw):
        while not self._stop.is_set():
            try:
                r = self.http.request(method, url, timeout=10, **kw)
            except requests.RequestException:
                self.refused += 1
                time.sleep(0.2)
                continue
            if r.status_code in (502, 503, 504):
                self.refused += 1
                time.sleep(float(r.headers.get("Retry-After", "0.5")) / 5)
                continue
            return r
        return None

    def _run(self):
        n = 0
        while not self._stop.is_set():
            n += 1
            key = str(uuid.uuid4())  # a retried create is the same create
            r = self._call("POST", self.stack.crm + "/api/v1/parties", headers={"Idempotency-Key": key},
                           json={"kind": "company", "legal_name": f"{self.label} {n} {key[:6]}"})
            if r is None:
                break
            assert r.status_code == 201, r.text
            party = r.json()
            self.acknowledged[party["id"]] = party["version"]
            if n % self.update_every == 0:
                u = self._call("PATCH", f"{self.stack.crm}/api/v1/parties/{party['id']}", json={"tax_id": f"T{n}"},
                               headers={"If-Match": f'"{party["version"]}"'})
                if u is not None and u.status_code == 200:
                    self.acknowledged[party["id"]] = u.json()["version"]
            time.sleep(0.02)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(60)


def _dlq_size(bootstrap) -> int:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    try:
        parts = [TopicPartition(TOPIC + ".dlq", p) for p in consumer.partitions_for_topic(TOPIC + ".dlq") or ()]
        return sum(consumer.end_offsets(parts).values()) if parts else 0
    finally:
        consumer.close()


def _query(env: dict, url_variable: str, sql: str, **params) -> list:
    """Rows from the stack's own CRM or ERP database (`env` is the stack's environment)."""
    engine = create_engine(env[url_variable])
    try:
        with engine.connect() as c:
            return c.execute(text(sql), params).all()
    finally:
        engine.dispose()


def _backlog(env: dict) -> int:
    return _query(env, "CRM_DATABASE_URL", "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0]


def _crm_versions(env: dict, ids: list[str]) -> dict[str, int]:
    return dict(_query(env, "CRM_DATABASE_URL", "SELECT id::text, version FROM parties WHERE id::text = ANY(:ids)",
                       ids=ids))


def _erp_versions(env: dict, ids: list[str]) -> dict[str, int]:
    return dict(_query(env, "ERP_DATABASE_URL", "SELECT party_id::text, sequence FROM party_replicas "
                                           "WHERE party_id::text = ANY(:ids)", ids=ids))


def _erp_effects(env: dict, ids: list[str]) -> tuple[int, int, int]:
    """(change rows, distinct (party, version) among them, inbox rows of the events behind them) in the ERP."""
    return tuple(_query(env, "ERP_DATABASE_URL", """
        SELECT count(*), count(DISTINCT (c.party_id, c.sequence)), count(p.event_id)
        FROM party_replica_changes c
        LEFT JOIN processed_events p ON p.event_id = c.event_id AND p.consumer = 'erp.parties'
        WHERE c.party_id::text = ANY(:ids)""", ids=ids)[0])


def converge_and_check(stack, bootstrap, name: str, writer: Writer, dlq_before: int, began: float,
                       timeout: float = 120) -> dict:
    """Wait until the ERP holds every acknowledged version; assert nothing lost, doubled or dead-lettered.

    Read in both databases: the CRM's parties (the versions clients were told), the ERP's replicas (the versions
    it applied), its change rows (one per applied event) and its inbox rows (one per event it recorded)."""
    expected = dict(writer.acknowledged)
    assert expected, f"{name}: the writer got nothing acknowledged"
    ids = list(expected)

    def caught_up():
        held = _erp_versions(stack.env, ids)
        return all(held.get(pid, 0) >= v for pid, v in expected.items())

    wait_until(caught_up, timeout, 0.5, f"{name}: every acknowledged write in the ERP")
    converged = time.monotonic() - began
    wait_until(lambda: _backlog(stack.env) == 0, 30, 0.5, f"{name}: the outbox drained")
    crm, erp = _crm_versions(stack.env, ids), _erp_versions(stack.env, ids)
    changes, distinct_changes, inbox_rows = _erp_effects(stack.env, ids)
    lost = sum(1 for pid, v in expected.items() if crm.get(pid, 0) < v or erp.get(pid, 0) < v)
    mismatched = sum(1 for pid in ids if crm.get(pid) != erp.get(pid))
    figures = {"acknowledged writes": sum(expected.values()), "parties in CRM": len(crm), "parties in ERP": len(erp),
               "lost": lost, "applied twice": changes - distinct_changes, "effects without inbox row":
               changes - inbox_rows, "version mismatches": mismatched, "DLQ added": _dlq_size(bootstrap) - dlq_before,
               "outbox backlog": _backlog(stack.env), "refused and retried": writer.refused,
               "seconds to converge": round(converged, 1)}
    print(f"\n[fault] {name}: " + ", ".join(f"{k} {v}" for k, v in figures.items()))
    assert len(crm) == len(erp) == len(expected), figures
    assert changes == sum(erp.values()), figures  # every version from 1 to the last applied exactly once
    zeros = ("lost", "applied twice", "effects without inbox row", "version mismatches", "DLQ added", "outbox backlog")
    assert all(figures[k] == 0 for k in zeros), figures
    return figures


def _assert_workers_lived_through(stack, pids: dict[str, int]) -> None:
    """The workers waited the outage out: the same processes, still running (no crash, no restart)."""
    for name, pid in pids.items():
        proc = stack.procs[name]
        assert proc.popen.pid == pid and proc.popen.poll() is None, (
            f"{name} exited during the outage; log:\n{proc.log.read_text()[-3000:]}")


def _readyz(url: str) -> tuple[int, float]:
    began = time.monotonic()
    status = requests.get(url + "/readyz", timeout=10).status_code
    return status, time.monotonic() - began


def test_kafka_stopped_for_30_seconds_during_writes(stack, broker, bootstrap):
    dlq = _dlq_size(bootstrap)
    began = time.monotonic()
    probes = []
    with Writer(stack, "Kafka down") as writer:
        time.sleep(2)
        broker.stop()
        try:
            stopped = time.monotonic()
            while time.monotonic() - stopped < 30:  # what a Kubernetes readiness probe sees meanwhile
                probes += [_readyz(stack.crm_worker_url), _readyz(stack.erp_worker_url)]
                time.sleep(max(0.0, min(5.0, 30 - (time.monotonic() - stopped))))
        finally:
            broker.start()
        time.sleep(2)
    converge_and_check(stack, bootstrap, "Kafka stopped 30 s", writer, dlq, began, timeout=180)
    slowest = max(seconds for _, seconds in probes)
    print(f"[fault] worker /readyz with the broker down: {len(probes)} probes, "
          f"answers {sorted({status for status, _ in probes})}, slowest {slowest:.2f} s")
    assert slowest < 2, probes  # well inside the probe's timeoutSeconds
    assert 503 in {status for status, _ in probes[2:]}, probes  # the broker's absence is noticed


def test_relay_and_consumer_killed_at_random_moments(stack, bootstrap):
    dlq = _dlq_size(bootstrap)
    began = time.monotonic()
    with Writer(stack, "Killed") as writer:
        for i in range(2 * KILLS):  # KILLS of each worker (relay: crm-worker, consumer: erp-worker)
            time.sleep(rng.uniform(0.3, 2.5))
            proc = stack.procs["crm-worker" if i % 2 == 0 else "erp-worker"]
            proc.kill()  # SIGKILL at whatever point it had reached
            proc.start().wait_ready()
    converge_and_check(stack, bootstrap, f"relay and consumer SIGKILLed {KILLS} times each", writer, dlq, began)


def test_a_consumer_frozen_past_its_session_timeout(stack, bootstrap):
    dlq = _dlq_size(bootstrap)
    began = time.monotonic()
    consumer = stack.procs["erp-worker"]
    with Writer(stack, "Frozen") as writer:
        time.sleep(1)
        os.killpg(consumer.popen.pid, signal.SIGSTOP)
        try:
            time.sleep(15)  # the group's session timeout is 10 s: the broker gives its partitions up
        finally:
            os.killpg(consumer.popen.pid, signal.SIGCONT)
        time.sleep(2)
    converge_and_check(stack, bootstrap, "consumer SIGSTOPped 15 s", writer, dlq, began)


def test_postgresql_restarted_during_writes(stack, database, bootstrap):
    dlq = _dlq_size(bootstrap)
    began = time.monotonic()
    answers = []
    workers = {name: stack.procs[name].popen.pid for name in ("crm-worker", "erp-worker")}
    with Writer(stack, "PG restart") as writer:
        time.sleep(2)
        database.stop()
        try:
            r = requests.get(stack.crm + "/api/v1/parties", headers=stack.crm_http.headers, timeout=10)
            answers.append((r.status_code, r.headers.get("Retry-After")))
            time.sleep(5)  # long enough for the relay's backoff to pass 1 s
        finally:
            database.start()
        back = time.monotonic()
        probe = stack.create_party(kind="company", legal_name=f"After the restart {uuid.uuid4().hex[:6]}")
        stack.wait_in_erp(probe["id"], 1, timeout=60)
        print(f"\n[fault] PostgreSQL back: a new party reached the ERP {time.monotonic() - back:.2f} s later "
              "(the relay probes the database every 0.25 s instead of sleeping out its backoff)")
        time.sleep(2)
    assert answers[0][0] == 503 and answers[0][1], answers  # clients are told to retry, not a 500
    figures = converge_and_check(stack, bootstrap, "PostgreSQL restarted", writer, dlq, began)
    assert figures["refused and retried"] > 0
    _assert_workers_lived_through(stack, workers)


def test_concurrent_updates_of_the_same_records_with_if_match(stack, bootstrap):
    dlq = _dlq_size(bootstrap)
    began = time.monotonic()
    parties = [stack.create_party(kind="company", legal_name=f"Contended {i} {uuid.uuid4().hex[:6]}")
               for i in range(20)]
    outcomes = {"won": 0, "412": 0}

    def update(party, n):
        r = stack.crm_http.patch(f"{stack.crm}/api/v1/parties/{party['id']}", json={"tax_id": f"C{n}"},
                                 headers={"If-Match": f'"{party["version"]}"'}, timeout=20)
        return r.status_code

    with ThreadPoolExecutor(8) as pool:
        for party in parties:
            codes = list(pool.map(lambda n, p=party: update(p, n), range(10)))
            assert codes.count(200) == 1 and codes.count(412) == 9, codes  # one winner per version
            outcomes["won"] += 1
            outcomes["412"] += codes.count(412)

    class Acknowledged:
        acknowledged = {p["id"]: 2 for p in parties}
        refused = 0

    figures = converge_and_check(stack, bootstrap, "10 concurrent If-Match updates of 20 parties", Acknowledged,
                                 dlq, began)
    print(f"[fault] concurrent updates: {outcomes['won']} won, {outcomes['412']} refused with 412")
    assert figures["version mismatches"] == 0
