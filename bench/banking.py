"""Bench of banking (issue #16): read a camt.053 of 10,000 (and 100,000) entries as a stream, and match 10,000
statement lines against 50,000 open invoices of 5,000 customers with the reconciliation rules; with --db, the same
through PostgreSQL: the whole import and the automatic reconciliation.

    .local/venv/bin/python bench/banking.py [--lines 10000] [--invoices 50000] [--big 100000] [--db]

Without --db (in process, no database): the parse time and peak RSS of each file size (each in a child process,
so each peak is its own), then the matching time, the share of lines matched automatically (best proposal scoring
90 or more, as auto-reconcile does by default) and the share matched to the right invoices against the generated
ground truth.

With --db, in the scratch database BANKING_BENCH_DATABASE_URL (default
postgresql+psycopg2://postgres@127.0.0.1:54329/erp_banking_bench; dropped, created and migrated): 50,000 open
invoices of 5,000 customers are written, then each child process (its own peak RSS) imports a file through the
import use case, streamed from disk, its lines written in chunks in one transaction: 10,000 and 100,000 entries
(the memory must not grow with the file), then the 10,000 lines that pay the invoices are imported and reconciled
automatically (auto-reconcile, score 90 or more: payments, allocations and reconciliations written), with the time,
the share matched, the share matched to the right invoice and the peak RSS. Prints figures, asserts nothing.
"""

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "services" / "erp" / "src"))

from erp.banking import formats  # noqa: E402
from erp.banking.matching import Line, OpenItem, OpenItems, propose, rf_of  # noqa: E402

DAY = date(2026, 3, 2)
WORDS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Kramerica", "Pendant", "Soylent", "Tyrell",
         "Cyberdyne", "Wonka", "Stark", "Wayne", "Oscorp", "Gringotts", "Monarch", "Aperture", "Duff", "Nakatomi"]
SUFFIX = ["SA", "SARL", "GmbH", "Ltd", "BV", "SpA", "Inc"]


IBAN = "DE89370400440532013000"


def _header(f, opening: Decimal, closing: Decimal) -> None:
    sign = lambda v: ("CRDT" if v >= 0 else "DBIT", f"{abs(v):.2f}")  # noqa: E731
    (o_side, o_amt), (c_side, c_amt) = sign(opening), sign(closing)
    f.write('<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
            "<BkToCstmrStmt><GrpHdr><MsgId>BENCH</MsgId><CreDtTm>2026-03-02T06:00:00+01:00</CreDtTm></GrpHdr>"
            "<Stmt><Id>BENCH</Id><ElctrncSeqNb>1</ElctrncSeqNb><CreDtTm>2026-03-02T06:00:00+01:00</CreDtTm>"
            f"<Acct><Id><IBAN>{IBAN}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
            f'<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{o_amt}</Amt><CdtDbtInd>{o_side}'
            "</CdtDbtInd><Dt><Dt>2026-03-01</Dt></Dt></Bal>"
            f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{c_amt}</Amt><CdtDbtInd>'
            f"{c_side}</CdtDbtInd><Dt><Dt>2026-03-02</Dt></Dt></Bal>\n")


def _entry(f, ref: str, amount: Decimal, name: str | None, iban: str | None, rf: str | None, text: str) -> None:
    party = f"<Nm>{escape(name)}</Nm>" if name else ""
    account = f"<DbtrAcct><Id><IBAN>{iban}</IBAN></Id></DbtrAcct>" if iban else ""
    remittance = (f"<Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry></Tp><Ref>{rf}</Ref></CdtrRefInf>"
                  "</Strd>") if rf else f"<Ustrd>{escape(text)}</Ustrd>"
    f.write(f'<Ntry><Amt Ccy="EUR">{amount:.2f}</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>'
            f"2026-03-02</Dt></BookgDt><AcctSvcrRef>{ref}</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT"
            f"</Cd><SubFmlyCd>ESCT</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls><TxDtls><Refs><EndToEndId>E{ref}"
            f"</EndToEndId></Refs><RltdPties><Dbtr>{party}</Dbtr>{account}</RltdPties><RmtInf>{remittance}</RmtInf>"
            "</TxDtls></NtryDtls></Ntry>\n")


