"""ERP service tests: the Flask app and the party handler on the real, migrated PostgreSQL (ERP_DATABASE_URL)."""

import os

import pytest
from erp.access.roles import CATALOG
from erp.app import create_app
from erp.config import Settings
from erp.db import audit_log, auth, processed_events
from erp.worker import party_handlers
from servicekit.auth import bootstrap
from servicekit.testing import client_as
from shared_events import envelope
from shared_events.inbox import InboxConsumer
from shared_events.testing import Record, RecordingProducer


@pytest.fixture(scope="session")
def app():
    if not os.environ.get("ERP_DATABASE_URL"):
        pytest.fail("ERP_DATABASE_URL is not set: run the database tests through `make test`")
    settings = Settings.from_env()
    bootstrap.seed_builtin_roles(settings.database_url, auth, CATALOG)
    return create_app(settings)


@pytest.fixture
def as_user(app):
    """A test client acting as a new user with these roles (the user is on .user)."""
    return lambda *roles: client_as(app, auth, audit_log, "erp", roles)


@pytest.fixture
def sessions(app):
    return app.extensions["erp.db"].sessions


@pytest.fixture
def accountant(as_user):
    return as_user("accountant")


@pytest.fixture
def client(as_user):
    return as_user("admin")


@pytest.fixture
def anonymous(app):
    return app.test_client()


@pytest.fixture
def deliver(app):
    """Deliver a CRM party event to the ERP's inbox the way the worker does (minus the broker)."""
    inbox = InboxConsumer("erp.parties", "unused:1", ["crm.party.v1"],
                          party_handlers(app.extensions["servicekit.web"].settings.sales_warehouse),
                          app.extensions["erp.db"].sessions,
                          processed_events, producer_factory=RecordingProducer)
    offsets = iter(range(10**6))

    def redeliver(ev):
        _, key, value, headers = envelope.to_kafka(ev)
        return inbox.handle_message(Record("crm.party.v1", 0, next(offsets), key, value, headers))

    def send(verb, state, sequence=None):
        ev = envelope.new_event(f"crm.party.{verb}", state["id"], state, sequence or state["version"])
        return redeliver(ev), ev

    send.again = redeliver
    return send
