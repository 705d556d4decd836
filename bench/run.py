"""Throughput and propagation figures of the CRM -> ERP pipeline, each beside a raw baseline.

Started by deploy/local/bench.sh (`make bench`), which provides the servers and these variables:
CRM_URL, CRM_DATABASE_URL, ERP_DATABASE_URL, BENCH_SCRATCH_DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS and
WORKER_HEALTH_URLS (checked whenever something takes too long, to stop early if a worker died).
It prints figures; it asserts nothing. See bench/README.md for what each figure means.
"""

import argparse
import json
import os
import random
import sys
import threading
import time
import uuid
from datetime import datetime

import psycopg2
import requests
from jvm import report as jvm_report
from kafka.admin import NewTopic
from kafka.structs import TopicPartition
from procs import PeakRss, rss_now, tree_pids
from shared_events import kafka_clients

# --- helpers ------------------------------------------------------------------------------------


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


def libpq(url: str) -> str:
    """SQLAlchemy URL (postgresql+psycopg2://...) -> libpq URL."""
    return url.replace("postgresql+psycopg2://", "postgresql://", 1)


def connect(url: str):
    conn = psycopg2.connect(libpq(url))
    conn.autocommit = True
    return conn


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of an unsorted list."""
    s = sorted(values)
    if not s:
        return float("nan")
    k = max(0, min(len(s) - 1, int(round(p / 100 * len(s) + 0.5)) - 1))
    return s[k]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def say(msg: str) -> None:
    print(msg, flush=True)


AUTH: dict[str, str] = {}  # the Authorization header, when the CRM requires one


def login(crm_url: str) -> str:
    """Log in as the administrator bench.sh created (if the CRM has access control); describe the outcome."""
    email, password = os.environ.get("BENCH_ADMIN_EMAIL"), os.environ.get("BENCH_ADMIN_PASSWORD")
    if not email or not password:
        return "no credentials given: requests go unauthenticated"
    r = requests.post(f"{crm_url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=30)
    if r.status_code == 404:
        return "the CRM has no login endpoint: requests go unauthenticated"
    if r.status_code != 200:
        sys.exit(f"bench: login failed: {r.status_code} {r.text[:300]}")
    AUTH["Authorization"] = f"Bearer {r.json()['token']}"
    return f"requests carry a bearer token of {email}"


def session() -> requests.Session:
    s = requests.Session()
    s.headers.update(AUTH)
    return s


def company_body(tag: str, i: int) -> dict:
    return {
        "kind": "company",
        "legal_name": f"Bench {tag} {i} SA",
        "roles": ["customer"],
        "tax_id": f"FR{i:011d}",
        "emails": [{"value": f"ap{i}@bench.example"}],
    }


def run_threads(concurrency: int, total: int, make_worker) -> tuple[float, list]:
    """Split `total` operations over `concurrency` threads started together; return wall time and results.

    make_worker(thread) opens the thread's connection (before the start line) and returns (op, close):
    op(i) performs operation i and returns its result.
    """
    shares = [total // concurrency + (1 if t < total % concurrency else 0) for t in range(concurrency)]
    results: list[list] = [[] for _ in range(concurrency)]
    start = threading.Barrier(concurrency + 1)
    errors: list[BaseException] = []

    def body(t: int) -> None:
        op, close = make_worker(t)
        try:
            start.wait()
            base = sum(shares[:t])
            for i in range(base, base + shares[t]):
                results[t].append(op(i))
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            errors.append(exc)
        finally:
            close()

    threads = [threading.Thread(target=body, args=(t,), daemon=True) for t in range(concurrency)]
    for th in threads:
        th.start()
    start.wait()
    t0 = time.perf_counter()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    if errors:
        raise errors[0]
    return wall, [r for rs in results for r in rs]


# --- where the CPU goes -----------------------------------------------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def _proc_table() -> dict[int, tuple[int, float]]:
    """pid -> (parent pid, CPU seconds used so far) of every process we may read."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK)
    return table


