"""Use cases of statement import: read a file (camt.053, MT940, OFX, CSV with the account's saved mapping), check
it, and keep its new lines; all or nothing.

The checks that block a file: it reads in its format; it is of this account and currency; each statement's
opening balance plus its booked entries is its closing balance; it continues the previous statement (after the
lines already imported, its balance is where the previous statement closed); its electronic sequence number
follows the previous one without a gap. A line already imported (same bank reference, else EndToEndId, else the
same fingerprint: date, amount, counterparty, text and how many such lines the day had) is not imported again, so
re-importing a file or an overlapping one creates nothing twice; the lines already imported must then be the
file's first ones (an overlap, not a hole).
"""

import hashlib
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from servicekit import audit
from servicekit.db import row_view
from servicekit.problems import NotFound, Problem, field_error
from shared_events.actors import actor_label
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db import audit_log
from ..money import money_text
from ..payments.models import BankAccount
from . import formats
from .accounts import account_row
from .formats import csv_format
from .formats.model import ParsedLine, ParsedStatement, StatementError
from .models import BankCsvMapping, BankStatement, BankStatementLine

ZERO = Decimal("0.00")
NO_ID = {"", "NOTPROVIDED", "NONREF"}
LARGEST = Decimal(10) ** 15


def _now() -> datetime:
    return datetime.now(UTC)


def refused(message: str, line: int | None = None, field: str = "file") -> Problem:
    where = f"line {line}: " if line else ""
    error = {"field": field, "message": message}
    if line:
        error["location"] = f"line {line}"
    return Problem(422, "Statement refused", f"{where}{message}. Nothing was imported.", "statement-refused",
                   errors=[error])


# -- CSV mappings ---------------------------------------------------------------------------------

def save_csv_mapping(session: Session, account_id, mapping: dict, actor) -> dict:
    """Set how this account's bank writes its CSV export (a whole-value replacement)."""
    account = account_row(session, account_id, lock=True)
    try:
        csv_format.check_mapping(mapping)
    except ValueError as e:
        raise field_error("mapping", str(e)) from None
    row = session.get(BankCsvMapping, account.id)
    before = dict(row.mapping) if row else None
    if row is None:
        row = BankCsvMapping(bank_account_id=account.id, mapping=mapping, version=1)
        session.add(row)
    else:
        row.mapping, row.version = mapping, row.version + 1
    row.updated_by, row.updated_at = actor_label(actor), _now()
    session.flush()
    audit.record(session, audit_log, actor, "update", "bank_csv_mapping", account.id, before, mapping)
    return row_view(row)


def get_csv_mapping(session: Session, account_id) -> dict:
    row = session.get(BankCsvMapping, str(account_row(session, account_id).id))
    if row is None:
        raise NotFound("CSV mapping of bank account", account_id)
    return row_view(row)


# -- import ---------------------------------------------------------------------------------------

def dedup_keys(lines: list[ParsedLine]) -> list[str]:
    """Pure: what identifies each line across files: the bank's reference, else the EndToEndId, else a
    fingerprint that counts identical lines of the same day (two equal coffees are two lines)."""
    seen: Counter = Counter()
    keys = []
    for line in lines:
        if line.bank_reference and line.bank_reference.strip().upper() not in NO_ID:
            keys.append(f"ref:{line.bank_reference.strip()}"[:120])
            continue
        if line.end_to_end_id and line.end_to_end_id.strip().upper() not in NO_ID:
            keys.append(f"e2e:{line.end_to_end_id.strip()}|{line.amount}"[:120])
            continue
        base = "|".join(str(x or "") for x in (line.booking_date, line.amount, line.counterparty_name,
                                                line.counterparty_iban, line.remittance))
        seen[base] += 1
        keys.append("fp:" + hashlib.sha256(f"{base}|{seen[base]}".encode()).hexdigest()[:64])
    return keys


def _same_account(account: BankAccount, named: str | None) -> bool:
    if not named or not account.iban:
        return True  # nothing to compare: the caller chose the account
    named = named.replace(" ", "").upper()
    return named == account.iban or account.iban.endswith(named) or named in account.iban


def _last_statement(session: Session, account: BankAccount) -> BankStatement | None:
    return session.execute(select(BankStatement).where(BankStatement.bank_account_id == account.id)
                           .order_by(BankStatement.created_at.desc(), BankStatement.id.desc()).limit(1)
                           ).scalar_one_or_none()


