"""Fixtures for the event library's tests: a scratch schema on the real PostgreSQL, fake Kafka records."""

import os
import uuid

import pytest
from shared_events.tables import outbox_table, processed_events_table
from sqlalchemy import MetaData, create_engine, text
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
