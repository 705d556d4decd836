"""The bulk path: a CSV of N parties (10,000, then 100,000 by default) imported through the CRM's HTTP API (queued
with background=true, so both sizes run in the CRM worker), beside a raw COPY of the same file into a scratch table.

Prints, for each N: the upload's answer time (202: checked and queued), rows a second into the CRM (upload to status
done), the seconds from the import's end until the ERP's party replica holds every party, the raw COPY rate and the
ratio, the CPU seconds per 10,000 rows of each process (upload to done, then done to all in the ERP: the figure that
other work on the shared machine moves least), and the peak RSS of every process of the stack while it ran
(sampled every 0.2 s); then how the peaks moved from the first N to the last (an import's memory must not grow
with its file).

Started by deploy/local/bench.sh after run.py, with its variables (CRM_URL, CRM_DATABASE_URL, ERP_DATABASE_URL,
BENCH_SCRATCH_DATABASE_URL, BENCH_PROCS, the admin's credentials). BENCH_IMPORT_ROWS sets the Ns ("10000,100000").
It prints figures; it asserts nothing.
"""

import argparse
import csv
import io
import os
import sys
import time
import uuid

import requests
from procs import PeakRss
from run import AUTH, connect, cpu_report, cpu_snapshot, login, say


def people_csv(rows: int, tag: str) -> bytes:
    """People and their companies (one company for every 20 people), each with an email and a phone."""
    out = io.StringIO()
    w = csv.writer(out)
    run = int(tag, 16) % 10_000  # phones differ from an earlier run's, or every row would match one
    w.writerow(["first_name", "last_name", "email", "phone", "company_name", "job_title"])
    for i in range(rows):
        w.writerow([f"Ann{i}", f"Imp{tag}", f"ann{i}.{tag}@import.example", f"+33 1 {run:04d} {i:06d}",
                    f"Import {tag} Co {i // 20}", "Buyer"])
    return out.getvalue().encode()


def replica_count(erp, tag: str) -> int:
    with erp.cursor() as cur:
        cur.execute("select count(*) from party_replicas where display_name like %s", (f"%{tag}%",))
        return cur.fetchone()[0]


def raw_copy(scratch_url: str, data: bytes) -> float:
    """Seconds to COPY the same CSV into a scratch table and commit."""
    conn = connect(scratch_url)
    try:
        with conn.cursor() as cur:
            cur.execute("drop table if exists bench_import_raw")
            cur.execute("create table bench_import_raw (first_name text, last_name text, email text, phone text, "
                        "company_name text, job_title text)")
        conn.commit()
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            cur.copy_expert("copy bench_import_raw from stdin with (format csv, header true)", io.BytesIO(data))
        conn.commit()
        took = time.perf_counter() - t0
        with conn.cursor() as cur:
            cur.execute("drop table bench_import_raw")
        conn.commit()
        return took
    finally:
        conn.close()


def per_10k(before: dict[str, float], after: dict[str, float], rows: int) -> str:
    """CPU seconds per 10,000 rows of each process tree (the figure that other work on the machine moves least)."""
    used = {k: after[k] - before.get(k, after[k]) for k in after if k != "machine busy"}
    return ", ".join(f"{k} {v * 10_000 / rows:.2f}" for k, v in sorted(used.items(), key=lambda kv: -kv[1])
                     if v > 0.005)


def import_once(crm_url: str, erp, scratch_url: str, rows: int) -> dict:
    tag = uuid.uuid4().hex[:6]
    data = people_csv(rows, tag)
    companies = (rows + 19) // 20
    say(f"c. import of {rows:,} people and {companies:,} companies ({len(data) / 1e6:.1f} MB CSV) over HTTP, "
        "into the CRM by its worker, then to the ERP replica ...")
    with PeakRss() as rss:
        cpu0 = cpu_snapshot()
        t0 = time.perf_counter()
        r = requests.post(f"{crm_url}/api/v1/imports", headers=AUTH, timeout=120,
                          files={"file": ("people.csv", data)}, data={"target": "parties", "background": "true"})
        t_accepted = time.perf_counter()
        if r.status_code != 202:
            sys.exit(f"bench: the import was not queued: {r.status_code} {r.text[:300]}")
        batch = r.json()
        while batch["status"] in ("queued", "running"):
            time.sleep(0.1)
            batch = requests.get(f"{crm_url}/api/v1/imports/{batch['id']}", headers=AUTH, timeout=30).json()
        t_done = time.perf_counter()
        cpu1 = cpu_snapshot()
        if batch["status"] != "done":
            sys.exit(f"bench: the import ended {batch['status']}: {batch.get('failure')}")
        expected = batch["created_count"]
        t_erp = None
        while time.perf_counter() - t_done < 300:
            if replica_count(erp, tag) >= expected:
                t_erp = time.perf_counter()
                break
            time.sleep(0.2)
        cpu2 = cpu_snapshot()
    in_erp = replica_count(erp, tag)
    raw = raw_copy(scratch_url, data)
    into_crm = rows / (t_done - t0)
    raw_rate = rows / raw
    say(f"c. import {rows:,} rows: answered 202 in {t_accepted - t0:.2f} s; done after {t_done - t0:.1f} s "
        f"({into_crm:,.0f} rows/s into the CRM, {expected:,} parties created; the worker's own rate "
        f"{batch['rate_rows_per_second']:,.0f} rows/s)")
    if t_erp is not None:
        say(f"   all {expected:,} in the ERP replica {t_erp - t_done:.1f} s after the import was done "
            f"({t_erp - t0:.1f} s after the upload began)")
    else:
        say(f"   NOT all in the ERP replica 300 s after the import was done ({in_erp:,})")
    say(f"   raw: COPY of the same CSV into a scratch table: {raw:.2f} s ({raw_rate:,.0f} rows/s); "
        f"ratio {into_crm / raw_rate:.3f}")
    say(f"   CPU s per 10,000 rows, upload to done: {per_10k(cpu0, cpu1, rows)}")
    say(f"   CPU s per 10,000 rows, done to all in the ERP: {per_10k(cpu1, cpu2, rows)}")
    say(f"   wall clock: {cpu_report(cpu0, cpu2, (t_erp or time.perf_counter()) - t0)}")
    say(f"   peak RSS while it ran: {rss.report()}")
    return {"rows": rows, "peaks": rss.by_tree()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--rows", default=os.environ.get("BENCH_IMPORT_ROWS") or "10000,100000",
                    help="row counts to import, one run each (comma-separated)")
    args = ap.parse_args()
    crm_url = os.environ["CRM_URL"].rstrip("/")
    erp = connect(os.environ["ERP_DATABASE_URL"])
    erp.autocommit = True
    say(f"auth: {login(crm_url)}")
    say("   (wall-clock rates move with whatever else runs on the machine; CPU seconds per 10,000 rows much less)")
    runs = [import_once(crm_url, erp, os.environ["BENCH_SCRATCH_DATABASE_URL"], int(n))
            for n in str(args.rows).split(",") if n.strip()]
    erp.close()
    if len(runs) > 1:
        first, last = runs[0], runs[-1]
        say(f"c. peak RSS, {first['rows']:,} rows -> {last['rows']:,} rows: " + ", ".join(
            f"{name} {first['peaks'].get(name, 0):.0f} -> {mb:.0f} MB "
            f"({(mb / first['peaks'][name] - 1) * 100 if first['peaks'].get(name) else 0:+.0f}%)"
            for name, mb in sorted(last["peaks"].items())))


if __name__ == "__main__":
    main()
