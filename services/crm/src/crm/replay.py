"""Rebuild a replica the CRM keeps of the ERP's data from its topics (`crm rebuild-replica NAME`), through
shared_events.rebuild: every topic is checked before anything is dropped, then the replica's tables and its
consumer's inbox rows are emptied and the topics replayed from the beginning up to their current end.

Only replica tables are emptied. What their handlers wrote elsewhere (the fulfilment handler's timeline entries and
installations) stays, and the replay finds it there instead of writing it twice."""

from servicekit.db import make_engine, make_session_factory
from shared_events.rebuild import rebuild_replica

from .catalog import handlers as catalog
from .catalog.models import CategoryReplica, PriceListReplica, ProductReplica, StockReplica
from .config import Settings
from .db import processed_events
from .fulfilment import handlers as fulfilment
from .fulfilment.models import FulfilmentReplica
from .warranty import handlers as warranty
from .warranty.models import WarrantyReplica
from .worker import catalog_consumer, fulfilment_consumer, warranty_consumer

# name: (the worker's consumer, its handlers module (CONSUMER, TOPICS), the tables emptied, children first)
REPLICAS = {
    "catalog": (catalog_consumer, catalog, (StockReplica, PriceListReplica, ProductReplica, CategoryReplica)),
    "warranty": (warranty_consumer, warranty, (WarrantyReplica,)),
    "fulfilment": (fulfilment_consumer, fulfilment, (FulfilmentReplica,)),
}


def rebuild(name: str, settings: Settings, timeout_s: float = 600) -> int:
    """Empty the replica `name` (a key of REPLICAS) and its inbox rows, replay its topics; how many events were read.

    Raises LookupError (nothing changed) for a missing topic, TimeoutError when the end is not reached in time."""
    make_consumer, handlers, tables = REPLICAS[name]
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    inbox = make_consumer(settings, sessions, dead_letters=False)
    try:
        return rebuild_replica(settings.kafka_bootstrap, sessions, inbox, topics=handlers.TOPICS, tables=tables,
                               processed_events=processed_events, consumer=handlers.CONSUMER, timeout_s=timeout_s)
    finally:
        inbox.close()
        engine.dispose()
