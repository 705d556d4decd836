"""Who is calling: resolved from the bearer token before every request, checked by @requires."""

import functools
from dataclasses import dataclass, field
from datetime import datetime

from flask import g

from ..problems import Problem


@dataclass(frozen=True)
class Principal:
    user_id: str
    email: str
    name: str
    token_id: str | None  # None: work done later on the user's behalf (auth.service.user_principal)
    roles: frozenset[str] = field(default_factory=frozenset)
    permissions: frozenset[str] = field(default_factory=frozenset)
    token_expires_at: datetime | None = None  # when the token stops working (None: never)

    def can(self, permission: str) -> bool:
        module = permission.split(":", 1)[0]
        return bool({"*", f"{module}:*", permission} & self.permissions) or (
            permission.endswith(":read") and "*:read" in self.permissions)

    @property
    def is_admin(self) -> bool:
        return "*" in self.permissions

    @property
    def label(self) -> str:
        return f"{self.email} ({self.user_id})"


def current_principal() -> Principal:
    principal = g.get("principal")
    if principal is None:
        raise unauthenticated("Authentication required.")
    return principal


def unauthenticated(detail: str) -> Problem:
    return Problem(401, "Unauthenticated", detail + " Send 'Authorization: Bearer <token>' (POST /api/v1/auth/login "
                   "gives one).", "unauthenticated", headers={"WWW-Authenticate": 'Bearer realm="api"'})


def forbidden(permission: str) -> Problem:
    return Problem(403, "Forbidden", f"Your roles do not grant {permission!r}.", "forbidden",
                   missing_permission=permission)


def requires(permission: str):
    """Decorate a view method: 403 unless the caller's roles grant the permission."""
    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if not current_principal().can(permission):
                raise forbidden(permission)
            return fn(*args, **kwargs)
        wrapper._required_permission = permission
        return wrapper
    return decorator
