"""Version-guarded replica writes: a state event is applied only when its sequence is newer."""

from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session


def upsert_if_newer(session: Session, table: Table, key: dict, sequence: int, values: dict,
                    sequence_column: str = "sequence") -> bool:
    """Insert or update the replica row; return False when the stored sequence is already >= sequence."""
    row = {**key, sequence_column: sequence, **values}
    stmt = insert(table).values(**row)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key),
        set_={c: stmt.excluded[c] for c in row if c not in key},
        where=table.c[sequence_column] < stmt.excluded[sequence_column],
    ).returning(table.c[sequence_column])
    return session.execute(stmt).first() is not None
