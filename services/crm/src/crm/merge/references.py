"""Every column of the CRM that points at a party or a lead: a merge re-points them; an import revert asks whether
a record it created is referenced before deleting it.

Foreign keys are read from the metadata (every model module is registered), so a module that adds a table pointing
at parties is covered without a change here. References without a foreign key are listed by hand: typed links
(record_type + record_id, or an id column kept free of foreign keys) and the copies of ERP documents.
"""

from datetime import UTC, datetime

from sqlalchemy import Column, and_, select, true, update
from sqlalchemy.orm import Session

from .. import models  # noqa: F401 - registers every table on the metadata
from ..db import Base

# table -> (table, column, {other column: required value}) of links without a foreign key
TYPED_LINKS = {
    "parties": (("tasks", "record_id", {"record_type": "party"}),),
    "leads": (("tasks", "record_id", {"record_type": "lead"}), ("activities", "lead_id", {}),
              ("timeline_entries", "lead_id", {})),
}
# ERP documents copied into the CRM (billing replicas) name the party the ERP issued them to
REPLICA_LINKS = (("order_replicas", "party_id"), ("invoice_replicas", "party_id"), ("payment_replicas", "party_id"))


def links_to(table_name: str) -> list[tuple[Column, dict]]:
    """(column, {column: value} conditions) of every reference to a row of `table_name` ("parties" or "leads")."""
    tables = Base.metadata.tables
    links = [(col, {}) for table in tables.values() for col in table.columns
             if any(fk.target_fullname == f"{table_name}.id" for fk in col.foreign_keys)]
    links += [(tables[t].c[c], cond) for t, c, cond in TYPED_LINKS.get(table_name, ()) if t in tables]
    if table_name == "parties":
        links += [(tables[t].c[c], {}) for t, c in REPLICA_LINKS if t in tables]
    return links


def conditions_of(column: Column, conditions: dict):
    return and_(true(), *(column.table.c[k] == v for k, v in conditions.items()))


def repoint(session: Session, old_ids: list[str], new_id: str, skip: set[str]) -> dict[str, list[str]]:
    """Point every reference to a party in old_ids at new_id; {"table.column": [ids of the rows changed]}.

    Rows that carry a version get the next one (their ETags change); `skip` names columns ("parties.company_id")
    the caller re-points itself, because those rows announce their change.
    """
    changed = {}
    now = datetime.now(UTC)
    for column, conditions in links_to("parties"):
        name = f"{column.table.name}.{column.name}"
        if name in skip:
            continue
        table = column.table
        values = {column.name: new_id}
        if "version" in table.c:
            values["version"] = table.c.version + 1
        if "updated_at" in table.c:
            values["updated_at"] = now
        key = list(table.primary_key.columns)[0]
        ids = session.execute(update(table).where(column.in_(old_ids), conditions_of(column, conditions))
                              .values(values).returning(key)).scalars().all()
        if ids:
            changed[name] = sorted(str(i) for i in ids)
    return changed


def referenced_ids(session: Session, table_name: str, ids: list[str], ignore=None) -> set[str]:
    """Which of `ids` (rows of table_name) something points at; `ignore(column)` may return a condition on the
    referencing row that makes it not count (e.g. "it is itself one of the rows being deleted")."""
    found: set[str] = set()
    for column, conditions in links_to(table_name):
        cond = [column.in_(ids), conditions_of(column, conditions)]
        extra = ignore(column) if ignore else None
        if extra is not None:
            cond.append(~extra)
        found |= {str(i) for i in session.execute(select(column).where(*cond).distinct()).scalars()}
    return found
