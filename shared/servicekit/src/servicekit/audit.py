"""The audit trail: who changed what, when, through which token, with field-level before/after."""

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, DateTime, Index, MetaData, String, Table, func, select
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Session

from .pagination import apply_sort, paginate


def audit_table(metadata: MetaData) -> Table:
    return Table(
        "audit_log", metadata,
        Column("id", UUID(as_uuid=False), primary_key=True),
        Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("actor_id", String(100)),
        Column("actor", String(300)),
        Column("token_id", UUID(as_uuid=False)),
        Column("action", String(50), nullable=False),
        Column("entity_type", String(50), nullable=False),
        Column("entity_id", String(100), nullable=False),
        Column("changes", JSONB, nullable=False),
        Index("ix_audit_log_entity", "entity_type", "entity_id", "at"),
        Index("ix_audit_log_actor", "actor_id", "at"),
    )


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def diff(before: dict | None, after: dict | None) -> dict:
    """{field: {"before": old, "after": new}} for the fields that differ."""
    before, after = before or {}, after or {}
    out = {}
    for key in sorted(set(before) | set(after)):
        old, new = _plain(before.get(key)), _plain(after.get(key))
        if old != new:
            out[key] = {"before": old, "after": new}
    return out


def record(session: Session, table: Table, actor, action: str, entity_type: str, entity_id: str,
           before: dict | None = None, after: dict | None = None, changes: dict | None = None) -> None:
    """Write one audit row in the caller's transaction; `actor` is a Principal, or None for the system."""
    session.execute(table.insert().values(
        id=str(uuid.uuid4()),
        actor_id=getattr(actor, "user_id", None),
        actor=getattr(actor, "label", None) or (actor if isinstance(actor, str) else "system"),
        token_id=getattr(actor, "token_id", None),
        action=action, entity_type=entity_type, entity_id=str(entity_id),
        changes=changes if changes is not None else diff(before, after),
    ))


# what an audit entry may reveal only to administrators: where people logged in from
_ADMIN_ONLY_CHANGES = ("address",)


def query(session: Session, table: Table, filters: dict, page: int, page_size: int, scope=None,
          show_addresses: bool = False) -> dict:
    """A page of the trail; `scope` is a SQL predicate limiting it to entries about records the caller may see."""
    stmt = select(table)
    if scope is not None:
        stmt = stmt.where(scope)
    for key in ("entity_type", "entity_id", "actor_id", "action"):
        if filters.get(key):
            stmt = stmt.where(table.c[key] == str(filters[key]))
    if filters.get("since"):
        stmt = stmt.where(table.c.at >= filters["since"])
    stmt = apply_sort(stmt, filters.get("sort"), {"at": table.c.at, "action": table.c.action,
                                                  "entity_type": table.c.entity_type}, [table.c.at.desc(), table.c.id])
    result = paginate(session, stmt, page, page_size, entities=False)
    if not show_addresses:
        result["items"] = [_redacted(dict(item)) for item in result["items"]]
    return result


def _redacted(entry: dict) -> dict:
    changes = entry.get("changes")
    if isinstance(changes, dict) and any(k in changes for k in _ADMIN_ONLY_CHANGES):
        entry["changes"] = {k: v for k, v in changes.items() if k not in _ADMIN_ONLY_CHANGES}
    return entry
