"""Use cases of bank accounts and cash boxes: open one (IBAN and BIC checked, a ledger account of its own, the
opening balance posted), change what may change, its balance as of any date and its movements between two dates,
both read from the ledger lines of its ledger account."""

from datetime import UTC, date, datetime
from decimal import Decimal

from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from servicekit import audit
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ..db import audit_log
from ..ledger import accounts as chart
from ..ledger.models import Account, JournalEntry, JournalLine
from ..ledger.service import resolve_accounts
from ..money import cents
from ..payments.models import BankAccount
from . import postings
from .models import BankReconciliationItem

ZERO = Decimal("0.00")
AUDITED = ("name", "kind", "iban", "bic", "currency", "ledger_account", "opening_balance", "opening_date",
           "writeoff_limit", "active")
UPDATABLE = ("name", "bic", "writeoff_limit", "active")


def _now() -> datetime:
    return datetime.now(UTC)


def checked_iban(value: str | None, field: str = "iban") -> str | None:
    """The IBAN in its compact form; 422 naming the field with schwifty's reason (checksum, length, country)."""
    if not (value or "").strip():
        return None
    try:
        return IBAN(value).compact
    except SchwiftyException as e:
        raise field_error(field, f"not a valid IBAN: {e}") from None


def checked_bic(value: str | None, iban: str | None) -> str | None:
    if not (value or "").strip():
        return None
    try:
        bic = BIC(value.strip())
    except SchwiftyException as e:
        raise field_error("bic", f"not a valid BIC: {e}") from None
    if iban and bic.country_code != iban[:2]:
        raise field_error("bic", f"the BIC is of a bank in {bic.country_code}, the IBAN of an account in {iban[:2]}")
    return bic.compact


def account_row(session: Session, account_id, lock: bool = False) -> BankAccount:
    stmt = select(BankAccount).where(BankAccount.id == str(account_id))
    account = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if account is None:
        raise NotFound("bank account", account_id)
    return account


def usable_account(session: Session, account_id, field: str) -> BankAccount:
    """An active account named in a request body: 422 naming the field otherwise."""
    account = session.get(BankAccount, str(account_id))
    if account is None or not account.active or account.kind == "cheques":
        raise field_error(field, f"no active bank account or cash box with id {account_id}")
    return account


def resolve_one(session: Session, name: str, field: str) -> Account:
    """The ledger account of a code or role named in `field`; 422 naming that field otherwise."""
    try:
        return resolve_accounts(session, [name], field=field)[0]
    except Problem as e:
        raise field_error(field, e.errors[0]["message"] if e.errors else e.detail) from None


def ledger_account_of(session: Session, account: BankAccount) -> Account:
    return resolve_accounts(session, [account.ledger_account], field="ledger_account", allow_inactive=True)[0]


def _own_ledger_account(session: Session, kind: str, name: str, actor) -> str:
    """A new child of the bank (or cash) account, 512001, 512002...: each account's balance is its own."""
    parent = resolve_accounts(session, ["bank" if kind == "bank" else "cash"])[0]
    prefix = parent.code[:3]
    taken = set(session.execute(select(Account.code).where(Account.code.like(f"{prefix}___"))).scalars())
    code = next((f"{prefix}{n:03d}" for n in range(1, 1000) if f"{prefix}{n:03d}" not in taken), None)
    if code is None:
        raise Problem(409, "No account code left", f"Every account code {prefix}001 to {prefix}999 is taken: name "
                      "the ledger account.", "conflict", errors=[{"field": "ledger_account", "message": "required"}])
    chart.create_account(session, {"code": code, "name": f"{parent.name}: {name}"[:200], "type": "asset",
                                   "reconcilable": kind == "bank", "parent_id": parent.id}, actor)
    return code


