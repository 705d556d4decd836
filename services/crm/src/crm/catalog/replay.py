"""Rebuild the catalog replica from the ERP's topics (shared_events.rebuild: topics checked before anything is
dropped)."""

from servicekit.db import make_engine, make_session_factory
from shared_events.rebuild import rebuild_replica

from ..config import Settings
from ..db import processed_events
from ..worker import catalog_consumer
from .handlers import CONSUMER, TOPICS
from .models import CategoryReplica, PriceListReplica, ProductReplica, StockReplica


def rebuild_catalog_replica(settings: Settings, timeout_s: float = 600) -> int:
    """Empty the catalog replica and its inbox rows, then replay erp.product/pricelist/stock.v1 up to their end."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    inbox = catalog_consumer(settings, sessions, dead_letters=False)
    try:
        return rebuild_replica(settings.kafka_bootstrap, sessions, inbox, topics=TOPICS,
                               tables=(StockReplica, PriceListReplica, ProductReplica, CategoryReplica),
                               processed_events=processed_events, consumer=CONSUMER, timeout_s=timeout_s)
    finally:
        inbox.close()
        engine.dispose()
