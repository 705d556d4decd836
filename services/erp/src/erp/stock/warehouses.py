"""Use cases of warehouses and their locations: each warehouse is born with its default location, STOCK."""

from datetime import UTC, datetime

from servicekit import audit
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import audit_log
from .models import DEFAULT_LOCATION, Location, Reservation, StockQuant, Warehouse

SORTABLE = {"code": func.lower(Warehouse.code), "name": func.lower(Warehouse.name),
            "created_at": Warehouse.created_at}


def warehouse_view(session: Session, w: Warehouse) -> dict:
    view = {c: getattr(w, c) for c in ("id", "code", "name", "active", "version", "created_at", "updated_at")}
    view["default_location_id"] = session.execute(select(Location.id).where(
        Location.warehouse_id == w.id, Location.is_default)).scalar_one_or_none()
    return view


def _state(w: Warehouse) -> dict:
    return {"code": w.code, "name": w.name, "active": w.active}


def _code_taken(code: str) -> Problem:
    return Problem(409, "Warehouse exists", f"A warehouse with code {code!r} exists.", "conflict",
                   errors=[{"field": "code", "message": "already used"}])


def _check_code(session: Session, code: str, exclude: str | None = None) -> None:
    stmt = select(Warehouse.id).where(func.lower(Warehouse.code) == code.lower())
    if exclude:
        stmt = stmt.where(Warehouse.id != exclude)
    if session.execute(stmt).first():
        raise _code_taken(code)


def _flush_unique(session: Session, conflict: Problem) -> None:
    """Flush; a concurrent insert of the same code (past the check above) is the same 409, not a 500."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise conflict from None


def create_warehouse(session: Session, data: dict, actor) -> dict:
    code = data["code"].strip().upper()
    _check_code(session, code)
    w = Warehouse(code=code, name=data["name"].strip(), active=data.get("active", True), version=1)
    session.add(w)
    _flush_unique(session, _code_taken(code))
    session.add(Location(warehouse_id=w.id, code=DEFAULT_LOCATION, name="Stock", path=DEFAULT_LOCATION,
                         is_default=True, active=True))
    session.flush()
    session.refresh(w)
    audit.record(session, audit_log, actor, "create", "warehouse", w.id, None, _state(w))
    return warehouse_view(session, w)


def get_warehouse(session: Session, warehouse_id) -> dict:
    w = session.get(Warehouse, str(warehouse_id))
    if w is None:
        raise NotFound("warehouse", warehouse_id)
    return warehouse_view(session, w)


def update_warehouse(session: Session, warehouse_id, expected_version: int, changes: dict, actor) -> dict:
    """Rename, recode or (de)activate; a warehouse that still holds or reserves stock cannot be deactivated."""
    w = session.execute(select(Warehouse).where(Warehouse.id == str(warehouse_id)).with_for_update()
                        ).scalar_one_or_none()
    if w is None:
        raise NotFound("warehouse", warehouse_id)
    check_version(w.version, expected_version)
    before = _state(w)
    if "code" in changes:
        code = changes["code"].strip().upper()
        _check_code(session, code, exclude=w.id)
        w.code = code
    if "name" in changes:
        w.name = changes["name"].strip()
    if changes.get("active") is False and w.active:
        holds = session.execute(select(StockQuant.product_id).where(
            StockQuant.warehouse_id == w.id, StockQuant.on_hand != 0).limit(1)).first()
        reserves = session.execute(select(Reservation.id).where(
            Reservation.warehouse_id == w.id, Reservation.status == "active").limit(1)).first()
        if holds or reserves:
            raise Problem(409, "Warehouse holds stock", f"Warehouse {w.code} still holds or reserves stock: move "
                          "it out and release its reservations before deactivating it.", "warehouse-not-empty",
                          errors=[{"field": "active", "message": "the warehouse still holds or reserves stock"}])
    if "active" in changes:
        w.active = changes["active"]
    if _state(w) != before:
        w.version += 1
        w.updated_at = datetime.now(UTC)
        _flush_unique(session, _code_taken(w.code))
        audit.record(session, audit_log, actor, "update", "warehouse", w.id, before, _state(w))
    return warehouse_view(session, w)


def list_warehouses(session: Session, args: dict) -> dict:
    stmt = select(Warehouse)
    if args.get("active") is not None:
        stmt = stmt.where(Warehouse.active == args["active"])
    if args.get("q"):
        like = f"%{args['q'].lower()}%"
        stmt = stmt.where(or_(func.lower(Warehouse.code).like(like), func.lower(Warehouse.name).like(like)))
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE, [func.lower(Warehouse.code), Warehouse.id])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [warehouse_view(session, w) for w in page["items"]]
    return page


# -- locations -----------------------------------------------------------------------------------

def _warehouse(session: Session, warehouse_id) -> Warehouse:
    w = session.get(Warehouse, str(warehouse_id))
    if w is None:
        raise NotFound("warehouse", warehouse_id)
    return w


def list_locations(session: Session, warehouse_id, include_inactive: bool = False) -> list[dict]:
    _warehouse(session, warehouse_id)
    stmt = select(Location).where(Location.warehouse_id == str(warehouse_id)).order_by(Location.path)
    if not include_inactive:
        stmt = stmt.where(Location.active)
    return [row_view(loc) for loc in session.execute(stmt).scalars()]


def create_location(session: Session, warehouse_id, data: dict, actor) -> dict:
    """A location under the warehouse's top (or under `parent_id`); its code is unique in the warehouse."""
    w = _warehouse(session, warehouse_id)
    code = data["code"].strip().upper()
    parent = None
    if data.get("parent_id"):
        parent = session.get(Location, str(data["parent_id"]))
        if parent is None or parent.warehouse_id != w.id:
            raise field_error("parent_id", "no such location in this warehouse")
    taken = Problem(409, "Location exists", f"Warehouse {w.code} has a location {code!r}.", "conflict",
                    errors=[{"field": "code", "message": "already used in this warehouse"}])
    if session.execute(select(Location.id).where(Location.warehouse_id == w.id, Location.code == code)).first():
        raise taken
    location = Location(warehouse_id=w.id, parent_id=parent.id if parent else None, code=code,
                        name=data["name"].strip(), path=f"{parent.path}/{code}" if parent else code,
                        is_default=False, active=True)
    session.add(location)
    _flush_unique(session, taken)
    audit.record(session, audit_log, actor, "create", "stock_location", location.id, None,
                 {"warehouse_id": w.id, "code": code, "name": location.name, "path": location.path})
    return row_view(location)
