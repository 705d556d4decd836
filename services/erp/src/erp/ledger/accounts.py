"""The chart of accounts, the role mapping, the journals and the lock date: what accountants set up."""

from datetime import UTC, date, datetime

from servicekit import audit
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error
from shared_events.actors import actor_label
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import audit_log
from . import posting
from .models import Account, AccountMapping, Journal, JournalEntry, JournalLine
from .service import settings


def _chart_change(session: Session) -> None:
    """Lock the settings row before changing the chart: postings hold it (share) before their lines lock the
    accounts (foreign keys), and the chart's version trigger updates it, so both take the same order and a chart
    change waits for the postings in flight instead of deadlocking with them."""
    settings(session, lock="update")


ACCOUNT_FIELDS = ("code", "name", "type", "normal_side", "reconcilable", "party_required", "active", "parent_id",
                  "description")


def _account(session: Session, account_id, lock: bool = False) -> Account:
    stmt = select(Account).where(Account.id == str(account_id))
    account = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if account is None:
        raise NotFound("account", account_id)
    return account


def _has_postings(session: Session, account_id: str) -> bool:
    return session.execute(select(exists().where(JournalLine.account_id == account_id))).scalar()


def _roles_of(session: Session, account_id: str) -> list[str]:
    return list(session.execute(select(AccountMapping.role).where(AccountMapping.account_id == account_id)
                                .order_by(AccountMapping.role)).scalars())


def account_view(session: Session, account: Account) -> dict:
    view = row_view(account)
    view["roles"] = _roles_of(session, account.id)
    view["parent_code"] = session.get(Account, account.parent_id).code if account.parent_id else None
    return view


def _taken(code: str) -> Problem:
    return Problem(409, "Code taken", f"An account {code} already exists.", "conflict",
                   errors=[{"field": "code", "message": "already used by another account"}])


def _parent(session: Session, parent_id, account_id: str | None = None) -> str | None:
    if parent_id is None:
        return None
    parent = session.get(Account, str(parent_id))
    if parent is None:
        raise field_error("parent_id", f"no account with id {parent_id}")
    seen = parent
    while seen is not None:  # no cycles: an account is not its own ancestor
        if seen.id == account_id:
            raise field_error("parent_id", "an account cannot be its own ancestor")
        seen = session.get(Account, seen.parent_id) if seen.parent_id else None
    return parent.id


def create_account(session: Session, data: dict, actor) -> dict:
    _chart_change(session)
    values = {k: data[k] for k in ACCOUNT_FIELDS if k in data}
    values["normal_side"] = data.get("normal_side") or posting.NORMAL_SIDE[data["type"]]
    values["parent_id"] = _parent(session, data.get("parent_id"))
    account = Account(**values, version=1)
    try:
        with session.begin_nested():
            session.add(account)
            session.flush()
    except IntegrityError:
        raise _taken(data["code"]) from None
    audit.record(session, audit_log, actor, "create", "ledger_account", account.id, None,
                 {k: getattr(account, k) for k in ACCOUNT_FIELDS})
    return account_view(session, account)


def update_account(session: Session, account_id, expected_version: int, changes: dict, actor) -> dict:
    """Rename, regroup, flag or deactivate an account. Its code, type and normal side are fixed once it has
    postings (the reports of past periods would change); a mapped account is not deactivated."""
    _chart_change(session)
    account = _account(session, account_id, lock=True)
    check_version(account.version, expected_version)
    before = {k: getattr(account, k) for k in ACCOUNT_FIELDS}
    fixed = [k for k in ("code", "type", "normal_side") if k in changes and changes[k] != getattr(account, k)]
    if fixed and _has_postings(session, account.id):
        raise Problem(409, "Account has postings", f"{account.code} has postings: its {', '.join(fixed)} cannot "
                      "change. Create a new account and deactivate this one.", "account-in-use",
                      errors=[{"field": k, "message": "fixed once the account has postings"} for k in fixed])
    if changes.get("active") is False and account.active:
        roles = _roles_of(session, account.id)
        if roles:
            raise Problem(409, "Account is mapped", f"{account.code} books the roles {', '.join(roles)}: map them "
                          "to another account before deactivating it.", "account-in-use", roles=roles)
    if "parent_id" in changes:
        changes = {**changes, "parent_id": _parent(session, changes["parent_id"], account.id)}
    if "type" in changes and "normal_side" not in changes:
        changes = {**changes, "normal_side": posting.NORMAL_SIDE[changes["type"]]}
    for key, value in changes.items():
        setattr(account, key, value)
    account.version += 1
    account.updated_at = datetime.now(UTC)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise _taken(changes.get("code")) from None
    audit.record(session, audit_log, actor, "update", "ledger_account", account.id, before,
                 {k: getattr(account, k) for k in ACCOUNT_FIELDS})
    return account_view(session, account)


