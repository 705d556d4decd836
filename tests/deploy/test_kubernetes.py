"""The Kubernetes probes fit what the processes answer: /readyz bounds its checks, so every readiness probe's
timeout leaves it room to answer 503 itself instead of timing out (a timeout hides why the pod is not ready)."""

from pathlib import Path

import yaml
from servicekit.health import CHECK_TIMEOUT_S

KUBERNETES = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"


def _containers():
    for manifest in sorted(KUBERNETES.glob("*.yaml")):
        for doc in yaml.safe_load_all(manifest.read_text()):
            if doc and doc.get("kind") == "Deployment":
                for container in doc["spec"]["template"]["spec"]["containers"]:
                    yield f"{manifest.name}/{doc['metadata']['name']}/{container['name']}", container


def test_every_process_has_both_probes_and_readiness_answers_before_its_probe_times_out():
    seen = []
    for name, container in _containers():
        ready, alive = container.get("readinessProbe"), container.get("livenessProbe")
        assert ready and alive, f"{name}: a readiness and a liveness probe"
        assert ready["httpGet"]["path"] == "/readyz" and alive["httpGet"]["path"] == "/healthz", name
        # /readyz runs its checks side by side, each for at most CHECK_TIMEOUT_S; leave a second for the rest
        assert ready["timeoutSeconds"] >= CHECK_TIMEOUT_S + 1, f"{name}: {ready}"
        # and a probe must not wait longer than it takes for /readyz to give its own answer plus a margin
        assert ready["timeoutSeconds"] <= 5, f"{name}: a slow answer would hide behind a long probe timeout"
        seen.append(name)
    assert len(seen) == 4, seen  # web and worker of each service
