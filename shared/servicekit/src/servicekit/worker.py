"""The worker process: runs loops (outbox relay, consumers) in threads, serves health, stops on SIGTERM."""

import json
import logging
import signal
import threading
from collections.abc import Callable
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from shared_events import kafka_clients
from shared_events.outbox import BacklogCollector, OutboxRelay
from shared_events.topics import ensure_topics
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from .db import make_engine, make_session_factory, ping
from .health import Check, run_checks

log = logging.getLogger(__name__)


def _health_handler(checks: dict[str, Check], threads: list[threading.Thread]):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's naming
            if self.path == "/healthz":
                alive = all(t.is_alive() for t in threads)
                self._send(200 if alive else 503, {"status": "ok" if alive else "a loop died"})
            elif self.path == "/readyz":
                results, ok = run_checks(checks)
                self._send(200 if ok else 503, {"status": "ready" if ok else "not ready", "checks": results})
            elif self.path == "/metrics":
                body = generate_latest(REGISTRY)
                self.send_response(200)
                self.send_header("Content-Type", CONTENT_TYPE_LATEST)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            else:
                self._send(404, {"status": "not found"})

        def _send(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    return Handler


def run_worker(name: str, loops: list, checks: dict[str, Check], health_host: str, health_port: int) -> None:
    """Run each loop's run() in a thread until SIGTERM/SIGINT, then stop them and return.

    If a loop dies the worker stops the others and exits with status 1, so its supervisor restarts it.
    """
    def guarded(loop):
        try:
            loop.run()
        except Exception:  # noqa: BLE001 - logged here; the main thread sees the dead thread and exits
            log.exception("%s worker: %s crashed", name, type(loop).__name__)

    threads = [threading.Thread(target=guarded, args=(loop,), name=f"{name}-{type(loop).__name__}-{i}", daemon=True)
               for i, loop in enumerate(loops)]
    server = ThreadingHTTPServer((health_host, health_port), _health_handler(checks, threads))
    server_thread = threading.Thread(target=server.serve_forever, daemon=True)
    stop = threading.Event()

    def on_signal(signum, _frame):
        log.info("%s worker: signal %s, stopping", name, signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server_thread.start()
    for t in threads:
        t.start()
    log.info("%s worker: %d loops running; health on http://%s:%d/readyz", name, len(threads), health_host,
             health_port)
    died = False
    while not stop.wait(1.0):
        if not all(t.is_alive() for t in threads):
            log.error("%s worker: a loop died; exiting so the supervisor restarts the worker", name)
            died = True
            break
    for loop in loops:
        loop.stop()
    for t in threads:
        t.join(timeout=15)
    server.shutdown()
    server.server_close()
    if died:
        raise SystemExit(1)


def broker_check(bootstrap: str) -> Check:
    """Ready only when the broker answers a metadata request."""
    def check():
        admin = kafka_clients.admin(bootstrap)
        try:
            admin.list_topics()
        finally:
            admin.close()
    return check


def run_service_worker(name: str, settings, outbox, loops: Callable[[Engine, sessionmaker], list]) -> None:
    """A service's `worker` command: logging, the topics of the catalogue (if the broker answers yet), the
    outbox relay first, then the service's own loops (`loops(engine, sessions)`), until SIGTERM."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    try:
        ensure_topics(settings.kafka_bootstrap)
    except Exception as exc:  # noqa: BLE001 - the relay and the consumers wait for the broker anyway
        log.warning("could not ensure topics yet: %s", exc)
    BacklogCollector.register(engine, outbox, name)
    relay = OutboxRelay(engine, outbox, settings.kafka_bootstrap, service=name,
                        retention=timedelta(hours=settings.outbox_retention_hours))
    run_worker(name, [relay, *loops(engine, sessions)],
               {"database": lambda: ping(engine), "broker": broker_check(settings.kafka_bootstrap)},
               settings.worker_health_host, settings.worker_health_port)
