"""The collections job: mark invoices past due as overdue, from the CLI (`erp mark-overdue`) or a worker loop."""

import logging
import threading
from datetime import date

from sqlalchemy.orm import sessionmaker

from .service import mark_overdue

log = logging.getLogger(__name__)
BATCH = 500


def run_once(sessions: sessionmaker, today: date | None = None) -> list[str]:
    """Mark every invoice now past due, batch by batch (one transaction each); returns their numbers."""
    marked: list[str] = []
    while True:
        with sessions.begin() as session:
            batch = mark_overdue(session, today, limit=BATCH)
        marked += batch
        if len(batch) < BATCH:
            return marked


class OverdueLoop:
    """Runs the job every `interval_minutes` (ERP_OVERDUE_INTERVAL_MINUTES) until stopped; a failed run is logged
    and tried again at the next interval. Several workers may run it: rows being marked elsewhere are skipped."""

    def __init__(self, sessions: sessionmaker, interval_minutes: int):
        self.sessions = sessions
        self.interval_s = max(1, interval_minutes) * 60
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                marked = run_once(self.sessions)
                if marked:
                    log.info("overdue: marked %d invoice(s): %s", len(marked), ", ".join(marked[:20]))
            except Exception as exc:  # noqa: BLE001 - the database may be down; try again next time
                log.warning("overdue: run failed: %s", exc)
            self.stopping.wait(self.interval_s)

    def stop(self) -> None:
        self.stopping.set()
