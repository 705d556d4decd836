"""The ERP can drop its party replica and rebuild it from the topic with one command, ending in the same state."""

import subprocess
import uuid

import pytest

from .conftest import BIN

pytestmark = pytest.mark.integration


def comparable(view):
    return {k: v for k, v in view.items() if k != "replicated_at"}


def test_rebuilding_the_party_replica_from_the_topic_ends_in_the_same_state(stack):
    parties = [stack.create_party(kind="company", legal_name=f"Replay {i} {uuid.uuid4().hex[:6]}",
                                  roles=["supplier"]) for i in range(3)]
    parties[0] = stack.update_party(parties[0], tax_id="RP-2")
    before = {p["id"]: comparable(stack.wait_in_erp(p["id"], p["version"])) for p in parties}
    result = subprocess.run([str(BIN / "erp"), "rebuild-replica", "parties"], env=stack.env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "replica rebuilt from" in result.stdout
    after = {pid: comparable(stack.erp_party(pid)) for pid in before}
    assert after == before
    assert [c["sequence"] for c in stack.erp_changes(parties[0]["id"])] == [2, 1]
