"""Ledger report timings on a million journal lines, in a scratch database of their own.

    .local/venv/bin/python bench/ledger_reports.py [--lines 1000000] [--keep]

Creates (drops first, unless --keep finds it filled) the database named by LEDGER_BENCH_DATABASE_URL (default
postgresql+psycopg2://postgres@127.0.0.1:54329/erp_ledger_bench), migrates the ERP schema, and COPYs a realistic
mix of posted entries (invoices, customer payments, supplier bills, supplier payments, stock receipts and
deliveries; ~4 lines each) over two fiscal years, with their hash chain. Then it times each report as the API
computes it (the same functions, in SQL), the hash chain verification, and post_entry's throughput.
It prints figures and asserts nothing: compare runs on the same, otherwise idle, machine.
"""

import argparse
import io
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import psycopg2
from alembic import command
from erp.cli import MIGRATIONS
from erp.db import outbox
from erp.ledger import hashchain, reports
from erp.ledger.posting import PostingLine
from erp.ledger.service import post_entry
from servicekit.cli import alembic_config
from servicekit.db import make_engine, make_session_factory
from sqlalchemy import event, text

DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:54329/erp_ledger_bench"
START = date(2025, 1, 1)
DAYS = 730
CENT = Decimal("0.01")


def libpq(url: str) -> str:
    return url.replace("postgresql+psycopg2://", "postgresql://", 1)


def say(msg: str) -> None:
    print(msg, flush=True)


