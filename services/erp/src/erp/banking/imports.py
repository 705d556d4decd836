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
from typing import BinaryIO

from servicekit import audit
from servicekit.db import new_id, row_view
from servicekit.problems import NotFound, Problem, field_error
from shared_events.actors import actor_label
from sqlalchemy import func, insert, select
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
CHUNK = 1000  # statement lines written at once


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

class DedupKeys:
    """What identifies each line across files, told line by line: the bank's reference, else the EndToEndId, else
    a fingerprint that counts identical lines of the same day (two equal coffees are two lines). Statements list
    their entries by day, so the count is kept for the day being read only: memory does not grow with the file."""

    def __init__(self):
        self.day, self.seen = None, Counter()

    def key(self, line: ParsedLine) -> str:
        if line.bank_reference and line.bank_reference.strip().upper() not in NO_ID:
            return f"ref:{line.bank_reference.strip()}"[:120]
        if line.end_to_end_id and line.end_to_end_id.strip().upper() not in NO_ID:
            return f"e2e:{line.end_to_end_id.strip()}|{line.amount}"[:120]
        if line.booking_date != self.day:
            self.day, self.seen = line.booking_date, Counter()
        base = "|".join(str(x or "") for x in (line.booking_date, line.amount, line.counterparty_name,
                                                line.counterparty_iban, line.remittance))
        self.seen[base] += 1
        return "fp:" + hashlib.sha256(f"{base}|{self.seen[base]}".encode()).hexdigest()[:64]


def dedup_keys(lines: list[ParsedLine]) -> list[str]:
    """Pure: the keys of a list of lines (see DedupKeys)."""
    keys = DedupKeys()
    return [keys.key(line) for line in lines]


def _same_account(account: BankAccount, named: str | None) -> bool:
    if not named or not account.iban:
        return True  # nothing to compare: the caller chose the account
    named = named.replace(" ", "").upper()
    return named == account.iban or account.iban.endswith(named) or named in account.iban


def _last_statement(session: Session, account: BankAccount) -> BankStatement | None:
    return session.execute(select(BankStatement).where(BankStatement.bank_account_id == account.id)
                           .order_by(BankStatement.created_at.desc(), BankStatement.id.desc()).limit(1)
                           ).scalar_one_or_none()


def _sequence_problem(st: ParsedStatement, previous: BankStatement) -> Problem | None:
    if st.electronic_sequence is None or previous.electronic_sequence is None:
        return None
    if st.electronic_sequence == previous.electronic_sequence + 1:
        return None
    missing = st.electronic_sequence > previous.electronic_sequence + 1
    what = ("statement " + ", ".join(str(n) for n in range(previous.electronic_sequence + 1,
                                                           min(st.electronic_sequence,
                                                               previous.electronic_sequence + 6)))
            + " is missing") if missing else "it was imported already or comes out of order"
    return refused(f"electronic sequence number {st.electronic_sequence} does not follow "
                   f"{previous.electronic_sequence}: {what}", st.source_line, "electronic_sequence")


