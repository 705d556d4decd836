"""Rebuild the warranty replica from erp.warranty.v1 (topics checked before anything is dropped)."""

from servicekit.db import make_engine, make_session_factory
from shared_events.rebuild import rebuild_replica

from ..config import Settings
from ..db import processed_events
from ..worker import warranty_consumer
from .handlers import CONSUMER, TOPICS
from .models import WarrantyReplica


def rebuild_warranty_replica(settings: Settings, timeout_s: float = 600) -> int:
    """Empty the warranty replica and its inbox rows, then replay erp.warranty.v1 up to its end."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    inbox = warranty_consumer(settings, sessions, dead_letters=False)
    try:
        return rebuild_replica(settings.kafka_bootstrap, sessions, inbox, topics=TOPICS, tables=(WarrantyReplica,),
                               processed_events=processed_events, consumer=CONSUMER, timeout_s=timeout_s)
    finally:
        inbox.close()
        engine.dispose()
