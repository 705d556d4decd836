"""Operator commands: crm migrate | create-admin | web | worker | ensure-topics | replay-dlq TOPIC |
rebuild-replica catalog|warranty|fulfilment | makemigration | import FILE (over HTTP, with a progress bar)."""

import sys
from pathlib import Path

from servicekit import cli
from servicekit.auth import bootstrap

from .access.roles import CATALOG
from .config import Settings
from .db import audit_log, auth
from .imports import client as import_client
from .replay import REPLICAS, rebuild
from .worker import main as worker_main
from .worker import replay_inbox

MIGRATIONS = Path(__file__).parent / "migrations"


def main(argv: list[str] | None = None) -> None:
    parser, sub = cli.parser("crm", "127.0.0.1:8010")
    rb = sub.add_parser("rebuild-replica", help="drop a replica and rebuild it from its topics")
    rb.add_argument("replica", choices=sorted(REPLICAS))
    import_client.add_parser(sub)
    args = parser.parse_args(argv)
    if args.cmd == "import":  # a client of the HTTP API: no database settings needed
        raise SystemExit(import_client.run(args))
    settings = cli.load_settings("crm", Settings.from_env)
    if args.cmd == "rebuild-replica":
        try:
            print(f"replica rebuilt from {rebuild(args.replica, settings)} events")
        except LookupError as exc:  # checked before anything is dropped: the replica is as it was
            raise SystemExit(f"crm rebuild-replica: {exc} (run `crm ensure-topics`, or start the ERP worker)") from None
        return

    def worker():
        worker_main(settings)

    cli.run_common(args, "crm", MIGRATIONS, settings.database_url, settings.kafka_bootstrap, worker,
                   lambda: bootstrap.seed_builtin_roles(settings.database_url, auth, CATALOG),
                   lambda email, name, pw: bootstrap.create_admin(settings.database_url, auth, audit_log, email,
                                                                   name, pw),
                   lambda topic: replay_inbox(settings, topic))


if __name__ == "__main__":
    sys.exit(main())