def recreate(url: str) -> None:
    base, name = libpq(url).rsplit("/", 1)
    conn = psycopg2.connect(f"{base}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def line_count(url: str) -> int:
    try:
        conn = psycopg2.connect(libpq(url))
    except psycopg2.OperationalError:
        return 0
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM journal_lines")
            return cur.fetchone()[0]
    except psycopg2.Error:
        return 0
    finally:
        conn.close()


# -- data ----------------------------------------------------------------------------------------

def money(lo: int, hi: int) -> Decimal:
    return Decimal(random.randint(lo * 100, hi * 100)) * CENT


def documents(accounts: dict, customers: list[str], suppliers: list[str]):
    """(journal, lines) of a random business document; a line is (account id, debit, credit, party, due)."""
    kind = random.random()
    day = START + timedelta(days=random.randrange(DAYS))
    if kind < 0.35:  # an invoice
        net, party = money(20, 5000), random.choice(customers)
        tax = (net * Decimal("0.2")).quantize(CENT)
        half = (net / 2).quantize(CENT)
        return "SAL", day, [(accounts["411000"], net + tax, 0, party, day + timedelta(days=30)),
                            (accounts["707000"], 0, half, None, None), (accounts["706000"], 0, net - half, None, None),
                            (accounts["445710"], 0, tax, None, None)]
    if kind < 0.6:  # a customer pays
        amount, party = money(20, 6000), random.choice(customers)
        return "BNK", day, [(accounts["512000"], amount, 0, None, None), (accounts["411000"], 0, amount, party, None)]
    if kind < 0.75:  # a supplier bill
        net, party = money(50, 8000), random.choice(suppliers)
        tax = (net * Decimal("0.2")).quantize(CENT)
        return "PUR", day, [(accounts["408000"], net, 0, None, None), (accounts["445660"], tax, 0, None, None),
                            (accounts["401000"], 0, net + tax, party, day + timedelta(days=45))]
    if kind < 0.85:  # we pay a supplier
        amount, party = money(50, 9000), random.choice(suppliers)
        return "BNK", day, [(accounts["401000"], amount, 0, party, None), (accounts["512000"], 0, amount, None, None)]
    value = money(10, 3000)  # stock in or out
    if kind < 0.93:
        return "STK", day, [(accounts["310000"], value, 0, None, None), (accounts["408000"], 0, value, None, None)]
    return "STK", day, [(accounts["603700"], value, 0, None, None), (accounts["310000"], 0, value, None, None)]


def fill(url: str, target_lines: int) -> int:
    """COPY posted entries and their lines, sealed in one hash chain, until about target_lines lines."""
    conn = psycopg2.connect(libpq(url))
    cur = conn.cursor()
    cur.execute("SELECT code, id FROM ledger_accounts")
    accounts = dict(cur.fetchall())
    cur.execute("SELECT code, id FROM ledger_journals")
    journals = dict(cur.fetchall())
    customers = [str(uuid.uuid4()) for _ in range(5000)]
    suppliers = [str(uuid.uuid4()) for _ in range(800)]
    counters: dict[tuple[str, int], int] = {}
    previous, seq, written = hashchain.GENESIS, 0, 0
    posted_at = datetime(2027, 1, 15, 12, tzinfo=UTC)
    started = time.perf_counter()
    while written < target_lines:
        entries, lines = io.StringIO(), io.StringIO()
        for _ in range(min(20000, (target_lines - written) // 3 + 1)):  # ~4 lines an entry
            journal, day, rows = documents(accounts, customers, suppliers)
            year = day.year
            counters[journal, year] = counters.get((journal, year), 0) + 1
            seq += 1
            total = sum((Decimal(r[1]) for r in rows), Decimal(0))
            entry = SimpleNamespace(id=str(uuid.uuid4()), chain_seq=seq, journal_id=journals[journal],
                                    number=f"{journal}-{year}-{counters[journal, year]:06d}", entry_date=day,
                                    reference=f"BENCH-{seq}", memo=None, source_type="bench", purpose="main",
                                    reversal_of_id=None, total=total, posted_by="bench", posted_at=posted_at)
            entry.source_id = entry.id
            objs = [SimpleNamespace(position=i + 1, account_id=a, debit=Decimal(d), credit=Decimal(c), party_id=p,
                                    description=None, due_date=due, currency="EUR", entry_date=day,
                                    journal_id=journals[journal]) for i, (a, d, c, p, due) in enumerate(rows)]
            entry.hash = hashchain.chain_hash(previous, hashchain.canonical(
                entry, [hashchain.line_of(vars(o)) for o in objs]))
            previous = entry.hash
            entries.write("\t".join([entry.id, entry.journal_id, "posted", day.isoformat(), entry.reference, r"\N",
                                     "bench", entry.id, "main", r"\N", f"{total:.2f}", r"\N", str(year),
                                     str(counters[journal, year]), entry.number, str(seq), entry.hash, "bench",
                                     "bench", "1", posted_at.isoformat(), posted_at.isoformat()]) + "\n")
            for o in objs:
                lines.write("\t".join([entry.id, str(o.position), o.account_id, f"{o.debit:.2f}", f"{o.credit:.2f}",
                                       o.party_id or r"\N", r"\N", o.due_date.isoformat() if o.due_date else r"\N",
                                       "EUR", day.isoformat(), o.journal_id]) + "\n")
                written += 1
        entries.seek(0)
        lines.seek(0)
        cur.copy_expert("COPY journal_entries (id, journal_id, status, entry_date, reference, memo, source_type, "
                        "source_id, purpose, reversal_of_id, total, draft_lines, fiscal_year, sequence_number, number, "
                        "chain_seq, hash, created_by, posted_by, version, created_at, posted_at) FROM STDIN", entries)
        cur.copy_expert("COPY journal_lines (entry_id, position, account_id, debit, credit, party_id, description, "
                        "due_date, currency, entry_date, journal_id) FROM STDIN", lines)
        conn.commit()
        say(f"  {written:>9,} lines, {seq:>8,} entries ({time.perf_counter() - started:.0f} s)")
    cur.execute("UPDATE ledger_chain SET last_seq = %s, last_hash = %s WHERE id = 1", (seq, previous))
    for (journal, year), n in counters.items():
        cur.execute("INSERT INTO ledger_journal_sequences (journal_id, fiscal_year, last_number) VALUES (%s, %s, %s)",
                    (journals[journal], year, n))
    conn.commit()
    conn.autocommit = True
    cur.execute("VACUUM ANALYZE journal_lines")
    cur.execute("VACUUM ANALYZE journal_entries")
    conn.close()
    return written


# -- timings -------------------------------------------------------------------------------------

def timed(sessions, label: str, fn, runs: int = 3) -> None:
    took = []
    for _ in range(runs):
        with sessions.begin() as session:
            started = time.perf_counter()
            out = fn(session)
            took.append(time.perf_counter() - started)
    rows = out.get("lines", out.get("items"))
    size = f", {len(rows)} rows" if rows is not None else ""
    say(f"  {label:<50} median {statistics.median(took) * 1000:8.1f} ms   (min {min(took) * 1000:7.1f}{size})")


def post_one(session, i: int, as_of: date, customer: str) -> None:
    """A 5-line invoice entry with the outbox row its document's event adds (a scratch database: never relayed)."""
    amounts = [Decimal(random.randint(100, 100000)) * CENT for _ in range(4)]
    lines = [PostingLine("receivable", debit=sum(amounts), party_id=customer)]
    lines += [PostingLine(code, credit=amount) for code, amount in zip(("707000", "706000", "445710", "758000"),
                                                                      amounts, strict=True)]
    entry = post_entry(session, journal="SAL", entry_date=as_of, reference=f"bench {i}", source_type="bench-post",
                       source_id=str(uuid.uuid4()), actor="bench", lines=lines)
    session.execute(outbox.insert().values(
        event_id=str(uuid.uuid4()), aggregatetype="invoice", aggregateid=entry.id, type="erp.invoice.issued",
        topic="erp.invoice.v1", payload={"entry_id": entry.id, "lines": [str(a) for a in amounts]}))


RAW_TABLES = """
DROP TABLE IF EXISTS raw_journal_lines, raw_journal_entries;
CREATE TABLE raw_journal_entries (LIKE journal_entries INCLUDING ALL);
ALTER TABLE raw_journal_entries ADD FOREIGN KEY (journal_id) REFERENCES ledger_journals (id);
CREATE TABLE raw_journal_lines (LIKE journal_lines INCLUDING ALL);
ALTER TABLE raw_journal_lines ADD FOREIGN KEY (entry_id) REFERENCES raw_journal_entries (id),
    ADD FOREIGN KEY (account_id) REFERENCES ledger_accounts (id),
    ADD FOREIGN KEY (journal_id) REFERENCES ledger_journals (id);
"""


def raw_baseline(url: str, count: int, backends: "Backends") -> None:
    """The rows a posting leaves (a sealed entry, its 5 lines, an outbox row), written by psycopg2 with values
    known in advance, one transaction each: no checks, no numbering, no hash. Copies of the two tables with the same
    indexes and foreign keys (not the immutability triggers)."""
    conn = psycopg2.connect(libpq(url))
    cur = conn.cursor()
    cur.execute(RAW_TABLES)
    cur.execute("SELECT code, id FROM ledger_accounts WHERE code IN ('411000', '707000', '706000', '445710', '758000')")
    accounts = dict(cur.fetchall())
    cur.execute("SELECT id FROM ledger_journals WHERE code = 'SAL'")
    journal = cur.fetchone()[0]
    conn.commit()
    posted_at = datetime.now(UTC)
    took, cpu, pg_cpu = [], time.process_time(), backends.cpu()
    for i in range(count):
        started = time.perf_counter()
        entry = str(uuid.uuid4())
        cur.execute("INSERT INTO raw_journal_entries (id, journal_id, status, entry_date, reference, source_type, "
                    "source_id, purpose, total, fiscal_year, sequence_number, number, chain_seq, hash, created_by, "
                    "posted_by, posted_at, version) VALUES (%s, %s, 'posted', %s, %s, 'raw', %s, 'main', %s, 2026, %s, "
                    "%s, %s, %s, 'bench', 'bench', %s, 1)",
                    (entry, journal, date(2026, 12, 31), f"raw {i}", entry, Decimal("100.00"), i + 1,
                     f"SAL-2026-{i + 1:06d}", i + 1, "0" * 64, posted_at))
        cur.execute("INSERT INTO raw_journal_lines (entry_id, position, account_id, debit, credit, party_id, currency, "
                    "entry_date, journal_id) VALUES " + ", ".join(["(%s, %s, %s, %s, %s, %s, 'EUR', %s, %s)"] * 5),
                    [v for n, code in enumerate(accounts) for v in (
                        entry, n + 1, accounts[code], Decimal("100.00") if code == "411000" else 0,
                        0 if code == "411000" else Decimal("25.00"), None, date(2026, 12, 31), journal)])
        cur.execute("INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload) "
                    "VALUES (%s, 'invoice', %s, 'erp.invoice.issued', 'erp.invoice.v1', %s)",
                    (str(uuid.uuid4()), entry, json.dumps({"entry_id": entry})))
        conn.commit()
        took.append(time.perf_counter() - started)
    cpu, pg_now = time.process_time() - cpu, backends.cpu()
    pg_cpu = None if pg_cpu is None or pg_now is None else pg_now - pg_cpu
    say(f"  {'raw baseline: the same rows by psycopg2, one at a time':<50} median "
        f"{statistics.median(took) * 1000:8.2f} ms   ({count / sum(took):.0f} entries/s, 3 SQL statements each; "
        f"CPU per entry: bench process {cpu * 1000 / count:.2f} ms, PostgreSQL {backends.show(pg_cpu, count)})")
    cur.execute("DROP TABLE raw_journal_lines, raw_journal_entries")
    conn.commit()
    conn.close()


class Backends:
    """CPU seconds used by the PostgreSQL backends serving the scratch database, from /proc (a server on this
    machine; None elsewhere)."""

    def __init__(self, url: str):
        self.conn = psycopg2.connect(libpq(url))
        self.conn.autocommit = True
        self.tick = os.sysconf("SC_CLK_TCK")

    def cpu(self) -> float | None:
        with self.conn.cursor() as cur:
            cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid()")
            pids = [pid for (pid,) in cur.fetchall()]
        total = 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                return None
            total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / self.tick

    @staticmethod
    def show(seconds: float | None, count: int) -> str:
        return "n/a (not a local server)" if seconds is None else f"{seconds * 1000 / count:.2f} ms"

    def close(self) -> None:
        self.conn.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000, help="journal lines to insert (default 1,000,000)")
    ap.add_argument("--keep", action="store_true", help="reuse the scratch database if it already holds lines")
    ap.add_argument("--postings", type=int, default=1000, help="post_entry calls timed one transaction each")
    ap.add_argument("--batch", type=int, default=20, help="entries a transaction for the batch figure (default 20)")
    ap.add_argument("--page", type=int, default=2000, help="the deep general ledger page timed (default 2000)")
    args = ap.parse_args()
    url = os.environ.get("LEDGER_BENCH_DATABASE_URL", DEFAULT_URL)

    existing = line_count(url) if args.keep else 0
    if existing:
        say(f"reusing {url.rsplit('/', 1)[1]}: {existing:,} journal lines")
    else:
        say(f"scratch database {url.rsplit('/', 1)[1]}: create, migrate, fill")
        recreate(url)
        command.upgrade(alembic_config(MIGRATIONS, url), "heads")
        started = time.perf_counter()
        existing = fill(url, args.lines)
        say(f"inserted {existing:,} lines in {time.perf_counter() - started:.1f} s (COPY, hash chain computed)")

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with sessions.begin() as s:
        customer = s.execute(text(
            "SELECT l.party_id FROM journal_lines l JOIN ledger_accounts a ON a.id = l.account_id "
            "WHERE a.code = '411000' AND l.party_id IS NOT NULL GROUP BY l.party_id ORDER BY count(*) DESC LIMIT 1")
        ).scalar()
    as_of = START + timedelta(days=DAYS - 1)
    say(f"\nreports as of {as_of} over {existing:,} lines (median of 3 runs, warm cache):")
    timed(sessions, "trial balance", lambda s: reports.trial_balance(s, as_of))
    timed(sessions, "profit and loss (fiscal year)", lambda s: reports.profit_and_loss(s, None, as_of))
    timed(sessions, "balance sheet", lambda s: reports.balance_sheet(s, as_of))
    timed(sessions, "general ledger 411000, page 1 of 100 lines",
          lambda s: reports.general_ledger(s, "411000", None, as_of, 1, 100))
    timed(sessions, f"general ledger 411000, page {args.page} of 100 lines (page=N)",
          lambda s: reports.general_ledger(s, "411000", None, as_of, args.page, 100))
    with sessions.begin() as s:  # the cursor a client walking the pages would hold there
        cursor = reports.general_ledger(s, "411000", None, as_of, args.page - 1, 100)["next_cursor"]
    if cursor:
        timed(sessions, f"general ledger 411000, page {args.page} of 100 lines (after=cursor)",
              lambda s: reports.general_ledger(s, "411000", None, as_of, 1, 100, after=cursor))
    timed(sessions, "general ledger 512000, one month, page 1",
          lambda s: reports.general_ledger(s, "512000", as_of.replace(day=1), as_of, 1, 100))
    timed(sessions, "general ledger 310000, every line (export)",
          lambda s: reports.general_ledger(s, "310000", None, as_of, None), runs=1)
    timed(sessions, "AR aging (all customers)", lambda s: reports.aging(s, "receivable", as_of))
    timed(sessions, "AP aging (all suppliers)", lambda s: reports.aging(s, "payable", as_of))
    timed(sessions, "customer statement (busiest customer), one year",
          lambda s: reports.statement(s, "receivable", customer, as_of.replace(month=1, day=1), as_of))

    with sessions.begin() as s:
        started = time.perf_counter()
        result = hashchain.verify(s)
    say(f"  {'hash chain verification (erp verify-ledger)':<50} {time.perf_counter() - started:8.1f} s     "
        f"({result.entries_checked:,} entries, ok={result.ok})")

    statements = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    backends = Backends(url)
    for batch in (1, args.batch):
        took, count, cpu, pg_cpu = [], 0, time.process_time(), backends.cpu()
        statements.clear()
        for i in range(0, args.postings, batch):
            started = time.perf_counter()
            with sessions.begin() as s:
                for j in range(i, min(i + batch, args.postings)):
                    post_one(s, j, as_of, customer)
                    count += 1
            took.append(time.perf_counter() - started)
        cpu, pg_now = time.process_time() - cpu, backends.cpu()
        pg_cpu = None if pg_cpu is None or pg_now is None else pg_now - pg_cpu
        label = ("post_entry (5 lines) + outbox row + commit, one at a time" if batch == 1
                 else f"the same, {batch} entries a transaction")
        per = statistics.median(took) * 1000 / batch
        say(f"  {label:<50} median {per:8.2f} ms   ({count / sum(took):.0f} entries/s, "
            f"{len(statements) / count:.1f} SQL statements each, BEGIN and COMMIT not counted; CPU per entry: "
            f"bench process {cpu * 1000 / count:.2f} ms, PostgreSQL {backends.show(pg_cpu, count)})")
    raw_baseline(url, args.postings, backends)
    backends.close()
    engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