def _check_balances(st: ParsedStatement, known: list[bool], previous: BankStatement | None,
                    account: BankAccount) -> None:
    """Fill in what a format leaves out (a CSV without balances continues where the previous statement closed,
    after its lines already imported) and check opening + entries = closing."""
    if st.opening_balance is None:
        first_new = next((i for i, k in enumerate(known) if not k), len(known))
        start = previous.closing_balance if previous else account.opening_balance
        st.opening_balance = start - sum((x.amount for x in st.lines[:first_new]), ZERO)
    if st.closing_balance is None:
        st.closing_balance = st.opening_balance + st.booked_total
    if st.opening_balance + st.booked_total != st.closing_balance:
        raise refused(f"the balances do not add up: opening {money_text(st.opening_balance)} + entries "
                      f"{money_text(st.booked_total)} = {money_text(st.opening_balance + st.booked_total)}, but the "
                      f"closing balance is {money_text(st.closing_balance)}", st.source_line, "closing_balance")


def _check_chain(st: ParsedStatement, known: list[bool], previous: BankStatement | None) -> int:
    """How many leading lines are imported already; refuses a hole, a broken chain or a missing sequence."""
    first_new = next((i for i, k in enumerate(known) if not k), len(known))
    later_known = next((i for i in range(first_new, len(known)) if known[i]), None)
    if later_known is not None:
        raise refused(f"this line was imported already but the line before it (line "
                      f"{st.lines[first_new].source_line or first_new + 1}) was not: the file does not continue "
                      "the statements imported", st.lines[later_known].source_line)
    if previous is None or first_new == len(known):
        return first_new
    start = st.opening_balance + sum((x.amount for x in st.lines[:first_new]), ZERO)
    if start != previous.closing_balance:
        after = f" (after the {first_new} lines already imported)" if first_new else ""
        raise refused(f"the statement opens at {money_text(start)}{after} but the previous statement closed at "
                      f"{money_text(previous.closing_balance)}: a statement is missing or the file is wrong",
                      st.source_line, "opening_balance")
    if st.electronic_sequence is not None and previous.electronic_sequence is not None and first_new == 0:
        if st.electronic_sequence != previous.electronic_sequence + 1:
            raise refused(f"electronic sequence number {st.electronic_sequence} does not follow "
                          f"{previous.electronic_sequence}: "
                          + ("statement " + ", ".join(str(n) for n in range(previous.electronic_sequence + 1,
                                                                              min(st.electronic_sequence,
                                                                                  previous.electronic_sequence + 6)))
                             + " is missing" if st.electronic_sequence > previous.electronic_sequence + 1
                             else "it was imported already or comes out of order"),
                          st.source_line, "electronic_sequence")
    return first_new


def import_statement(session: Session, account_id, data: bytes, file_name: str | None, fmt: str | None,
                     actor) -> dict:
    """Import a statement file into an account: every statement in it is checked, then its new lines kept; a
    refused file changes nothing. Returns what was imported and what was skipped."""
    account = account_row(session, account_id, lock=True)  # one import per account at a time
    if not account.active or account.kind == "cheques":
        raise Problem(409, "Account closed" if not account.active else "Cheque portfolio",
                      f"{account.name} {'is closed' if not account.active else 'receives no bank statement'}.",
                      "wrong-state")
    mapping = session.get(BankCsvMapping, account.id)
    try:
        statements = formats.parse(data, fmt, mapping.mapping if mapping else None, account.currency)
    except StatementError as e:
        raise refused(e.message, e.line) from None
    digest = hashlib.sha256(data).hexdigest()
    previous = _last_statement(session, account)
    report = {"bank_account_id": account.id, "format": statements[0].format, "statements": [], "lines_imported": 0,
              "lines_already_imported": 0, "pending_left_out": 0}
    for n, st in enumerate(statements):
        if not _same_account(account, st.account):
            raise refused(f"the statement is of account {st.account}, not {account.iban} ({account.name})",
                          st.source_line, "account")
        for value, where in [(st.opening_balance, st.source_line), (st.closing_balance, st.source_line)] + [
                (x.amount, x.source_line) for x in st.lines]:
            if value is not None and abs(value) >= LARGEST:
                raise refused(f"an amount of {value} is beyond what the books hold (below 10^15)", where)
        if st.electronic_sequence is not None and not 0 <= st.electronic_sequence < 10**15:
            raise refused(f"electronic sequence number {st.electronic_sequence} is out of range", st.source_line,
                          "electronic_sequence")
        if st.currency != account.currency:
            raise refused(f"the statement is in {st.currency}, {account.name} in {account.currency}",
                          st.source_line, "currency")
        keys = dedup_keys(st.lines)
        if len(set(keys)) != len(keys):
            twice = next(k for k in keys if keys.count(k) > 1)
            raise refused(f"two lines carry the same bank reference {twice.split(':', 1)[1]!r}",
                          st.lines[keys.index(twice)].source_line)
        found = set(session.execute(select(BankStatementLine.dedup_key).where(
            BankStatementLine.bank_account_id == account.id, BankStatementLine.dedup_key.in_(keys))).scalars())
        known = [k in found for k in keys]
        _check_balances(st, known, previous, account)
        first_new = _check_chain(st, known, previous)
        report["lines_already_imported"] += first_new
        report["pending_left_out"] += st.pending
        if first_new == len(st.lines):
            continue  # nothing new: the same statement again, or one the others covered
        opening = st.opening_balance + sum((x.amount for x in st.lines[:first_new]), ZERO)
        row = BankStatement(bank_account_id=account.id, format=st.format,
                            bank_statement_id=(st.statement_id or "")[:100] or None,
                            electronic_sequence=st.electronic_sequence, file_name=(file_name or "")[:300] or None,
                            file_sha256=digest, from_date=st.lines[first_new].booking_date
                            if first_new else (st.from_date or st.lines[0].booking_date), to_date=st.to_date,
                            currency=st.currency, opening_balance=opening, closing_balance=st.closing_balance,
                            line_count=len(st.lines) - first_new, created_by=actor_label(actor),
                            created_at=_now() + timedelta(microseconds=n))
        session.add(row)
        session.flush()
        session.add_all(_line_row(row, account, position, line, key) for position, (line, key) in enumerate(
            zip(st.lines[first_new:], keys[first_new:], strict=True), 1))
        session.flush()
        report["lines_imported"] += row.line_count
        report["statements"].append(row_view(row))
        previous = row
    if report["statements"]:
        audit.record(session, audit_log, actor, "import", "bank_statement", report["statements"][0]["id"], None,
                     {"file": file_name, "sha256": digest, "lines": report["lines_imported"],
                      "statements": [s["id"] for s in report["statements"]]})
    report["status"] = "imported" if report["statements"] else "already_imported"
    return report


