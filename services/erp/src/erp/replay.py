"""Rebuild the party replica from the CRM's topic (shared_events.rebuild: the topic is checked before anything is
dropped)."""

from servicekit.db import make_engine, make_session_factory
from shared_events.rebuild import rebuild_replica

from .config import Settings
from .db import processed_events
from .parties.models import PartyReplica, PartyReplicaChange
from .worker import PARTY_CONSUMER, party_consumer

PARTY_TOPIC = "crm.party.v1"


def rebuild_party_replica(settings: Settings, timeout_s: float = 600) -> int:
    """Empty the party replica and its inbox rows, then replay crm.party.v1 up to its current end."""
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    inbox = party_consumer(settings, sessions, dead_letters=False)
    try:
        return rebuild_replica(settings.kafka_bootstrap, sessions, inbox, topics=[PARTY_TOPIC],
                               tables=(PartyReplicaChange, PartyReplica), processed_events=processed_events,
                               consumer=PARTY_CONSUMER, timeout_s=timeout_s)
    finally:
        inbox.close()
        engine.dispose()
