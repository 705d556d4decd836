"""/healthz (the process answers), /readyz (its dependencies answer) and /metrics (Prometheus)."""

import threading
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


CHECK_TIMEOUT_S = 1.5  # /readyz answers within it whatever a dependency does (probes time out at 5 s)
_in_flight: dict[int, threading.Thread] = {}
_in_flight_lock = threading.Lock()


def _run_one(check: Check, out: dict) -> None:
    try:
        check()
        out["result"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means not ready
        out["result"] = f"{type(exc).__name__}: {exc}"[:300]


def run_checks(checks: dict[str, Check], timeout_s: float = CHECK_TIMEOUT_S) -> tuple[dict[str, str], bool]:
    """Run the checks side by side; one that has not answered within timeout_s counts as not ready. A check
    still hanging from an earlier probe is not started again (probes never pile up threads)."""
    started = {}
    for name, check in checks.items():
        with _in_flight_lock:
            previous = _in_flight.get(id(check))
            if previous is not None and previous.is_alive():
                started[name] = None
                continue
            out: dict = {}
            thread = threading.Thread(target=_run_one, args=(check, out), name=f"readyz-{name}", daemon=True)
            _in_flight[id(check)] = thread
            thread.start()
            started[name] = (thread, out)
    results, ok = {}, True
    for name, entry in started.items():
        if entry is None:
            results[name] = "the previous check has not answered yet"
            ok = False
            continue
        thread, out = entry
        thread.join(timeout_s)
        result = out.get("result") or f"no answer within {timeout_s} s"
        results[name] = result
        ok = ok and result == "ok"
    return results, ok