def cpu_snapshot() -> dict[str, float]:
    """CPU seconds used so far by each process tree bench.sh named in BENCH_PROCS ("name=pid ..."), by this
    client, and by the whole machine ("machine busy", from /proc/stat)."""
    roots = {"bench client": os.getpid()}
    for item in os.environ.get("BENCH_PROCS", "").split():
        name, _, pid = item.partition("=")
        if pid.isdigit():
            roots[name] = int(pid)
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out = {}
    for name, root in roots.items():
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            if pid in table and (pid == root or pid not in roots.values()):
                total += table[pid][1]
                todo += children.get(pid, [])
        out[name] = total
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    out["machine busy"] = (sum(v[:8]) - v[3] - v[4]) / TICK  # all but idle and iowait
    return out


def cpu_report(before: dict[str, float], after: dict[str, float], wall: float) -> str:
    used = {k: after[k] - before.get(k, after[k]) for k in after}
    busy = used.pop("machine busy")
    ours = sum(used.values())
    parts = [f"{k} {v:.1f}" for k, v in sorted(used.items(), key=lambda kv: -kv[1])]
    return (f"{wall:.1f} s x {os.cpu_count()} cores = {wall * (os.cpu_count() or 1):.0f} core-s; busy "
            f"{busy:.1f}: " + ", ".join(parts) + f", other processes {max(0.0, busy - ours):.1f}")


def cpu_per_request(before: dict[str, float], after: dict[str, float], requests: int) -> str:
    """CPU ms per request of each process tree (crm-web first: the web's own cost of a create)."""
    used = {k: (after[k] - before.get(k, after[k])) * 1000 / max(requests, 1) for k in after if k != "machine busy"}
    order = sorted(used, key=lambda k: (k != "crm-web", -used[k]))
    return ", ".join(f"{k} {used[k]:.2f}" for k in order)


# --- a. create-party throughput -------------------------------------------------------------------


def http_worker_factory(crm_url: str, tag: str):
    def make(_t: int):
        s = session()

        def op(i: int):
            t = time.perf_counter()
            r = s.post(f"{crm_url}/api/v1/parties", json=company_body(tag, i), timeout=30)
            lat = time.perf_counter() - t
            pid = r.json().get("id") if r.status_code == 201 else None
            return lat, r.status_code, pid, (None if r.status_code == 201 else r.text[:300])

        return op, s.close

    return make


def http_throughput(crm_url: str, concurrency: int, total: int, tag: str) -> dict:
    wall, res = run_threads(concurrency, total, http_worker_factory(crm_url, tag))
    ok = [r for r in res if r[1] == 201]
    bad = [r for r in res if r[1] != 201]
    return {"wall": wall, "ok": len(ok), "errors": len(bad), "first_error": bad[0][1:] if bad else None,
            "rps": len(ok) / wall, "lat": [r[0] for r in ok], "ids": [r[2] for r in ok]}


RAW_DDL = """
create table bench_raw (
  id uuid primary key, kind varchar(10) not null, display_name varchar(300) not null,
  legal_name varchar(300), first_name varchar(150), last_name varchar(150), company_id uuid,
  job_title varchar(150), roles varchar(20)[] not null, tax_id varchar(50), emails jsonb not null,
  phones jsonb not null, website varchar(300), billing_address jsonb, shipping_address jsonb,
  owner_id varchar(100), status varchar(10) not null, version integer not null,
  created_at timestamptz not null default now(), updated_at timestamptz not null default now(),
  archived_at timestamptz);
create index ix_bench_raw_display_name_lower on bench_raw (lower(display_name));
create index ix_bench_raw_roles on bench_raw using gin (roles);
create index ix_bench_raw_company_id on bench_raw (company_id);
create index ix_bench_raw_tax_id on bench_raw (tax_id);
create index ix_bench_raw_owner_id on bench_raw (owner_id);
create table bench_raw_outbox (
  id bigserial primary key, event_id uuid not null unique, aggregatetype varchar(100) not null,
  aggregateid varchar(100) not null, type varchar(200) not null, topic varchar(200) not null,
  payload jsonb not null, created_at timestamptz not null default now(), published_at timestamptz,
  attempts integer not null default 0, last_error text);
create index ix_bench_raw_outbox_unpublished on bench_raw_outbox (id) where published_at is null;
"""

