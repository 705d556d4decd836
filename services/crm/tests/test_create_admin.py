"""The operator's first command after `migrate`: a refused password says why, without sending them to migrate."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.db

CRM = Path(sys.executable).parent / "crm"


def create_admin(password: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(CRM), "create-admin", "--email", "first-admin@example.test", "--name", "First"],
                          env={**os.environ, "ADMIN_PASSWORD": password}, capture_output=True, text=True, timeout=60)


def test_a_short_password_is_refused_with_the_reason_and_no_hint_to_migrate():
    done = create_admin("short")
    assert done.returncode != 0
    assert "password: at least" in done.stderr and "migrate" not in done.stderr, done.stderr
