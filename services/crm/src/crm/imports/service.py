"""Use cases of imports: preview a file, import it as one batch, follow its progress, revert it.

A file of up to SYNC_ROWS rows (10,000) is imported inside the request: every row is validated first, then the
records, their outbox events and audit rows are written in bulk (parties: staged in a temporary table and inserted
with one INSERT ... SELECT, their events and audit rows built in SQL from the staged rows), all in one transaction
(a failure leaves nothing behind but the batch marked failed). A larger file (up to MAX_ROWS), or one sent with
background=true, is checked (format, columns, mapping) and queued with its bytes in import_files; the CRM worker's
ImportRunner (runner.py) takes it and runs the same code, reading the file from the database in slices, once, a
chunk of rows at a time (party_rows.plan), so its memory does not grow with the file. While an import writes,
processed_rows and progress_at are committed on a second connection after each chunk, so GET /imports/{id} shows
the progress, the rate and an ETA.

A queued import is imported exactly once: the worker marks it running (attempt n) before it starts, and the
import's own transaction, which writes every record and deletes the file, checks that it is still attempt n. A
worker that dies half-way leaves nothing written; after STALE without progress another run takes the import
again, at most MAX_ATTEMPTS times.

This module takes the session factory rather than a session: a batch needs several transactions (its row, the
import, the progress), which is the point of it.
"""

import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice

from servicekit.auth.principal import Principal
from servicekit.db import row_view
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, defer, sessionmaker

from . import lead_rows, party_rows
from .fields import resolve_mapping
from .models import ImportBatch, ImportFile
from .plan import MAX_ERRORS
from .readers import SLICE, Table, read_file

SYNC_ROWS = 10_000  # imported inside the request; larger files go to the worker
MAX_ROWS = 250_000
MAX_BYTES = 25 * 1024 * 1024
STALE = timedelta(minutes=5)  # a running import without progress for this long is taken again
MAX_ATTEMPTS = 3
TARGETS = {"parties": party_rows, "leads": lead_rows}
STORED_OPTIONS = ("target", "mapping", "on_duplicate", "kind")


def _fail(session_factory: sessionmaker, batch_id: str, failure: str, attempt: int | None = None) -> None:
    """Mark the batch failed (unless another run has taken it since: `attempt`) and drop its file."""
    with session_factory.begin() as session:
        stmt = update(ImportBatch).where(ImportBatch.id == batch_id)
        if attempt is not None:
            stmt = stmt.where(ImportBatch.attempts == attempt)
        if session.execute(stmt.values(status="failed", failure=failure[:2000],
                                       finished_at=datetime.now(UTC))).rowcount:
            session.execute(delete(ImportFile).where(ImportFile.import_id == batch_id))


def _progress(engine: Engine, batch_id: str) -> Callable[[int], None]:
    """Records rows processed in the batch row, committed at once on its own connection."""
    table = ImportBatch.__table__

    def report(rows: int) -> None:
        with engine.begin() as conn:
            conn.execute(update(table).where(table.c.id == batch_id)
                         .values(processed_rows=rows, progress_at=func.clock_timestamp()))
    return report


def _batch(options: dict, file_name: str, file_format: str, total_rows: int, status: str,
           actor: Principal) -> ImportBatch:
    now = datetime.now(UTC)
    return ImportBatch(target=options["target"], file_name=file_name[:255], file_format=file_format,
                       on_duplicate=options.get("on_duplicate", "skip"), mapping=options.get("mapping") or {},
                       status=status, total_rows=total_rows, processed_rows=0, created_count=0, updated_count=0,
                       unchanged_count=0, skipped_count=0, error_count=0, errors=[], created_by=actor.user_id,
                       created_at=now, started_at=now if status == "running" else None, attempts=0)


