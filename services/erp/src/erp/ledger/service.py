"""Posting to the ledger: the functions other modules call (post_entry, reverse_entry) and the accountants' manual
entries (draft -> post). Use cases take a session and never commit.

How a posting becomes final: post_entry writes the entry (status posted) and its lines in the caller's transaction
and checks everything it can (balance, accounts, parties, the lock date). The entry's gapless number
(SAL-2026-000001) and its place in the hash chain are given when that transaction commits (a `before_commit`
hook below calls hashchain.seal), i.e. after every lock the caller's own work took: numbering locks are
therefore held only for the instant of the commit, and a module that holds its own row locks (a product's stock,
an invoice) can never deadlock with another posting. A transaction that rolls back consumes no number.
`seal_pending(session)` seals at once, for a caller that needs the number in its answer: call it last.
"""

import json
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from servicekit import audit
from servicekit.etag import check_version
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error
from shared_events.actors import actor_label
from sqlalchemy import event, func, or_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session, make_transient_to_detached

from ..db import audit_log
from . import hashchain, posting
from .models import Account, AccountMapping, Journal, JournalEntry, JournalLine, LedgerSettings
from .posting import PostingLine
from .prepared import Prepared

PENDING = "erp.ledger.unsealed"


# -- sealing at commit ---------------------------------------------------------------------------

def seal_pending(session: Session) -> None:
    """Number and hash this transaction's postings now (they are otherwise sealed at commit). Call it after the
    last row lock your use case takes."""
    pending = session.info.pop(PENDING, None)
    if pending:
        session.flush()
        hashchain.seal(session, pending)


@event.listens_for(Session, "before_commit")
def _seal_before_commit(session: Session) -> None:
    if not session.in_nested_transaction():  # a savepoint's release is not the commit
        seal_pending(session)