def _line_row(statement: BankStatement, account: BankAccount, position: int, line: ParsedLine,
              key: str) -> BankStatementLine:
    return BankStatementLine(
        statement_id=statement.id, bank_account_id=account.id, position=position, booking_date=line.booking_date,
        value_date=line.value_date, amount=line.amount, currency=line.currency, reversal=line.reversal,
        bank_reference=(line.bank_reference or None) and line.bank_reference[:100],
        end_to_end_id=(line.end_to_end_id or None) and line.end_to_end_id[:100],
        counterparty_name=(line.counterparty_name or None) and line.counterparty_name[:200],
        counterparty_iban=(line.counterparty_iban or None) and line.counterparty_iban[:34],
        remittance=line.remittance, structured_reference=(line.structured_reference or None)
        and line.structured_reference[:100], details=line.details or None, dedup_key=key, reconciled=False,
        version=1)


# -- reading --------------------------------------------------------------------------------------

def list_statements(session: Session, account_id) -> list[dict]:
    account = account_row(session, account_id)
    rows = session.execute(select(BankStatement).where(BankStatement.bank_account_id == account.id)
                           .order_by(BankStatement.created_at.desc()).limit(500)).scalars()
    return [row_view(s) for s in rows]


def line_view(line: BankStatementLine) -> dict:
    return row_view(line)


def get_statement(session: Session, statement_id) -> dict:
    statement = session.get(BankStatement, str(statement_id))
    if statement is None:
        raise NotFound("bank statement", statement_id)
    view = row_view(statement)
    view["lines"] = [line_view(x) for x in session.execute(
        select(BankStatementLine).where(BankStatementLine.statement_id == statement.id)
        .order_by(BankStatementLine.position)).scalars()]
    return view


def list_lines(session: Session, account_id, reconciled: bool | None) -> list[dict]:
    account = account_row(session, account_id)
    stmt = select(BankStatementLine).where(BankStatementLine.bank_account_id == account.id)
    if reconciled is not None:
        stmt = stmt.where(BankStatementLine.reconciled.is_(reconciled))
    stmt = stmt.order_by(BankStatementLine.booking_date, BankStatementLine.statement_id,
                         BankStatementLine.position).limit(2000)
    return [line_view(x) for x in session.execute(stmt).scalars()]


def statement_balance(session: Session, account: BankAccount) -> Decimal | None:
    """Where the last statement imported closed (None before the first)."""
    last = _last_statement(session, account)
    return last.closing_balance if last else None


def lines_total(session: Session, account_id: str, reconciled: bool) -> Decimal:
    return session.execute(select(func.coalesce(func.sum(BankStatementLine.amount), 0)).where(
        BankStatementLine.bank_account_id == account_id, BankStatementLine.reconciled.is_(reconciled))).scalar_one()