PARTY_INSERT = (
    "insert into bench_raw (id, kind, display_name, legal_name, roles, tax_id, emails, phones, status,"
    " version) values (%s, 'company', %s, %s, array['customer'], %s, %s, '[]', 'active', 1)")
OUTBOX_INSERT = (
    "insert into bench_raw_outbox (event_id, aggregatetype, aggregateid, type, topic, payload)"
    " values (%s, 'party', %s, 'crm.party.created', 'crm.party.v1', %s)")


def raw_insert_throughput(scratch_url: str, concurrency: int, total: int, with_outbox: bool,
                          payload: dict) -> dict:
    def make(_t: int):
        conn = psycopg2.connect(libpq(scratch_url))  # one transaction per op: INSERT(s) + COMMIT
        cur = conn.cursor()

        def op(i: int):
            t = time.perf_counter()
            pid = str(uuid.uuid4())
            name = f"Bench raw {i} SA"
            cur.execute(PARTY_INSERT, (pid, name, name, f"FR{i:011d}",
                                       json.dumps([{"value": f"ap{i}@bench.example", "primary": True}])))
            if with_outbox:
                cur.execute(OUTBOX_INSERT, (str(uuid.uuid4()), pid, json.dumps(payload)))
            conn.commit()
            return time.perf_counter() - t

        return op, conn.close

    wall, lat = run_threads(concurrency, total, make)
    return {"wall": wall, "ok": len(lat), "rps": len(lat) / wall, "lat": lat}


def dead_workers() -> list[str]:
    """The workers (WORKER_HEALTH_URLS, space-separated /healthz URLs) that do not answer 200."""
    dead = []
    for url in os.environ.get("WORKER_HEALTH_URLS", "").split():
        try:
            if requests.get(url, timeout=2).status_code != 200:
                dead.append(url)
        except requests.RequestException:
            dead.append(url)
    return dead


def check_workers() -> None:
    dead = dead_workers()
    if dead:
        sys.exit(f"bench: worker(s) not alive: {', '.join(dead)} (see the logs); giving up")


def wait_replicated(erp, expected: int, timeout: float) -> float | None:
    """Poll the ERP replica until it holds `expected` parties; the perf_counter time it did, or None."""
    deadline = time.perf_counter() + timeout
    next_check = time.perf_counter() + 1
    with erp.cursor() as cur:
        while time.perf_counter() < deadline:
            cur.execute("select count(*) from party_replicas")
            if cur.fetchone()[0] >= expected:
                return time.perf_counter()
            if time.perf_counter() > next_check:
                check_workers()
                next_check = time.perf_counter() + 1
            time.sleep(0.02)
    return None


# --- b. propagation latency -----------------------------------------------------------------------


