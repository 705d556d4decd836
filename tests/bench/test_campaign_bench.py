"""bench/campaigns.py stays runnable: a small run (a few hundred recipients, a few thousand people) on the test
server prints its figures."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import make_url

pytestmark = pytest.mark.db

ROOT = Path(__file__).resolve().parents[2]


def test_the_campaign_bench_runs_on_a_small_data_set():
    url = make_url(os.environ["CRM_DATABASE_URL"]).set(database="crm_campaign_bench_smoke")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "campaigns.py"), "--recipients", "300",
                           "--people", "3000"],
                          env={**os.environ, "CAMPAIGN_BENCH_DATABASE_URL": url.render_as_string(hide_password=False)},
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "campaign of 300: 300 sent" in done.stdout and "campaign of 30: 30 sent" in done.stdout, done.stdout
    assert "segment over 3,000 people (customers in PT or ES without an open deal): 400 addresses" in done.stdout