class _BytesAsCopy(io.RawIOBase):
    """The one line COPY import_files reads, made while it reads it: the file goes to the server as bytea text
    (\\x and hex) 64 KiB at a time, never as one escaped copy of the whole file in memory."""

    PART = 64 * 1024

    def __init__(self, import_id: str, data: bytes, token_id: str | None, options: dict):
        self._parts = self._generate(import_id, data, token_id, options)
        self._part, self._at = b"", 0

    def _generate(self, import_id, data, token_id, options):
        yield f"{import_id}\t".encode() + b"\\\\x"
        for part in _parts(data, self.PART):
            yield part.hex().encode()
        text = json.dumps(options).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
        token = token_id or "\\N"
        yield f"\t{token}\t{text}\n".encode()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self._at >= len(self._part):
            self._part, self._at = next(self._parts, b""), 0
        if size < 0:
            size = len(self._part)
        out = self._part[self._at:self._at + size]
        self._at += len(out)
        return out


def _store_file(session: Session, import_id: str, data: bytes, token_id: str | None, options: dict) -> None:
    """The queued file's row, by COPY in the session's transaction (see _BytesAsCopy)."""
    cursor = session.connection().connection.cursor()
    try:
        cursor.copy_expert("COPY import_files (import_id, data, token_id, options) FROM STDIN",
                           _BytesAsCopy(import_id, data, token_id, options))
    finally:
        cursor.close()


def _parts(data: bytes | Callable[[], Iterator[bytes]], size: int) -> Iterator[bytes]:
    """The file's bytes in parts of at most `size`, from bytes or from a slice source (readers.read_file's)."""
    for piece in ((data,) if isinstance(data, bytes) else data()):
        for i in range(0, len(piece), size):
            yield piece[i:i + size]


def upload_slices(stream) -> Callable[[], Iterator[bytes]]:
    """A seekable upload as a slice source, read again from its start at each call."""
    def read() -> Iterator[bytes]:
        stream.seek(0)
        while part := stream.read(SLICE):
            yield part
    return read


def import_file(session_factory: sessionmaker, engine: Engine, file_name: str,
                data: bytes | Callable[[], Iterator[bytes]], options: dict,
                actor: Principal) -> tuple[dict, ImportBatch | None]:
    """Preview (dry_run), run or queue an import; returns the report (the batch's view when queued) and, unless
    previewed, its batch (status done, or queued)."""
    rows_of = TARGETS[options["target"]]
    rows_of.check_may_import(actor)
    if (len(data) if isinstance(data, bytes) else sum(len(p) for p in data())) > MAX_BYTES:
        raise Problem(413, "File too large", f"Imports take files up to {MAX_BYTES // (1024 * 1024)} MB.",
                      "import-too-large")
    # counted first, nothing kept: a file for the worker is never parsed into rows here
    table = read_file(file_name, data, MAX_ROWS, keep=SYNC_ROWS, stream=True)
    if table.source is not None and (options.get("dry_run") or not (table.total > SYNC_ROWS
                                                                     or options.get("background"))):
        table.rows, table.source = list(islice(table.each(), SYNC_ROWS)), None
    if table.format != "vcf":
        resolve_mapping(table.columns, options.get("mapping"), options["target"])  # refused before any batch exists
    report_base = {"target": options["target"], "file_name": file_name, "file_format": table.format,
                   "on_duplicate": options.get("on_duplicate", "skip")}
    if options.get("dry_run"):
        if table.total > len(table.rows):
            table.warnings.append({"row": 0, "field": "file", "column": None, "message": (
                f"previewed the first {len(table.rows)} of {table.total} rows; the import checks every row")})
        with session_factory() as session:  # read only: rolled back whatever happens
            plan = rows_of.plan(session, table, options, actor)
        return {**report_base, **plan.report(rows_of.SHOWN), "rows": table.total, "id": None, "dry_run": True,
                "status": "preview"}, None
    if table.total > len(table.rows) or options.get("background"):
        with session_factory.begin() as session:
            batch = _batch(options, file_name, table.format, table.total, "queued", actor)
            session.add(batch)
            session.flush()
            _store_file(session, batch.id, data, actor.token_id, {k: options.get(k) for k in STORED_OPTIONS})
        return import_view(batch), batch
    with session_factory.begin() as session:
        batch = _batch(options, file_name, table.format, table.total, "running", actor)
        session.add(batch)
    report = _run(session_factory, engine, batch.id, table, options, actor)
    return {**report_base, **report, "id": batch.id, "dry_run": False, "status": "done"}, batch


