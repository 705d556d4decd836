"""Use cases of identity and access: users, roles, login, tokens."""

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, text, true, update
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session, sessionmaker

from .. import audit, etag
from ..pagination import apply_sort, paginate
from ..problems import NotFound, Problem, field_error
from . import secrets
from .principal import Principal
from .tables import AuthTables

MIN_PASSWORD = 10
FAILURE_WINDOW = timedelta(minutes=15)  # failures older than this are forgotten
FREE_FAILURES_PER_PAIR = 5  # one account from one address: then 1 s, 2 s, 4 s ... between tries
FREE_FAILURES_PER_ADDRESS = 20  # one address, whatever the accounts
FREE_FAILURES_PER_ACCOUNT = 20  # one account from many addresses (only addresses that failed on it wait)
MAX_DELAY = timedelta(minutes=15)


@dataclass(frozen=True)
class RoleCatalog:
    """The permissions a service knows and its built-in roles (name -> (description, permissions))."""

    service: str
    permissions: tuple[str, ...]
    builtin: dict[str, tuple[str, tuple[str, ...]]]

    def check(self, permissions: list[str], field: str = "permissions") -> None:
        modules = {p.split(":", 1)[0] for p in self.permissions}
        for p in permissions:
            module = p.split(":", 1)[0]
            ok = p in self.permissions or p == "*" or p == "*:read" or (p.endswith(":*") and module in modules)
            if not ok:
                raise field_error(field, f"unknown permission {p!r}; see GET /api/v1/roles/permissions")


def seed_roles(session: Session, t: AuthTables, catalog: RoleCatalog) -> None:
    """Create or refresh the built-in roles (their permissions follow the code, not edits)."""
    from sqlalchemy.dialects.postgresql import insert
    for name, (description, perms) in catalog.builtin.items():
        stmt = insert(t.roles).values(name=name, description=description, permissions=list(perms), builtin=True)
        session.execute(stmt.on_conflict_do_update(
            index_elements=["name"], set_={"description": description, "permissions": list(perms), "builtin": True}))


# -- users ---------------------------------------------------------------------------------------

def _roles_of(session: Session, t: AuthTables, user_ids: list[str]) -> dict[str, list[str]]:
    rows = session.execute(select(t.user_roles.c.user_id, t.user_roles.c.role)
                           .where(t.user_roles.c.user_id.in_(user_ids)).order_by(t.user_roles.c.role)).all()
    out: dict[str, list[str]] = {u: [] for u in user_ids}
    for r in rows:
        out[r.user_id].append(r.role)
    return out


def _user_view(session: Session, t: AuthTables, row) -> dict:
    view = {k: v for k, v in row._mapping.items() if k != "password_hash"}
    view["roles"] = _roles_of(session, t, [row.id])[row.id]
    return view


