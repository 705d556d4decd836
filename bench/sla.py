"""SLA timings on 100,000 open tickets, in a scratch database of their own.

    .local/venv/bin/python bench/sla.py [--tickets 100000]

Creates (drops first) the database named by SLA_BENCH_DATABASE_URL (default
postgresql+psycopg2://postgres@127.0.0.1:54329/crm_sla_bench), migrates the CRM schema, and COPYs one customer, a
calendar (office hours with a lunch break and French public holidays), a policy, and N open tickets opened over the
last 8 days, each with a history of 2 to 5 facts (created, first reply, a pending spell, a priority change). Then it
times:

- the pure fold: every ticket's clock replayed in memory (sla_clock.replay), tickets a second;
- a calendar change as the API does it (policies.update_calendar, which only queues a recompute request) and the
  worker's recompute that serves it (sla.run_recomputes: every open ticket recomputed from its history and stored,
  in one transaction);
- the breaching-soon queue (GET /tickets?queue=breaching_soon as list_tickets runs it: first page and count) and
  the breached queue.

It prints figures and asserts nothing: compare runs on the same, otherwise idle, machine.
"""

import argparse
import io
import json
import os
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg2
from alembic import command
from crm.cli import MIGRATIONS
from crm.tickets import policies, service
from crm.tickets.sla import facts_of, resolver, run_recomputes
from crm.tickets.sla_clock import replay
from servicekit.auth.principal import Principal
from servicekit.cli import alembic_config
from servicekit.db import make_engine, make_session_factory

DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:54329/crm_sla_bench"
OFFICE = {d: [["09:00", "12:00"], ["13:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
ADMIN = Principal(str(uuid.uuid4()), "bench@example.com", "Bench", None, frozenset({"admin"}), frozenset({"*"}))


def recreate(url: str) -> None:
    base, name = url.rsplit("/", 1)
    conn = psycopg2.connect(base.replace("postgresql+psycopg2", "postgresql") + "/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def copy(cur, table: str, columns: tuple[str, ...], rows) -> None:
    buf = io.StringIO()
    for row in rows:
        buf.write("\t".join("\\N" if v is None else str(v) for v in row) + "\n")
    buf.seek(0)
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buf)


def fill(url: str, count: int) -> tuple[str, str]:
    """One customer, one calendar, one policy, `count` open tickets with their facts; returns the calendar id and
    a ticket id."""
    rng = random.Random(20261205)
    now = datetime.now(UTC)
    party, calendar, policy = str(uuid.uuid4()), str(uuid.uuid4()), str(uuid.uuid4())
    conn = psycopg2.connect(url.replace("postgresql+psycopg2", "postgresql"))
    with conn, conn.cursor() as cur:
        cur.execute("INSERT INTO parties (id, kind, display_name, legal_name, roles, emails, phones, status, version)"
                    " VALUES (%s, 'company', 'Bench customer', 'Bench customer', '{customer}', '[]', '[]',"
                    " 'active', 1)", (party,))
        cur.execute("INSERT INTO sla_calendars (id, name, zone, windows, holiday_country, closed_days, half_days,"
                    " version) VALUES (%s, 'Office', 'Europe/Paris', %s, 'FR', '[]', '{}', 1)",
                    (calendar, json.dumps(OFFICE)))
        cur.execute("INSERT INTO sla_policies (id, name, position, active, priorities, categories, channels, segments,"
                    " calendar_id, first_response_minutes, next_response_minutes, resolution_minutes, pause_statuses,"
                    " version) VALUES (%s, 'Standard', 1, true, '[]', '[]', '[]', '[]', %s, 240, 480, 1200,"
                    " '[\"pending\", \"on_hold\"]', 1)", (policy, calendar))
        tickets, facts = [], []
        for n in range(count):
            tid = str(uuid.uuid4())
            opened = now - timedelta(minutes=rng.randrange(1, 8 * 24 * 60))
            status = "new"
            history = [(opened, "created", {"status": "new", "priority": "normal", "category": None,
                                            "channel": "email", "segments": ["customer"]})]
            at = opened
            for kind in rng.sample(["agent_reply", "pending", "priority"], rng.randrange(0, 4)):
                at += timedelta(minutes=rng.randrange(5, 3 * 24 * 60))
                if at >= now:
                    break
                if kind == "agent_reply":
                    history.append((at, "agent_reply", {}))
                elif kind == "pending":
                    history.append((at, "status", {"status": "pending"}))
                    at += timedelta(minutes=rng.randrange(5, 2 * 24 * 60))
                    history.append((min(at, now), "status", {"status": "open"}))
                    status = "open"
                else:
                    history.append((at, "changed", {"priority": "high"}))
            tickets.append((tid, f"T-BENCH-{n:07d}", "Bench ticket", party, "email", "normal", status, opened,
                            opened, 0, "false", "false", 1))
            facts += [(tid, when.isoformat(), kind, json.dumps(data)) for when, kind, data in history]
        copy(cur, "tickets", ("id", "number", "subject", "party_id", "channel", "priority", "status", "created_at",
                              "updated_at", "paused_seconds", "sla_policy_override", "resolution_breached",
                              "version"), tickets)
        copy(cur, "ticket_facts", ("ticket_id", "occurred_at", "kind", "data"), facts)
    conn.close()
    return calendar, tickets[0][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    args = parser.parse_args()
    url = os.environ.get("SLA_BENCH_DATABASE_URL", DEFAULT_URL)
    recreate(url)
    command.upgrade(alembic_config(MIGRATIONS, url), "head")
    t0 = time.perf_counter()
    calendar, sample = fill(url, args.tickets)
    print(f"filled {args.tickets} open tickets in {time.perf_counter() - t0:.1f} s")
    engine = make_engine(url)
    sessions = make_session_factory(engine)

    with sessions.begin() as session:
        resolve = resolver(session)
        facts = [facts_of(session, sample)] * 1000
        t0 = time.perf_counter()
        for history in facts:
            replay(resolve, history)
        elapsed = time.perf_counter() - t0
    print(f"pure fold: {1000 / elapsed:,.0f} ticket histories a second ({elapsed * 1000 / 1000:.2f} ms each)")

    for label, windows in (("calendar change (longer lunch break)",
                            {d: [["09:00", "11:30"], ["14:00", "17:00"]] for d in OFFICE}),
                           ("calendar change (back)", OFFICE)):
        with sessions.begin() as session:
            version = policies.get_calendar(session, calendar)["version"]
            t0 = time.perf_counter()
            policies.update_calendar(session, calendar, version, {"windows": windows}, ADMIN)
            session.flush()
        asked = time.perf_counter() - t0
        with sessions.begin() as session:
            t0 = time.perf_counter()
            count = run_recomputes(session)
            session.flush()
        elapsed = time.perf_counter() - t0
        print(f"{label}: the change answered in {asked * 1000:.0f} ms; the worker recomputed and stored {count} "
              f"open tickets in {elapsed:.1f} s ({count / elapsed:,.0f} a second)")

    for queue in ("breaching_soon", "breached"):
        timings = []
        for _ in range(5):
            with sessions.begin() as session:
                t0 = time.perf_counter()
                page = service.list_tickets(session, {"queue": queue, "within": 3 * 24 * 60, "page": 1,
                                                      "page_size": 50}, ADMIN)
                timings.append(time.perf_counter() - t0)
        print(f"queue {queue}: {page['total']} tickets, first page of 50 in {min(timings) * 1000:.1f} ms "
              f"(best of 5; median {sorted(timings)[2] * 1000:.1f} ms)")
    engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
