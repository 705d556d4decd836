"""Bench of banking (issue #16): read a camt.053 of 10,000 (and 100,000) entries as a stream, and match 10,000
statement lines against 50,000 open invoices of 5,000 customers with the reconciliation rules.

    .local/venv/bin/python bench/banking.py [--lines 10000] [--invoices 50000] [--big 100000]

Prints the parse time and peak RSS of each file size (each in a child process, so each peak is its own), then the
matching time, the share of lines matched automatically (best proposal scoring 90 or more, as auto-reconcile does
by default) and the share matched to the right invoices against the generated ground truth. In process, no
database: what is timed is the parsing and the rules, not the writes (the payments and reconciliations the
database tests cover). Prints figures, asserts nothing.
"""

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "services" / "erp" / "src"))

from erp.banking import formats  # noqa: E402
from erp.banking.matching import Line, OpenItem, OpenItems, propose, rf_of  # noqa: E402

DAY = date(2026, 3, 2)
WORDS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Kramerica", "Pendant", "Soylent", "Tyrell",
         "Cyberdyne", "Wonka", "Stark", "Wayne", "Oscorp", "Gringotts", "Monarch", "Aperture", "Duff", "Nakatomi"]
SUFFIX = ["SA", "SARL", "GmbH", "Ltd", "BV", "SpA", "Inc"]


def camt(path: Path, entries: int) -> None:
    """A camt.053.001.02 of `entries` credits of 1.00, written line by line."""
    with path.open("w") as f:
        f.write('<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">'
                "<BkToCstmrStmt><Stmt><Id>BENCH</Id><ElctrncSeqNb>1</ElctrncSeqNb><Acct><Id><IBAN>"
                "DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy></Acct>"
                '<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT'
                "</CdtDbtInd><Dt><Dt>2026-03-01</Dt></Dt></Bal>"
                f'<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{entries}.00</Amt><CdtDbtInd>'
                "CRDT</CdtDbtInd><Dt><Dt>2026-03-02</Dt></Dt></Bal>")
        for n in range(entries):
            f.write(f'<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>'
                    f"2026-03-02</Dt></BookgDt><AcctSvcrRef>B{n:09d}</AcctSvcrRef><NtryDtls><TxDtls><Refs>"
                    f"<EndToEndId>E{n}</EndToEndId></Refs><RltdPties><Dbtr><Nm>Customer {n % 977}</Nm></Dbtr>"
                    f"</RltdPties><RmtInf><Ustrd>Invoice INV-2026-{n:06d} thank you</Ustrd></RmtInf></TxDtls>"
                    "</NtryDtls></Ntry>")
        f.write("</Stmt></BkToCstmrStmt></Document>")


def parse_child(path: str) -> None:
    start = time.perf_counter()
    (statement,) = formats.parse(Path(path).read_bytes(), None, None, "EUR")
    took = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    ok = statement.opening_balance + statement.booked_total == statement.closing_balance
    print(f"{len(statement.lines)}\t{took:.2f}\t{peak:.0f}\t{ok}")


def parse_figures(sizes: list[int]) -> None:
    print("camt.053 parse (streamed, each size in its own process; the file is read whole, the tree is not kept):")
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--invoices", type=int, default=50_000)
    parser.add_argument("--big", type=int, default=100_000)
    parser.add_argument("--parse-child")
    args = parser.parse_args()
    if args.parse_child:
        parse_child(args.parse_child)
        return
    parse_figures([args.lines, args.big])
    matching_figures(args.lines, args.invoices)


if __name__ == "__main__":
    main()
