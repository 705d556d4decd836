"""Both live APIs fuzzed from their own OpenAPI documents: no 500, every answer as documented.

schemathesis (pinned in pyproject.toml) generates requests for every operation from the document each service
serves and checks each answer: not a server error, a documented status code and content type, a body that
matches the documented schema. It runs as an administrator of its own with a fixed seed; the operations that
would end its own session (logout, revoking its tokens) are left out. The budget per service is
SCHEMATHESIS_SECONDS (100 in `make test`, longer in `make fuzz`). This module runs last among the integration
tests: the data it leaves behind is random.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ST = Path(sys.executable).parent / "st"
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
# what would end the fuzzer's own session
KEEP_SESSION = "/api/v1/auth/logout|/api/v1/me/tokens"


@pytest.mark.parametrize("service", ["crm", "erp"])
def test_fuzzing_the_api_from_its_own_document_finds_nothing(stack, service):
    base = stack.crm if service == "crm" else stack.erp
    session = stack._admin_session(service, base)  # an administrator of its own
    seconds = os.environ.get("SCHEMATHESIS_SECONDS", "100")
    argv = [str(ST), "run", f"{base}/openapi.json", "--url", base,
            "-H", f"Authorization: {session.headers['Authorization']}",
            "--checks", CHECKS, "--max-time", seconds, "--workers", "1", "--seed", "20261205",
            "--exclude-path-regex", KEEP_SESSION, "--request-timeout", "20"]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=int(seconds) * 3 + 120,
                         env={**os.environ, "NO_COLOR": "1"})
    failures = run.stdout.split("WARNINGS", 1)[0]
    failures = failures[failures.find("FAILURES"):][:6000] if "FAILURES" in failures else ""
    summary = failures + "\n...\n" + run.stdout[-3000:]  # what failed (each with its curl), then the totals
    print(summary)
    assert "Test cases:" in run.stdout, f"schemathesis did not run:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    assert run.returncode == 0, f"schemathesis found problems in the {service.upper()} API:\n{summary}"
