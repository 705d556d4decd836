"""Batched writes for imports: COPY (copy_rows), multi-row INSERTs of records with their outbox events and audit rows,
UPDATEs over VALUES lists, and the events and audit rows of staged creates built in SQL (insert_created), instead of
one ORM flush per row."""

import io
import json
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime

from cloudevents.core.v1.event import CloudEvent
from servicekit import audit
from shared_events import envelope
from shared_events.actors import actor_extensions
from shared_events.catalogue import event_type
from shared_events.outbox import NOTIFY_CHANNEL
from sqlalchemy import Table, cast, column, insert, text, update, values
from sqlalchemy.orm import Session

from ..db import audit_log, outbox

CHUNK = 500  # rows per INSERT statement


def chunks(items: list, size: int = CHUNK) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def insert_rows(session: Session, table: Table, rows: list[dict]) -> None:
    """INSERT ... VALUES (...), (...), ...: SQLAlchemy's "insertmany" sends up to CHUNK rows per statement
    (every row names the same columns)."""
    if rows:
        session.execute(insert(table).execution_options(insertmanyvalues_page_size=CHUNK), rows)


def update_rows(session: Session, table: Table, rows: list[dict], columns: list[str]) -> None:
    """UPDATE table SET columns FROM (VALUES (...), (...), ...) WHERE id matches: one statement per CHUNK rows."""
    names = ["id", *columns]
    for part in chunks(rows):
        v = values(*(column(c, table.c[c].type) for c in names), name="v").data(
            [tuple(r[c] for c in names) for r in part])
        session.execute(update(table).where(table.c.id == cast(v.c.id, table.c.id.type))
                        .values({c: cast(v.c[c], table.c[c].type) for c in columns}))


def add_events(session: Session, events: list[CloudEvent], aggregatetype: str) -> None:
    """Outbox rows for events (validated when built), written in batches; one NOTIFY wakes the relay on commit."""
    if not events:
        return
    rows = []
    for event in events:
        topic, *_ = envelope.to_kafka(event)
        rows.append({"event_id": event.get_id(), "aggregatetype": aggregatetype, "aggregateid": event.get_subject(),
                     "type": event.get_type(), "topic": topic, "payload": envelope.to_record(event)})
    insert_rows(session, outbox, rows)
    session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))


# A chunk of staged creates -> their outbox events and audit rows, in one statement that reads the staged rows
# once: the event is what envelope.new_record writes (same attributes, the actor extensions only when known,
# sequence = the version, subject and key = the id) and the audit row what audit_row(..., created_changes(state))
# writes. The state's fields come from the caller (party_rows.STATE mirrors parties/events.party_state);
# tests/test_import_events.py checks the events against the contract and against the API's own.
_CREATED = """
WITH staged AS (
    SELECT * FROM {stage} WHERE (kind = 'company') = :companies AND ord > :after ORDER BY ord LIMIT :n
), events AS (
    INSERT INTO outbox (event_id, aggregatetype, aggregateid, type, topic, payload)
    SELECT event_id, :aggregatetype, id::text, :type, :topic, CAST('{{"attributes":' || json_strip_nulls(
        json_build_object('id', event_id, 'source', :source, 'type', :type, 'subject', id::text, 'time', :time,
                          'datacontenttype', 'application/json', 'dataschema', :dataschema, 'sequence', version::text,
                          'actor', CAST(:actor_id AS text), 'actorname', CAST(:actor_name AS text),
                          'specversion', '1.0'))::text || ',"data":' || {state} || '}}' AS jsonb)
    FROM (SELECT gen_random_uuid() AS event_id, * FROM staged) s ORDER BY ord
), audited AS (
    INSERT INTO audit_log (id, actor_id, actor, token_id, action, entity_type, entity_id, changes)
    SELECT gen_random_uuid(), :audit_actor_id, :audit_actor, CAST(:token_id AS uuid), 'import', :aggregatetype,
           id::text, {changes}
    FROM staged
)
SELECT max(ord), count(*), count(*) FILTER (WHERE row > 0) FROM staged
"""


