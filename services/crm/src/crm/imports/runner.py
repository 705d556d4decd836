"""The worker loop that imports queued files (service.run_next), one at a time, oldest first."""

import logging
import threading

from servicekit.auth import service as auth_service
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from ..db import auth
from .service import Superseded, run_next

log = logging.getLogger(__name__)


class ImportRunner:
    def __init__(self, sessions: sessionmaker, engine: Engine, poll_interval: float = 1.0):
        self.sessions, self.engine, self.poll_interval = sessions, engine, poll_interval
        self._stop = threading.Event()

    def run_once(self) -> bool:
        """Import the oldest queued file, if any; True when one was taken (imported or failed)."""
        return run_next(self.sessions, self.engine,
                        lambda session, user_id, token_id: auth_service.user_principal(session, auth, user_id,
                                                                                       token_id))

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.run_once():
                    continue
            except Superseded as exc:
                log.warning("%s", exc)
            except Exception:  # noqa: BLE001 - the batch says why (or is taken again later); the loop goes on
                log.exception("import runner: an import failed")
            self._stop.wait(self.poll_interval)

    def stop(self) -> None:
        self._stop.set()
