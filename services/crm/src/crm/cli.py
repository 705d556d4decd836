"""Operator commands: crm migrate | web | worker | ensure-topics | replay-dlq TOPIC | makemigration MSG."""

import argparse
import os
import sys
from pathlib import Path

from alembic import command
from alembic.config import Config

from .config import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", (url or Settings.from_env().database_url).replace("%", "%%"))
    return cfg


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="crm", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("migrate", help="upgrade the database to the latest schema")
    mk = sub.add_parser("makemigration", help="autogenerate a migration (development)")
    mk.add_argument("message")
    web = sub.add_parser("web", help="serve the HTTP API with gunicorn")
    web.add_argument("--bind", default=os.environ.get("CRM_BIND", "127.0.0.1:8010"))
    web.add_argument("--workers", default=os.environ.get("CRM_WEB_WORKERS", "2"))
    sub.add_parser("worker", help="run the outbox relay and consumers")
    sub.add_parser("ensure-topics", help="create the Kafka topics of the catalogue")
    rp = sub.add_parser("replay-dlq", help="re-publish a topic's dead letters to the topic")
    rp.add_argument("topic")
    args = parser.parse_args(argv)
    settings = Settings.from_env()

    if args.cmd == "migrate":
        command.upgrade(alembic_config(), "head")
    elif args.cmd == "makemigration":
        command.revision(alembic_config(), message=args.message, autogenerate=True)
    elif args.cmd == "web":
        os.execvp("gunicorn", ["gunicorn", "--bind", args.bind, "--workers", str(args.workers),
                               "--access-logfile", "-", "--graceful-timeout", "10", "crm.app:create_app()"])
    elif args.cmd == "worker":
        from .worker import main as worker_main
        worker_main(settings)
    elif args.cmd == "ensure-topics":
        from shared_events.topics import ensure_topics
        created = ensure_topics(settings.kafka_bootstrap)
        print("created: " + (", ".join(created) or "nothing (all present)"))
    elif args.cmd == "replay-dlq":
        from shared_events.dlq import replay_dlq
        print(f"replayed {replay_dlq(settings.kafka_bootstrap, args.topic)} dead letters into {args.topic}")


if __name__ == "__main__":
    sys.exit(main())