def created_sql(fields: tuple[tuple[str, str, bool], ...]) -> tuple[str, str]:
    """(the state object as JSON text, its created_changes as jsonb) as SQL expressions over a staged row, from
    (key, expression, may be NULL) each: the changes name every key whose value is not NULL. Both are written as
    JSON text and parsed once (concat_ws drops the NULL members): building nested jsonb objects costs PostgreSQL
    about twice as much."""
    state = "'{' || concat_ws(',', " + ", ".join(
        f"""'"{k}":' || {f"coalesce(to_json({e})::text, 'null')" if may else f"to_json({e})::text"}"""
        for k, e, may in fields) + ") || '}'"
    # (": null" keeps a space: text() would read ":null" as a bound parameter)
    changes = "('{' || concat_ws(',', " + ", ".join(
        f"""'"{k}":{{"before": null, "after":' || to_json({e})::text || '}}'""" for k, e, _ in fields
    ) + ") || '}')::jsonb"
    return state, changes


def insert_created(session: Session, stage: str, fields: tuple[tuple[str, str, bool], ...], aggregatetype: str,
                   type_: str, actor, companies: bool, after: int, size: int = CHUNK) -> tuple[int | None, int, int]:
    """The outbox events (`type_`) and audit rows ("import") of the next `size` creates staged in `stage` after
    ord `after` (companies or the others), with the state `fields` give (created_sql); returns (the last ord
    written, None when none was left; how many; how many of them are rows of the file). The caller NOTIFYs the
    relay once at the end."""
    spec = event_type(type_)
    ext = actor_extensions(actor)
    state, changes = created_sql(fields)
    return session.execute(text(_CREATED.format(stage=stage, state=state, changes=changes)), {
        "companies": companies, "after": after, "n": size, "aggregatetype": aggregatetype, "type": type_,
        "topic": spec.topic, "source": spec.source, "dataschema": spec.dataschema,
        "time": datetime.now(UTC).isoformat(), "actor_id": ext["actor_id"] or None,
        "actor_name": ext["actor_name"] or None, "audit_actor_id": getattr(actor, "user_id", None),
        "audit_actor": getattr(actor, "label", None) or "system",
        "token_id": getattr(actor, "token_id", None)}).one()


def created_changes(state: dict) -> dict:
    """audit.diff(None, state) of a state already in plain JSON types (what party_state gives), without the
    copying: every field that has a value, sorted."""
    return {k: {"before": None, "after": v} for k, v in sorted(state.items()) if v is not None}


def audit_row(actor, action: str, entity_type: str, entity_id: str, before: dict | None, after: dict | None,
              changes: dict | None = None) -> dict:
    """The row servicekit.audit.record would write, for insert_rows."""
    return {"id": str(uuid.uuid4()), "actor_id": getattr(actor, "user_id", None),
            "actor": getattr(actor, "label", None) or "system", "token_id": getattr(actor, "token_id", None),
            "action": action, "entity_type": entity_type, "entity_id": str(entity_id),
            "changes": audit.diff(before, after) if changes is None else changes}


def add_audit(session: Session, rows: list[dict]) -> None:
    insert_rows(session, audit_log, rows)


_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = re.compile(r"[\\\t\n\r]")
_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def _copy_text(value) -> str:
    """A value in COPY's text format: \\N for NULL, JSON for dicts and lists, backslash escapes where needed."""
    if value is None:
        return "\\N"
    kind = type(value)
    if kind is str:
        text = value
    elif kind is dict or kind is list:
        text = _json(value)
    elif kind is bool:
        return "t" if value else "f"
    elif kind is int:
        return str(value)
    elif isinstance(value, datetime):
        return value.isoformat()
    else:
        text = str(value)
    return text.translate(_ESCAPE) if _SPECIAL.search(text) else text


def copy_rows(session: Session, table_name: str, columns: list[str], rows: Iterable[tuple],
              arrays: tuple[str, ...] = ()) -> None:
    """COPY rows (tuples in `columns` order) into a table, in the session's transaction: dicts and lists are
    written as JSON, except the `arrays` columns, written as PostgreSQL arrays of text."""
    at = [columns.index(c) for c in arrays]
    out = io.StringIO()
    write, join, special, cell = out.write, "\t".join, _SPECIAL.search, _copy_text
    for row in rows:
        if at:
            row = list(row)
            for i in at:
                if row[i] is not None:
                    row[i] = _array(row[i])
        # most cells are NULL or plain text: written as they are, the others through _copy_text
        write(join(["\\N" if v is None else v if type(v) is str and not special(v) else cell(v) for v in row]))
        write("\n")
    if not out.tell():
        return
    out.seek(0)
    cursor = session.connection().connection.cursor()
    try:
        cursor.copy_expert(f"COPY {table_name} ({', '.join(columns)}) FROM STDIN", out)
    finally:
        cursor.close()


def _array(values: list) -> str:
    return "{" + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"
