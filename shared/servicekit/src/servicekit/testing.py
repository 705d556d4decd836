"""Test helpers for the services: users with tokens, and a walk over every route."""

import uuid
from datetime import UTC, datetime, timedelta

from flask import Flask

from .auth import service
from .auth.api import PUBLIC_ENDPOINTS
from .auth.tables import AuthTables


def user_with_token(sessions, tables: AuthTables, audit_table, service_name: str, roles: list[str],
                    password: str = "a-long-test-password") -> dict:
    """Create a user with the given roles and a session token; returns the user plus its token."""
    email = f"{'-'.join(roles) or 'noroles'}-{uuid.uuid4().hex[:8]}@example.test"
    with sessions.begin() as session:
        user = service.create_user(session, tables, audit_table, email, email.split("@")[0], password, roles,
                                   "test-setup")
        plaintext, token = service.issue_token(session, tables, service_name, user["id"], "session", "test",
                                               datetime.now(UTC) + timedelta(hours=1))
    return {**user, "token": plaintext, "token_id": token["id"], "password": password,
            "headers": {"Authorization": f"Bearer {plaintext}"}}


def every_route(app: Flask):
    """(url, method, endpoint) for each route of the app, with placeholder values for its parameters."""
    for rule in app.url_map.iter_rules():
        values = {}
        for name, converter in rule._converters.items():
            kind = type(converter).__name__
            values[name] = str(uuid.uuid4()) if kind == "UUIDConverter" else "0" if kind in (
                "IntegerConverter", "FloatConverter") else "x"
        url = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield url, method, rule.endpoint


def is_public(endpoint: str) -> bool:
    return endpoint in PUBLIC_ENDPOINTS


def changing_operations(app: Flask):
    """(method, rule, mark) for every PATCH/PUT/DELETE and every POST on an existing record (a path with a
    parameter): mark is "required", "optional" or None, from the view's If-Match decorator."""
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS", "GET"}):
            if method == "POST" and not rule.arguments:
                continue  # creates: Idempotency-Key, not If-Match
            fn = getattr(view_class, method.lower(), None) if view_class else view
            mark = ("required" if getattr(fn, "_requires_if_match", False)
                    else "optional" if getattr(fn, "_optional_if_match", False) else None)
            yield method, rule.rule, mark


def if_match_gaps(app: Flask, no_if_match: dict, optional_if_match: dict) -> tuple[list[str], list[str]]:
    """Changes that neither require If-Match nor are listed with a reason, and listed ones whose reason no longer
    applies; every PATCH/PUT not listed in no_if_match must require it."""
    unexplained, stale = [], []
    for method, rule, mark in changing_operations(app):
        if method in ("PATCH", "PUT") and (method, rule) not in no_if_match and mark != "required":
            unexplained.append(f"{method} {rule} must require If-Match")
            continue
        allowed = {None: no_if_match, "optional": optional_if_match, "required": {}}[mark]
        if (method, rule) not in allowed and mark != "required":
            unexplained.append(f"{method} {rule} ({mark or 'no If-Match'})")
        if mark is not None and (method, rule) in no_if_match or mark != "optional" and (
                method, rule) in optional_if_match:
            stale.append(f"{method} {rule}")
    return unexplained, stale


def if_match_documentation_gaps(app: Flask, doc: dict) -> list[str]:
    """Operations whose document does not declare the If-Match (and 412/428) their view asks for."""
    gaps = []
    for method, rule, mark in changing_operations(app):
        if mark is None:
            continue
        path = rule.replace("<uuid:", "{").replace("<string:", "{").replace(">", "}")
        op = doc["paths"][path][method.lower()]
        header = [p for p in op.get("parameters", []) if p["name"] == "If-Match"]
        if not header or header[0]["required"] is not (mark == "required") or "412" not in op["responses"] or (
                mark == "required" and "428" not in op["responses"]):
            gaps.append(f"{method} {path}")
    return gaps


def idempotency_gaps(app: Flask, doc: dict) -> list[str]:
    """Operations whose view creates through create_once (so honours Idempotency-Key) but whose document does not
    declare the header: clients would not know retries are safe."""
    import inspect

    gaps = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            fn = getattr(view_class, method.lower(), None) if view_class else view
            if fn is None or "create_once(" not in inspect.getsource(inspect.unwrap(fn)):
                continue
            path = rule.rule.replace("<uuid:", "{").replace("<string:", "{").replace(">", "}")
            op = doc["paths"][path][method.lower()]
            if not any(p.get("name") == "Idempotency-Key" for p in op.get("parameters", [])):
                gaps.append(f"{method} {path}")
    return gaps


def openapi_gaps(doc: dict) -> list[str]:
    """JSON request bodies without an example, catch-all `default` responses, errors not as problem+json."""
    gaps = []
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body is not None and "example" not in body:
                gaps.append(f"{method.upper()} {path}: no request example")
            if "default" in op["responses"]:
                gaps.append(f"{method.upper()} {path}: a catch-all default response")
            gaps += [f"{method.upper()} {path} {status}: not problem+json" for status, response in
                     op["responses"].items() if int(status) >= 400
                     and list(response.get("content", {})) != ["application/problem+json"]]
    return gaps


def assert_problem(response, status: int, field: str | None = None) -> dict:
    """An error answer as the API promises it: this status, problem+json, naming `field` when given."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    assert response.mimetype == "application/problem+json"
    if field is not None:
        assert field in [e["field"] for e in response.json.get("errors", [])], response.json
    return response.json


def schema_drift(database_url: str, metadata) -> list:
    """What `alembic revision --autogenerate` would write for a database migrated to head: the differences between
    the SQLAlchemy models (`metadata`) and the migrated schema (types and server defaults compared too); [] when
    the models and the migrations agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True,
                                                                   "compare_server_default": True})
            return compare_metadata(context, metadata)
    finally:
        engine.dispose()


def client_as(app, tables: AuthTables, audit_table, service_name: str, roles) -> object:
    """A Flask test client acting as a new user with these roles (the user is on `.user`)."""
    user = user_with_token(app.extensions[f"{service_name}.db"].sessions, tables, audit_table, service_name,
                           list(roles))
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = user["headers"]["Authorization"]
    client.user = user
    return client