def propagation(crm_url: str, erp, crm, count: int, rate: float, tag: str) -> dict:
    """Open loop: one thread POSTs parties at random (Poisson) instants, `rate` a second on average, while
    this thread polls the ERP replica for the pending ones every ~2 ms.

    The creation instants do not depend on when earlier parties arrived, so they fall at random phases of
    the relay's poll period (a create-then-wait loop would lock onto that period and measure one phase).
    """
    pending: dict[str, float] = {}  # party id -> perf_counter when its POST returned 201
    lock = threading.Lock()
    failed: list[str] = []
    done = threading.Event()

    def create() -> None:
        s = session()
        try:
            next_at = time.perf_counter()
            for i in range(count):
                next_at += random.expovariate(rate)
                time.sleep(max(0.0, next_at - time.perf_counter()))
                r = s.post(f"{crm_url}/api/v1/parties", json=company_body(tag, i), timeout=30)
                t_ret = time.perf_counter()
                if r.status_code == 201:
                    with lock:
                        pending[r.json()["id"]] = t_ret
                else:
                    failed.append(f"{r.status_code} {r.text[:200]}")
        finally:
            s.close()
            done.set()

    creator = threading.Thread(target=create, daemon=True)
    creator.start()
    lat, missing, samples = [], 0, []
    with erp.cursor() as cur:
        while True:
            with lock:
                ids = list(pending)
            if not ids:
                if done.is_set():
                    break
                time.sleep(0.002)
                continue
            cur.execute("select party_id::text, replicated_at from party_replicas"
                        " where party_id = any(%s::uuid[])", (ids,))
            rows = cur.fetchall()
            now = time.perf_counter()
            with lock:
                for pid, replicated_at in rows:
                    lat.append(now - pending.pop(pid))
                    samples.append((pid, replicated_at))
                late = [pid for pid, t in pending.items() if now - t > 10]
                for pid in late:
                    del pending[pid]
            if late:
                missing += len(late)
                check_workers()
            time.sleep(0.002)
    creator.join()
    # Where the time goes, from server timestamps (same host, same clock):
    # outbox.created_at (CRM transaction start) -> outbox.published_at (the relay's claim: its transaction's start)
    # -> processed_events.processed_at (the ERP inbox transaction's start: fetched, parsed, first statement sent)
    # -> party_replicas.replicated_at (the ERP handler ran; the commit follows).
    stages = {"claim": [], "deliver": [], "fetch": [], "apply": []}
    with crm.cursor() as cur:
        cur.execute("select aggregateid, event_id::text, created_at, published_at from outbox"
                    " where aggregateid = any(%s)", ([p for p, _ in samples],))
        outbox = {a: (e, c, p) for a, e, c, p in cur.fetchall()}
    with erp.cursor() as cur:
        cur.execute("select event_id::text, processed_at from processed_events where consumer = 'erp.parties'"
                    " and event_id = any(%s::uuid[])", ([e for e, _, _ in outbox.values()],))
        began = dict(cur.fetchall())
    for pid, replicated_at in samples:
        event_id, created_at, published_at = outbox.get(pid, (None, None, None))
        if created_at and published_at:
            stages["claim"].append((published_at - created_at).total_seconds())
            stages["deliver"].append((replicated_at - published_at).total_seconds())
            if event_id in began:
                stages["fetch"].append((began[event_id] - published_at).total_seconds())
                stages["apply"].append((replicated_at - began[event_id]).total_seconds())
    return {"lat": lat, "missing": missing, "failed": failed, "stages": stages}


def kafka_roundtrip(bootstrap: str, count: int) -> dict:
    """Produce one message (acks=all, wait for the ack), consume it on an always-polling consumer; repeat."""
    topic = f"bench.roundtrip.{uuid.uuid4().hex[:8]}"
    admin = kafka_clients.admin(bootstrap)
    admin.create_topics([NewTopic(topic, 1, 1)], wait_for_metadata=True)
    producer = kafka_clients.producer(bootstrap)  # the relay's settings: acks=all, idempotent, linger 2 ms
    consumer = kafka_clients.consumer(bootstrap, None, [])  # the inbox consumer's settings, no group
    consumer.assign([TopicPartition(topic, 0)])
    received: dict[bytes, float] = {}
    arrived = threading.Condition()
    stop = threading.Event()

    def consume() -> None:
        while not stop.is_set():
            for records in consumer.poll(timeout_ms=200).values():
                now = time.perf_counter()
                with arrived:
                    for rec in records:
                        received[rec.value] = now
                    arrived.notify_all()

    th = threading.Thread(target=consume, daemon=True)
    th.start()
    rtt, ack, missing = [], [], 0
    try:
        for i in range(-10, count):  # the first 10 warm up connections and metadata, not counted
            value = f"{i}:{uuid.uuid4()}".encode()
            t0 = time.perf_counter()
            producer.send(topic, key=str(i).encode(), value=value)
            producer.flush(timeout=30)  # as the relay does: send, flush, wait for the broker's ack
            t_ack = time.perf_counter()
            with arrived:
                got = arrived.wait_for(lambda v=value: v in received, timeout=10)
                t_recv = received.get(value)
            if i < 0:
                continue
            if not got:
                missing += 1
                continue
            rtt.append(t_recv - t0)
            ack.append(t_ack - t0)
            time.sleep(random.uniform(0.002, 0.01))
    finally:
        stop.set()
        th.join(timeout=5)
        consumer.close()
        producer.close(timeout=5)
        try:
            admin.delete_topics([topic])
        finally:
            admin.close()
    return {"rtt": rtt, "ack": ack, "missing": missing}


