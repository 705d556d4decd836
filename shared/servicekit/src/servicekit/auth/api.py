"""Identity endpoints every service has: login, me and my tokens, users, roles, audit."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import Flask, current_app, g, request
from flask.views import MethodView
from flask_smorest import Api
from sqlalchemy import ColumnElement, Table
from sqlalchemy.orm import sessionmaker

from .. import audit, etag
from ..blueprint import Blueprint
from ..etag import if_match_required
from . import secrets, service
from .principal import Principal, current_principal, requires, unauthenticated
from .schemas import (
    AuditArgs,
    AuditPageSchema,
    LoginSchema,
    MeSchema,
    PermissionsSchema,
    RoleCreateSchema,
    RoleSchema,
    RoleUpdateSchema,
    TokenCreateSchema,
    TokenIssuedSchema,
    TokenSchema,
    UserCreateSchema,
    UserListArgs,
    UserPageSchema,
    UserSchema,
    UserUpdateSchema,
)
from .service import RoleCatalog
from .tables import AuthTables


@dataclass(frozen=True)
class AuthContext:
    service: str
    tables: AuthTables
    audit: Table
    catalog: RoleCatalog
    sessions: sessionmaker
    session_ttl: timedelta
    # (principal, audit table) -> SQL predicate: the audit entries this caller may read (None: all of them)
    audit_scope: Callable[[Principal, Table], ColumnElement] | None = None


PUBLIC_ENDPOINTS = {
    "health.healthz", "health.readyz", "health.metrics", "api-docs.openapi_json", "api-docs.openapi_swagger_ui",
    "swagger_assets", "auth.Login", "lead_capture.LeadFormSubmissions",
    "agenda_feeds.PublicFeed",  # a calendar feed: the secret URL is the key
    "installation_forms.InstallationForm",  # the installer's form: the signed single-use link is the key
    "campaign_public.Subscribe", "campaign_public.Confirm", "campaign_mail.Unsubscribe", "campaign_mail.Open",
    "campaign_mail.Click",
}


IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
            "description": "The ETag of your last GET of this record."}
ETAG_HEADER = {"ETag": {"description": "The record's current ETag: send it as If-Match to change it.",
                        "schema": {"type": "string"}}}


def _ctx() -> AuthContext:
    return current_app.extensions["auth"]


PRINCIPAL_TTL = 5.0  # seconds a web process reuses a token's principal without asking the database


class PrincipalCache:
    """The principals of recently seen tokens, per process, for PRINCIPAL_TTL seconds at most. The process that
    changes users, roles or tokens empties it at once (after the change is committed); other processes see the
    change within PRINCIPAL_TTL. Unknown and refused tokens are never cached."""

    def __init__(self, ttl: float = PRINCIPAL_TTL, max_size: int = 10_000, clock=time.monotonic,
                 now=lambda: datetime.now(UTC)):
        self.ttl, self.max_size, self.clock, self.now = ttl, max_size, clock, now
        self._items: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Principal | None:
        """The principal cached for the token, unless it is older than the TTL or the token has expired since."""
        item = self._items.get(key)
        if item is None or self.clock() - item[0] > self.ttl:
            return None
        expires = item[1].token_expires_at
        return None if expires is not None and expires <= self.now() else item[1]

    def put(self, key: str, principal: Principal) -> None:
        with self._lock:
            if len(self._items) >= self.max_size:
                self._items.clear()
            self._items[key] = (self.clock(), principal)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


def _cache() -> PrincipalCache:
    return current_app.extensions["auth.principals"]


def authenticate() -> None:
    """before_request: every endpoint but the public ones needs a valid bearer token."""
    if request.endpoint is None or request.endpoint in PUBLIC_ENDPOINTS or request.method == "OPTIONS":
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated("No bearer token.")
    key = secrets.token_hash(token.strip())
    principal = _cache().get(key)
    if principal is None:
        ctx = _ctx()
        with ctx.sessions.begin() as session:
            principal = service.resolve(session, ctx.tables, token.strip())
        if principal is None:
            raise unauthenticated("The token is unknown, expired or revoked, or its user is deactivated.")
        _cache().put(key, principal)
    g.principal = principal


def forget_principals(response):
    """after_request: a change to users, roles or tokens (a logout included) empties this process's cache."""
    if request.method not in ("GET", "HEAD", "OPTIONS") and request.blueprint in ("auth", "users", "roles"):
        _cache().clear()
    return response