class _StatementImport:
    """One statement of a file, its lines told one by one and written in chunks of CHUNK within the import's
    transaction: the lines already imported (known by their keys) must be the statement's first ones; at the first
    new line the statement is checked to continue the previous one and its row written; at its end its balances
    are checked (a refusal then rolls back what was written). Holds a chunk of lines, never the statement."""

    def __init__(self, session: Session, account: BankAccount, st: ParsedStatement, previous: BankStatement | None,
                 digest: str, file_name: str | None, order: int, actor):
        self.session, self.account, self.st, self.previous = session, account, st, previous
        self.keys = DedupKeys()  # the fingerprints' counts are a statement's own
        self.digest, self.file_name, self.order, self.actor = digest, file_name, order, actor
        self.chunk: list[tuple[ParsedLine, str]] = []
        self.known = 0                  # leading lines imported before
        self.known_total = ZERO         # what they add up to
        self.total = ZERO               # every booked line
        self.row: BankStatement | None = None
        self.written = 0
        self.first_new_line: int | None = None

    def line(self, line: ParsedLine) -> None:
        if abs(line.amount) >= LARGEST:
            raise refused(f"an amount of {line.amount} is beyond what the books hold (below 10^15)", line.source_line)
        self.total += line.amount
        self.chunk.append((line, self.keys.key(line)))
        if len(self.chunk) >= CHUNK:
            self._flush()

    def _flush(self) -> None:
        if not self.chunk:
            return
        keys = [k for _, k in self.chunk]
        if len(set(keys)) != len(keys):
            twice = next(k for k in keys if keys.count(k) > 1)
            raise _twice(twice, self.chunk[keys.index(twice)][0])
        found = dict(self.session.execute(select(BankStatementLine.dedup_key, BankStatementLine.statement_id).where(
            BankStatementLine.bank_account_id == self.account.id, BankStatementLine.dedup_key.in_(keys))).all())
        rows = []
        for line, key in self.chunk:
            if key in found and self.row is not None and found[key] in self.written_in:
                raise _twice(key, line)
            if key in found and self.row is None:
                self.known += 1
                self.known_total += line.amount
                continue
            if key in found:
                raise refused(f"this line was imported already but a line before it (line "
                              f"{self.first_new_line or '?'}) was not: the file does not continue the statements "
                              "imported", line.source_line)
            if self.row is None:
                self._open(line)
            self.written += 1
            rows.append(_line_values(self.row, self.account, self.written, line, key))
        if rows:
            self.session.execute(insert(BankStatementLine), rows)
        self.chunk = []

    @property
    def written_in(self) -> set[str]:
        return {self.row.id} if self.row is not None else set()

    def _opening(self) -> Decimal:
        """The statement's opening balance: as the file says, else where the previous statement closed, less the
        lines of this file imported before (a CSV without balances)."""
        if self.st.opening_balance is not None:
            return self.st.opening_balance
        start = self.previous.closing_balance if self.previous else self.account.opening_balance
        return start - self.known_total

    def _open(self, first_new: ParsedLine) -> None:
        """The first new line: the statement must continue the previous one; its row is written."""
        self.first_new_line = first_new.source_line
        opening = self._opening() + self.known_total
        if self.previous is not None:
            if opening != self.previous.closing_balance:
                after = f" (after the {self.known} lines already imported)" if self.known else ""
                raise refused(f"the statement opens at {money_text(opening)}{after} but the previous statement "
                              f"closed at {money_text(self.previous.closing_balance)}: a statement is missing or the "
                              "file is wrong", self.st.source_line, "opening_balance")
            problem = _sequence_problem(self.st, self.previous) if not self.known else None
            if problem:
                raise problem
        st = self.st
        self.row = BankStatement(bank_account_id=self.account.id, format=st.format,
                                 bank_statement_id=(st.statement_id or "")[:100] or None,
                                 electronic_sequence=st.electronic_sequence,
                                 file_name=(self.file_name or "")[:300] or None, file_sha256=self.digest,
                                 from_date=first_new.booking_date if self.known else (st.from_date
                                                                                       or first_new.booking_date),
                                 to_date=st.to_date, currency=st.currency, opening_balance=opening,
                                 closing_balance=st.closing_balance if st.closing_balance is not None else opening,
                                 line_count=0, created_by=actor_label(self.actor),
                                 created_at=_now() + timedelta(microseconds=self.order))
        self.session.add(self.row)
        self.session.flush()

    def end(self) -> BankStatement | None:
        """The statement read whole: its balances must add up; returns its row (None when nothing was new)."""
        self._flush()
        st = self.st
        opening = self._opening()
        closing = st.closing_balance if st.closing_balance is not None else opening + self.total
        if opening + self.total != closing:
            raise refused(f"the balances do not add up: opening {money_text(opening)} + entries "
                          f"{money_text(self.total)} = {money_text(opening + self.total)}, but the closing balance "
                          f"is {money_text(closing)}", st.source_line, "closing_balance")
        if self.row is None:
            return None
        self.row.closing_balance, self.row.line_count, self.row.to_date = closing, self.written, st.to_date
        if not self.known and st.from_date:  # a camt.053 without FrToDt knows its first day only at its end
            self.row.from_date = st.from_date
        self.session.flush()
        return self.row


