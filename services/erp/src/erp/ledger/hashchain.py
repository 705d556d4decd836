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
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from . import posting
from .models import JournalEntry, LedgerChain

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
    """A posted entry waiting for its number and hash, with its lines as they were written; `transaction` is the
    session transaction (or savepoint) it was written in, to forget it if that one rolls back."""

    entry: JournalEntry
    journal_code: str
    lines: list[dict]
    transaction: object = None


# Locks the chain's head and reserves the chain positions, then takes the journal-year counters: the INSERT reads
# its rows from the head's UPDATE, so the head's row lock is always taken first.
RESERVE_SQL = text("""
WITH head AS (UPDATE ledger_chain SET last_seq = last_seq + :count WHERE id = 1 RETURNING last_seq, last_hash),
counters AS (
    INSERT INTO ledger_journal_sequences (journal_id, fiscal_year, last_number)
    SELECT v.journal_id, v.fiscal_year, v.count
    FROM head, jsonb_to_recordset(CAST(:groups AS jsonb)) AS v(journal_id uuid, fiscal_year integer, count integer)
    ON CONFLICT (journal_id, fiscal_year)
        DO UPDATE SET last_number = ledger_journal_sequences.last_number + excluded.last_number
    RETURNING journal_id::text AS journal_id, fiscal_year, last_number)
SELECT head.last_seq, head.last_hash, counters.journal_id, counters.fiscal_year, counters.last_number
FROM head, counters
""")
# Writes the entries' seal and the chain's new head in one statement.
WRITE_SQL = text("""
WITH head AS (UPDATE ledger_chain SET last_hash = :last_hash WHERE id = 1)
UPDATE journal_entries AS e
SET fiscal_year = v.fiscal_year, sequence_number = v.sequence_number, number = v.number, chain_seq = v.chain_seq,
    hash = v.hash
FROM jsonb_to_recordset(CAST(:entries AS jsonb))
     AS v(id uuid, fiscal_year integer, sequence_number integer, number text, chain_seq bigint, hash text)
WHERE e.id = v.id
""")
SEAL_COLUMNS = ("fiscal_year", "sequence_number", "number", "chain_seq", "hash")


def seal(session: Session, pending: list[Unsealed]) -> None:
    """Number and hash posted entries of this transaction, in the order given.

    Takes the chain head's row lock first, then each journal-year counter's: concurrent postings are sealed one
    transaction after the other, so numbers have no gap and no duplicate and the chain has one order. Called when
    the transaction commits (service.py), after every other lock the transaction holds, so it cannot deadlock
    with the callers' own locks; it holds the lock for two statements, whatever the number of entries: one
    reserves the chain positions and the numbers (RESERVE_SQL), one writes the seals and the new head
    (WRITE_SQL). The hash is computed from the values as written (the same values `verify` reads back: the tests
    verify the chain after every kind of posting).
    """
    if not pending:
        return
    groups: dict[tuple[str, int], int] = {}
    for item in pending:
        key = (str(item.entry.journal_id), posting.fiscal_year(item.entry.entry_date))
        groups[key] = groups.get(key, 0) + 1
    rows = session.execute(RESERVE_SQL, {"count": len(pending), "groups": json.dumps(
        [{"journal_id": j, "fiscal_year": y, "count": n} for (j, y), n in groups.items()])}).all()
    last_seq, previous = rows[0].last_seq, rows[0].last_hash
    seq = last_seq - len(pending)
    next_number = {(r.journal_id, r.fiscal_year): r.last_number - groups[r.journal_id, r.fiscal_year] for r in rows}
    seals = []
    for item in pending:
        entry = item.entry
        key = (str(entry.journal_id), posting.fiscal_year(entry.entry_date))
        next_number[key] += 1
        seq += 1
        values = {"fiscal_year": key[1], "sequence_number": next_number[key],
                  "number": posting.entry_number(item.journal_code, key[1], next_number[key]), "chain_seq": seq}
        for name, value in values.items():
            set_committed_value(entry, name, value)
        values["hash"] = previous = chain_hash(previous, canonical(entry, [line_of(line) for line in item.lines]))
        set_committed_value(entry, "hash", previous)
        seals.append({"id": str(entry.id), **values})
    session.execute(WRITE_SQL, {"last_hash": previous, "entries": json.dumps(seals)})
    head = session.identity_map.get(identity_key(LedgerChain, (1,)))
    if head is not None:  # a LedgerChain loaded earlier in this session shows the new head
        set_committed_value(head, "last_seq", seq)
        set_committed_value(head, "last_hash", previous)


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