def delete_account(session: Session, account_id, actor) -> None:
    """Only an account nobody used: no postings, no draft line, no role, no sub-account; otherwise deactivate."""
    _chart_change(session)
    account = _account(session, account_id, lock=True)
    reasons = []
    if _has_postings(session, account.id):
        reasons.append("it has postings")
    if _roles_of(session, account.id):
        reasons.append("posting roles are mapped to it")
    if session.execute(select(exists().where(Account.parent_id == account.id))).scalar():
        reasons.append("it has sub-accounts")
    in_draft = select(exists().where(JournalEntry.status == "draft",
                                     JournalEntry.draft_lines.contains([{"account": account.code}])))
    if session.execute(in_draft).scalar():
        reasons.append("a draft entry uses it")
    if reasons:
        raise Problem(409, "Account in use", f"{account.code} cannot be deleted: {'; '.join(reasons)}. "
                      "Deactivate it instead (PATCH active=false).", "account-in-use")
    audit.record(session, audit_log, actor, "delete", "ledger_account", account.id,
                 {k: getattr(account, k) for k in ACCOUNT_FIELDS}, None)
    session.delete(account)
    session.flush()


def get_account(session: Session, account_id) -> dict:
    return account_view(session, _account(session, account_id))


SORTABLE = {"code": Account.code, "name": func.lower(Account.name), "type": Account.type}


def list_accounts(session: Session, args: dict) -> dict:
    stmt = select(Account)
    if args.get("type"):
        stmt = stmt.where(Account.type == args["type"])
    if args.get("active") is not None:
        stmt = stmt.where(Account.active == args["active"])
    if args.get("code"):
        stmt = stmt.where(Account.code == args["code"])
    if args.get("q"):
        q = args["q"].strip().lower()
        stmt = stmt.where(or_(Account.code.startswith(q, autoescape=True),
                              func.lower(Account.name).contains(q, autoescape=True)))
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE, [Account.code])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [account_view(session, a) for a in page["items"]]
    return page


# -- role mapping --------------------------------------------------------------------------------

def get_mapping(session: Session) -> list[dict]:
    rows = dict(session.execute(select(AccountMapping.role, Account.code)
                                .join(Account, Account.id == AccountMapping.account_id)).all())
    return [{"role": role, "account": rows.get(role), "description": description}
            for role, description in posting.ROLES.items()]


def update_mapping(session: Session, changes: dict[str, str], actor) -> list[dict]:
    """Point roles at other (active) accounts: {"revenue_goods": "707100", ...}."""
    _chart_change(session)
    before = {m["role"]: m["account"] for m in get_mapping(session)}
    for role, code in changes.items():
        if role not in posting.ROLES:
            raise field_error(role, f"not a posting role; use one of {', '.join(posting.ROLES)}")
        account = session.execute(select(Account).where(Account.code == code)).scalar_one_or_none()
        if account is None or not account.active:
            raise field_error(role, f"no active account {code!r}")
        mapping = session.get(AccountMapping, role, with_for_update=True)
        if mapping is None:
            session.add(AccountMapping(role=role, account_id=account.id, updated_by=actor_label(actor, "system")))
        else:
            mapping.account_id, mapping.updated_by = account.id, actor_label(actor, "system")
            mapping.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, audit_log, actor, "update", "ledger_account_mapping", "mapping", before,
                 {m["role"]: m["account"] for m in get_mapping(session)})
    return get_mapping(session)


# -- journals ------------------------------------------------------------------------------------

def list_journals(session: Session) -> list[dict]:
    return [row_view(j) for j in session.execute(select(Journal).order_by(Journal.code)).scalars()]


def create_journal(session: Session, data: dict, actor) -> dict:
    _chart_change(session)
    journal = Journal(code=data["code"].upper(), name=data["name"], type=data["type"], active=True)
    try:
        with session.begin_nested():
            session.add(journal)
            session.flush()
    except IntegrityError:
        raise Problem(409, "Code taken", f"A journal {journal.code} already exists.", "conflict",
                      errors=[{"field": "code", "message": "already used by another journal"}]) from None
    audit.record(session, audit_log, actor, "create", "ledger_journal", journal.id, None,
                 {"code": journal.code, "name": journal.name, "type": journal.type})
    return row_view(journal)


# -- period close --------------------------------------------------------------------------------

def settings_view(session: Session) -> dict:
    config = settings(session)
    return {c: getattr(config, c) for c in ("currency", "lock_date", "version", "updated_at", "updated_by")}


def set_lock_date(session: Session, lock_date: date | None, actor, is_admin: bool) -> dict:
    """Close the books up to `lock_date` (inclusive): later postings dated on or before it are refused. The date
    only moves forward, and not past today; an administrator may move it back (or clear it) to reopen a period."""
    config = settings(session, lock="update")
    current = config.lock_date
    today = datetime.now(UTC).date()
    if lock_date is not None and lock_date > today:
        raise field_error("lock_date", f"cannot be after today ({today.isoformat()}): close a period once it ended")
    backwards = current is not None and (lock_date is None or lock_date < current)
    if backwards and not is_admin:
        raise Problem(409, "Lock date moves forward only", f"The books are closed up to {current.isoformat()}; only "
                      "an administrator can reopen a closed period.", "lock-date-backwards",
                      errors=[{"field": "lock_date", "message": f"before the current lock date {current.isoformat()}"}],
                      lock_date=current.isoformat())
    config.lock_date, config.updated_by = lock_date, actor_label(actor, "system")
    config.updated_at = datetime.now(UTC)
    config.version += 1
    session.flush()
    audit.record(session, audit_log, actor, "reopen" if backwards else "lock", "ledger_settings", "1",
                 {"lock_date": current}, {"lock_date": lock_date})
    return settings_view(session)
