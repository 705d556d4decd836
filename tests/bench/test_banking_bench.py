"""bench/banking.py stays runnable: a tiny run (a few hundred lines against a few thousand invoices) on the test
server prints the parse, import and reconciliation figures, and every automatic match is the right invoice."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import make_url

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]


def test_the_banking_bench_runs_through_the_database_on_a_small_data_set():
    url = make_url(os.environ["ERP_DATABASE_URL"]).set(database="erp_banking_bench_smoke")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "banking.py"), "--lines", "200", "--invoices",
                           "1000", "--big", "2000", "--db"],
                          env={**os.environ, "BANKING_BENCH_DATABASE_URL": url.render_as_string(hide_password=False)},
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    out = done.stdout
    imports = re.findall(r"import of +(\d+) entries .*: [\d.]+ s, peak RSS (\d+) MB", out)
    assert [int(n) for n, _ in imports] == [200, 2000], out
    assert "import + automatic reconciliation of 200 lines against 1000 open invoices" in out
    matched = re.search(r"through PostgreSQL.*matched automatically \(score >= 90\): [\d.]+% \((\d+)\)", out, re.S)
    assert matched and int(matched.group(1)) > 100, out
    assert out.count("matched to the right invoice: 100.0% of the matches") == 2, out