def _run(session_factory: sessionmaker, engine: Engine, batch_id: str, table: Table, options: dict,
         actor: Principal, attempt: int | None = None) -> dict:
    """Plan and write every row in one transaction that also marks the batch done; on any error the batch is
    marked failed and the error raised. `attempt`: the worker's run, checked before anything is kept."""
    rows_of = TARGETS[options["target"]]
    try:
        with session_factory.begin() as session:
            plan = rows_of.plan(session, table, options, actor, batch_id=batch_id, lock=True)
            table.rows.clear()  # the plan holds what the rows say: the parsed file goes before the writing
            rows_of.write(session, plan, batch_id, actor, _progress(engine, batch_id))
            report = plan.report(rows_of.SHOWN)
            batch = session.execute(select(ImportBatch).where(ImportBatch.id == batch_id)
                                    .with_for_update()).scalar_one()
            if attempt is not None and (batch.attempts != attempt or batch.status != "running"):
                raise Superseded(f"import {batch_id}: run {attempt} was superseded by run {batch.attempts}")
            batch.status = "done"
            batch.processed_rows = plan.rows
            batch.created_count = report["to_create"]
            batch.updated_count = report["to_update"]
            batch.unchanged_count = report["unchanged"]
            batch.skipped_count = report["skipped"]
            batch.error_count = report["error_rows"]
            batch.errors = plan.errors[:MAX_ERRORS]
            batch.finished_at = datetime.now(UTC)
            session.execute(delete(ImportFile).where(ImportFile.import_id == batch_id))
    except Superseded:
        raise
    except Exception as exc:
        _fail(session_factory, batch_id, _failure(exc), attempt)
        raise
    return report


def _failure(exc: Exception) -> str:
    """What a failed batch says: a refusal's title and detail, or the error."""
    return f"{exc.title}: {exc.detail}" if isinstance(exc, Problem) else f"{type(exc).__name__}: {exc}"


class Superseded(Exception):
    """Another run took this import (this one was presumed dead): this run keeps nothing."""


def _claim(session_factory: sessionmaker) -> tuple[ImportBatch, ImportFile] | None:
    """The oldest queued import (or a running one without progress for STALE), marked running as a new attempt."""
    now = datetime.now(UTC)
    with session_factory.begin() as session:
        waiting = or_(ImportBatch.status == "queued",
                      and_(ImportBatch.status == "running", ImportBatch.progress_at < now - STALE))
        found = session.execute(
            select(ImportBatch, ImportFile).join(ImportFile, ImportFile.import_id == ImportBatch.id).where(waiting)
            .options(defer(ImportFile.data))  # read in slices by the run (_slices), never whole
            .order_by(ImportBatch.created_at).limit(1).with_for_update(of=ImportBatch, skip_locked=True)).first()
        if found is None:
            return None
        batch, file = found
        batch.status, batch.attempts = "running", batch.attempts + 1
        batch.started_at = batch.progress_at = now
        batch.processed_rows = 0
        session.flush()
        session.expunge_all()
        return batch, file


def run_next(session_factory: sessionmaker, engine: Engine,
             principal_of: Callable[[Session, str, str | None], Principal | None]) -> bool:
    """Import the oldest queued file, if any (the worker's loop); True when one was taken.

    `principal_of(session, user_id, token_id)`: the user who sent the file, with the roles they hold now (None
    if they may no longer sign in: the import fails)."""
    claimed = _claim(session_factory)
    if claimed is None:
        return False
    batch, file = claimed
    if batch.attempts > MAX_ATTEMPTS:
        _fail(session_factory, batch.id, f"gave up after {MAX_ATTEMPTS} runs that stopped half-way", batch.attempts)
        return True
    with session_factory() as session:
        actor = principal_of(session, batch.created_by, file.token_id)
    if actor is None:
        _fail(session_factory, batch.id, "the user who sent the file is no longer active", batch.attempts)
        return True
    try:
        table = read_file(batch.file_name, _slices(engine, batch.id), MAX_ROWS, stream=True)
    except Problem as exc:
        _fail(session_factory, batch.id, _failure(exc), batch.attempts)
        return True
    try:
        _run(session_factory, engine, batch.id, table, file.options, actor, batch.attempts)
    except Problem:
        pass  # a refusal of the file's rows: _run has marked the batch failed and says why
    return True