def camt(path: Path, entries: int) -> None:
    """A camt.053.001.02 of `entries` credits of 1.00, written line by line."""
    with path.open("w") as f:
        _header(f, Decimal("0.00"), Decimal(entries))
        for n in range(entries):
            _entry(f, f"B{n:09d}", Decimal("1.00"), f"Customer {n % 977}", None, None,
                   f"Invoice INV-2026-{n:06d} thank you")
        f.write("</Stmt></BkToCstmrStmt></Document>")


def parse_child(path: str) -> None:
    start = time.perf_counter()
    total, count, statement = Decimal(0), 0, None
    with open(path, "rb") as stream:  # read as a stream from disk, as the import reads an upload
        for kind, item in formats.events(stream, None, None, "EUR"):
            if kind == "line":
                total, count = total + item.amount, count + 1
            elif kind == "statement":
                statement = item
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ok = statement.opening_balance + total == statement.closing_balance
    print(f"{count}\t{took:.2f}\t{peak:.0f}\t{ok}")


def parse_figures(sizes: list[int]) -> None:
    print("camt.053 parse and schema validation (streamed from disk, each size in its own process):")
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            path = Path(tmp) / f"camt-{size}.xml"
            camt(path, size)
            out = subprocess.run([sys.executable, __file__, "--parse-child", str(path)], capture_output=True,
                                 text=True, check=True).stdout.split()
            mb = path.stat().st_size / 1e6
            print(f"  {int(out[0]):>7} entries ({mb:.0f} MB): {out[1]} s, peak RSS {out[2]} MB, balances add up: "
                  f"{out[3]}")