def init_app(app: Flask, api: Api, ctx: AuthContext) -> None:
    app.extensions["auth"] = ctx
    app.extensions["auth.principals"] = PrincipalCache()
    app.before_request(authenticate)
    app.after_request(forget_principals)
    for blp in (auth_blp, users_blp, roles_blp, audit_blp):
        api.register_blueprint(blp)


auth_blp = Blueprint("auth", __name__, url_prefix="/api/v1", description="Log in, your profile and your API tokens.")
users_blp = Blueprint("users", __name__, url_prefix="/api/v1/users", description="User administration.")
roles_blp = Blueprint("roles", __name__, url_prefix="/api/v1/roles", description="Roles and their permissions.")
audit_blp = Blueprint("audit", __name__, url_prefix="/api/v1/audit", description="Who changed what, when.")


def _address() -> str:
    return (request.remote_addr or "unknown")[:64]


@auth_blp.route("/auth/login")
class Login(MethodView):
    @auth_blp.arguments(LoginSchema)
    @auth_blp.response(200, TokenIssuedSchema)
    @auth_blp.alt_response(401, description="Invalid email or password")
    @auth_blp.alt_response(429, description="Too many failed logins (per account and per address)")
    def post(self, creds):
        """Exchange email and password for a session token (one of the two unauthenticated calls, with lead capture)."""
        ctx = _ctx()
        return service.login(ctx.sessions, ctx.tables, ctx.audit, ctx.service, creds["email"], creds["password"],
                             _address(), ctx.session_ttl)


@auth_blp.route("/auth/logout")
class Logout(MethodView):
    @auth_blp.response(204)
    def post(self):
        """Revoke the token this request was made with."""
        ctx, me = _ctx(), current_principal()
        with ctx.sessions.begin() as session:
            service.revoke_token(session, ctx.tables, ctx.audit, me, me.token_id)


@auth_blp.route("/me")
class Me(MethodView):
    @auth_blp.response(200, MeSchema)
    def get(self):
        """Who you are, your roles and what they allow."""
        ctx, me = _ctx(), current_principal()
        with ctx.sessions.begin() as session:
            user = service.get_user(session, ctx.tables, me.user_id)
        return {**user, "permissions": sorted(me.permissions), "token_id": me.token_id}


@auth_blp.route("/me/tokens")
class MyTokens(MethodView):
    @auth_blp.response(200, TokenSchema(many=True))
    def get(self):
        """Your sessions and personal API tokens (never their secret)."""
        ctx = _ctx()
        with ctx.sessions.begin() as session:
            return service.list_tokens(session, ctx.tables, current_principal().user_id)

    @auth_blp.arguments(TokenCreateSchema)
    @auth_blp.response(201, TokenIssuedSchema)
    def post(self, data):
        """Create a personal API token for an integration; the secret is shown only in this answer."""
        ctx = _ctx()
        with ctx.sessions.begin() as session:
            return service.create_personal_token(session, ctx.tables, ctx.audit, ctx.service, current_principal(),
                                                 data["name"], data["expires_at"])


@auth_blp.route("/me/tokens/<uuid:token_id>")
class MyToken(MethodView):
    @auth_blp.response(204)
    def delete(self, token_id):
        """Revoke one of your tokens."""
        ctx = _ctx()
        with ctx.sessions.begin() as session:
            service.revoke_token(session, ctx.tables, ctx.audit, current_principal(), token_id)


@users_blp.route("")
class Users(MethodView):
    @requires("users:read")
    @users_blp.arguments(UserListArgs, location="query")
    @users_blp.response(200, UserPageSchema)
    def get(self, args):
        """List users (search with q, filter by role or is_active)."""
        ctx = _ctx()
        with ctx.sessions.begin() as session:
            return service.list_users(session, ctx.tables, args)

    @requires("users:create")
    @users_blp.arguments(UserCreateSchema)
    @users_blp.response(201, UserSchema)
    def post(self, data):
        """Create a user with roles."""
        ctx = _ctx()
        with ctx.sessions.begin() as session:
            return service.create_user(session, ctx.tables, ctx.audit, data["email"], data["name"], data["password"],
                                       data["roles"], current_principal())