def _slices(engine: Engine, batch_id: str, size: int | None = None) -> Callable[[], Iterator[bytes]]:
    """The queued file's bytes, SLICE at a time, each read on its own short connection: the worker holds neither
    the file nor its rows, however large (the run reads the file three or four times: encoding, count, then each
    pass of the plan). The row stays until the import's own transaction deletes it, so every read sees it."""
    table = ImportFile.__table__
    size = size or SLICE

    def read() -> Iterator[bytes]:
        start = 1
        while True:
            with engine.connect() as conn:
                part = conn.execute(select(func.substring(table.c.data, start, size))
                                    .where(table.c.import_id == batch_id)).scalar()
            if not part:
                return
            yield bytes(part)
            start += size
    return read


def import_view(batch: ImportBatch) -> dict:
    """The batch as the API shows it, with its rate (rows a second) and, while it runs, the seconds left."""
    view = row_view(batch)
    rate = eta = None
    end = batch.finished_at if batch.status in ("done", "reverted") else batch.progress_at
    if batch.started_at and end and batch.processed_rows:
        seconds = (end - batch.started_at).total_seconds()
        rate = round(batch.processed_rows / seconds, 1) if seconds > 0 else None
    if batch.status == "running" and rate:
        eta = round((batch.total_rows - batch.processed_rows) / rate, 1)
    return {**view, "rate_rows_per_second": rate, "eta_seconds": eta}


def _own(session: Session, batch_id, actor: Principal, lock: bool = False) -> ImportBatch:
    """A batch the caller started (administrators see all); others' are "not found"."""
    stmt = select(ImportBatch).where(ImportBatch.id == str(batch_id))
    if not actor.is_admin:
        stmt = stmt.where(ImportBatch.created_by == actor.user_id)
    batch = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if batch is None:
        raise NotFound("import", batch_id)
    return batch


def get_import(session: Session, batch_id, actor: Principal) -> dict:
    return import_view(_own(session, batch_id, actor))


def list_imports(session: Session, args: dict, actor: Principal) -> dict:
    stmt = select(ImportBatch)
    if not actor.is_admin:
        stmt = stmt.where(ImportBatch.created_by == actor.user_id)
    if args.get("target"):
        stmt = stmt.where(ImportBatch.target == args["target"])
    stmt = apply_sort(stmt, args.get("sort"), {"created_at": ImportBatch.created_at, "target": ImportBatch.target},
                      [ImportBatch.created_at.desc(), ImportBatch.id])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [import_view(b) for b in page["items"]]
    return page


def revert_import(session: Session, batch_id, actor: Principal) -> dict:
    """Undo a finished import: see party_rows.revert and lead_rows.revert. Records changed since are kept and
    listed in the batch's revert_report."""
    batch = _own(session, batch_id, actor, lock=True)
    rows_of = TARGETS[batch.target]
    rows_of.check_may_import(actor)
    if batch.status != "done":
        raise Problem(409, "Import cannot be reverted", f"The import is {batch.status}; only a finished (done) "
                      "import can be reverted, once.", "import-not-revertible", status_now=batch.status)
    report = rows_of.revert(session, batch.id, actor)
    batch.status = "reverted"
    batch.reverted_at = datetime.now(UTC)
    batch.reverted_by = actor.user_id
    batch.revert_report = report
    session.flush()
    return import_view(batch)
