"""Server-side prepared statements for the posting's hot path: PostgreSQL parses and plans each of them once per
connection instead of once per posting (psycopg2 sends every statement as text otherwise)."""

import re

from sqlalchemy.orm import Session

_PARAM = re.compile(r"(?<![:\w]):(\w+)")  # :name, not a ::cast


class Prepared:
    """A text statement with :named parameters, prepared on a connection the first time it runs there.

    The names of the statements a connection prepared live in the pool's record of that connection (its `info`,
    cleared when the pool reconnects), and a prepared statement outlives a rolled-back transaction, so each
    connection prepares each statement once."""

    def __init__(self, name: str, sql: str):
        order = list(dict.fromkeys(_PARAM.findall(sql)))
        self.name = name
        self.prepare = f"PREPARE {name} AS " + _PARAM.sub(lambda m: f"${order.index(m[1]) + 1}", sql)
        # sent as the driver's own text (no SQLAlchemy compilation; statement events still see it)
        self.run = f"EXECUTE {name} (" + ", ".join(f"%({p})s" for p in order) + ")"

    def __call__(self, session: Session, params: dict):
        connection = session.connection()
        prepared = connection.connection.info.setdefault("erp.ledger.prepared", set())
        if self.name not in prepared:
            connection.exec_driver_sql(self.prepare)
            prepared.add(self.name)
        return connection.exec_driver_sql(self.run, params)
