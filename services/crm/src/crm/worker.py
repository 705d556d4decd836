"""The CRM worker: publishes the outbox to Kafka (and will consume the ERP's topics)."""

import logging
from datetime import timedelta

from servicekit.db import make_engine, ping
from servicekit.worker import broker_check, run_worker
from shared_events.outbox import BacklogCollector, OutboxRelay
from shared_events.topics import ensure_topics

from .config import Settings
from .db import outbox


def main(settings: Settings | None = None) -> None:
    settings = settings or Settings.from_env()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    engine = make_engine(settings.database_url)
    try:
        ensure_topics(settings.kafka_bootstrap)
    except Exception as exc:  # noqa: BLE001 - the relay waits for the broker anyway
        logging.getLogger(__name__).warning("could not ensure topics yet: %s", exc)
    BacklogCollector.register(engine, outbox, "crm")
    relay = OutboxRelay(engine, outbox, settings.kafka_bootstrap, service="crm",
                        retention=timedelta(hours=settings.outbox_retention_hours))
    run_worker("crm", [relay], {"database": lambda: ping(engine), "broker": broker_check(settings.kafka_bootstrap)},
               settings.worker_health_host, settings.worker_health_port)
