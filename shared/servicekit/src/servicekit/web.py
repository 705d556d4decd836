"""What every view of a service needs, in one place: the database sessions of the request, the version an
If-Match names, an answer with its ETag, and a create that runs once per Idempotency-Key.

A service's app factory starts from `service_app(name, settings, idempotency_keys)` (the Flask app, its database
and these helpers wired), or calls `init_app(app, sessions, idempotency_keys, settings)` itself; its views then
import these helpers instead of reaching into `current_app.extensions` themselves.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from flask import Flask, current_app, request
from sqlalchemy import Table
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from . import idempotency
from .auth.principal import current_principal
from .db import make_engine, make_session_factory, ping
from .etag import etag_of, required_version

_KEY = "servicekit.web"


@dataclass
class WebContext:
    sessions: sessionmaker
    idempotency_keys: Table
    settings: object = None


def init_app(app: Flask, sessions: sessionmaker, idempotency_keys: Table, settings=None) -> None:
    app.extensions[_KEY] = WebContext(sessions, idempotency_keys, settings)


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker

    def ping(self) -> None:
        ping(self.engine)


def service_app(name: str, settings, idempotency_keys: Table) -> tuple[Flask, Database]:
    """The Flask app of a service and its database (in app.extensions["<name>.db"]): trusted proxies and the body
    limit from its settings, these helpers initialised. The caller adds its API, blueprints and health checks."""
    app = Flask(name, static_folder=None)
    app.config["TRUSTED_PROXIES"] = settings.trusted_proxies
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    engine = make_engine(settings.database_url)
    db = Database(engine, make_session_factory(engine))
    app.extensions[f"{name}.db"] = db
    init_app(app, db.sessions, idempotency_keys, settings)
    return app, db


def settings():
    """The service's Settings, read and checked once when the app was made (views pass the values a use case
    needs; use cases never read the environment)."""
    return current_app.extensions[_KEY].settings


def sessions() -> sessionmaker:
    """The session factory of the service's database: `with sessions().begin() as session: ...` (one transaction
    per request, committed when the block ends without an exception)."""
    return current_app.extensions[_KEY].sessions


def optional_version() -> int | None:
    """The version If-Match names, or None without If-Match: for actions that check the record's state
    themselves and take If-Match only to guard against a concurrent change."""
    return required_version() if request.headers.get("If-Match") else None


def version_of(view) -> int:
    return view["version"] if isinstance(view, Mapping) else view.version


def with_etag(view, status: int = 200, **headers):
    """A view function's answer: the record (a dict or a model), its status and its ETag (its version)."""
    return view, status, {"ETag": etag_of(version_of(view)), **headers}


def idempotent(fn):
    """Mark a view method that creates through create_once: the OpenAPI document declares its Idempotency-Key."""
    fn._idempotent_create = True
    return fn


def create_once(scope: str, schema, create: Callable, location: Callable | None = None):
    """Run a creating use case once per Idempotency-Key, in one transaction: a retry gets the first answer.

    - scope: the operation, e.g. "POST /parties" (keys are per operation and per user);
    - schema: the response schema, class or instance (a retry replays its dump of the new record);
    - create(session, actor): the use case; returns the new record;
    - location(body) -> URL: makes the answer a 201 with Location (and ETag for versioned records); without it
      the view's own @blp.response decides the status.
    """
    ctx = current_app.extensions[_KEY]

    def dump(view):  # only with an Idempotency-Key: a schema instance costs ~0.3 ms
        return (schema() if isinstance(schema, type) else schema).dump(view)

    return idempotency.create_once(ctx.sessions, ctx.idempotency_keys, scope, current_principal(), create, dump,
                                   location)