def _named_ledger_account(session: Session, name: str) -> str:
    account = resolve_one(session, name.strip(), "ledger_account")
    if account.type != "asset":
        raise field_error("ledger_account", f"account {account.code} is a {account.type} account, not an asset")
    for other in session.execute(select(BankAccount)).scalars():
        if ledger_account_of(session, other).id == account.id:
            raise field_error("ledger_account", f"account {account.code} already holds {other.name}: every bank "
                              "account and cash box needs its own ledger account")
    return account.code


def account_view(session: Session, account: BankAccount, as_of: date | None = None) -> dict:
    view = row_view(account)
    view["ledger_account_code"] = ledger_account_of(session, account).code
    view["balance"] = balance_of(session, account, as_of or _now().date())
    return view


def open_account(session: Session, data: dict, actor) -> dict:
    """A bank account or cash box with its own ledger account (or the one named, used by no other account) and
    its opening balance posted on its opening date against opening balance equity."""
    name, kind = data["name"].strip(), data.get("kind") or "bank"
    if session.execute(select(BankAccount.id).where(func.lower(BankAccount.name) == name.lower())).first():
        raise Problem(409, "Bank account exists", f"A bank account or cash box named {name!r} exists.", "conflict",
                      errors=[{"field": "name", "message": "already used"}])
    iban = checked_iban(data.get("iban"))
    bic = checked_bic(data.get("bic"), iban)
    if kind == "cash" and (iban or bic):
        raise field_error("iban" if iban else "bic", "a cash box has no IBAN or BIC")
    opening = cents(data.get("opening_balance") or ZERO)
    opening_date = data.get("opening_date")
    if opening != 0 and opening_date is None:
        raise field_error("opening_date", "required with an opening balance (the day it is posted)")
    ledger_account = (_named_ledger_account(session, data["ledger_account"]) if data.get("ledger_account")
                      else _own_ledger_account(session, kind, name, actor))
    account = BankAccount(name=name, kind=kind, iban=iban, bic=bic, currency=data.get("currency") or "EUR",
                          ledger_account=ledger_account, opening_balance=opening, opening_date=opening_date,
                          writeoff_limit=cents(data.get("writeoff_limit") or ZERO), active=True, version=1)
    session.add(account)
    session.flush()
    if opening != 0:
        postings.post(session, kind=kind, lines=postings.money_lines(
            ledger_account, "opening_balance", "in", opening, f"Opening balance of {name}", currency=account.currency),
            entry_date=opening_date, reference=f"Opening {name}"[:200], source_type="bank_account",
            source_id=account.id, purpose="opening", memo=f"Opening balance of {name}", actor=actor)
    audit.record(session, audit_log, actor, "create", "bank_account", account.id, None,
                 {k: getattr(account, k) for k in AUDITED})
    return account_view(session, account)


def update_account(session: Session, account_id, expected_version: int, changes: dict, actor) -> dict:
    """Rename, set the BIC or the write-off limit, close (active false) or reopen."""
    account = account_row(session, account_id, lock=True)
    check_version(account.version, expected_version)
    if account.kind == "cheques":
        raise Problem(409, "Cheque portfolio", f"{account.name} is the portfolio of cheques received: it is kept by "
                      "the cheques module.", "wrong-state")
    before = {k: getattr(account, k) for k in AUDITED}
    if "name" in changes:
        name = changes["name"].strip()
        clash = session.execute(select(BankAccount.id).where(func.lower(BankAccount.name) == name.lower(),
                                                             BankAccount.id != account.id)).first()
        if clash:
            raise field_error("name", "already used by another account", status=409, title="Conflict",
                              type_="conflict")
        account.name = name
    if "bic" in changes:
        if account.kind == "cash" and changes["bic"]:
            raise field_error("bic", "a cash box has no BIC")
        account.bic = checked_bic(changes["bic"], account.iban)
    if "writeoff_limit" in changes:
        account.writeoff_limit = cents(changes["writeoff_limit"])
    if "active" in changes:
        account.active = changes["active"]
    account.version += 1
    account.updated_at = _now()
    session.flush()
    audit.record(session, audit_log, actor, "update", "bank_account", account.id, before,
                 {k: getattr(account, k) for k in AUDITED})
    return account_view(session, account)


