"""The hash chain over posted entries: each entry's hash is sha256(previous entry's hash + the canonical JSON of the
entry and its lines), in posting order, so a row altered behind the application's back breaks the chain at that
entry. Sealing (numbering + hashing) runs under the lock of the chain's head row; `verify` walks the chain."""

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC

from servicekit.db import make_engine, make_session_factory
from sqlalchemy import select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from . import posting
from .models import JournalEntry, JournalSequence, LedgerChain

GENESIS = "0" * 64
# The entries and their lines as `verify` reads them back: ids and amounts as text, each entry's lines as one JSON
# array (fast to read), in LINE_KEYS order.
CHAIN_SQL = """
SELECT e.chain_seq, e.id::text AS id, e.number, e.journal_id::text AS journal_id, e.entry_date, e.reference, e.memo,
       e.source_type, e.source_id, e.purpose, e.reversal_of_id::text AS reversal_of_id, e.total::text AS total,
       e.posted_by, e.posted_at, e.hash,
       (SELECT json_agg(json_build_array(l.position, l.account_id::text, l.debit::text, l.credit::text,
                                         l.party_id::text, l.description, l.due_date, l.currency, l.entry_date,
                                         l.journal_id::text) ORDER BY l.position)
        FROM journal_lines l WHERE l.entry_id = e.id) AS lines
FROM journal_entries e
WHERE {where}
ORDER BY e.chain_seq
"""
LINE_KEYS = ("position", "account_id", "debit", "credit", "party_id", "description", "due_date", "currency",
             "entry_date", "journal_id")  # the order of a line's values in CHAIN_SQL and canonical()


def line_of(values: dict) -> tuple:
    """A line as canonical() takes it, from a mapping with LINE_KEYS."""
    return tuple(values[k] for k in LINE_KEYS)


def _cents(value) -> str:
    return value if isinstance(value, str) else f"{value:.2f}"


def _day(value) -> str | None:
    return value if value is None or isinstance(value, str) else value.isoformat()


def _line(position, account_id, debit, credit, party_id, description, due_date, currency, entry_date,
          journal_id) -> list:
    return [position, str(account_id), _cents(debit), _cents(credit), None if party_id is None else str(party_id),
            description, _day(due_date), currency, _day(entry_date), str(journal_id)]


def canonical(entry, lines: list[tuple]) -> str:
    """The entry and its lines (tuples in LINE_KEYS order) as one stable JSON string: amounts with 2 decimals,
    times in UTC, lines by position."""
    body = {
        "seq": entry.chain_seq, "id": str(entry.id), "number": entry.number, "journal": str(entry.journal_id),
        "date": entry.entry_date.isoformat(), "reference": entry.reference, "memo": entry.memo,
        "source": [entry.source_type, entry.source_id, entry.purpose],
        "reversal_of": None if entry.reversal_of_id is None else str(entry.reversal_of_id),
        "total": _cents(entry.total), "posted_by": entry.posted_by,
        "posted_at": entry.posted_at.astimezone(UTC).isoformat() if entry.posted_at else None,
        "lines": [_line(*line) for line in sorted(lines)],
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(previous: str, text: str) -> str:
    return hashlib.sha256((previous + text).encode()).hexdigest()


def _entries(session: Session, where: str, **params) -> Iterator[tuple]:
    """(entry row, its lines) read with CHAIN_SQL, in chain order, streamed from a server-side cursor."""
    rows = session.execute(text(CHAIN_SQL.format(where=where)), params,
                           execution_options={"stream_results": True, "max_row_buffer": 20000})
    for row in rows:
        yield row, row.lines or []


@dataclass
class Unsealed:
    """A posted entry waiting for its number and hash, with its lines as they were written."""

    entry: JournalEntry
    journal_code: str
    lines: list[dict]


def seal(session: Session, pending: list[Unsealed]) -> None:
    """Number and hash posted entries of this transaction, in the order given.

    Takes the chain head's row lock first, then each journal-year counter's: concurrent postings are sealed one
    transaction after the other, so numbers have no gap and no duplicate and the chain has one order. Called when
    the transaction commits (service.py), after every other lock the transaction holds, so it cannot deadlock
    with the callers' own locks; it holds the lock for four statements. The hash is computed from the values as
    written (the same values `verify` reads back: the tests verify the chain after every kind of posting).
    """
    if not pending:
        return
    head = session.execute(select(LedgerChain).where(LedgerChain.id == 1).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one()
    for item in pending:
        entry = item.entry
        year = posting.fiscal_year(entry.entry_date)
        number = session.execute(
            insert(JournalSequence).values(journal_id=entry.journal_id, fiscal_year=year, last_number=1)
            .on_conflict_do_update(index_elements=["journal_id", "fiscal_year"],
                                   set_={"last_number": JournalSequence.last_number + 1})
            .returning(JournalSequence.last_number)).scalar_one()
        head.last_seq += 1
        entry.fiscal_year, entry.sequence_number = year, number
        entry.number = posting.entry_number(item.journal_code, year, number)
        entry.chain_seq = head.last_seq
        entry.hash = chain_hash(head.last_hash, canonical(entry, [line_of(line) for line in item.lines]))
        head.last_hash = entry.hash
    session.flush()


@dataclass
class Verification:
    ok: bool
    entries_checked: int
    last_hash: str
    broken: dict | None = None


def verify(session: Session) -> Verification:
    """Recompute the chain from the start: the first entry whose stored hash differs (a changed entry or line, a
    line added or deleted) or whose position is missing (a deleted entry) is reported; later entries are not
    checked. Posted entries that were never sealed (written around the application) are reported too."""
    previous, count = GENESIS, 0
    for entry, lines in _entries(session, "e.chain_seq IS NOT NULL"):
        expected_seq = count + 1
        if entry.chain_seq != expected_seq:
            return Verification(False, count, previous, {
                "chain_seq": expected_seq, "reason": f"entry {expected_seq} of the chain is missing (deleted?)",
                "next_entry_id": str(entry.id), "next_number": entry.number})
        recomputed = chain_hash(previous, canonical(entry, lines))
        if recomputed != entry.hash:
            return Verification(False, count, previous, {
                "entry_id": str(entry.id), "number": entry.number, "chain_seq": entry.chain_seq,
                "reason": "the entry or its lines differ from what was posted",
                "stored_hash": entry.hash, "recomputed_hash": recomputed})
        previous, count = entry.hash, count + 1
    head = session.execute(select(LedgerChain)).scalar_one()
    if head.last_seq != count or head.last_hash != previous:
        return Verification(False, count, previous, {
            "chain_seq": count + 1 if head.last_seq > count else head.last_seq,
            "reason": f"the chain's head says {head.last_seq} entries, {count} were found"})
    unsealed = session.execute(select(JournalEntry.id, JournalEntry.number).where(
        JournalEntry.status == "posted", JournalEntry.hash.is_(None)).limit(1)).first()
    if unsealed:
        return Verification(False, count, previous, {
            "entry_id": str(unsealed.id), "number": unsealed.number,
            "reason": "a posted entry outside the chain (written around the application)"})
    return Verification(True, count, previous)


def verify_database(database_url: str) -> bool:
    """`erp verify-ledger`: verify the chain and say what was found; True when it is intact."""
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            result = verify(session)
    finally:
        engine.dispose()
    if result.ok:
        print(f"ledger ok: {result.entries_checked} posted entries, chain head {result.last_hash}")
    else:
        details = ", ".join(f"{k}={v}" for k, v in result.broken.items())
        print(f"ledger BROKEN after {result.entries_checked} intact entries: {details}")
    return result.ok
