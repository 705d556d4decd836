"""Operator commands: crm migrate | makemigration | web | worker | ensure-topics | replay-dlq TOPIC."""

import sys
from pathlib import Path

from servicekit import cli

from .config import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def main(argv: list[str] | None = None) -> None:
    parser, _ = cli.parser("crm", "127.0.0.1:8010")
    args = parser.parse_args(argv)
    settings = Settings.from_env()

    def worker():
        from .worker import main as worker_main
        worker_main(settings)

    cli.run_common(args, "crm", MIGRATIONS, settings.database_url, settings.kafka_bootstrap, worker)


if __name__ == "__main__":
    sys.exit(main())
