"""Version-guarded replica writes: a state event is applied only when its sequence is newer."""

from functools import lru_cache

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session


@lru_cache(maxsize=256)
def _upsert(table: Table, key: tuple[str, ...], columns: tuple[str, ...], sequence_column: str):
    """The statement for one shape of row, built once (the values travel as parameters)."""
    stmt = insert(table)
    return stmt.on_conflict_do_update(
        index_elements=list(key),
        set_={c: stmt.excluded[c] for c in columns if c not in key},
        where=table.c[sequence_column] < stmt.excluded[sequence_column],
    ).returning(table.c[sequence_column])


def upsert_if_newer(session: Session, table: Table, key: dict, sequence: int, values: dict,
                    sequence_column: str = "sequence") -> bool:
    """Insert or update the replica row; return False when the stored sequence is already >= sequence."""
    row = {**key, sequence_column: sequence, **values}
    stmt = _upsert(table, tuple(key), tuple(row), sequence_column)
    return session.execute(stmt, row).first() is not None


def upsert_newest(session: Session, table: Table, key: tuple[str, ...], rows: list[dict],
                  sequence_column: str = "sequence") -> None:
    """upsert_if_newer for many rows with the same columns, one per key, in one statement (sent as multi-row
    VALUES lists): each row replaces the stored one only when its sequence is newer."""
    if rows:
        session.execute(_upsert(table, key, tuple(rows[0]), sequence_column), rows).all()