def _check_roles(session: Session, t: AuthTables, roles: list[str]) -> None:
    known = set(session.execute(select(t.roles.c.name).where(t.roles.c.name.in_(roles))).scalars())
    unknown = sorted(set(roles) - known)
    if unknown:
        raise field_error("roles", f"unknown role(s): {', '.join(unknown)}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise field_error("password", f"at least {MIN_PASSWORD} characters")


def create_user(session: Session, t: AuthTables, audit_t, email: str, name: str, password: str,
                roles: list[str], actor) -> dict:
    _check_password(password)
    _check_roles(session, t, roles)
    if session.execute(select(t.users.c.id).where(func.lower(t.users.c.email) == email.lower())).first():
        raise Problem(409, "Email already used", f"A user with email {email} exists.", "conflict",
                      errors=[{"field": "email", "message": "already used"}])
    user_id = str(uuid.uuid4())
    session.execute(t.users.insert().values(id=user_id, email=email, name=name,
                                            password_hash=secrets.hash_password(password)))
    for role in sorted(set(roles)):
        session.execute(t.user_roles.insert().values(user_id=user_id, role=role))
    view = get_user(session, t, user_id)
    audit.record(session, audit_t, actor, "create", "user", user_id, None,
                 {k: view[k] for k in ("email", "name", "is_active", "roles")})
    return view


def get_user(session: Session, t: AuthTables, user_id: str) -> dict:
    row = session.execute(select(t.users).where(t.users.c.id == str(user_id))).first()
    if row is None:
        raise NotFound("user", user_id)
    return _user_view(session, t, row)


def list_users(session: Session, t: AuthTables, args: dict) -> dict:
    stmt = select(t.users)
    if args.get("q"):
        like = f"%{args['q'].lower()}%"
        stmt = stmt.where(or_(func.lower(t.users.c.email).like(like), func.lower(t.users.c.name).like(like)))
    if args.get("role"):
        stmt = stmt.where(t.users.c.id.in_(select(t.user_roles.c.user_id).where(t.user_roles.c.role == args["role"])))
    if args.get("is_active") is not None:
        stmt = stmt.where(t.users.c.is_active == args["is_active"])
    stmt = apply_sort(stmt, args.get("sort"), {"email": func.lower(t.users.c.email), "name": t.users.c.name,
                                               "created_at": t.users.c.created_at}, [func.lower(t.users.c.email)])
    page = paginate(session, stmt, args["page"], args["page_size"],
                    entities=False)
    roles = _roles_of(session, t, [u["id"] for u in page["items"]])
    for u in page["items"]:
        u.pop("password_hash", None)
        u["roles"] = roles[u["id"]]
    return page


def _active_admins(session: Session, t: AuthTables) -> set[str]:
    admin_roles = select(t.roles.c.name).where(t.roles.c.permissions.contains(["*"]))
    return set(session.execute(
        select(t.users.c.id).join(t.user_roles, t.user_roles.c.user_id == t.users.c.id)
        .where(t.users.c.is_active, t.user_roles.c.role.in_(admin_roles))).scalars())


def _keep_an_admin(session: Session, t: AuthTables, admins_before: set[str]) -> None:
    """Refuse a change that would leave the service without an active administrator."""
    if admins_before and not _active_admins(session, t):
        raise Problem(409, "Last administrator", "This change would leave no active administrator.", "conflict")


def user_etag(user: dict) -> str:
    return etag.content_etag({k: user.get(k) for k in ("id", "email", "name", "is_active", "roles", "updated_at")})


def role_etag(role: dict) -> str:
    return etag.content_etag({k: role.get(k) for k in ("name", "description", "permissions", "builtin")})


def update_user(session: Session, t: AuthTables, audit_t, user_id: str, changes: dict, actor,
                expected_etag: str | None = None) -> dict:
    """Change a user; with `expected_etag` (the request's If-Match), only if nobody changed it meanwhile."""
    session.execute(select(t.users.c.id).where(t.users.c.id == str(user_id)).with_for_update())
    before = get_user(session, t, user_id)
    if expected_etag is not None:
        etag.check_etag(user_etag(before), expected_etag)
    if "email" in changes and session.execute(select(t.users.c.id).where(
            func.lower(t.users.c.email) == changes["email"].lower(), t.users.c.id != str(user_id))).first():
        raise Problem(409, "Email taken", "Another user has this email.", "conflict",
                      errors=[{"field": "email", "message": "already used by another user"}])
    admins_before = _active_admins(session, t)
    values = {k: changes[k] for k in ("name", "is_active", "email") if k in changes}
    if "password" in changes:
        _check_password(changes["password"])
        values["password_hash"] = secrets.hash_password(changes["password"])
    if values:
        session.execute(update(t.users).where(t.users.c.id == str(user_id)).values(**values, updated_at=func.now()))
    if "roles" in changes:
        _check_roles(session, t, changes["roles"])
        session.execute(delete(t.user_roles).where(t.user_roles.c.user_id == str(user_id)))
        for role in sorted(set(changes["roles"])):
            session.execute(t.user_roles.insert().values(user_id=str(user_id), role=role))
    _keep_an_admin(session, t, admins_before)
    if changes.get("is_active") is False or "password" in changes:
        # a deactivated user, or one whose password was reset, loses every open session and token
        session.execute(update(t.api_tokens).where(t.api_tokens.c.user_id == str(user_id),
                                                   t.api_tokens.c.revoked_at.is_(None)).values(revoked_at=func.now()))
    after = get_user(session, t, user_id)
    fields = ("email", "name", "is_active", "roles")
    audit.record(session, audit_t, actor, "update", "user", user_id, {k: before[k] for k in fields},
                 {k: after[k] for k in fields} | ({"password": "(changed)"} if "password" in changes else {}))
    return after


# -- login and tokens ----------------------------------------------------------------------------

def _failures(session: Session, t: AuthTables, since: datetime, *conditions) -> tuple[int, datetime | None]:
    """How many failed logins match, and the latest, within the window."""
    f = t.login_failures
    count, last = session.execute(select(func.count(), func.max(f.c.at)).where(f.c.at > since, *conditions)).one()
    return count, last


def _delay(count: int, last: datetime | None, free: int, now: datetime) -> int:
    """Seconds still to wait: none for the first `free` failures, then 1, 2, 4 ... up to MAX_DELAY after the last."""
    if count < free or last is None:
        return 0
    wait = min(2 ** (count - free), MAX_DELAY.total_seconds())
    left = (last + timedelta(seconds=wait) - now).total_seconds()
    return max(0, math.ceil(left))


def login_delay(session: Session, t: AuthTables, email_key: str, address: str, now: datetime) -> int:
    """Growing delays instead of a lock: per account and address pair, per address (whatever the account), and
    per account across addresses, but the last only for addresses that failed on it themselves, so failures
    sent from elsewhere never keep the owner out."""
    since = now - FAILURE_WINDOW
    f = t.login_failures
    pair = _failures(session, t, since, f.c.email == email_key, f.c.address == address)
    by_address = _failures(session, t, since, f.c.address == address)
    waits = [_delay(*pair, FREE_FAILURES_PER_PAIR, now), _delay(*by_address, FREE_FAILURES_PER_ADDRESS, now)]
    if pair[0]:
        waits.append(_delay(*_failures(session, t, since, f.c.email == email_key), FREE_FAILURES_PER_ACCOUNT, now))
    return max(waits)


def login(sessions: sessionmaker, t: AuthTables, audit_t, service: str, email: str, password: str,
          address: str, ttl: timedelta) -> dict:
    """Check the password (rate-limited per account and per address) and open a session token."""
    email_key = email.lower()
    now = datetime.now(UTC)
    with sessions.begin() as session:
        wait = login_delay(session, t, email_key, address, now)
        if wait:
            raise Problem(429, "Too many failed logins", f"Try again in {wait} seconds.", "rate-limited",
                          headers={"Retry-After": str(wait)})
        row = session.execute(select(t.users).where(func.lower(t.users.c.email) == email_key)).first()
        ok = secrets.verify_password(row.password_hash if row else None, password) and row.is_active
        if ok:
            # only this address's failures are forgiven: the owner logging in does not reset a guesser elsewhere
            session.execute(delete(t.login_failures).where(t.login_failures.c.email == email_key,
                                                           t.login_failures.c.address == address))
            plaintext, token = issue_token(session, t, service, row.id, "session", "login", now + ttl)
            actor = Principal(row.id, row.email, row.name, token["id"])
            audit.record(session, audit_t, actor, "login", "user", row.id, changes={"address": address})
            return {**token, "token": plaintext, "token_type": "Bearer", "user": _user_view(session, t, row)}
    with sessions.begin() as session:
        session.execute(t.login_failures.insert().values(email=email_key, address=address))
    raise Problem(401, "Unauthenticated", "Invalid email or password.", "invalid-credentials",
                  headers={"WWW-Authenticate": 'Bearer realm="api"'})


def issue_token(session: Session, t: AuthTables, service: str, user_id: str, kind: str, name: str,
           expires_at: datetime | None) -> tuple[str, dict]:
    plaintext, prefix, digest = secrets.new_token(service, kind)
    token_id = str(uuid.uuid4())
    session.execute(t.api_tokens.insert().values(id=token_id, user_id=user_id, kind=kind, name=name, prefix=prefix,
                                                 token_hash=digest, expires_at=expires_at))
    row = session.execute(select(t.api_tokens).where(t.api_tokens.c.id == token_id)).one()
    return plaintext, _token_view(row)


def _token_view(row) -> dict:
    return {k: v for k, v in row._mapping.items() if k != "token_hash"}


def create_personal_token(session: Session, t: AuthTables, audit_t, service: str, actor: Principal, name: str,
                          expires_at: datetime | None) -> dict:
    if expires_at is not None and expires_at <= datetime.now(UTC):
        raise field_error("expires_at", "must be in the future")
    plaintext, token = issue_token(session, t, service, actor.user_id, "personal", name, expires_at)
    audit.record(session, audit_t, actor, "create", "api_token", token["id"],
                 None, {"name": name, "expires_at": expires_at, "user_id": actor.user_id})
    return {**token, "token": plaintext, "token_type": "Bearer"}


def list_tokens(session: Session, t: AuthTables, user_id: str) -> list[dict]:
    rows = session.execute(select(t.api_tokens).where(t.api_tokens.c.user_id == user_id)
                           .order_by(t.api_tokens.c.created_at.desc())).all()
    return [_token_view(r) for r in rows]


def revoke_token(session: Session, t: AuthTables, audit_t, actor: Principal, token_id: str) -> None:
    """Revoke one of the caller's own tokens (an unknown or foreign id is simply not found)."""
    done = session.execute(update(t.api_tokens).where(
        t.api_tokens.c.id == str(token_id), t.api_tokens.c.user_id == actor.user_id,
        t.api_tokens.c.revoked_at.is_(None)).values(revoked_at=func.now()).returning(t.api_tokens.c.id)).first()
    if done is None:
        exists = session.execute(select(t.api_tokens.c.id).where(
            t.api_tokens.c.id == str(token_id), t.api_tokens.c.user_id == actor.user_id)).first()
        if exists is None:
            raise NotFound("token", token_id)
        return
    audit.record(session, audit_t, actor, "revoke", "api_token", str(token_id), changes={})


def _principal_columns(t: AuthTables) -> list:
    """The user's id, email, name, role names and the permissions those roles grant, as scalar subqueries."""
    ur, roles = t.user_roles, t.roles
    role_names = (select(func.coalesce(func.array_agg(aggregate_order_by(ur.c.role, ur.c.role)), text("'{}'")))
                  .where(ur.c.user_id == t.users.c.id).scalar_subquery())
    granted = func.unnest(roles.c.permissions).table_valued("permission").render_derived(name="granted").lateral()
    permissions = (select(func.coalesce(func.array_agg(granted.c.permission.distinct()), text("'{}'")))
                   .select_from(ur.join(roles, roles.c.name == ur.c.role).join(granted, true()))
                   .where(ur.c.user_id == t.users.c.id).scalar_subquery())
    return [t.users.c.id, t.users.c.email, t.users.c.name, role_names.label("roles"), permissions.label("permissions")]


def resolve(session: Session, t: AuthTables, plaintext: str) -> Principal | None:
    """The principal a bearer token stands for, or None if it is unknown, expired, revoked or its user inactive.

    One indexed query reads the token, its user, the user's roles and their permissions; "last used" is written
    at most once a minute per token."""
    now = datetime.now(UTC)
    row = session.execute(
        select(t.api_tokens.c.id.label("token_id"), t.api_tokens.c.last_used_at, t.api_tokens.c.expires_at,
               *_principal_columns(t))
        .join(t.users, t.users.c.id == t.api_tokens.c.user_id)
        .where(t.api_tokens.c.token_hash == secrets.token_hash(plaintext), t.api_tokens.c.revoked_at.is_(None),
               or_(t.api_tokens.c.expires_at.is_(None), t.api_tokens.c.expires_at > now), t.users.c.is_active)
    ).first()
    if row is None:
        return None
    if row.last_used_at is None or now - row.last_used_at > timedelta(minutes=1):
        session.execute(update(t.api_tokens).where(t.api_tokens.c.id == row.token_id).values(last_used_at=now))
    return Principal(row.id, row.email, row.name, row.token_id, frozenset(row.roles or ()),
                     frozenset(row.permissions or ()), row.expires_at)


def user_principal(session: Session, t: AuthTables, user_id: str, token_id: str | None = None) -> Principal | None:
    """The principal of an active user with the roles they hold now, for work done later on their behalf (a queued
    import); None if the user is gone or deactivated."""
    row = session.execute(select(*_principal_columns(t)).where(t.users.c.id == user_id, t.users.c.is_active)).first()
    if row is None:
        return None
    return Principal(row.id, row.email, row.name, token_id, frozenset(row.roles or ()),
                     frozenset(row.permissions or ()))


# -- roles ---------------------------------------------------------------------------------------

def list_roles(session: Session, t: AuthTables) -> list[dict]:
    return [dict(r._mapping) for r in session.execute(select(t.roles).order_by(t.roles.c.name))]


def get_role(session: Session, t: AuthTables, name: str) -> dict:
    row = session.execute(select(t.roles).where(t.roles.c.name == name)).first()
    if row is None:
        raise NotFound("role", name)
    return dict(row._mapping)


def create_role(session: Session, t: AuthTables, audit_t, catalog: RoleCatalog, data: dict, actor) -> dict:
    catalog.check(data["permissions"])
    if session.execute(select(t.roles.c.name).where(t.roles.c.name == data["name"])).first():
        raise Problem(409, "Role exists", f"A role named {data['name']} exists.", "conflict",
                      errors=[{"field": "name", "message": "already used"}])
    values = {"name": data["name"], "description": data.get("description", ""),
              "permissions": sorted(set(data["permissions"])), "builtin": False}
    session.execute(t.roles.insert().values(**values))
    audit.record(session, audit_t, actor, "create", "role", data["name"], None, values)
    return get_role(session, t, data["name"])


def _custom_role(session: Session, t: AuthTables, name: str) -> dict:
    role = get_role(session, t, name)
    if role["builtin"]:
        raise Problem(409, "Built-in role", f"{name} is built in; create a custom role instead.", "conflict")
    return role


def update_role(session: Session, t: AuthTables, audit_t, catalog: RoleCatalog, name: str, changes: dict,
                actor, expected_etag: str | None = None) -> dict:
    session.execute(select(t.roles.c.name).where(t.roles.c.name == name).with_for_update())
    before = _custom_role(session, t, name)
    if expected_etag is not None:
        etag.check_etag(role_etag(before), expected_etag)
    if not changes:
        raise field_error("(body)", "send at least one field to change")
    admins_before = _active_admins(session, t)
    if "permissions" in changes:
        catalog.check(changes["permissions"])
        changes = {**changes, "permissions": sorted(set(changes["permissions"]))}
    session.execute(update(t.roles).where(t.roles.c.name == name).values(**changes))
    _keep_an_admin(session, t, admins_before)
    after = get_role(session, t, name)
    audit.record(session, audit_t, actor, "update", "role", name, before, after)
    return after


def delete_role(session: Session, t: AuthTables, audit_t, name: str, actor) -> None:
    before = _custom_role(session, t, name)
    admins_before = _active_admins(session, t)
    session.execute(delete(t.roles).where(t.roles.c.name == name))
    _keep_an_admin(session, t, admins_before)
    audit.record(session, audit_t, actor, "delete", "role", name, before, None)


def ensure_admin(session: Session, t: AuthTables, audit_t, email: str, name: str, password: str,
                 admin_role: str = "admin") -> tuple[dict, bool]:
    """Create the first administrator (or give an existing user the admin role); returns (user, created)."""
    row = session.execute(select(t.users).where(func.lower(t.users.c.email) == email.lower())).first()
    if row is None:
        return create_user(session, t, audit_t, email, name, password, [admin_role], "cli"), True
    before = get_user(session, t, row.id)
    _check_password(password)
    exists = session.execute(select(t.user_roles).where(and_(t.user_roles.c.user_id == row.id,
                                                             t.user_roles.c.role == admin_role))).first()
    if not exists:
        session.execute(t.user_roles.insert().values(user_id=row.id, role=admin_role))
    # the operator who runs this wants a working admin account: active, with the password just given
    session.execute(update(t.users).where(t.users.c.id == row.id).values(
        is_active=True, password_hash=secrets.hash_password(password), updated_at=func.now()))
    after = get_user(session, t, row.id)
    fields = ("email", "name", "is_active", "roles")
    audit.record(session, audit_t, "cli", "grant_admin", "user", row.id, {k: before[k] for k in fields},
                 {k: after[k] for k in fields} | {"password": "(set)"})
    return after, False
