"""Operator commands: erp migrate | create-admin | web | worker | ensure-topics | replay-dlq TOPIC |
rebuild-replica parties | mark-overdue | verify-ledger | export-ledger | makemigration."""

import sys
from datetime import date
from pathlib import Path

from servicekit import cli
from servicekit.auth import bootstrap
from servicekit.db import make_engine, make_session_factory

from .access.roles import CATALOG
from .config import Settings
from .db import audit_log, auth
from .invoicing.overdue import run_once
from .ledger import hledger
from .ledger.hashchain import verify_database
from .replay import rebuild_party_replica
from .worker import main as worker_main
from .worker import replay_inbox

MIGRATIONS = Path(__file__).parent / "migrations"


def main(argv: list[str] | None = None) -> None:
    parser, sub = cli.parser("erp", "127.0.0.1:8020")
    rb = sub.add_parser("rebuild-replica", help="drop a replica and rebuild it from its topic")
    rb.add_argument("replica", choices=["parties"])
    sub.add_parser("verify-ledger", help="recompute the hash chain over posted journal entries (exit 1 if broken)")
    sub.add_parser("mark-overdue", help="mark invoices past due as overdue (erp.invoice.overdue, once each)")
    ex = sub.add_parser("export-ledger", help="write the posted journal in hledger's journal format")
    ex.add_argument("--output", "-o", default="-", help="a file (default: standard output)")
    ex.add_argument("--date-to", type=date.fromisoformat, help="only entries dated up to this day (YYYY-MM-DD)")
    args = parser.parse_args(argv)
    settings = cli.load_settings("erp", Settings.from_env)

    def worker():
        worker_main(settings)

    if args.cmd == "mark-overdue":
        engine = make_engine(settings.database_url)
        try:
            marked = run_once(make_session_factory(engine))
        finally:
            engine.dispose()
        print(f"marked {len(marked)} invoice(s) overdue" + (f": {', '.join(marked)}" if marked else ""))
        return
    if args.cmd == "export-ledger":
        export_ledger(settings, args.output, args.date_to)
        return
    if args.cmd == "verify-ledger":
        if not verify_database(settings.database_url):
            raise SystemExit(1)
        return
    if args.cmd == "rebuild-replica":
        try:
            print(f"replica rebuilt from {rebuild_party_replica(settings)} events")
        except LookupError as exc:  # checked before anything is dropped: the replica is as it was
            raise SystemExit(f"erp rebuild-replica: {exc} (run `erp ensure-topics`, or start the CRM worker)") from None
        return
    cli.run_common(args, "erp", MIGRATIONS, settings.database_url, settings.kafka_bootstrap, worker,
                   lambda: bootstrap.seed_builtin_roles(settings.database_url, auth, CATALOG),
                   lambda email, name, pw: bootstrap.create_admin(settings.database_url, auth, audit_log, email,
                                                                   name, pw),
                   lambda topic: replay_inbox(settings, topic))


def export_ledger(settings: Settings, output: str, date_to: date | None) -> None:
    """The posted journal in hledger's format, to a file or standard output."""
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine).begin() as session:
            out = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")  # noqa: SIM115
            try:
                for chunk in hledger.journal(session, date_to):
                    out.write(chunk)
            finally:
                if out is not sys.stdout:
                    out.close()
    finally:
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
