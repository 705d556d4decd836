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
            values[name] = str(uuid.uuid4()) if type(converter).__name__ == "UUIDConverter" else "x"
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
