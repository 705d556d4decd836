"""Rebuild the fulfilment replica from erp.fulfilment.v1 (topics checked before anything is dropped).

Only the replica is emptied: the timeline entries and installations its events caused stay, and the replay finds
them there instead of writing them again (see handlers.py)."""

from servicekit.db import make_engine, make_session_factory
from shared_events.rebuild import rebuild_replica

from ..config import Settings
from ..db import processed_events
from ..worker import fulfilment_consumer
from .handlers import CONSUMER, TOPICS
from .models import FulfilmentReplica


def rebuild_fulfilment_replica(settings: Settings, timeout_s: float = 600) -> int:
    """Empty the work-order and purchase replica and its inbox rows, then replay erp.fulfilment.v1 up to its end."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    inbox = fulfilment_consumer(settings, sessions, dead_letters=False)
    try:
        return rebuild_replica(settings.kafka_bootstrap, sessions, inbox, topics=TOPICS, tables=(FulfilmentReplica,),
                               processed_events=processed_events, consumer=CONSUMER, timeout_s=timeout_s)
    finally:
        inbox.close()
        engine.dispose()
