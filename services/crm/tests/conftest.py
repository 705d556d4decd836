"""CRM service tests: the Flask app on the real, migrated PostgreSQL named by CRM_DATABASE_URL."""

import os

import pytest
from crm.app import create_app
from crm.config import Settings
from crm.db import outbox
from sqlalchemy import func, select


@pytest.fixture(scope="session")
def app():
    if not os.environ.get("CRM_DATABASE_URL"):
        pytest.fail("CRM_DATABASE_URL is not set: run the database tests through `make test`")
    return create_app(Settings.from_env())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def db(app):
    return app.extensions["crm.db"]


@pytest.fixture
def outbox_events(db):
    """Events in the outbox about one aggregate, oldest first."""
    def read(aggregate_id):
        with db.sessions() as s:
            rows = s.execute(select(outbox.c.type, outbox.c.payload).where(outbox.c.aggregateid == str(aggregate_id))
                             .order_by(outbox.c.id)).all()
        return [(r.type, r.payload) for r in rows]
    return read


@pytest.fixture
def outbox_size(db):
    def size():
        with db.sessions() as s:
            return s.execute(select(func.count()).select_from(outbox)).scalar_one()
    return size