def get_account(session: Session, account_id) -> dict:
    return account_view(session, account_row(session, account_id))


def list_accounts(session: Session, kind: str | None = None) -> list[dict]:
    stmt = select(BankAccount).order_by(func.lower(BankAccount.name))
    if kind:
        stmt = stmt.where(BankAccount.kind == kind)
    return [account_view(session, a) for a in session.execute(stmt).scalars()]


# -- balances and movements ----------------------------------------------------------------------

def balance_of(session: Session, account: BankAccount, as_of: date) -> Decimal:
    """Debits less credits on the account's ledger account up to and including `as_of`."""
    ledger = ledger_account_of(session, account)
    return cents(session.execute(select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0)).where(
        JournalLine.account_id == ledger.id, JournalLine.entry_date <= as_of)).scalar_one())


def balance(session: Session, account_id, as_of: date | None) -> dict:
    account = account_row(session, account_id)
    as_of = as_of or _now().date()
    return {"bank_account_id": account.id, "name": account.name, "currency": account.currency, "as_of": as_of,
            "ledger_account": ledger_account_of(session, account).code, "balance": balance_of(session, account, as_of)}


MOVEMENT_LIMIT = 5000


def movements(session: Session, account_id, date_from: date | None, date_to: date | None) -> dict:
    """The account's movements between two dates with a running balance: the balance the day before `date_from`,
    every ledger line on its account (money in, money out, what posted it, whether a statement line explains
    it), the closing balance. At most 5,000 lines: ask for a shorter period beyond."""
    account = account_row(session, account_id)
    ledger = ledger_account_of(session, account)
    date_to = date_to or _now().date()
    date_from = date_from or date_to.replace(day=1)
    if date_from > date_to:
        raise field_error("from", "after 'to'")
    opening = cents(session.execute(select(func.coalesce(func.sum(JournalLine.debit - JournalLine.credit), 0)).where(
        JournalLine.account_id == ledger.id, JournalLine.entry_date < date_from)).scalar_one())
    rows = session.execute(
        select(JournalLine, JournalEntry.number, JournalEntry.reference, JournalEntry.source_type,
               JournalEntry.source_id, BankReconciliationItem.reconciliation_id)
        .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
        .outerjoin(BankReconciliationItem, BankReconciliationItem.journal_line_id == JournalLine.id)
        .where(and_(JournalLine.account_id == ledger.id, JournalLine.entry_date >= date_from,
                    JournalLine.entry_date <= date_to))
        .order_by(JournalLine.entry_date, JournalLine.id).limit(MOVEMENT_LIMIT + 1)).all()
    if len(rows) > MOVEMENT_LIMIT:
        raise field_error("from", f"more than {MOVEMENT_LIMIT} movements in this period: ask for a shorter one")
    running, lines = opening, []
    for line, number, reference, source_type, source_id, reconciliation_id in rows:
        running += line.debit - line.credit
        lines.append({"journal_line_id": line.id, "date": line.entry_date, "entry_id": line.entry_id,
                      "entry_number": number, "reference": reference, "description": line.description,
                      "source_type": source_type, "source_id": source_id, "money_in": line.debit,
                      "money_out": line.credit, "balance": running, "reconciliation_id": reconciliation_id})
    return {"bank_account_id": account.id, "name": account.name, "currency": account.currency,
            "ledger_account": ledger.code, "date_from": date_from, "date_to": date_to, "opening_balance": opening,
            "money_in": sum((x["money_in"] for x in lines), ZERO), "money_out": sum((x["money_out"] for x in lines),
                                                                                     ZERO),
            "closing_balance": running, "lines": lines}