@event.listens_for(Session, "after_transaction_end")
def _forget_after_rollback(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(PENDING, None)


@event.listens_for(Session, "after_soft_rollback")
def _forget_rolled_back_savepoint(session: Session, previous_transaction) -> None:
    """An entry written inside a savepoint that rolled back is gone: it is not sealed."""
    pending = session.info.get(PENDING)
    if pending:
        session.info[PENDING] = [p for p in pending if not _inside(p.transaction, previous_transaction)]


def _inside(transaction, outer) -> bool:
    while transaction is not None:
        if transaction is outer:
            return True
        transaction = transaction.parent
    return False


def _pending(session: Session, entry: JournalEntry, journal_code: str, lines: list[tuple]) -> None:
    where = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(PENDING, []).append(hashchain.Unsealed(entry, journal_code, lines, where))


# -- lookups -------------------------------------------------------------------------------------

def settings(session: Session, lock: str | None = None) -> LedgerSettings:
    """The ledger settings row; lock="share" while posting (a lock date change waits for postings in flight and
    the other way round), lock="update" to change them."""
    stmt = select(LedgerSettings).where(LedgerSettings.id == 1).execution_options(populate_existing=True)
    if lock == "share":
        stmt = stmt.with_for_update(read=True)
    elif lock == "update":
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one()


def period_closed(entry_date: date, lock_date: date) -> Problem:
    return Problem(409, "Period closed", f"The books are closed up to {lock_date.isoformat()}: an entry dated "
                   f"{entry_date.isoformat()} cannot be posted. Date it after the lock date.", "period-closed",
                   errors=[{"field": "entry_date", "message": f"on or before the lock date {lock_date.isoformat()}"}],
                   lock_date=lock_date.isoformat())


def first_open_date(session: Session, day: date) -> date:
    """`day`, or the day after the lock date when `day` is in a closed period: where automated postings of late
    documents (a backdated stock move, a bill dated last month) are booked, so operations never stop at a close."""
    lock_date = settings(session, lock="share").lock_date
    return lock_date + timedelta(days=1) if posting.is_locked(day, lock_date) else day


def journal_by_code(session: Session, code: str, field: str = "journal") -> Journal:
    journal = session.execute(select(Journal).where(Journal.code == (code or "").strip().upper())).scalar_one_or_none()
    if journal is None:
        raise field_error(field, f"no journal {code!r}")
    if not journal.active:
        raise field_error(field, f"journal {journal.code} is inactive")
    return journal


def resolve_accounts(session: Session, names: list[str], field: str = "lines",
                     allow_inactive: bool = False) -> list[Account]:
    """The account of each name (an account code or a posting role), in order; 422 naming the line otherwise."""
    roles = {n for n in names if n in posting.ROLES}
    codes = set(names) - roles
    found = {a.code: a for a in session.execute(select(Account).where(Account.code.in_(codes))).scalars()} \
        if codes else {}
    if roles:
        found |= {role: account for role, account in session.execute(
            select(AccountMapping.role, Account).join(Account, Account.id == AccountMapping.account_id)
            .where(AccountMapping.role.in_(roles))).all()}
    out = []
    for i, name in enumerate(names):
        account = found.get(name)
        if account is None:
            message = (f"no account is mapped to the role {name!r}" if name in posting.ROLES
                       else f"no account {name!r} in the chart of accounts")
            raise field_error(f"{field}.{i}.account", message)
        if not account.active and not allow_inactive:
            raise field_error(f"{field}.{i}.account", f"account {account.code} is inactive")
        out.append(account)
    return out


def _checked_party(party_id, account: Account, field: str) -> str | None:
    if party_id in (None, ""):
        if account.party_required:
            raise field_error(f"{field}.party_id", f"account {account.code} needs a party (customer or supplier)")
        return None
    try:
        return str(uuid.UUID(str(party_id)))
    except ValueError:
        raise field_error(f"{field}.party_id", "not a party id (UUID)") from None


# -- posting -------------------------------------------------------------------------------------

def _checked_reference(reference: str | None) -> str:
    reference = (reference or "").strip()
    if not reference or len(reference) > 200:
        raise field_error("reference", "required, at most 200 characters")
    return reference


# The chart as a posting needs it, in one statement: the settings (the chart's version, the currency, the lock date),
# every journal, every account by code and every role's account. A process keeps the last one it read (_chart_cache)
# and each posting checks, in the statement that writes it, that the chart's version, the currency and the lock
# date still allow it (POST_SQL's guard, under the settings row's share lock); when they do not, the chart is read
# again and the posting checked again, so a cached chart never posts to a closed period or an inactive account.
CHART_SQL = """
SELECT s.chart_version, s.currency, s.lock_date,
       (SELECT json_agg(json_build_array(j.code, j.id, j.code, j.active)) FROM ledger_journals j) AS journals,
       (SELECT json_agg(json_build_array(a.code, a.id, a.code, a.active, a.party_required))
        FROM ledger_accounts a) AS by_code,
       (SELECT json_agg(json_build_array(m.role, a.id, a.code, a.active, a.party_required))
        FROM ledger_account_mapping m JOIN ledger_accounts a ON a.id = m.account_id) AS by_role
FROM ledger_settings s WHERE s.id = 1
"""
CHART_READ = text(CHART_SQL)
CHART_SHARE = text(CHART_SQL + "FOR SHARE OF s")  # a draft's posting: a lock date change waits for it


@dataclass(frozen=True)
class _Ref:
    """A journal or an account as a posting needs it."""

    id: str
    code: str
    active: bool
    party_required: bool = False


@dataclass(frozen=True)
class _Chart:
    """The chart at one version: journals by code, accounts by code and by role (a role is never an account
    code)."""

    version: int
    currency: str
    lock_date: date | None
    journals: dict[str, _Ref]
    accounts: dict[str, _Ref]


_chart_cache: _Chart | None = None  # the last chart this process read; a posting proves it current (POST_SQL)


def _read_chart(session: Session, lock: bool = False) -> _Chart:
    global _chart_cache
    found = session.execute(CHART_SHARE if lock else CHART_READ).one()
    accounts = {name: _Ref(*values) for name, *values in found.by_code or []}
    accounts.update((name, _Ref(*values)) for name, *values in found.by_role or [])
    chart = _chart_cache = _Chart(found.chart_version, found.currency, found.lock_date,
                                  {code: _Ref(*values) for code, *values in found.journals or []}, accounts)
    return chart


def _validated(chart: _Chart, journal_code: str, entry_date: date, lines: list[PostingLine], reference: str | None,
               allow_inactive: bool = False) -> tuple[list[PostingLine], _Ref, list[_Ref]]:
    """Everything a posting must satisfy, checked against `chart` before anything is written, in this order: the
    journal, the reference, the lines, the lock date, the accounts and their parties."""
    journal = chart.journals.get((journal_code or "").strip().upper())
    if journal is None:
        raise field_error("journal", f"no journal {journal_code!r}")
    if not journal.active and not allow_inactive:
        raise field_error("journal", f"journal {journal.code} is inactive")
    _checked_reference(reference)
    checked = posting.check_lines(lines)
    if posting.is_locked(entry_date, chart.lock_date):
        raise period_closed(entry_date, chart.lock_date)
    accounts = []
    for i, line in enumerate(checked):
        account = chart.accounts.get(line.account)
        if account is None:
            message = (f"no account is mapped to the role {line.account!r}" if line.account in posting.ROLES
                       else f"no account {line.account!r} in the chart of accounts")
            raise field_error(f"lines.{i}.account", message)
        if not account.active and not allow_inactive:
            raise field_error(f"lines.{i}.account", f"account {account.code} is inactive")
        accounts.append(account)
    checked = [replace(line, party_id=_checked_party(line.party_id, acc, f"lines.{i}"))
               if line.party_id is not None or acc.party_required else line
               for i, (line, acc) in enumerate(zip(checked, accounts, strict=True))]
    return checked, journal, accounts


def _line_rows(entry_id: str, entry_date: date, journal_id: str, lines: list[PostingLine], accounts: list[_Ref],
               currency: str) -> list[dict]:
    return [{"entry_id": entry_id, "position": i + 1, "account_id": account.id, "debit": line.debit,
             "credit": line.credit, "party_id": line.party_id,
             "description": line.description[:300] if line.description else None, "due_date": line.due_date,
             "currency": (line.currency or currency).upper(), "entry_date": entry_date, "journal_id": journal_id}
            for i, (line, account) in enumerate(zip(lines, accounts, strict=True))]


def _write_lines(session: Session, entry: JournalEntry, journal: _Ref, lines: list[PostingLine],
                 accounts: list[_Ref], currency: str) -> None:
    """Insert the lines of a posted draft (one statement) and queue the entry for sealing with the values as
    written."""
    rows = _line_rows(entry.id, entry.entry_date, entry.journal_id, lines, accounts, currency)
    session.execute(insert(JournalLine.__table__), rows)
    _pending(session, entry, journal.code, [hashchain.line_of(row) for row in rows])


def _line_values(entry_date: date, journal_id: str, lines: list[PostingLine], accounts: list[_Ref],
                 currency: str) -> list[tuple]:
    """The lines as written and hashed, in hashchain.LINE_KEYS order."""
    return [(i + 1, account.id, line.debit, line.credit, line.party_id,
             line.description[:300] if line.description else None, line.due_date,
             (line.currency or currency).upper(), entry_date, journal_id)
            for i, (line, account) in enumerate(zip(lines, accounts, strict=True))]


def _lines_json(values: list[tuple]) -> str:
    """The lines as POST_SQL reads them: one JSON array per line, in LINE_KEYS order up to the currency."""
    return json.dumps([[position, account_id, str(debit), str(credit), party_id, description,
                        None if due_date is None else due_date.isoformat(), currency]
                       for position, account_id, debit, credit, party_id, description, due_date, currency, *_
                       in values])


# The entry and its lines in one statement, written only when the settings row (read under a share lock: a lock date
# change or a chart change waits for the postings in flight, and the other way round) still has the chart's version
# and currency the posting was checked with and a lock date before the entry's date; it returns what it found, to
# tell a stale chart from a document posted already. A document already posted for the same purpose (source_type,
# source_id, purpose) makes it write nothing and return no created_at (a concurrent posting of it waits on the
# unique index until the first commits or rolls back, no savepoint needed).
POST_SQL = Prepared("ledger_post_entry", """
WITH settings AS (SELECT chart_version, currency, lock_date FROM ledger_settings WHERE id = 1 FOR SHARE),
entry AS (
    INSERT INTO journal_entries (id, journal_id, status, entry_date, reference, memo, source_type, source_id, purpose,
                                 reversal_of_id, total, created_by, posted_by, posted_at, version)
    SELECT CAST(:id AS uuid), CAST(:journal_id AS uuid), 'posted', :entry_date, :reference, :memo, :source_type,
           :source_id, :purpose, CAST(:reversal_of_id AS uuid), :total, :who, :who, :posted_at, 1
    FROM settings
    WHERE settings.chart_version = :chart_version AND settings.currency = :currency
      AND (settings.lock_date IS NULL OR settings.lock_date < :entry_date)
    ON CONFLICT ON CONSTRAINT uq_journal_entries_source DO NOTHING
    RETURNING id, created_at),
lines AS (
    INSERT INTO journal_lines (entry_id, position, account_id, debit, credit, party_id, description, due_date,
                               currency, entry_date, journal_id)
    SELECT entry.id, (v->>0)::smallint, (v->>1)::uuid, (v->>2)::numeric, (v->>3)::numeric, (v->>4)::uuid, v->>5,
           (v->>6)::date, v->>7, :entry_date, CAST(:journal_id AS uuid)
    FROM entry, jsonb_array_elements(CAST(:lines AS jsonb)) AS v)
SELECT settings.chart_version, settings.currency, settings.lock_date, (SELECT created_at FROM entry) AS created_at
FROM settings
""")
ATTEMPTS = 5  # charts read before a posting gives up under a chart that keeps changing (never seen)


def _by_source(session: Session, source_type: str, source_id: str, purpose: str) -> JournalEntry | None:
    return session.execute(select(JournalEntry).where(
        JournalEntry.source_type == source_type, JournalEntry.source_id == source_id,
        JournalEntry.purpose == purpose)).scalar_one_or_none()


def post_entry(session: Session, *, journal: str, entry_date: date, lines: list[PostingLine], reference: str,
               source_type: str, source_id: str, actor, memo: str | None = None,
               purpose: str = "main") -> JournalEntry:
    """Post a balanced journal entry for a document, in the caller's transaction; returns it.

    - `journal`: a journal code (SAL, PUR, BNK, CSH, GEN, STK).
    - `lines`: PostingLine(account=<code or role>, debit=..., credit=..., party_id, description, due_date,
      currency); amounts are Decimal cents. Roles are listed in posting.ROLES (receivable, revenue_goods, ...).
    - (`source_type`, `source_id`, `purpose`) names what is posted, e.g. ("invoice", <id>, "main"): posting it
      again (a redelivered event) returns the first entry and writes nothing. Use another purpose for a second
      entry about the same document (e.g. "payment:<id>", "writeoff").

    Refuses with problem+json: 422 for no lines, a line with both or neither side, amounts in fractions of cents,
    unbalanced lines (type unbalanced-entry), an unknown or inactive journal or account, an unmapped role, a
    missing party on a party_required account; 409 (type period-closed) for an entry dated on or before the lock
    date. Nothing is written when it refuses. The entry's number and hash are given when the transaction commits
    (see the module's docstring); `entry.id` is there at once.

    Two statements an entry, both prepared once per connection: one writes the entry and its lines (INSERT ...
    ON CONFLICT DO NOTHING on the source key, no savepoint) after checking, under the settings row's share lock,
    that the chart this process keeps in memory is current and the lock date before the entry's date; one seals
    at commit when the chain is where this process left it. A stale chart costs one more statement (it is read
    again), a chain moved by another process one more (sealing takes two then); a repost reads the first entry
    instead of writing.
    """
    return _post(session, journal, entry_date, lines, reference, source_type, str(source_id), purpose, actor, memo)


def _day(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, date):
        raise field_error("entry_date", "a date")
    return value


def _post(session: Session, journal_code: str, entry_date, lines: list[PostingLine], reference: str,
          source_type: str, source_id: str, purpose: str, actor, memo: str | None,
          reversal_of_id: str | None = None, allow_inactive: bool = False) -> JournalEntry:
    """Check against the chart this process holds, then write the entry and its lines in one statement that proves
    the chart current (the chart is read again when it was not); the first entry of the same (source_type,
    source_id, purpose) is returned instead, even when this posting would now be refused (a closed period)."""
    entry_date = _day(entry_date)
    chart, fresh = _chart_cache, False
    for _ in range(ATTEMPTS):
        if chart is None:
            chart, fresh = _read_chart(session), True
        try:
            checked, journal, accounts = _validated(chart, journal_code, entry_date, lines, reference,
                                                    allow_inactive)
        except Problem:
            if not fresh:  # refused by a chart read earlier: ask the current one
                chart = None
                continue
            existing = _by_source(session, source_type, source_id, purpose)
            if existing is not None:
                return existing
            raise
        now, who = datetime.now(UTC), actor_label(actor, "system")
        total = posting.totals(checked)[0]
        values = _line_values(entry_date, journal.id, checked, accounts, chart.currency)
        entry_id = str(uuid.uuid4())
        found = POST_SQL(session, {
            "id": entry_id, "journal_id": journal.id, "entry_date": entry_date, "reference": reference.strip(),
            "memo": memo, "source_type": source_type, "source_id": source_id, "purpose": purpose,
            "reversal_of_id": reversal_of_id, "total": total, "who": who, "posted_at": now,
            "chart_version": chart.version, "currency": chart.currency,
            "lines": _lines_json(values)}).one()
        if found.created_at is not None:
            break
        if (found.chart_version, found.currency) == (chart.version, chart.currency) \
                and not posting.is_locked(entry_date, found.lock_date):
            # posted already (perhaps by a concurrent transaction that just committed)
            return _by_source(session, source_type, source_id, purpose)
        chart = None  # the chart or the lock date changed since this process read them
    else:
        raise Problem(503, "Chart of accounts changing", "The chart of accounts changed during every attempt to "
                      "post this entry; try again.", "chart-changing")
    entry = JournalEntry(id=entry_id, journal_id=journal.id, status="posted", entry_date=entry_date,
                         reference=reference.strip(), memo=memo, source_type=source_type, source_id=source_id,
                         purpose=purpose, reversal_of_id=reversal_of_id, total=total,
                         draft_lines=None, fiscal_year=None, sequence_number=None, number=None, chain_seq=None,
                         hash=None, created_by=who, posted_by=who, posted_at=now, version=1,
                         created_at=found.created_at)
    make_transient_to_detached(entry)
    session.add(entry)  # persistent, as if loaded: callers read it and seal_pending numbers it
    _pending(session, entry, journal.code, values)
    return entry


def _entry(session: Session, entry_id, lock: bool = False) -> JournalEntry:
    try:
        entry_id = str(uuid.UUID(str(entry_id)))
    except ValueError:
        raise NotFound("journal entry", entry_id) from None
    stmt = select(JournalEntry).where(JournalEntry.id == entry_id)
    entry = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if entry is None:
        raise NotFound("journal entry", entry_id)
    return entry


def posted_lines(session: Session, entry_id: str) -> list[tuple[JournalLine, Account]]:
    return list(session.execute(select(JournalLine, Account).join(Account, Account.id == JournalLine.account_id)
                                .where(JournalLine.entry_id == entry_id).order_by(JournalLine.position)).all())


def reverse_entry(session: Session, entry_id, *, entry_date: date, reason: str, actor) -> JournalEntry:
    """Cancel a posted entry by posting its mirror (debits and credits swapped) in the same journal, dated
    `entry_date` (not before the original, after the lock date), linked by `reversal_of_id`; returns the reversal.

    409 if the entry is a draft, is itself a reversal, or was already reversed (`reversal_id` names the
    reversal); 422 without a reason. Runs in the caller's transaction.
    """
    reason = (reason or "").strip()
    if not reason:
        raise field_error("reason", "say why the entry is reversed")
    entry_date = _day(entry_date)
    original = _entry(session, entry_id, lock=True)
    if original.status != "posted":
        raise Problem(409, "Not posted", "A draft is not reversed: change or delete it.", "conflict")
    if original.reversal_of_id:
        raise Problem(409, "Entry is a reversal", "A reversal is not reversed: post a new entry instead.",
                      "conflict")
    done = session.execute(select(JournalEntry).where(JournalEntry.reversal_of_id == original.id)).scalar_one_or_none()
    if done is not None:
        raise Problem(409, "Already reversed", f"This entry was already reversed by {done.number or done.id}.",
                      "already-reversed", reversal_id=done.id, reversal_number=done.number)
    if entry_date < original.entry_date:
        raise field_error("entry_date", f"a reversal cannot be dated before the entry it reverses "
                          f"({original.entry_date.isoformat()})")
    mirror = posting.reversed_lines(
        PostingLine(account.code, line.debit, line.credit, line.party_id, line.description, line.due_date,
                    line.currency) for line, account in posted_lines(session, original.id))
    journal = session.get(Journal, original.journal_id)
    reference = f"Reversal of {original.number or original.reference}"[:200]
    return _post(session, journal.code, entry_date, mirror, reference,
                 original.source_type, original.source_id, f"reversal:{original.id}", actor, reason,
                 reversal_of_id=original.id, allow_inactive=True)


# -- manual entries (accountants) ----------------------------------------------------------------

def _draft_lines(data_lines: list[dict]) -> list[dict]:
    return [{"account": line["account"].strip(), "debit": str(line.get("debit") or "0"),
             "credit": str(line.get("credit") or "0"), "party_id": str(line["party_id"]) if line.get("party_id")
             else None, "description": line.get("description"),
             "due_date": line["due_date"].isoformat() if line.get("due_date") else None}
            for line in data_lines]


def _posting_lines(draft_lines: list[dict]) -> list[PostingLine]:
    return [PostingLine(line["account"], Decimal(line["debit"]), Decimal(line["credit"]), line.get("party_id"),
                        line.get("description"), date.fromisoformat(line["due_date"]) if line.get("due_date")
                        else None) for line in draft_lines]


def _draft_total(lines: list[dict]) -> Decimal:
    return sum((Decimal(line["debit"]) for line in lines), Decimal("0"))


def _audit_state(entry: JournalEntry) -> dict:
    return {k: getattr(entry, k) for k in ("status", "number", "entry_date", "reference", "memo", "total",
                                           "draft_lines", "reversal_of_id")}


def create_draft(session: Session, data: dict, actor) -> dict:
    """A manual entry to be posted later; its lines may not balance yet, but their accounts must exist."""
    journal = journal_by_code(session, data["journal"])
    lines = _draft_lines(data["lines"])
    resolve_accounts(session, [line["account"] for line in lines])
    entry = JournalEntry(journal_id=journal.id, status="draft", entry_date=data["entry_date"],
                         reference=_checked_reference(data["reference"]), memo=data.get("memo"),
                         source_type="manual", purpose="main", draft_lines=lines, total=_draft_total(lines),
                         created_by=actor_label(actor, "system"), version=1)
    entry.id = str(uuid.uuid4())
    entry.source_id = entry.id
    session.add(entry)
    session.flush()
    audit.record(session, audit_log, actor, "create", "journal_entry", entry.id, None, _audit_state(entry))
    return entry_view(session, entry)


def immutable(entry: JournalEntry) -> Problem:
    return Problem(409, "Entry is posted", f"{entry.number or 'This entry'} is posted: posted entries never change. "
                   "Reverse it (POST .../reverse) and post a corrected entry.", "entry-posted")


def update_draft(session: Session, entry_id, expected_version: int, changes: dict, actor) -> dict:
    entry = _entry(session, entry_id, lock=True)
    if entry.status != "draft":
        raise immutable(entry)
    check_version(entry.version, expected_version)
    before = _audit_state(entry)
    if "journal" in changes:
        entry.journal_id = journal_by_code(session, changes["journal"]).id
    if "lines" in changes:
        entry.draft_lines = _draft_lines(changes["lines"])
        resolve_accounts(session, [line["account"] for line in entry.draft_lines])
        entry.total = _draft_total(entry.draft_lines)
    for key in ("entry_date", "memo"):
        if key in changes:
            setattr(entry, key, changes[key])
    if "reference" in changes:
        entry.reference = _checked_reference(changes["reference"])
    entry.version += 1
    session.flush()
    audit.record(session, audit_log, actor, "update", "journal_entry", entry.id, before, _audit_state(entry))
    return entry_view(session, entry)


def delete_draft(session: Session, entry_id, actor) -> None:
    entry = _entry(session, entry_id, lock=True)
    if entry.status != "draft":
        raise immutable(entry)
    audit.record(session, audit_log, actor, "delete", "journal_entry", entry.id, _audit_state(entry), None)
    session.delete(entry)
    session.flush()


def post_draft(session: Session, entry_id, expected_version: int | None, actor) -> dict:
    """Post a manual draft: the same checks as post_entry; it is numbered and sealed at once."""
    entry = _entry(session, entry_id, lock=True)
    if entry.status != "draft":
        raise Problem(409, "Already posted", f"This entry is already posted as {entry.number}.", "entry-posted")
    if expected_version is not None:
        check_version(entry.version, expected_version)
    before = _audit_state(entry)
    chart = _read_chart(session, lock=True)
    checked, journal, accounts = _validated(chart, session.get(Journal, entry.journal_id).code, entry.entry_date,
                                            _posting_lines(entry.draft_lines), entry.reference)
    who = actor_label(actor, "system")
    entry.status, entry.posted_by, entry.posted_at = "posted", who, datetime.now(UTC)
    entry.total, entry.draft_lines = posting.totals(checked)[0], None
    entry.version += 1
    session.flush()
    _write_lines(session, entry, journal, checked, accounts, chart.currency)
    seal_pending(session)
    audit.record(session, audit_log, actor, "post", "journal_entry", entry.id, before, _audit_state(entry))
    return entry_view(session, entry)


def reverse(session: Session, entry_id, entry_date: date | None, reason: str, actor) -> dict:
    """The HTTP use case of reverse_entry: dated today unless said otherwise, numbered at once."""
    reversal = reverse_entry(session, entry_id, entry_date=entry_date or datetime.now(UTC).date(), reason=reason,
                             actor=actor)
    seal_pending(session)
    audit.record(session, audit_log, actor, "reverse", "journal_entry", reversal.reversal_of_id, None,
                 {"reversal_id": reversal.id, "reversal_number": reversal.number, "reason": reason})
    return entry_view(session, reversal)


# -- reading entries -----------------------------------------------------------------------------

def entry_view(session: Session, entry: JournalEntry, with_lines: bool = True) -> dict:
    view = {c: getattr(entry, c) for c in JournalEntry.__table__.columns.keys() if c != "draft_lines"}
    view["journal"] = session.get(Journal, entry.journal_id).code
    reversed_by = session.execute(select(JournalEntry.id, JournalEntry.number).where(
        JournalEntry.reversal_of_id == entry.id)).first() if entry.status == "posted" else None
    view["reversed_by_id"] = reversed_by.id if reversed_by else None
    view["allowed_actions"] = (["update", "delete", "post"] if entry.status == "draft"
                               else [] if reversed_by or entry.reversal_of_id else ["reverse"])
    if not with_lines:
        return view
    if entry.status == "draft":
        codes = {line["account"] for line in entry.draft_lines}
        names = dict(session.execute(select(Account.code, Account.name).where(Account.code.in_(codes))).all())
        view["lines"] = [{**line, "position": i + 1, "account_name": names.get(line["account"]),
                          "due_date": date.fromisoformat(line["due_date"]) if line.get("due_date") else None}
                         for i, line in enumerate(entry.draft_lines)]
    else:
        view["lines"] = [{"position": line.position, "account": account.code, "account_name": account.name,
                          "debit": line.debit, "credit": line.credit, "party_id": line.party_id,
                          "description": line.description, "due_date": line.due_date, "currency": line.currency}
                         for line, account in posted_lines(session, entry.id)]
    return view


def get_entry(session: Session, entry_id) -> dict:
    return entry_view(session, _entry(session, entry_id))


SORTABLE = {"entry_date": JournalEntry.entry_date, "number": JournalEntry.number, "total": JournalEntry.total,
            "created_at": JournalEntry.created_at, "posted_at": JournalEntry.posted_at}


def list_entries(session: Session, args: dict) -> dict:
    stmt = select(JournalEntry)
    if args.get("journal"):
        stmt = stmt.join(Journal, Journal.id == JournalEntry.journal_id).where(Journal.code == args["journal"].upper())
    if args.get("status"):
        stmt = stmt.where(JournalEntry.status == args["status"])
    for key in ("source_type", "source_id", "purpose"):
        if args.get(key):
            stmt = stmt.where(getattr(JournalEntry, key) == str(args[key]))
    if args.get("date_from"):
        stmt = stmt.where(JournalEntry.entry_date >= args["date_from"])
    if args.get("date_to"):
        stmt = stmt.where(JournalEntry.entry_date <= args["date_to"])
    if args.get("account") or args.get("party_id"):
        lines = select(JournalLine.entry_id)
        if args.get("account"):
            lines = lines.join(Account, Account.id == JournalLine.account_id).where(Account.code == args["account"])
        if args.get("party_id"):
            lines = lines.where(JournalLine.party_id == str(args["party_id"]))
        stmt = stmt.where(JournalEntry.id.in_(lines))
    if args.get("q"):
        q = args["q"].strip().lower()
        stmt = stmt.where(or_(func.lower(JournalEntry.number).contains(q, autoescape=True),
                              func.lower(JournalEntry.reference).contains(q, autoescape=True)))
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE,
                      [JournalEntry.entry_date.desc(), JournalEntry.chain_seq.desc().nulls_first()])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [entry_view(session, e, with_lines=False) for e in page["items"]]
    return page
