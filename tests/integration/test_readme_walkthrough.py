"""The README's walkthrough, run as a newcomer would paste it, against the started stack: every step succeeds and
prints what the README says it prints."""

import re
import subprocess
import uuid
from pathlib import Path

import pytest

from .conftest import BIN, wait_until

pytestmark = pytest.mark.integration

README = Path(__file__).resolve().parents[2] / "README.md"


def walkthrough() -> str:
    section = README.read_text().split("## Try it", 1)[1].split("\n## ", 1)[0]
    (script,) = [b for b in re.findall(r"```sh\n(.*?)```", section, re.S) if "set -euo pipefail" in b]
    return script


def expected_lines(script: str) -> list[str]:
    """What the README says each step prints: the `# → ...` lines, without their trailing remarks."""
    return [re.split(r"\s{3,}", line.split("# → ", 1)[1])[0].strip()
            for line in script.splitlines() if line.startswith("# → ")]


def test_the_readme_walkthrough_runs_and_prints_what_it_says(stack, mailbox, tmp_path):
    email, password = f"newcomer-{uuid.uuid4().hex[:6]}@example.test", "walkthrough-password"
    for service in ("crm", "erp"):
        subprocess.run([str(BIN / service), "create-admin", "--email", email], check=True, capture_output=True,
                       env={**stack.env, "ADMIN_PASSWORD": password})
    script = walkthrough()
    env = {**stack.env, "CRM": stack.crm, "ERP": stack.erp, "ADMIN_EMAIL": email, "ADMIN_PASSWORD": password}
    done = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"stdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    printed = done.stdout.strip().splitlines()
    wanted = expected_lines(script)
    wrong = [(got, want) for got, want in zip(printed, wanted, strict=False)
             if not re.fullmatch(re.escape(want).replace(re.escape("<run>"), r"\d+"), got)]
    assert len(printed) == len(wanted) and not wrong, f"printed vs the README: {wrong}\n{done.stdout}"
    assert (tmp_path / "invoice.pdf").read_bytes().startswith(b"%PDF")
    wait_until(lambda: any("Invoice" in m["Subject"] and "Northwind Trading SAS" in m["Subject"]
                           for _, m in mailbox.messages), 30, 0.2, "the invoice's mail (the worker sends it)")


def test_the_walkthrough_stops_at_the_first_error_showing_the_apis_answer(stack, tmp_path):
    env = {**stack.env, "CRM": stack.crm, "ERP": stack.erp, "ADMIN_EMAIL": "nobody@example.test",
           "ADMIN_PASSWORD": "not-the-password"}
    done = subprocess.run(["bash", "-c", walkthrough()], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode != 0 and done.stdout == ""
    assert "POST " in done.stderr and "answered 401" in done.stderr and '"status": 401' in done.stderr.replace(
        '"status":401', '"status": 401')
