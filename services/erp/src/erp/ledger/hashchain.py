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
from .prepared import Prepared

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
    """A posted entry waiting for its number and hash, with its lines as they were written (tuples in LINE_KEYS
    order); `transaction` is the session transaction (or savepoint) it was written in, to forget it if that one
    rolls back."""

    entry: JournalEntry
    journal_code: str
    lines: list[tuple]
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
# Seals in one statement when the chain is where this process last left it (_known): the head's row lock first (only
# if its position and hash are the expected ones), then the journal-year counters' (only if each holds the expected
# last number), and then, only if all of them matched, the new head, the new counters and the entries' seals. It
# writes nothing and returns false otherwise (another process sealed since, or a counter this process has not seen),
# and seal() takes the two statements above instead.
SEAL_AT_SQL = Prepared("ledger_seal_at", """
WITH head AS (
    SELECT id FROM ledger_chain WHERE id = 1 AND last_seq = :expected_seq AND last_hash = :expected_hash FOR UPDATE),
counters AS (
    SELECT c.journal_id, c.fiscal_year, v.last_number
    FROM head, jsonb_to_recordset(CAST(:groups AS jsonb))
         AS v(journal_id uuid, fiscal_year integer, expected integer, last_number integer)
    JOIN ledger_journal_sequences c
      ON c.journal_id = v.journal_id AND c.fiscal_year = v.fiscal_year AND c.last_number = v.expected
    FOR UPDATE OF c),
ok AS (SELECT count(*) = :group_count AS ok FROM counters),
new_head AS (UPDATE ledger_chain SET last_seq = :last_seq, last_hash = :last_hash FROM ok WHERE id = 1 AND ok.ok),
numbers AS (
    UPDATE ledger_journal_sequences s SET last_number = c.last_number
    FROM ok, counters c WHERE ok.ok AND s.journal_id = c.journal_id AND s.fiscal_year = c.fiscal_year),
seals AS (
    UPDATE journal_entries AS e
    SET fiscal_year = v.fiscal_year, sequence_number = v.sequence_number, number = v.number,
        chain_seq = v.chain_seq, hash = v.hash
    FROM ok, jsonb_to_recordset(CAST(:entries AS jsonb))
         AS v(id uuid, fiscal_year integer, sequence_number integer, number text, chain_seq bigint, hash text)
    WHERE ok.ok AND e.id = v.id)
SELECT ok FROM ok
""")


@dataclass(frozen=True)
class _Head:
    """The chain as this process last sealed it: position, hash, and the journal-year counters it saw then."""

    last_seq: int
    last_hash: str
    numbers: dict[tuple[str, int], int]


_known: _Head | None = None


def _seals(pending: list[Unsealed], last_seq: int, previous: str,
           numbers: dict[tuple[str, int], int]) -> tuple[list[dict], dict[tuple[str, int], int]]:
    """The seal of each pending entry after the chain's position `last_seq` with hash `previous` and the counters
    `numbers` (the last number given per journal and year); and the counters after them."""
    numbers, seals, seq = dict(numbers), [], last_seq
    for item in pending:
        entry = item.entry
        key = (str(entry.journal_id), posting.fiscal_year(entry.entry_date))
        numbers[key] += 1
        seq += 1
        values = {"id": str(entry.id), "fiscal_year": key[1], "sequence_number": numbers[key],
                  "number": posting.entry_number(item.journal_code, key[1], numbers[key]), "chain_seq": seq}
        # canonical() reads the entry's seal attributes: these values, before they are set on it
        sealed = _Sealed(entry, values)
        values["hash"] = previous = chain_hash(previous, canonical(sealed, item.lines))
        seals.append(values)
    return seals, numbers


class _Sealed:
    """An entry as canonical() reads it, with the seal values it is about to get."""

    __slots__ = ("_entry", "_values")

    def __init__(self, entry, values: dict):
        self._entry, self._values = entry, values

    def __getattr__(self, name):
        values = self._values
        return values[name] if name in values and name != "id" else getattr(self._entry, name)


def seal(session: Session, pending: list[Unsealed]) -> None:
    """Number and hash posted entries of this transaction, in the order given.

    Takes the chain head's row lock first, then each journal-year counter's: concurrent postings are sealed one
    transaction after the other, so numbers have no gap and no duplicate and the chain has one order. Called when
    the transaction commits (service.py), after every other lock the transaction holds, so it cannot deadlock
    with the callers' own locks; it holds the lock for one or two statements, whatever the number of entries: when
    the chain is where this process last sealed it, one statement checks that and seals (SEAL_AT_SQL); otherwise
    one reserves the chain positions and the numbers (RESERVE_SQL) and one writes the seals and the new head
    (WRITE_SQL). The hash is computed from the values as written (the same values `verify` reads back: the tests
    verify the chain after every kind of posting).
    """
    global _known
    if not pending:
        return
    groups: dict[tuple[str, int], int] = {}
    for item in pending:
        key = (str(item.entry.journal_id), posting.fiscal_year(item.entry.entry_date))
        groups[key] = groups.get(key, 0) + 1
    known, seals = _known, None
    if known is not None and all(key in known.numbers for key in groups):
        expected = {key: known.numbers[key] for key in groups}
        seals, numbers = _seals(pending, known.last_seq, known.last_hash, expected)
        if not SEAL_AT_SQL(session, {
                "expected_seq": known.last_seq, "expected_hash": known.last_hash, "group_count": len(groups),
                "groups": json.dumps([{"journal_id": j, "fiscal_year": y, "expected": n, "last_number": numbers[j, y]}
                                      for (j, y), n in expected.items()]),
                "last_seq": seals[-1]["chain_seq"], "last_hash": seals[-1]["hash"],
                "entries": json.dumps(seals)}).scalar():
            seals = None
    if seals is None:
        rows = session.execute(RESERVE_SQL, {"count": len(pending), "groups": json.dumps(
            [{"journal_id": j, "fiscal_year": y, "count": n} for (j, y), n in groups.items()])}).all()
        last_seq, previous = rows[0].last_seq - len(pending), rows[0].last_hash
        seals, numbers = _seals(pending, last_seq, previous, {
            (r.journal_id, r.fiscal_year): r.last_number - groups[r.journal_id, r.fiscal_year] for r in rows})
        session.execute(WRITE_SQL, {"last_hash": seals[-1]["hash"], "entries": json.dumps(seals)})
        known = None
    # what the next seal of this process expects, if nobody else seals before it (checked by SEAL_AT_SQL)
    _known = _Head(seals[-1]["chain_seq"], seals[-1]["hash"], {**(known.numbers if known else {}), **numbers})
    for item, values in zip(pending, seals, strict=True):
        for name in SEAL_COLUMNS:
            set_committed_value(item.entry, name, values[name])
    head = session.identity_map.get(identity_key(LedgerChain, (1,)))
    if head is not None:  # a LedgerChain loaded earlier in this session shows the new head
        set_committed_value(head, "last_seq", seals[-1]["chain_seq"])
        set_committed_value(head, "last_hash", seals[-1]["hash"])


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
