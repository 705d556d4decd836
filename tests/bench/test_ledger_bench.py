"""bench/ledger_reports.py stays runnable: a tiny run (a few thousand lines, a few postings) on the test server
prints every report's timing and a hash chain that verifies."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import make_url

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]


def test_the_ledger_bench_runs_on_a_small_data_set():
    url = make_url(os.environ["ERP_DATABASE_URL"]).set(database="erp_ledger_bench_smoke")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "ledger_reports.py"), "--lines", "3000",
                           "--postings", "5", "--page", "3"],
                          env={**os.environ, "LEDGER_BENCH_DATABASE_URL": url.render_as_string(hide_password=False)},
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    out = done.stdout
    for report in ("trial balance", "profit and loss", "balance sheet", "general ledger 411000, page 1 ",
                   "general ledger 411000, page 3 of 100 lines (page=N)", "page 3 of 100 lines (after=cursor)",
                   "AR aging", "AP aging", "customer statement",
                   "post_entry (5 lines) + outbox row + commit"):
        assert report in out, f"{report!r} missing from:\n{out}"
    assert "ok=True" in out  # the COPYed chain verifies like a posted one
