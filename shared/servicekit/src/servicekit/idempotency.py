"""Idempotency-Key for creating POSTs: a retried request gets the first answer instead of a second record."""

import hashlib
import json

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.orm import Session

from .problems import Problem


def idempotency_table(metadata: MetaData) -> Table:
    return Table(
        "idempotency_keys",
        metadata,
        Column("scope", String(200), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status", Integer),
        Column("body", JSONB),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def claim(session: Session, table: Table, scope: str, key: str, request_body) -> tuple[int, dict] | None:
    """Reserve the key inside the caller's transaction; return the stored answer if it was used before.

    A concurrent request with the same key waits on the unique index until the first one commits.
    """
    if len(key) > 200:
        raise Problem(422, "Invalid request", "Idempotency-Key: at most 200 characters", "validation-error",
                      errors=[{"field": "Idempotency-Key", "location": "headers", "message": "at most 200 characters"}])
    digest = hashlib.sha256(json.dumps(request_body, sort_keys=True, default=str).encode()).hexdigest()
    inserted = session.execute(
        insert(table).values(scope=scope, key=key, request_hash=digest).on_conflict_do_nothing().returning(table.c.key)
    ).first()
    if inserted:
        return None
    row = session.execute(select(table).where(table.c.scope == scope, table.c.key == key)).one()
    if row.request_hash != digest:
        raise Problem(422, "Idempotency-Key reused", "This Idempotency-Key was already used with a different "
                      "request body; use a new key for a new request.", "idempotency-key-reused")
    return row.status, row.body


def remember(session: Session, table: Table, scope: str, key: str, status: int, body: dict) -> None:
    session.execute(table.update().where(table.c.scope == scope, table.c.key == key).values(status=status, body=body))


def create_once(sessions, table: Table, scope: str, actor, create, dump, location=None):
    """Run a creating use case in one transaction; with an Idempotency-Key header a retry gets the first answer.

    `create(session, actor)` returns the new record's view, `dump(view)` its JSON body (what a retry replays),
    `location(body)` its URL. With a location the answer carries Location and (for versioned records) ETag.
    """
    from flask import jsonify, request

    from .etag import etag_of

    def headers(body: dict) -> dict:
        if location is None:
            return {}
        out = {"Location": location(body)}
        if "version" in body:
            out["ETag"] = etag_of(body["version"])
        return out

    key = request.headers.get("Idempotency-Key")
    scope = f"{scope} {actor.user_id}"
    with sessions.begin() as session:
        if key:
            stored = claim(session, table, scope, key, request.get_json(silent=True))
            if stored:
                status, body = stored
                return jsonify(body), status, headers(body)
        view = create(session, actor)
        if key:
            remember(session, table, scope, key, 201, dump(view))
    if location is None:
        return view
    return view, 201, headers(view if isinstance(view, dict) else _Attributes(view))


class _Attributes:
    """A model read like the dict its schema would dump (`body["id"]`, `"version" in body`) for Location/ETag."""

    def __init__(self, record):
        self._record = record

    def __getitem__(self, name):
        return getattr(self._record, name)

    def __contains__(self, name):
        return hasattr(self._record, name)
