"""Bench of the agenda (issue #13 item 10): 1,000 users' calendars holding 20,000 recurring series and 200,000
overrides, served by the CRM web that bench.sh started. Times, over HTTP with the administrator's token:
- the month view of one user (GET /agenda/occurrences, 20 series of their own);
- the same for series that began ten years earlier (the cost should follow the window, not the series' age);
- a conflict check for 10 attendees (GET /agenda/conflicts);
- one user's feed (GET /public/agenda/feeds/{token}.ics);
beside a plain SQL range scan of the same number of single events (a table of 220,000 rows with an index), and
the peak RSS of the CRM web's largest process while serving them. Prints figures, asserts nothing.

    BENCH_AGENDA_USERS=1000 BENCH_AGENDA_SERIES=20 BENCH_AGENDA_OVERRIDES=10 .local/venv/bin/python bench/agenda.py
(run by `make bench`, or alone: BENCH_SCRIPTS=agenda make bench)
"""

import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg2
import requests
from psycopg2.extras import execute_values

sys.path.insert(0, str(Path(__file__).resolve().parent))
from procs import PeakRss, rss_now  # noqa: E402
from run import AUTH, login  # noqa: E402

USERS = int(os.environ.get("BENCH_AGENDA_USERS", 1000))
SERIES = int(os.environ.get("BENCH_AGENDA_SERIES", 20))  # per user
OVERRIDES = int(os.environ.get("BENCH_AGENDA_OVERRIDES", 10))  # per series
REPEAT = 20
ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "UTC"]
RULES = [("FREQ=WEEKLY", 7), ("FREQ=DAILY;INTERVAL=2", 2), ("FREQ=WEEKLY;INTERVAL=2", 14), ("FREQ=DAILY", 1)]
MONTH = (datetime(2031, 3, 1, tzinfo=UTC), datetime(2031, 4, 1, tzinfo=UTC))


def dsn() -> str:
    url = os.environ["CRM_DATABASE_URL"]
    return url.replace("postgresql+psycopg2://", "postgresql://")


def seed(cur, admin_id: str) -> tuple[list[str], int]:
    """Users, their series (one user's from 2021, the others' from 2031) and overrides at real occurrences."""
    rng = random.Random(13)
    users = [admin_id] + [str(uuid.uuid4()) for _ in range(USERS - 1)]
    execute_values(cur, "insert into users (id, email, name, password_hash) values %s",
                   [(u, f"agenda-{u[:8]}@bench.test", f"Agenda {u[:8]}", "x") for u in users[1:]], page_size=5000)
    events, overrides = [], []
    for owner in users:
        for n in range(SERIES):
            tz = rng.choice(ZONES)
            rule, step = rng.choice(RULES)
            year = 2021 if owner == users[1] else 2031  # one user's series are ten years older
            local = datetime(year, 2, rng.randint(1, 20), rng.randint(7, 18), rng.choice((0, 30)),
                             tzinfo=ZoneInfo(tz))
            start = local.astimezone(UTC)
            ev = str(uuid.uuid4())
            events.append((ev, f"{ev}@bench", f"Series {n}", start, start + timedelta(minutes=45), tz, rule,
                           owner, owner))
            for k in rng.sample(range(1, 200), OVERRIDES):
                occurrence = (local + timedelta(days=step * k)).astimezone(UTC)  # same wall clock, k steps on
                overrides.append((str(uuid.uuid4()), ev, occurrence, k % 5 == 0,
                                  occurrence + timedelta(hours=2), occurrence + timedelta(hours=3)))
    execute_values(cur, "insert into agenda_events (id, uid, title, starts_at, ends_at, tz, rrule, owner_id, "
                        "created_by, all_day, rdates, exdates, transparency, visibility, sequence, version) values %s",
                   events, template="(%s, %s, %s, %s, %s, %s, %s, %s, %s, false, '{}', '{}', 'busy', 'public', 0, 1)",
                   page_size=5000)
    execute_values(cur, "insert into agenda_overrides (id, event_id, recurrence_id, cancelled, starts_at, ends_at) "
                        "values %s", overrides, page_size=10000)
    return users, len(events) + len(overrides)


