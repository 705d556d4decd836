"""Operator commands every service has: migrate, makemigration, web, worker, ensure-topics, replay-dlq."""

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from shared_events.dlq import replay_dlq

from .config import SettingError, env_str


def alembic_config(migrations: Path, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(migrations))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def default_web_workers() -> int:
    """gunicorn workers when *_WEB_WORKERS is unset: 2 per core, from 2 to 12 (each serves WEB_THREADS requests)."""
    return max(2, min(12, 2 * (os.cpu_count() or 1)))


DEFAULT_WEB_THREADS = 4  # requests one gunicorn worker serves at once (gthread: keep-alive, no fork per client)


def parser(service: str, default_bind: str) -> tuple[argparse.ArgumentParser, argparse._SubParsersAction]:
    p = argparse.ArgumentParser(prog=service, description=f"{service.upper()} operator commands")
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate", help="upgrade the database to the latest schema")
    mk = sub.add_parser("makemigration", help="autogenerate a migration (development)")
    mk.add_argument("message")
    web = sub.add_parser("web", help="serve the HTTP API with gunicorn")
    web.add_argument("--bind", default=env_str(f"{service.upper()}_BIND", default_bind))
    # gthread workers, 2 per core with 4 threads each: a request waits on PostgreSQL most of its time, and kept-alive
    # connections spare a TCP handshake per request (sync workers close each one; measured in bench/README.md)
    web.add_argument("--workers", default=env_str(f"{service.upper()}_WEB_WORKERS", str(default_web_workers())))
    web.add_argument("--threads", default=env_str(f"{service.upper()}_WEB_THREADS", str(DEFAULT_WEB_THREADS)))
    sub.add_parser("worker", help="run the outbox relay and the consumers")
    sub.add_parser("ensure-topics", help="create the Kafka topics of the catalogue")
    rp = sub.add_parser("replay-dlq", help="apply a topic's dead letters again (what still fails stays in the "
                                           "DLQ and is listed; exit 1 if any)")
    rp.add_argument("topic")
    sub.add_parser("openapi", help="print the OpenAPI document (JSON) of the HTTP API")
    ca = sub.add_parser("create-admin", help="create the first administrator (password from ADMIN_PASSWORD, "
                                             "--password-stdin, or a prompt)")
    ca.add_argument("--email", required=True)
    ca.add_argument("--name", default="Administrator")
    ca.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    return p, sub


def read_admin_password(args) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if os.environ.get("ADMIN_PASSWORD"):
        return os.environ["ADMIN_PASSWORD"]
    import getpass
    first = getpass.getpass("Password (10+ characters): ")
    if getpass.getpass("Again: ") != first:
        raise SystemExit("passwords differ")
    return first


def openapi_document(service: str) -> str:
    """The OpenAPI document as the running app serves it, in a stable JSON form (no database needed)."""
    import importlib
    import json

    app = importlib.import_module(f"{service}.app").create_app()
    spec = app.test_client().get("/openapi.json").get_json()
    return json.dumps(spec, indent=2, sort_keys=True) + "\n"


def run_common(args, service: str, migrations: Path, database_url: str, kafka_bootstrap: str,
               worker_main: Callable[[], None], after_migrate: Callable[[], None],
               create_admin: Callable[[str, str, str], tuple[dict, bool]],
               replay_inbox: Callable[[str], object] | None = None) -> bool:
    """Run a shared command; False if args.cmd is not one of them. `replay_inbox(topic)` gives the service's inbox
    consumer of a topic, with dead-lettering off (None if the service does not consume it)."""
    if args.cmd == "migrate":
        command.upgrade(alembic_config(migrations, database_url), "head")
        after_migrate()
    elif args.cmd == "openapi":
        sys.stdout.write(openapi_document(service))
    elif args.cmd == "create-admin":
        from .problems import Problem
        try:
            user, created = create_admin(args.email, args.name, read_admin_password(args))
        except Problem as exc:
            # a bad email, name or password is the operator's to fix; anything else usually means no schema yet
            own_fault = {e.get("field") for e in exc.errors or []} & {"email", "name", "password"}
            hint = f" (did you run `{service} migrate`?)" if exc.status == 422 and not own_fault else ""
            raise SystemExit(f"{service} create-admin: {exc.detail or exc.title}{hint}") from None
        print(f"{'created' if created else 'granted admin to existing user'} {user['email']} ({user['id']})")
    elif args.cmd == "makemigration":
        command.revision(alembic_config(migrations, database_url), message=args.message, autogenerate=True)
    elif args.cmd == "web":
        os.execv(sys.executable, [sys.executable, "-m", "gunicorn", "--bind", args.bind, "--workers", str(args.workers),
                               "--worker-class", "gthread", "--threads", str(args.threads),
                               "--access-logfile", "-", "--graceful-timeout", "10",
                               "--limit-request-line", "8190",  # the app answers long query strings (414) itself
                               "--config", "python:servicekit.gunicorn_conf",  # gunicorn's own refusals as problems
                               f"{service}.app:create_app()"])
    elif args.cmd == "worker":
        worker_main()
    elif args.cmd == "ensure-topics":
        from shared_events.topics import ensure_topics
        created = ensure_topics(kafka_bootstrap)
        print("created: " + (", ".join(created) or "nothing (all present)"))
    elif args.cmd == "replay-dlq":
        inbox = replay_inbox(args.topic) if replay_inbox else None
        if inbox is None:
            raise SystemExit(f"{service} replay-dlq: {service} does not consume {args.topic}")
        report = replay_dlq(kafka_bootstrap, args.topic, inbox)
        print(report.summary(args.topic))
        if report.still_failing:
            raise SystemExit(1)
    else:
        return False
    return True


def load_settings(service: str, from_env):
    """The service's settings, read and checked once before any command runs: a bad value ends the process with
    status 2 and a message naming the variable (`crm: CRM_SMTP_PORT='x': must be a whole number from 1 to 65535`)."""
    try:
        return from_env()
    except SettingError as exc:
        print(f"{service}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