def _twice(key: str, line: ParsedLine) -> Problem:
    return refused(f"two lines carry the same bank reference {key.split(':', 1)[1]!r}", line.source_line)


def _check_statement(account: BankAccount, st: ParsedStatement) -> None:
    if not _same_account(account, st.account):
        raise refused(f"the statement is of account {st.account}, not {account.iban} ({account.name})",
                      st.source_line, "account")
    for value in (st.opening_balance, st.closing_balance):
        if value is not None and abs(value) >= LARGEST:
            raise refused(f"an amount of {value} is beyond what the books hold (below 10^15)", st.source_line)
    if st.electronic_sequence is not None and not 0 <= st.electronic_sequence < 10**15:
        raise refused(f"electronic sequence number {st.electronic_sequence} is out of range", st.source_line,
                      "electronic_sequence")
    if st.currency != account.currency:
        raise refused(f"the statement is in {st.currency}, {account.name} in {account.currency}",
                      st.source_line, "currency")


def _digest(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    stream.seek(0)
    for block in iter(lambda: stream.read(1 << 16), b""):
        digest.update(block)
    stream.seek(0)
    return digest.hexdigest()


def import_statement(session: Session, account_id, stream: BinaryIO, file_name: str | None, fmt: str | None,
                     actor) -> dict:
    """Import a statement file (a seekable binary stream) into an account: every statement in it is checked and its
    new lines written as it is read, in chunks, in the caller's transaction; a refused file changes nothing (the
    caller rolls back). Returns what was imported and what was skipped."""
    account = account_row(session, account_id, lock=True)  # one import per account at a time
    if not account.active or account.kind == "cheques":
        raise Problem(409, "Account closed" if not account.active else "Cheque portfolio",
                      f"{account.name} {'is closed' if not account.active else 'receives no bank statement'}.",
                      "wrong-state")
    mapping = session.get(BankCsvMapping, account.id)
    digest = _digest(stream)
    previous = _last_statement(session, account)
    report = {"bank_account_id": account.id, "format": None, "statements": [], "lines_imported": 0,
              "lines_already_imported": 0, "pending_left_out": 0}
    current, order = None, 0
    try:
        for kind, item in formats.events(stream, fmt, mapping.mapping if mapping else None, account.currency):
            if kind == "statement":
                report["format"] = report["format"] or item.format
                _check_statement(account, item)
                current = _StatementImport(session, account, item, previous, digest, file_name, order, actor)
                order += 1
            elif kind == "line":
                current.line(item)
            else:
                row = current.end()
                report["lines_already_imported"] += current.known
                report["pending_left_out"] += item.pending
                if row is not None:
                    report["lines_imported"] += row.line_count
                    report["statements"].append(row_view(row))
                    previous = row
    except StatementError as e:
        raise refused(e.message, e.line) from None
    if report["format"] is None:
        raise refused("the file holds no statement")
    if report["statements"]:
        audit.record(session, audit_log, actor, "import", "bank_statement", report["statements"][0]["id"], None,
                     {"file": file_name, "sha256": digest, "lines": report["lines_imported"],
                      "statements": [s["id"] for s in report["statements"]]})
    report["status"] = "imported" if report["statements"] else "already_imported"
    return report


def _line_values(statement: BankStatement, account: BankAccount, position: int, line: ParsedLine,
                 key: str) -> dict:
    return {"id": new_id(), "statement_id": statement.id, "bank_account_id": account.id, "position": position,
            "booking_date": line.booking_date, "value_date": line.value_date, "amount": line.amount,
            "currency": line.currency, "reversal": line.reversal,
            "bank_reference": (line.bank_reference or None) and line.bank_reference[:100],
            "end_to_end_id": (line.end_to_end_id or None) and line.end_to_end_id[:100],
            "counterparty_name": (line.counterparty_name or None) and line.counterparty_name[:200],
            "counterparty_iban": (line.counterparty_iban or None) and line.counterparty_iban[:34],
            "remittance": line.remittance,
            "structured_reference": (line.structured_reference or None) and line.structured_reference[:100],
            "details": line.details or None, "dedup_key": key, "reconciled": False, "version": 1}


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
