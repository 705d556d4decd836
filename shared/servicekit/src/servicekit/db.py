"""Engine and session factory for a service database (created on demand, never at import time)."""

import uuid

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker


def make_engine(url: str, pool_size: int = 5) -> Engine:
    return create_engine(url, pool_size=pool_size, max_overflow=10, pool_pre_ping=True, future=True)


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(bind=engine, expire_on_commit=False, future=True)


def ping(engine: Engine) -> None:
    """Raise unless the database answers a query."""
    with engine.connect() as conn:
        conn.execute(text("select 1"))


def new_id() -> str:
    """A new primary key: a random UUID as text (the models' `default=`)."""
    return str(uuid.uuid4())


def one_of(column: str, values: tuple[str, ...]) -> str:
    """The SQL of a check constraint that keeps a column to a set of values: "status in ('a', 'b')"."""
    return f"{column} in ({', '.join(repr(v) for v in values)})"


def row_view(record) -> dict:
    """A mapped object's columns as a plain dict: what use cases return to views (they never hand out ORM
    objects, whose attributes would load or expire behind the caller's back)."""
    return {attr.key: getattr(record, attr.key) for attr in inspect(record).mapper.column_attrs}