def scenario(lines: int, invoices: int, seed: int = 7):
    """Open invoices of customers, and statement lines that pay some of them the ways customers do, with the
    invoice each line truly pays (None for a line that pays none)."""
    rnd = random.Random(seed)
    parties = [(f"p{n}", f"{rnd.choice(WORDS)} {rnd.choice(WORDS)} {n} {rnd.choice(SUFFIX)}")
               for n in range(invoices // 10)]
    items = []
    for n in range(invoices):
        party, name = parties[n % len(parties)]
        items.append(OpenItem(f"i{n}", f"INV-2026-{n:06d}", party, name,
                              Decimal(rnd.randint(1000, 500000)) / 100, DAY + timedelta(days=rnd.randint(-30, 30))))
    ibans = {f"FR76{n:023d}": parties[n][0] for n in range(0, len(parties), 3)}
    by_party_iban = {v: k for k, v in ibans.items()}
    paid = rnd.sample(items, lines)
    out = []
    for k, inv in enumerate(paid):
        kind = rnd.random()
        if kind < 0.35:
            line = Line(inv.open_amount, DAY, inv.party_name, None, (rf_of(inv.number),))
        elif kind < 0.60:
            line = Line(inv.open_amount, DAY, None, None, (f"Payment {inv.number}",))
        elif kind < 0.75 and inv.party_id in by_party_iban:
            line = Line(inv.open_amount, DAY, "J. Smith", by_party_iban[inv.party_id], ("thanks",))
        elif kind < 0.90:
            line = Line(inv.open_amount, DAY, inv.party_name.upper().replace(" SARL", ""), None, ("march",))
        else:
            line = Line(Decimal(rnd.randint(100, 99999)) / 100, DAY, f"Unknown {k}", None, ("transfer",))
            inv = None
        out.append((line, inv))
    return items, ibans, out


def matching_figures(lines: int, invoices: int) -> None:
    items, ibans, cases = scenario(lines, invoices)
    start = time.perf_counter()
    index = OpenItems(items)
    built = time.perf_counter() - start
    matched = right = 0
    by_rule: dict[str, int] = {}
    start = time.perf_counter()
    for line, truth in cases:
        found = propose(line, index, [], [], ibans)
        if not found or found[0].score < 90:
            continue
        best = found[0]
        matched += 1
        by_rule[best.rule] = by_rule.get(best.rule, 0) + 1
        right += truth is not None and [i.invoice_id for i, _ in best.invoices] == [truth.invoice_id]
        for item, amount in best.invoices:
            index.take(item.invoice_id, amount)
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    payable = sum(1 for _, truth in cases if truth is not None)
    print(f"matching {lines} lines against {invoices} open invoices of {invoices // 10} customers "
          f"(index built in {built:.2f} s):")
    print(f"  {took:.1f} s ({lines / took:.0f} lines/s), peak RSS {peak:.0f} MB")
    print(f"  matched automatically (score >= 90): {matched / lines:.1%} ({matched}); by rule: {by_rule}")
    print(f"  matched to the right invoice: {right / matched:.1%} of the matches; "
          f"{right / payable:.1%} of the {payable} lines that pay an invoice")


# -- through the database ------------------------------------------------------------------------------------

DEFAULT_URL = "postgresql+psycopg2://postgres@127.0.0.1:54329/erp_banking_bench"


def _sessions(url: str):
    from servicekit.db import make_engine, make_session_factory
    return make_session_factory(make_engine(url))


def recreate(url: str) -> None:
    import psycopg2
    from alembic import command
    from erp.cli import MIGRATIONS
    from servicekit.cli import alembic_config

    base, name = url.replace("postgresql+psycopg2://", "postgresql://", 1).rsplit("/", 1)
    conn = psycopg2.connect(f"{base}/postgres")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    command.upgrade(alembic_config(MIGRATIONS, url), "heads")


def seed(url: str, items: list[OpenItem], ibans: dict[str, str]) -> dict[str, str]:
    """The customers and their open invoices as the ERP holds them (written in bulk: what is timed is the import
    and the matching, not this), and the IBANs known of customers. Returns the bench id -> invoice id."""
    from erp.banking.models import BankPartyIban
    from erp.invoicing.models import Invoice
    from erp.parties.models import PartyReplica
    from sqlalchemy import insert

    now = datetime.now(UTC)
    party_ids = {p: str(uuid.uuid4()) for p in dict.fromkeys(i.party_id for i in items)}
    names = {i.party_id: i.party_name for i in items}
    ids = {i.invoice_id: str(uuid.uuid4()) for i in items}
    with _sessions(url).begin() as s:
        s.execute(insert(PartyReplica), [
            {"party_id": pid, "sequence": 1, "kind": "company", "display_name": names[p], "legal_name": names[p],
             "roles": ["customer"], "emails": [], "phones": [], "status": "active", "crm_updated_at": now}
            for p, pid in party_ids.items()])
        for start in range(0, len(items), 5000):
            s.execute(insert(Invoice), [
                {"id": ids[i.invoice_id], "kind": "invoice", "series": "INV", "fiscal_year": 2026,
                 "sequence_number": int(i.number.rsplit("-", 1)[1]) + 1, "number": i.number, "status": "issued",
                 "party_id": party_ids[i.party_id], "currency": "EUR", "issue_date": DAY - timedelta(days=30),
                 "due_date": i.due_date, "customer_name": i.party_name, "net_total": i.open_amount,
                 "tax_total": Decimal("0.00"), "gross_total": i.open_amount, "payment_reference": rf_of(i.number),
                 "version": 1} for i in items[start:start + 5000]])
        s.execute(insert(BankPartyIban), [{"iban": iban, "party_id": party_ids[p]} for iban, p in ibans.items()])
    return ids


def open_account(url: str, name: str) -> str:
    from erp.banking.accounts import open_account as open_one
    with _sessions(url).begin() as s:
        return open_one(s, {"name": name, "iban": IBAN, "opening_balance": Decimal("0.00"),
                            "writeoff_limit": Decimal("0.00")}, "bench")["id"]


def import_child(url: str, account_id: str, path: str) -> None:
    """Import a file through the import use case, streamed from disk, in one transaction."""
    from erp.banking.imports import import_statement
    sessions = _sessions(url)
    start = time.perf_counter()
    with sessions.begin() as s, open(path, "rb") as stream:
        report = import_statement(s, account_id, stream, Path(path).name, None, "bench")
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{report['lines_imported']}\t{took:.2f}\t{peak:.0f}")


def match_child(url: str, account_id: str, path: str) -> None:
    """Import the lines that pay the invoices, then reconcile them automatically (score 90 or more)."""
    from erp.banking.imports import import_statement
    from erp.banking.reconciliation import auto_reconcile
    sessions = _sessions(url)
    start = time.perf_counter()
    with sessions.begin() as s, open(path, "rb") as stream:
        import_statement(s, account_id, stream, Path(path).name, None, "bench")
    imported = time.perf_counter() - start
    with sessions.begin() as s:
        run = auto_reconcile(s, account_id, 90, "bench")
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    rules: dict[str, int] = {}
    for r in run["results"]:
        if r["matched"]:
            rules[r["rule"]] = rules.get(r["rule"], 0) + 1
    print(f"{run['lines']}\t{run['matched']}\t{imported:.2f}\t{took:.2f}\t{peak:.0f}\t"
          + ",".join(f"{k}={v}" for k, v in sorted(rules.items())))


def _right(url: str, account_id: str, truth: dict[str, str | None]) -> int:
    """Reconciled lines whose payment settled exactly the invoice the line truly pays."""
    from sqlalchemy import text
    with _sessions(url).begin() as s:
        rows = s.execute(text(
            "SELECT l.bank_reference, array_agg(a.invoice_id::text) FROM bank_reconciliations r "
            "JOIN bank_statement_lines l ON l.id = r.statement_line_id "
            "JOIN payment_allocations a ON a.payment_id::text = ANY(SELECT jsonb_array_elements_text(r.payment_ids)) "
            "WHERE r.bank_account_id = :a AND r.status = 'active' GROUP BY l.bank_reference"), {"a": account_id}).all()
    return sum(1 for ref, invoices in rows if truth.get(ref) is not None and invoices == [truth[ref]])


def _run(*args: str) -> list[str]:
    return subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, check=True,
                          env=os.environ).stdout.split()


def db_figures(lines: int, invoices: int, big: int) -> None:
    url = os.environ.get("BANKING_BENCH_DATABASE_URL", DEFAULT_URL)
    print(f"through PostgreSQL (scratch database {url.rsplit('/', 1)[1]}: created and migrated):")
    recreate(url)
    items, ibans, cases = scenario(lines, invoices)
    started = time.perf_counter()
    ids = seed(url, items, ibans)
    print(f"  seeded {invoices} open invoices of {invoices // 10} customers in {time.perf_counter() - started:.1f} s")
    with tempfile.TemporaryDirectory() as tmp:
        for size in (lines, big):
            path = Path(tmp) / f"flat-{size}.xml"
            camt(path, size)
            out = _run("--import-child", url, open_account(url, f"Flat {size}"), str(path))
            print(f"  import of {int(out[0]):>7} entries ({path.stat().st_size / 1e6:.0f} MB) streamed, written in "
                  f"chunks in one transaction: {out[1]} s, peak RSS {out[2]} MB")
        path = Path(tmp) / "payments.xml"
        truth: dict[str, str | None] = {}
        with path.open("w") as f:
            _header(f, Decimal("0.00"), sum((line.amount for line, _ in cases), Decimal("0.00")))
            for k, (line, inv) in enumerate(cases):
                ref = f"L{k:08d}"
                truth[ref] = ids[inv.invoice_id] if inv else None
                rf = line.texts[0] if line.texts[0].startswith("RF") else None
                _entry(f, ref, line.amount, line.counterparty_name, line.counterparty_iban, rf, line.texts[0])
            f.write("</Stmt></BkToCstmrStmt></Document>")
        account = open_account(url, "Payments")
        out = _run("--match-child", url, account, str(path))
    count, matched, imported, took, peak = int(out[0]), int(out[1]), out[2], float(out[3]), out[4]
    right = _right(url, account, truth)
    payable = sum(1 for v in truth.values() if v)
    print(f"  import + automatic reconciliation of {count} lines against {invoices} open invoices: {took:.1f} s "
          f"(import {imported} s; {count / took:.0f} lines/s), peak RSS {peak} MB")
    print(f"  matched automatically (score >= 90): {matched / count:.1%} ({matched}); by rule: "
          f"{out[5] if len(out) > 5 else '-'}")
    print(f"  matched to the right invoice: {right / max(matched, 1):.1%} of the matches; "
          f"{right / payable:.1%} of the {payable} lines that pay an invoice")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=50_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--db", action="store_true", help="also import and reconcile through PostgreSQL")
    parser.add_argument("--parse-child")
    parser.add_argument("--import-child", nargs=3)
    parser.add_argument("--match-child", nargs=3)
    args = parser.parse_args()
    if args.parse_child:
        parse_child(args.parse_child)
        return
    if args.import_child:
        import_child(*args.import_child)
        return
    if args.match_child:
        match_child(*args.match_child)
        return
    parse_figures([args.lines, args.big])
    matching_figures(args.lines, args.invoices)
    if args.db:
        db_figures(args.lines, args.invoices, args.big)


if __name__ == "__main__":
    main()
