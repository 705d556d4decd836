"""/healthz (the process answers), /readyz (its dependencies answer) and /metrics (Prometheus)."""

from collections.abc import Callable

from flask import Blueprint, Response, jsonify
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

Check = Callable[[], None]


def blueprint(checks: dict[str, Check]) -> Blueprint:
    bp = Blueprint("health", __name__)

    @bp.get("/healthz")
    def healthz():
        return jsonify(status="ok")

    @bp.get("/readyz")
    def readyz():
        results, ok = run_checks(checks)
        return jsonify(status="ready" if ok else "not ready", checks=results), (200 if ok else 503)

    @bp.get("/metrics")
    def metrics():
        return Response(generate_latest(REGISTRY), mimetype=CONTENT_TYPE_LATEST)

    return bp


def run_checks(checks: dict[str, Check]) -> tuple[dict[str, str], bool]:
    results, ok = {}, True
    for name, check in checks.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:  # noqa: BLE001 - any failure means not ready
            results[name] = f"{type(exc).__name__}: {exc}"[:300]
            ok = False
    return results, ok