# --- main -----------------------------------------------------------------------------------------


def main() -> None:
    with PeakRss() as peak:
        measure()
    say(f"peak RSS of every process during run.py: {peak.report()}")
    kafka = tree_pids().get("kafka")
    if kafka:
        say(f"kafka JVM so far: {jvm_report(kafka[0])}")


def measure() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-c", "--concurrency", type=int, default=env_int("BENCH_CONCURRENCY", 8),
                    help="client threads for the throughput figures (BENCH_CONCURRENCY, 8)")
    ap.add_argument("-n", "--requests", type=int, default=env_int("BENCH_REQUESTS", 2000),
                    help="create-party requests, and raw inserts (BENCH_REQUESTS, 2000)")
    ap.add_argument("-m", "--parties", type=int, default=env_int("BENCH_PARTIES", 200),
                    help="parties timed CRM -> ERP, one at a time (BENCH_PARTIES, 200)")
    ap.add_argument("-r", "--rate", type=float, default=float(os.environ.get("BENCH_RATE") or 20),
                    help="parties created a second, on average, for the propagation figure (BENCH_RATE, 20)")
    ap.add_argument("-k", "--roundtrips", type=int, default=env_int("BENCH_ROUNDTRIPS", 0),
                    help="raw Kafka round trips (BENCH_ROUNDTRIPS, default: same as --parties)")
    args = ap.parse_args()
    roundtrips = args.roundtrips or args.parties
    C, N, M = args.concurrency, args.requests, args.parties
    crm_url = os.environ["CRM_URL"].rstrip("/")
    bootstrap = os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    scratch_url = os.environ["BENCH_SCRATCH_DATABASE_URL"]
    crm = connect(os.environ["CRM_DATABASE_URL"])
    erp = connect(os.environ["ERP_DATABASE_URL"])
    tag = uuid.uuid4().hex[:6]
    started = time.perf_counter()

    with crm.cursor() as cur:
        cur.execute("select current_setting('server_version'), current_setting('synchronous_commit'),"
                    " current_setting('fsync')")
        pg_version, sync_commit, fsync = cur.fetchone()
    say(f"bench: CRM {crm_url}, Kafka {bootstrap}, PostgreSQL {pg_version} "
        f"(fsync={fsync}, synchronous_commit={sync_commit}), {os.cpu_count()} CPU cores")
    say(f"parameters: concurrency C={C}, create requests N={N}, propagation parties M={M} "
        f"at {args.rate:g}/s, Kafka round trips={roundtrips}")

    # Warm-up: every gunicorn worker's pool, the relay's producer and the ERP consumer's group join.
    say(f"auth: {login(crm_url)}")
    check_workers()
    say("warm-up: creating parties until the ERP replica receives them ...")
    warm = http_throughput(crm_url, C, 4 * C, tag + "w")
    if warm["errors"]:
        sys.exit(f"bench: warm-up requests failed: {warm['first_error']}")
    if wait_replicated(erp, warm["ok"], 90) is None:
        sys.exit("bench: warm-up parties never reached the ERP replica (see the worker logs)")
    created = warm["ok"]

    say(f"a. {N} x POST /api/v1/parties with {C} threads ...")
    cpu0 = cpu_snapshot()
    t_burst = time.perf_counter()
    http = http_throughput(crm_url, C, N, tag)
    t_burst_end = time.perf_counter()
    cpu1 = cpu_snapshot()
    cpu_burst = cpu_report(cpu0, cpu1, t_burst_end - t_burst)
    cpu_per_create = cpu_per_request(cpu0, cpu1, http["ok"])
    created += http["ok"]
    with crm.cursor() as cur:
        cur.execute("select count(*) from outbox where published_at is null")
        backlog_at_end = cur.fetchone()[0]
    with erp.cursor() as cur:
        cur.execute("select count(*) from party_replicas")
        replicated_at_end = cur.fetchone()[0] - warm["ok"]
    t_drained = wait_replicated(erp, created, 120)
    cpu_drain = cpu_report(cpu1, cpu_snapshot(), (t_drained or time.perf_counter()) - t_burst_end)

    with crm.cursor() as cur:
        cur.execute("select payload from outbox order by id desc limit 1")
        payload = cur.fetchone()[0]  # a real event, so the raw outbox row has the same size
    scratch = connect(scratch_url)
    with scratch.cursor() as cur:
        cur.execute("drop table if exists bench_raw, bench_raw_outbox")
        cur.execute(RAW_DDL)
    try:
        say(f"   baseline: {N} x psycopg2 INSERT + COMMIT with {C} threads "
            "(1 row, then party + outbox rows) ...")
        raw1 = raw_insert_throughput(scratch_url, C, N, False, payload)
        raw2 = raw_insert_throughput(scratch_url, C, N, True, payload)
    finally:
        with scratch.cursor() as cur:
            cur.execute("drop table if exists bench_raw, bench_raw_outbox")
        scratch.close()

    say(f"a32. {N // 2} x POST /api/v1/parties with 32 threads, and its raw baseline at C=32 ...")
    wait_replicated(erp, created, 120)  # the a. burst has drained first
    cpu32 = cpu_snapshot()
    http32 = http_throughput(crm_url, 32, N // 2, tag + "x")
    cpu_per_create32 = cpu_per_request(cpu32, cpu_snapshot(), http32["ok"])
    created += http32["ok"]
    scratch = connect(scratch_url)
    with scratch.cursor() as cur:
        cur.execute("drop table if exists bench_raw, bench_raw_outbox")
        cur.execute(RAW_DDL)
    try:
        raw32 = raw_insert_throughput(scratch_url, 32, N // 2, True, payload)
    finally:
        with scratch.cursor() as cur:
            cur.execute("drop table if exists bench_raw, bench_raw_outbox")
        scratch.close()
    wait_replicated(erp, created, 120)

    check_workers()
    say(f"b. {M} parties created at random instants, {args.rate:g}/s on average: CRM POST 201 -> row in ERP "
        "party_replicas (polled every 2 ms) ...")
    prop = propagation(crm_url, erp, crm, M, args.rate, tag + "p")
    fast_rate = 10 * args.rate
    say(f"b200. {5 * M} parties at {fast_rate:g}/s on average, the same way ...")
    prop_fast = propagation(crm_url, erp, crm, 5 * M, fast_rate, tag + "f")
    say(f"   baseline: {roundtrips} x Kafka produce (acks=all) -> consume on a scratch topic ...")
    kaf = kafka_roundtrip(bootstrap, roundtrips)

    bursts = 5
    say(f"m. memory: {bursts} bursts of {N // 2} creates (C={C}), each until the ERP has them; the largest process "
        "of each tree after each ...")
    memory = []
    for i in range(bursts):
        burst = http_throughput(crm_url, C, N // 2, f"{tag}m{i}")
        created += burst["ok"]
        wait_replicated(erp, created, 120)
        memory.append(rss_now())
    crm.close()
    erp.close()

    # --- report ---
    w = 44
    line = "-" * 100
    say("")
    say(line)
    say(f"{'figure':<{w}} {'rate':>12} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    say(line)

    def row(name, rate, lat):
        say(f"{name:<{w}} {rate:>12} {ms(pct(lat, 50)):>8} {ms(pct(lat, 95)):>8} "
            f"{ms(pct(lat, 99)):>8} {ms(max(lat)) if lat else 'nan':>8}")

    row(f"a. CRM POST /parties over HTTP (C={C})", f"{http['rps']:.0f} req/s", http["lat"])
    row("   raw: INSERT 1 row + COMMIT", f"{raw1['rps']:.0f} tx/s", raw1["lat"])
    row("   raw: INSERT party + outbox rows + COMMIT", f"{raw2['rps']:.0f} tx/s", raw2["lat"])
    say(f"{'   ratio to raw party + outbox':<{w}} {http['rps'] / raw2['rps']:>12.3f}")
    row("a32. CRM POST /parties over HTTP (C=32)", f"{http32['rps']:.0f} req/s", http32["lat"])
    row("   raw: INSERT party + outbox rows + COMMIT", f"{raw32['rps']:.0f} tx/s", raw32["lat"])
    say(f"{'   ratio to raw party + outbox':<{w}} {http32['rps'] / raw32['rps']:>12.3f}")
    row(f"b. CRM 201 -> visible in ERP (M={len(prop['lat'])}, {args.rate:g}/s)", "", prop["lat"])
    row("   stage: CRM tx start -> relay claims row", "", prop["stages"]["claim"])
    row("   stage: relay claims -> ERP handler ran", "", prop["stages"]["deliver"])
    row("     of which: claim -> ERP inbox tx began", "", prop["stages"]["fetch"])
    row("     of which: ERP inbox tx began -> handler", "", prop["stages"]["apply"])
    row(f"   raw: Kafka produce -> consume (n={len(kaf['rtt'])})", "", kaf["rtt"])
    row("   raw: Kafka produce -> ack (acks=all)", "", kaf["ack"])
    row(f"b200. CRM 201 -> visible in ERP (M={len(prop_fast['lat'])}, {fast_rate:g}/s)", "", prop_fast["lat"])
    row("   stage: CRM tx start -> relay claims row", "", prop_fast["stages"]["claim"])
    row("   stage: relay claims -> ERP handler ran", "", prop_fast["stages"]["deliver"])
    if kaf["rtt"] and prop["lat"]:
        ratio = pct(prop["lat"], 50) / pct(kaf["rtt"], 50)
        say(f"{'   b. p50 / raw round trip p50':<{w}} {ratio:>12.1f}")
    say(line)
    if t_drained is not None:
        took = t_drained - t_burst
        say(f"a'. the {http['ok']} burst parties were all in the ERP replica {took:.1f} s after the burst "
            f"started (burst took {t_burst_end - t_burst:.1f} s): {http['ok'] / took:.0f} parties/s end to "
            f"end; at the burst's end {replicated_at_end} were replicated, {backlog_at_end} outbox rows "
            "unpublished")
    else:
        say(f"a'. the burst parties were NOT all in the ERP replica after 120 s "
            f"({backlog_at_end} outbox rows were unpublished at the burst's end)")
    names = sorted(memory[0])
    say(f"m. RSS of the largest process after each of {bursts} bursts, MB: " + "; ".join(
        f"{n} " + " ".join(f"{m[n]:.0f}" for m in memory) + f" ({(memory[-1][n] / memory[0][n] - 1) * 100:+.0f}%)"
        for n in names if memory[0][n]))
    first = f" (first: {http['first_error']})" if http["errors"] else ""
    first_p = f" (first: {prop['failed'][0]})" if prop["failed"] else ""
    say(f"CPU seconds during the burst of a.: {cpu_burst}")
    say(f"CPU ms per create over HTTP, by process tree (a., C={C}): {cpu_per_create}")
    say(f"CPU ms per create over HTTP, by process tree (a32., C=32): {cpu_per_create32}")
    say(f"CPU seconds from the burst's end to a.': {cpu_drain}")
    say(f"errors: {http['errors']} HTTP non-201{first} in a., {len(prop['failed'])} in b.{first_p}, "
        f"{prop['missing']} parties not seen in the ERP within 10 s, {kaf['missing']} Kafka messages lost")
    say(f"parameters: C={C} threads, N={N} requests/inserts, M={M} parties at {args.rate:g}/s, "
        f"{roundtrips} Kafka round trips, {os.cpu_count()} CPU cores (client, gunicorn, workers, "
        f"PostgreSQL and Kafka share them), total {time.perf_counter() - started:.0f} s "
        f"at {datetime.now().isoformat(timespec='seconds')}")


if __name__ == "__main__":
    main()
