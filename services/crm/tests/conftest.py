"""CRM service tests: the Flask app on the real, migrated PostgreSQL named by CRM_DATABASE_URL."""

import os

import pytest
from crm.access.roles import CATALOG
from crm.app import create_app
from crm.config import Settings
from crm.db import audit_log, auth, outbox
from servicekit.auth import bootstrap
from servicekit.testing import client_as, user_with_token
from sqlalchemy import func, select

from tests.support.campaigns import sender, smtp  # noqa: F401 - the campaign tests' SMTP server and sender


@pytest.fixture(scope="session")
def app():
    if not os.environ.get("CRM_DATABASE_URL"):
        pytest.fail("CRM_DATABASE_URL is not set: run the database tests through `make test`")
    settings = Settings.from_env()
    bootstrap.seed_builtin_roles(settings.database_url, auth, CATALOG)
    return create_app(settings)


@pytest.fixture
def make_user(app):
    """A new user with these built-in roles and a valid session token."""
    def make(*roles):
        return user_with_token(app.extensions["crm.db"].sessions, auth, audit_log, "crm", list(roles))
    return make


@pytest.fixture
def as_user(app):
    """A test client acting as a new user with these roles (the user is on .user)."""
    return lambda *roles: client_as(app, auth, audit_log, "crm", roles)


@pytest.fixture
def client(as_user):
    """An administrator's client: most tests are about behaviour, not permissions."""
    return as_user("admin")


@pytest.fixture
def anonymous(app):
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
