"""Use cases of imports: preview a file, import it as one batch, follow its progress, revert it.

An import runs inside the request, synchronously, up to MAX_ROWS rows (10,000): every row is validated first, then
the records, their outbox events and audit rows are written with multi-row INSERTs of bulk.CHUNK rows, all in one
transaction (a failure leaves nothing behind but the batch marked failed). While it runs, the batch row's
processed_rows is updated and committed on a second connection after each chunk, so GET /imports/{id} shows the
progress. It costs about 1.5 ms a row (most of it validating each event against its contract), so the largest
file stays well inside gunicorn's 30 s request timeout; larger files are split by the client (413 says so): the
web process never hosts longer work.

This module takes the session factory rather than a session: a batch needs three transactions (its row, the
import, the progress), which is the point of it.
"""

from collections.abc import Callable
from datetime import UTC, datetime

from servicekit.auth.principal import Principal
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from . import lead_rows, party_rows
from .fields import resolve_mapping
from .models import ImportBatch
from .plan import MAX_ERRORS
from .readers import read_file

MAX_ROWS = 10_000
MAX_BYTES = 25 * 1024 * 1024
TARGETS = {"parties": party_rows, "leads": lead_rows}


def _fail(session_factory: sessionmaker, batch_id: str, exc: Exception) -> None:
    with session_factory.begin() as session:
        session.execute(update(ImportBatch).where(ImportBatch.id == batch_id).values(
            status="failed", failure=f"{type(exc).__name__}: {exc}"[:2000], finished_at=datetime.now(UTC)))


def _progress(engine: Engine, batch_id: str) -> Callable[[int], None]:
    """Records rows processed in the batch row, committed at once on its own connection."""
    def report(rows: int) -> None:
        with engine.begin() as conn:
            conn.execute(update(ImportBatch.__table__).where(ImportBatch.__table__.c.id == batch_id)
                         .values(processed_rows=rows))
    return report


def import_file(session_factory: sessionmaker, engine: Engine, file_name: str, data: bytes, options: dict,
                actor: Principal) -> tuple[dict, ImportBatch | None]:
    """Preview (dry_run) or run an import; returns the report and, for a real import, its batch."""
    rows_of = TARGETS[options["target"]]
    rows_of.check_may_import(actor)
    if len(data) > MAX_BYTES:
        raise Problem(413, "File too large", f"Imports take files up to {MAX_BYTES // (1024 * 1024)} MB.",
                      "import-too-large")
    table = read_file(file_name, data, MAX_ROWS)
    if table.format != "vcf":
        resolve_mapping(table.columns, options.get("mapping"), options["target"])  # refused before any batch exists
    report_base = {"target": options["target"], "file_name": file_name, "file_format": table.format,
                   "on_duplicate": options.get("on_duplicate", "skip")}
    if options.get("dry_run"):
        with session_factory() as session:  # read only: rolled back whatever happens
            plan = rows_of.plan(session, table, options, actor)
        return {**report_base, **plan.report(rows_of.SHOWN), "id": None, "dry_run": True, "status": "preview"}, None

    now = datetime.now(UTC)
    with session_factory.begin() as session:
        batch = ImportBatch(target=options["target"], file_name=file_name[:255], file_format=table.format,
                            on_duplicate=report_base["on_duplicate"], mapping=options.get("mapping") or {},
                            status="running", total_rows=len(table.rows), processed_rows=0, created_count=0,
                            updated_count=0, unchanged_count=0, skipped_count=0, error_count=0, errors=[],
                            created_by=actor.user_id, created_at=now)
        session.add(batch)
    try:
        with session_factory.begin() as session:
            plan = rows_of.plan(session, table, options, actor, batch_id=batch.id, lock=True)
            rows_of.write(session, plan, batch.id, actor, _progress(engine, batch.id))
            report = plan.report(rows_of.SHOWN)
            batch = session.execute(select(ImportBatch).where(ImportBatch.id == batch.id)
                                    .with_for_update()).scalar_one()
            batch.status = "done"
            batch.processed_rows = len(table.rows)
            batch.created_count = report["to_create"]
            batch.updated_count = report["to_update"]
            batch.unchanged_count = report["unchanged"]
            batch.skipped_count = report["skipped"]
            batch.error_count = report["error_rows"]
            batch.errors = plan.errors[:MAX_ERRORS]
            batch.finished_at = datetime.now(UTC)
    except Exception as exc:
        _fail(session_factory, batch.id, exc)
        raise
    return {**report_base, **report, "id": batch.id, "dry_run": False, "status": batch.status}, batch


def _own(session: Session, batch_id, actor: Principal, lock: bool = False) -> ImportBatch:
    """A batch the caller started (administrators see all); others' are "not found"."""
    stmt = select(ImportBatch).where(ImportBatch.id == str(batch_id))
    if not actor.is_admin:
        stmt = stmt.where(ImportBatch.created_by == actor.user_id)
    batch = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if batch is None:
        raise NotFound("import", batch_id)
    return batch


def get_import(session: Session, batch_id, actor: Principal) -> ImportBatch:
    return _own(session, batch_id, actor)


def list_imports(session: Session, args: dict, actor: Principal) -> dict:
    stmt = select(ImportBatch)
    if not actor.is_admin:
        stmt = stmt.where(ImportBatch.created_by == actor.user_id)
    if args.get("target"):
        stmt = stmt.where(ImportBatch.target == args["target"])
    stmt = apply_sort(stmt, args.get("sort"), {"created_at": ImportBatch.created_at, "target": ImportBatch.target},
                      [ImportBatch.created_at.desc(), ImportBatch.id])
    return paginate(session, stmt, args["page"], args["page_size"])


def revert_import(session: Session, batch_id, actor: Principal) -> ImportBatch:
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
    return batch