def plain_scan(cur, rows: int, owner: str) -> list[float]:
    """The same number of single events in a plain table with an index, and one user's month by range scan."""
    cur.execute("create temporary table bench_single (owner_id uuid, starts_at timestamptz, ends_at timestamptz, "
                "title text)")
    rng = random.Random(7)
    base = datetime(2030, 1, 1, tzinfo=UTC)
    data = [(owner if i % (rows // SERIES // 10 or 1) == 0 else str(uuid.uuid4()),
             base + timedelta(hours=rng.randint(0, 24 * 730)), None, "single") for i in range(rows)]
    execute_values(cur, "insert into bench_single values %s", [(o, s, s + timedelta(minutes=45), t)
                                                               for o, s, _, t in data], page_size=10000)
    cur.execute("create index on bench_single (owner_id, starts_at)")
    cur.execute("analyze bench_single")
    times = []
    for _ in range(REPEAT):
        t = time.perf_counter()
        cur.execute("select * from bench_single where owner_id = %s and starts_at < %s and ends_at > %s "
                    "order by starts_at", (owner, MONTH[1], MONTH[0]))
        cur.fetchall()
        times.append((time.perf_counter() - t) * 1000)
    return times


def timed(http: requests.Session, url: str, params: dict | None = None, n: int = REPEAT) -> tuple[list[float], int]:
    times, size = [], 0
    for _ in range(n):
        t = time.perf_counter()
        r = http.get(url, params=params, timeout=120)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
        size = len(r.json()) if r.headers.get("Content-Type", "").startswith("application/json") else len(r.content)
    return times, size


def line(name: str, times: list[float], what: str) -> str:
    return f"  {name:<46} p50 {statistics.median(times):8.1f} ms   max {max(times):8.1f} ms   ({what})"


def main() -> None:
    crm = os.environ.get("CRM_URL", "http://127.0.0.1:8010")
    print(f"agenda bench: {login(crm)}")
    http = requests.Session()
    http.headers.update(AUTH)
    me = http.get(f"{crm}/api/v1/me", timeout=30).json()
    conn = psycopg2.connect(dsn())
    conn.autocommit = True
    cur = conn.cursor()
    t = time.perf_counter()
    users, rows = seed(cur, me["id"])
    print(f"  seeded {len(users)} users, {len(users) * SERIES} recurring series, "
          f"{len(users) * SERIES * OVERRIDES} overrides in {time.perf_counter() - t:.1f} s")
    rss_before = rss_now().get("crm-web", 0.0)
    with PeakRss() as peak:
        month = {"start": MONTH[0].isoformat(), "end": MONTH[1].isoformat(), "user_ids": me["id"]}
        times, count = timed(http, f"{crm}/api/v1/agenda/occurrences", month)
        print(line("month view, one user (series from 2031)", times, f"{count} occurrences"))
        times, count = timed(http, f"{crm}/api/v1/agenda/occurrences", {**month, "user_ids": users[1]})
        print(line("month view, one user (series from 2021)", times, f"{count} occurrences"))
        attendees = ",".join(users[2:12])
        conflict = {"starts_at": datetime(2031, 3, 10, 9, tzinfo=UTC).isoformat(),
                    "ends_at": datetime(2031, 3, 10, 10, tzinfo=UTC).isoformat(),
                    "rrule": "FREQ=WEEKLY;COUNT=12", "user_ids": attendees}
        times, count = timed(http, f"{crm}/api/v1/agenda/conflicts", conflict)
        print(line("conflict check, 10 attendees, weekly x12", times, f"{count} conflicts"))
        feed = http.post(f"{crm}/api/v1/agenda/feed", timeout=30).json()["url"]
        path = feed.split("/", 3)[3]
        times, size = timed(requests.Session(), f"{crm}/{path}", n=10)
        print(line("feed of one user (ICS)", times, f"{size / 1024:.0f} KB"))
    print(f"  crm web RSS: {rss_before:.0f} MB before, peak while serving: {peak.report()}")
    times = plain_scan(cur, rows, me["id"])
    print(line(f"plain SQL range scan, {rows} single events", times, "one user's month, indexed"))
    cur.execute("delete from agenda_events where uid like '%%@bench'")
    cur.execute("delete from users where email like 'agenda-%%@bench.test'")
    conn.close()


if __name__ == "__main__":
    main()