@users_blp.route("/<uuid:user_id>")
class UserById(MethodView):
    @requires("users:read")
    @users_blp.response(200, UserSchema, headers=ETAG_HEADER)
    def get(self, user_id):
        ctx = _ctx()
        with ctx.sessions.begin() as session:
            user = service.get_user(session, ctx.tables, user_id)
        return user, 200, {"ETag": service.user_etag(user)}

    @requires("users:update")
    @if_match_required
    @users_blp.arguments(UserUpdateSchema)
    @users_blp.doc(parameters=[IF_MATCH])
    @users_blp.response(200, UserSchema, headers=ETAG_HEADER)
    @users_blp.alt_response(409, description="Another user has this email, or no administrator would be left")
    @users_blp.alt_response(412, description="The user changed since your GET (If-Match is stale)")
    @users_blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, user_id):
        """Change name, email, roles or password, or deactivate (which revokes every token of the user).
        Send If-Match with the ETag of your GET."""
        ctx, expected = _ctx(), etag.required_etag()
        with ctx.sessions.begin() as session:
            user = service.update_user(session, ctx.tables, ctx.audit, user_id, changes, current_principal(),
                                       expected)
        return user, 200, {"ETag": service.user_etag(user)}


@roles_blp.route("")
class Roles(MethodView):
    @requires("roles:read")
    @roles_blp.response(200, RoleSchema(many=True))
    def get(self):
        """Built-in and custom roles."""
        ctx = _ctx()
        with ctx.sessions.begin() as session:
            return service.list_roles(session, ctx.tables)

    @requires("roles:create")
    @roles_blp.arguments(RoleCreateSchema)
    @roles_blp.response(201, RoleSchema)
    def post(self, data):
        """Create a custom role from permissions (see /roles/permissions)."""
        ctx = _ctx()
        with ctx.sessions.begin() as session:
            return service.create_role(session, ctx.tables, ctx.audit, ctx.catalog, data, current_principal())


@roles_blp.route("/permissions")
class Permissions(MethodView):
    @requires("roles:read")
    @roles_blp.response(200, PermissionsSchema)
    def get(self):
        """Every permission this service knows (module:action)."""
        return {"permissions": list(_ctx().catalog.permissions)}


@roles_blp.route("/<string:name>")
class RoleByName(MethodView):
    @requires("roles:read")
    @roles_blp.response(200, RoleSchema, headers=ETAG_HEADER)
    def get(self, name):
        ctx = _ctx()
        with ctx.sessions.begin() as session:
            role = service.get_role(session, ctx.tables, name)
        return role, 200, {"ETag": service.role_etag(role)}

    @requires("roles:update")
    @if_match_required
    @roles_blp.arguments(RoleUpdateSchema)
    @roles_blp.doc(parameters=[IF_MATCH])
    @roles_blp.response(200, RoleSchema, headers=ETAG_HEADER)
    @roles_blp.alt_response(409, description="A built-in role, or no administrator would be left")
    @roles_blp.alt_response(412, description="The role changed since your GET (If-Match is stale)")
    @roles_blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, name):
        """Change a custom role (built-in roles follow the code). Send If-Match with the ETag of your GET."""
        ctx, expected = _ctx(), etag.required_etag()
        with ctx.sessions.begin() as session:
            role = service.update_role(session, ctx.tables, ctx.audit, ctx.catalog, name, changes,
                                       current_principal(), expected)
        return role, 200, {"ETag": service.role_etag(role)}

    @requires("roles:delete")
    @roles_blp.response(204)
    def delete(self, name):
        ctx = _ctx()
        with ctx.sessions.begin() as session:
            service.delete_role(session, ctx.tables, ctx.audit, name, current_principal())


@audit_blp.route("")
class Audit(MethodView):
    @requires("audit:read")
    @audit_blp.arguments(AuditArgs, location="query")
    @audit_blp.response(200, AuditPageSchema)
    def get(self, args):
        """The audit trail, newest first; filter by record (entity_type + entity_id), actor or action.

        Only entries about records the caller may see; login addresses only to administrators."""
        ctx, me = _ctx(), current_principal()
        scope = None if me.is_admin or ctx.audit_scope is None else ctx.audit_scope(me, ctx.audit)
        with ctx.sessions.begin() as session:
            return audit.query(session, ctx.audit, args, args["page"], args["page_size"], scope=scope,
                               show_addresses=me.is_admin)
