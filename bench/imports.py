"""The bulk path: a CSV of N parties (100,000 by default) imported through the CRM's HTTP API, beside a raw COPY of
the same file into a scratch table.

Prints: the upload's answer time (202: checked and queued), rows a second into the CRM (upload to status done,
the worker writing parties, outbox events and audit rows in bulk), the seconds from the import's end until the ERP's
party replica holds every party, the raw COPY rate and the ratio, and the peak RSS of every process of the stack
while it ran (sampled every 0.2 s).

Started by deploy/local/bench.sh after run.py, with its variables (CRM_URL, CRM_DATABASE_URL, ERP_DATABASE_URL,
BENCH_SCRATCH_DATABASE_URL, BENCH_PROCS, the admin's credentials). BENCH_IMPORT_ROWS sets N.
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
from run import AUTH, connect, login, say


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", "--rows", type=int, default=int(os.environ.get("BENCH_IMPORT_ROWS") or 100_000))
    args = ap.parse_args()
    crm_url = os.environ["CRM_URL"].rstrip("/")
    erp = connect(os.environ["ERP_DATABASE_URL"])
    erp.autocommit = True
    tag = uuid.uuid4().hex[:6]
    say(f"auth: {login(crm_url)}")
    data = people_csv(args.rows, tag)
    companies = (args.rows + 19) // 20
    say(f"c. import of {args.rows:,} people and {companies:,} companies ({len(data) / 1e6:.1f} MB CSV) over HTTP, "
        "into the CRM by its worker, then to the ERP replica ...")
    with PeakRss() as rss:
        t0 = time.perf_counter()
        r = requests.post(f"{crm_url}/api/v1/imports", headers=AUTH, timeout=120,
                          files={"file": ("people.csv", data)}, data={"target": "parties"})
        t_accepted = time.perf_counter()
        if r.status_code != 202:
            sys.exit(f"bench: the import was not queued: {r.status_code} {r.text[:300]}")
        batch = r.json()
        while batch["status"] in ("queued", "running"):
            time.sleep(0.1)
            batch = requests.get(f"{crm_url}/api/v1/imports/{batch['id']}", headers=AUTH, timeout=30).json()
        t_done = time.perf_counter()
        if batch["status"] != "done":
            sys.exit(f"bench: the import ended {batch['status']}: {batch.get('failure')}")
        expected = batch["created_count"]
        t_erp = None
        while time.perf_counter() - t_done < 300:
            if replica_count(erp, tag) >= expected:
                t_erp = time.perf_counter()
                break
            time.sleep(0.2)
    in_erp = replica_count(erp, tag)
    erp.close()
    raw = raw_copy(os.environ["BENCH_SCRATCH_DATABASE_URL"], data)
    into_crm = args.rows / (t_done - t0)
    raw_rate = args.rows / raw
    say(f"c. import {args.rows:,} rows: answered 202 in {t_accepted - t0:.2f} s; done after {t_done - t0:.1f} s "
        f"({into_crm:,.0f} rows/s into the CRM, {expected:,} parties created; the worker's own rate "
        f"{batch['rate_rows_per_second']:,.0f} rows/s)")
    if t_erp is not None:
        say(f"   all {expected:,} in the ERP replica {t_erp - t_done:.1f} s after the import was done "
            f"({t_erp - t0:.1f} s after the upload began)")
    else:
        say(f"   NOT all in the ERP replica 300 s after the import was done ({in_erp:,})")
    say(f"   raw: COPY of the same CSV into a scratch table: {raw:.2f} s ({raw_rate:,.0f} rows/s); "
        f"ratio {into_crm / raw_rate:.3f}")
    say(f"   peak RSS while it ran: {rss.report()}")


if __name__ == "__main__":
    main()
