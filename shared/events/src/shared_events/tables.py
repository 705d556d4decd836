"""The outbox and inbox tables, added to a service's own metadata (each service migrates its own)."""

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID


def outbox_table(metadata: MetaData) -> Table:
    """Debezium-shaped outbox: id, aggregatetype, aggregateid, type, payload (+ relay bookkeeping)."""
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", UUID(as_uuid=False), nullable=False, unique=True),
        Column("aggregatetype", String(100), nullable=False),
        Column("aggregateid", String(100), nullable=False),
        Column("type", String(200), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("payload", JSONB, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text),
        Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
    )


def processed_events_table(metadata: MetaData) -> Table:
    """Inbox: one row per (consumer, event id), written in the transaction of the event's effect."""
    return Table(
        "processed_events",
        metadata,
        Column("consumer", String(100), primary_key=True),
        Column("event_id", UUID(as_uuid=False), primary_key=True),
        Column("type", String(200), nullable=False),
        Column("topic", String(200), nullable=False),
        Column("partition", Integer, nullable=False),
        Column("offset", BigInteger, nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def discard_connection(conn) -> None:
    """Throw away a connection a relay or consumer held (invalidated, so the pool never hands it out again); a
    broken one is being thrown away anyway, so closing it may fail quietly. Returns None, for `x = discard(x)`."""
    if conn is not None:
        try:
            conn.invalidate()
            conn.close()
        except Exception:  # noqa: BLE001 - a broken connection is being thrown away anyway
            pass
