"""Fixtures for the event library's tests: a scratch schema on the real PostgreSQL, fake Kafka records."""

import os
import uuid

import pytest
from shared_events.tables import outbox_table, processed_events_table
from sqlalchemy import MetaData, create_engine, make_url, text
from sqlalchemy.orm import sessionmaker


@pytest.fixture(scope="session")
def database_url():
    url = os.environ.get("CRM_DATABASE_URL")
    if not url:
        pytest.fail("CRM_DATABASE_URL is not set: run the database tests through `make test`")
    return url


@pytest.fixture
def scratch(database_url):
    """An outbox and an inbox table in a schema of their own, dropped afterwards."""
    schema = f"evtest_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url)
    with admin.begin() as conn:
        conn.execute(text(f"create schema {schema}"))
    engine = create_engine(database_url, connect_args={"options": f"-csearch_path={schema}"})
    md = MetaData()
    tables = {"outbox": outbox_table(md), "processed": processed_events_table(md)}
    md.create_all(engine)  # a throwaway schema, not a service database: no migration applies here
    yield engine, sessionmaker(bind=engine), tables
    engine.dispose()
    with admin.begin() as conn:
        conn.execute(text(f"drop schema {schema} cascade"))
    admin.dispose()


class OwnDatabase:
    """A database of its own with an outbox and an inbox table, which a test can close to connections (an outage
    for whoever uses it, cutting their open connections) and open again."""

    def __init__(self, database_url: str):
        self.name = f"evtest_{uuid.uuid4().hex[:10]}"
        self.admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
        with self.admin.connect() as c:
            c.execute(text(f"create database {self.name}"))
        self.engine = create_engine(make_url(database_url).set(database=self.name), pool_pre_ping=True)
        md = MetaData()
        self.tables = {"outbox": outbox_table(md), "processed": processed_events_table(md)}
        md.create_all(self.engine)  # a throwaway database, not a service database: no migration applies here

    def close(self, spare=None) -> None:
        """Refuse new connections and cut the open ones, except the connection `spare` if given."""
        spared = spare.execute(text("select pg_backend_pid()")).scalar_one() if spare is not None else -1
        if spare is not None:
            spare.commit()
        with self.admin.connect() as c:
            c.execute(text(f"alter database {self.name} allow_connections false"))
            c.execute(text("select pg_terminate_backend(pid) from pg_stat_activity "
                           "where datname = :name and pid <> :spared"), {"name": self.name, "spared": spared})

    def open(self) -> None:
        with self.admin.connect() as c:
            c.execute(text(f"alter database {self.name} allow_connections true"))

    def drop(self) -> None:
        self.engine.dispose()
        with self.admin.connect() as c:
            c.execute(text(f"drop database {self.name} with (force)"))
        self.admin.dispose()


@pytest.fixture
def own_database(database_url):
    """A database that a test may take away and bring back (OwnDatabase); dropped afterwards."""
    db = OwnDatabase(database_url)
    yield db
    db.drop()
