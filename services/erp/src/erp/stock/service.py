"""Use cases that change stock: receive, deliver, transfer, adjust, reserve and release.

Every change of a stockable product's stock first locks that product's `stock_products` row (SELECT ... FOR UPDATE),
so two transactions never interleave on one product: the availability checks, the quants, the average cost or FIFO
layers and the stock version stay consistent under concurrency. A change of on hand or reserved adds the product's
whole availability to the outbox (erp.stock.availability_changed) in the same transaction. Use cases never commit.
"""

from datetime import UTC, datetime
from decimal import Decimal

from servicekit import audit
from servicekit.db import row_view
from servicekit.problems import NotFound, Problem, field_error
from shared_events.actors import actor_extensions
from shared_events.outbox import record_event
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ..catalog.models import Product
from ..db import audit_log, outbox
from ..money import cents
from . import events, layers, valuation
from .models import Location, Reservation, StockLevel, StockMove, StockProduct, StockQuant, ValuationLayer, Warehouse
from .postings import post_stock_move as post_valuation

QUANTUM = Decimal("0.0001")
MAX_QUANTITY = Decimal("1e13")


# -- lookups -------------------------------------------------------------------------------------

def product_for_stock(session: Session, product_id, field: str = "product_id") -> Product:
    """The product, or a 422 naming `field`; services never have stock."""
    product = session.get(Product, str(product_id))
    if product is None:
        raise field_error(field, f"no product with id {product_id}")
    if product.kind == "service":
        raise field_error(field, f"{product.sku} is a service: services have no stock")
    return product


def warehouse_for_stock(session: Session, warehouse_id, field: str = "warehouse_id") -> Warehouse:
    warehouse = session.get(Warehouse, str(warehouse_id))
    if warehouse is None:
        raise field_error(field, f"no warehouse with id {warehouse_id}")
    if not warehouse.active:
        raise field_error(field, f"warehouse {warehouse.code} is inactive")
    return warehouse


def default_location(session: Session, warehouse_id: str) -> Location:
    return session.execute(select(Location).where(Location.warehouse_id == str(warehouse_id),
                                                  Location.is_default)).scalar_one()


def resolve_location(session: Session, warehouse_id, location_id, warehouse_field: str = "warehouse_id",
                     location_field: str = "location_id") -> Location:
    """A location given by id (checked against the warehouse, if one is named) or the warehouse's default."""
    if location_id:
        location = session.get(Location, str(location_id))
        if location is None:
            raise field_error(location_field, f"no location with id {location_id}")
        if warehouse_id and location.warehouse_id != str(warehouse_id):
            raise field_error(location_field, "this location is not in the warehouse given")
        if not location.active:
            raise field_error(location_field, f"location {location.path} is inactive")
        warehouse_for_stock(session, location.warehouse_id, location_field)
        return location
    if not warehouse_id:
        raise field_error(warehouse_field, "required (or give a location)")
    return default_location(session, warehouse_for_stock(session, warehouse_id, warehouse_field).id)


def checked_quantity(quantity, field: str = "quantity") -> Decimal:
    quantity = Decimal(str(quantity))
    if not quantity.is_finite() or quantity <= 0:
        raise field_error(field, "must be greater than 0")
    if quantity != quantity.quantize(QUANTUM) or quantity >= MAX_QUANTITY:
        raise field_error(field, "at most 4 decimal places and below 10^13")
    return quantity


# -- locks and running totals --------------------------------------------------------------------

def _locked(session: Session, model, values: dict, where: dict):
    """Get-or-create a row and lock it: concurrent writers of the same row queue here."""
    session.execute(insert(model).values(**values, **where).on_conflict_do_nothing())
    stmt = select(model).filter_by(**where).with_for_update().execution_options(populate_existing=True)
    return session.execute(stmt).scalar_one()


def lock_product_stock(session: Session, product_id: str) -> StockProduct:
    """Lock a product's stock (always the first lock a stock change takes, so transactions cannot deadlock)."""
    zero = Decimal("0")
    return _locked(session, StockProduct, {"version": 0, "on_hand": zero, "reserved": zero, "value": zero,
                                           "average_cost": zero}, {"product_id": product_id})


def _lock_level(session: Session, product_id: str, warehouse_id: str) -> StockLevel:
    return _locked(session, StockLevel, {"on_hand": Decimal("0"), "reserved": Decimal("0")},
                   {"product_id": product_id, "warehouse_id": warehouse_id})


def _lock_quant(session: Session, product_id: str, location: Location) -> StockQuant:
    return _locked(session, StockQuant, {"warehouse_id": location.warehouse_id, "on_hand": Decimal("0")},
                   {"product_id": product_id, "location_id": location.id})


def announce(session: Session, product: Product, stock: StockProduct, actor) -> None:
    """Bump the product's stock version and add its whole availability to the outbox."""
    stock.version += 1
    stock.updated_at = datetime.now(UTC)
    session.flush()
    rows = session.execute(
        select(StockLevel.warehouse_id, Warehouse.code, Warehouse.name, StockLevel.on_hand, StockLevel.reserved)
        .join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
        .where(StockLevel.product_id == product.id).order_by(Warehouse.code)).all()
    state = events.availability_state(product.id, product.sku, stock.version, stock.updated_at,
                                      [dict(r._mapping) for r in rows])
    record_event(session, outbox, events.availability_event(state, actor), "stock")


def _insufficient(product: Product, requested: Decimal, available: Decimal, where: str, **ids) -> Problem:
    available = max(available, Decimal("0"))
    return Problem(409, "Not enough stock",
                   f"{product.sku}: {events.dec(requested)} requested, {events.dec(available)} available {where}.",
                   "insufficient-stock", product_id=product.id, requested=events.dec(requested),
                   available=events.dec(available), **{k: v for k, v in ids.items() if v})


# -- moves ---------------------------------------------------------------------------------------

def _move_state(move: StockMove) -> dict:
    return {c: getattr(move, c) for c in ("kind", "product_id", "quantity", "from_location_id", "to_location_id",
                                          "unit_cost", "value", "reference", "reason", "source_type", "source_id",
                                          "party_id", "done_at")}


def _done_at(stock: StockProduct | None, requested: datetime | None) -> datetime:
    now = datetime.now(UTC)
    last = stock.last_done_at if stock is not None else None
    if requested is None:
        return max(now, last) if last else now
    if requested.tzinfo is None:
        raise field_error("done_at", "needs a time zone offset")
    if requested > now:
        raise field_error("done_at", "cannot be in the future")
    if last and requested < last:
        raise field_error("done_at", f"this product has moves up to {last.isoformat()}: a move cannot be dated "
                          "before its product's last move (the valuation follows their order)")
    return requested


def _reservations_to_consume(session: Session, product_id: str, warehouse_id: str, source_type: str | None,
                             source_id: str | None, quantity: Decimal) -> list[tuple[Reservation, Decimal]]:
    """A delivery for a document uses up that document's reservations first (oldest first): what it would take."""
    if not source_type or not source_id:
        return []
    plan, left = [], quantity
    for r in session.execute(select(Reservation).where(
            Reservation.product_id == product_id, Reservation.warehouse_id == warehouse_id,
            Reservation.source_type == source_type, Reservation.source_id == str(source_id),
            Reservation.status == "active").order_by(Reservation.created_at, Reservation.id).with_for_update()
            ).scalars():
        if left <= 0:
            break
        use = min(r.remaining, left)
        plan.append((r, use))
        left -= use
    return plan


def post_move(session: Session, *, kind: str, product: Product, quantity: Decimal, source: Location | None,
              destination: Location | None, actor, unit_cost: Decimal | None = None, reference: str | None = None,
              reason: str | None = None, source_type: str | None = None, source_id: str | None = None,
              party_id: str | None = None, done_at: datetime | None = None,
              counterpart: str | None = None) -> StockMove:
    """Record one move and everything it changes: quants, warehouse levels, reservations, valuation, the event.
    `counterpart` names the ledger role the valuation books against instead of the kind's own (GRNI, COGS...)."""
    quantity = checked_quantity(quantity)
    if product.kind == "service":
        raise field_error("product_id", f"{product.sku} is a service: services have no stock moves")
    if kind == "adjustment" and not (reason or "").strip():
        raise field_error("reason", "an adjustment needs a reason")
    move = StockMove(kind=kind, product_id=product.id, quantity=quantity,
                     from_location_id=source.id if source else None,
                     to_location_id=destination.id if destination else None,
                     from_warehouse_id=source.warehouse_id if source else None,
                     to_warehouse_id=destination.warehouse_id if destination else None,
                     reference=reference, reason=reason.strip() if reason else None, source_type=source_type,
                     source_id=str(source_id) if source_id is not None else None,
                     party_id=str(party_id) if party_id else None, **actor_extensions(actor))
    if product.kind != "stockable":
        # consumables are expensed when bought: their moves are history, without stock or valuation
        move.done_at = _done_at(None, done_at)
        move.unit_cost = unit_cost if unit_cost is not None else product.cost
        move.value = valuation.money(quantity * move.unit_cost)
        return _saved(session, move, actor)

    stock = lock_product_stock(session, product.id)
    move.done_at = _done_at(stock, done_at)
    changed_warehouses = set()
    if source is not None:
        changed_warehouses |= _take_out(session, product, stock, kind, quantity, source, destination, source_type,
                                        source_id)
    if destination is not None:
        changed_warehouses |= _put_in(session, product, quantity, source, destination)
    value_before = stock.value
    layer = _value(session, move, product, stock, kind, quantity, destination, unit_cost)
    stock.last_done_at = move.done_at
    _saved(session, move, actor)
    if layer is not None:
        session.add(ValuationLayer(product_id=product.id, move_id=move.id, done_at=move.done_at, **layer))
        # the ledger's stock/GRNI or COGS/stock entry (journal STK) books the change of the product's value in
        # cents, so the stock account stays equal to the valuation however the moves' values round
        post_valuation(session, move, actor, booked=abs(cents(stock.value) - cents(value_before)),
                       counterpart=counterpart)
    if changed_warehouses:
        announce(session, product, stock, actor)
    return move


def _take_out(session: Session, product: Product, stock: StockProduct, kind: str, quantity: Decimal,
              source: Location, destination: Location | None, source_type: str | None, source_id) -> set[str]:
    """Take the quantity out of its source location (and warehouse, when it leaves it), consuming the delivery's
    own reservations; refused with 409 when the stock is not there. Every check comes before any change, so a
    refused move leaves nothing behind for a caller that goes on. Returns the warehouses whose levels changed."""
    quant = _lock_quant(session, product.id, source)
    level = _lock_level(session, product.id, source.warehouse_id)
    consume = (_reservations_to_consume(session, product.id, source.warehouse_id, source_type, source_id, quantity)
               if kind == "delivery" else [])
    consumed = sum((use for _, use in consume), Decimal("0"))
    leaves_warehouse = destination is None or destination.warehouse_id != source.warehouse_id
    if not product.allow_backorder:
        if quant.on_hand < quantity:
            raise _insufficient(product, quantity, quant.on_hand, f"at location {source.path}",
                                warehouse_id=source.warehouse_id, location_id=source.id)
        available = level.on_hand - (level.reserved - consumed)
        if kind != "adjustment" and leaves_warehouse and available < quantity:
            raise _insufficient(product, quantity, available, "in the warehouse (reservations of other "
                                "orders are held)", warehouse_id=source.warehouse_id)
        if destination is None and stock.on_hand < quantity:
            raise _insufficient(product, quantity, stock.on_hand, "in all warehouses")
    now = datetime.now(UTC)
    for r, use in consume:
        r.remaining -= use
        r.status = "consumed" if r.remaining == 0 else "active"
        r.updated_at = now
    quant.on_hand -= quantity
    quant.updated_at = now
    if not (leaves_warehouse or consumed):
        return set()
    if leaves_warehouse:
        level.on_hand -= quantity
    level.reserved -= consumed
    stock.reserved -= consumed
    level.updated_at = now
    return {source.warehouse_id}


def _put_in(session: Session, product: Product, quantity: Decimal, source: Location | None,
            destination: Location) -> set[str]:
    """Put the quantity in its destination location (and warehouse, when it enters it); returns the warehouses
    whose levels changed."""
    quant = _lock_quant(session, product.id, destination)
    quant.on_hand += quantity
    quant.updated_at = datetime.now(UTC)
    if source is not None and source.warehouse_id == destination.warehouse_id:
        return set()
    level = _lock_level(session, product.id, destination.warehouse_id)
    level.on_hand += quantity
    level.updated_at = datetime.now(UTC)
    return {destination.warehouse_id}


def _value(session: Session, move: StockMove, product: Product, stock: StockProduct, kind: str, quantity: Decimal,
           destination: Location | None, unit_cost: Decimal | None) -> dict | None:
    """The move's unit cost and value, and the product's valuation after it: a transfer keeps the value, goods in
    add a layer at their cost, goods out consume layers (FIFO or average). Returns the valuation layer, if any."""
    if kind == "transfer":  # the goods stay in the company: their value does not change
        move.unit_cost = stock.average_cost
        move.value = valuation.money(quantity * stock.average_cost)
        return None
    if destination is not None:  # receipt or positive adjustment
        cost = unit_cost if unit_cost is not None else (stock.average_cost or product.cost)
        move.unit_cost, move.value = cost, valuation.money(quantity * cost)
        layer = layers.value_in(session, product, stock, quantity, cost)
        stock.on_hand += quantity
        return layer
    try:  # delivery or negative adjustment
        layer = layers.value_out(session, product, stock, quantity)
    except valuation.InsufficientStock as short:
        raise _insufficient(product, short.requested, short.available, "in all warehouses") from None
    move.value = -layer["value"]
    move.unit_cost = layer["unit_cost"]
    stock.on_hand -= quantity
    return layer


def _saved(session: Session, move: StockMove, actor) -> StockMove:
    session.add(move)
    session.flush()
    audit.record(session, audit_log, actor, "create", "stock_move", move.id, None, _move_state(move))
    return move


# -- the functions other modules call ------------------------------------------------------------

def receive_goods(session: Session, *, product_id: str, warehouse_id: str, quantity: Decimal, unit_cost: Decimal,
                  reference: str, source_type: str, source_id: str, party_id: str | None, actor,
                  location_id: str | None = None) -> StockMove:
    """Receive goods from outside (a supplier) into a warehouse, at `unit_cost` each; returns the receipt move.

    `location_id` None puts them in the warehouse's default location (STOCK). The product's moving average cost
    (or a new FIFO layer) takes the receipt in, and the availability event is added to the outbox. Consumables are
    recorded without stock; services are refused (422). Runs in the caller's transaction and never commits; when
    receiving several products in one transaction, call it in a stable order (e.g. by product id).
    """
    if unit_cost is None or Decimal(str(unit_cost)) < 0:
        raise field_error("unit_cost", "a receipt needs a unit cost of 0 or more")
    product = product_for_stock(session, product_id)
    location = resolve_location(session, warehouse_id, location_id)
    return post_move(session, kind="receipt", product=product, quantity=quantity, source=None, destination=location,
                     actor=actor, unit_cost=Decimal(str(unit_cost)), reference=reference, source_type=source_type,
                     source_id=source_id, party_id=party_id)


def deliver_goods(session: Session, *, product_id: str, warehouse_id: str, quantity: Decimal, reference: str,
                  source_type: str, source_id: str, party_id: str | None, actor,
                  location_id: str | None = None) -> StockMove:
    """Ship goods out of a warehouse (to a customer); returns the delivery move, valued at the current cost.

    The delivery first consumes the reservations held for the same source (source_type, source_id). Without
    backorders it may not take the location below zero, nor take stock reserved for other documents: 409
    problem (type insufficient-stock) with `available`. Consumables ship without stock checks; services are
    refused (422). Runs in the caller's transaction and never commits.
    """
    product = product_for_stock(session, product_id)
    location = resolve_location(session, warehouse_id, location_id)
    return post_move(session, kind="delivery", product=product, quantity=quantity, source=location, destination=None,
                     actor=actor, reference=reference, source_type=source_type, source_id=source_id,
                     party_id=party_id)


def reserve(session: Session, *, product_id: str, warehouse_id: str, quantity: Decimal, source_type: str,
            source_id: str, actor) -> dict:
    """Hold stock of a stockable product in a warehouse for a document (e.g. 'sales_order', <id>).

    Refused with 409 (type insufficient-stock, with `available`) when the warehouse's available quantity (on hand
    minus what is already reserved) is short, unless the product allows backorders; 422 for consumables and services
    (they are not reserved). A delivery with the same source consumes the reservation; `release` frees it.
    """
    product = product_for_stock(session, product_id)
    if product.kind != "stockable":
        raise field_error("product_id", f"{product.sku} is a {product.kind}: only stockable products are reserved")
    warehouse = warehouse_for_stock(session, warehouse_id)
    quantity = checked_quantity(quantity)
    if not source_type or not source_id:
        raise field_error("source_type" if not source_type else "source_id", "a reservation is held for a document")
    stock = lock_product_stock(session, product.id)
    level = _lock_level(session, product.id, warehouse.id)
    available = level.on_hand - level.reserved
    if quantity > available and not product.allow_backorder:
        raise _insufficient(product, quantity, available, f"in warehouse {warehouse.code}",
                            warehouse_id=warehouse.id)
    reservation = Reservation(product_id=product.id, warehouse_id=warehouse.id, source_type=source_type,
                              source_id=str(source_id), quantity=quantity, remaining=quantity, status="active",
                              **actor_extensions(actor))
    session.add(reservation)
    level.reserved += quantity
    stock.reserved += quantity
    session.flush()
    audit.record(session, audit_log, actor, "reserve", "stock_reservation", reservation.id, None,
                 _reservation_state(reservation))
    announce(session, product, stock, actor)
    return row_view(reservation)


def release(session: Session, *, source_type: str, source_id: str, actor) -> list[dict]:
    """Free every active reservation held for a document (e.g. its sales order was cancelled); returns them.

    Releasing a document with nothing reserved any more is not an error: it returns an empty list.
    """
    product_ids = session.execute(select(Reservation.product_id).distinct().where(
        Reservation.source_type == source_type, Reservation.source_id == str(source_id),
        Reservation.status == "active")).scalars().all()
    released = []
    for product_id in sorted(product_ids):
        released += _release(session, actor, Reservation.product_id == product_id,
                             Reservation.source_type == source_type, Reservation.source_id == str(source_id))
    return [row_view(r) for r in released]


def release_reservation(session: Session, reservation_id, actor) -> dict:
    """Free one reservation by id: 404 if unknown, 409 if already consumed or released."""
    found = session.get(Reservation, str(reservation_id))
    if found is None:
        raise NotFound("reservation", reservation_id)
    (released,) = _release(session, actor, Reservation.id == found.id, all_statuses=True)
    return row_view(released)


def _release(session: Session, actor, *criteria, all_statuses: bool = False) -> list[Reservation]:
    first = session.execute(select(Reservation).where(*criteria)).scalars().first()
    if first is None:
        return []
    product = session.get(Product, first.product_id)
    stock = lock_product_stock(session, product.id)
    stmt = select(Reservation).where(*criteria).order_by(Reservation.created_at, Reservation.id).with_for_update()
    reservations = session.execute(stmt.execution_options(populate_existing=True)).scalars().all()
    if all_statuses and reservations[0].status != "active":
        raise Problem(409, "Reservation is not active", f"This reservation is already {reservations[0].status}.",
                      "conflict", current_status=reservations[0].status)
    released = []
    for r in reservations:
        if r.status != "active":
            continue
        before = _reservation_state(r)
        level = _lock_level(session, r.product_id, r.warehouse_id)
        level.reserved -= r.remaining
        stock.reserved -= r.remaining
        r.status, r.remaining, r.updated_at = "released", Decimal("0"), datetime.now(UTC)
        session.flush()
        audit.record(session, audit_log, actor, "release", "stock_reservation", r.id, before, _reservation_state(r))
        released.append(r)
    if released:
        announce(session, product, stock, actor)
    return released


def _reservation_state(r: Reservation) -> dict:
    return {c: getattr(r, c) for c in ("product_id", "warehouse_id", "source_type", "source_id", "quantity",
                                       "remaining", "status")}


# -- moves recorded by hand (HTTP) ---------------------------------------------------------------

def record_move(session: Session, data: dict, actor) -> dict:
    """A move keyed in by a warehouse clerk (POST /stock/moves): adjustment, transfer, receipt or delivery."""
    return row_view(_record_move(session, data, actor))


def _record_move(session: Session, data: dict, actor) -> StockMove:
    """A receipt, delivery, transfer or adjustment entered by a user; adjustments take a signed quantity."""
    kind = data["kind"]
    product = product_for_stock(session, data["product_id"])
    common = {"reference": data.get("reference"), "source_type": data.get("source_type") or "manual",
              "source_id": data.get("source_id"), "party_id": data.get("party_id"), "done_at": data.get("done_at"),
              "actor": actor, "product": product}
    quantity = Decimal(data["quantity"])
    if kind == "adjustment":
        if quantity == 0:
            raise field_error("quantity", "an adjustment adds (+) or removes (-) a quantity other than 0")
        location = resolve_location(session, data.get("warehouse_id"), data.get("location_id"))
        if quantity < 0 and data.get("unit_cost") is not None:
            raise field_error("unit_cost", "a removal leaves at the current cost; do not give one")
        return post_move(session, kind="adjustment", quantity=abs(quantity),
                         source=location if quantity < 0 else None, destination=location if quantity > 0 else None,
                         unit_cost=data.get("unit_cost"), reason=data.get("reason"), **common)
    checked_quantity(quantity)
    if kind == "transfer":
        source = resolve_location(session, data.get("from_warehouse_id"), data.get("from_location_id"),
                                  "from_warehouse_id", "from_location_id")
        destination = resolve_location(session, data.get("to_warehouse_id"), data.get("to_location_id"),
                                       "to_warehouse_id", "to_location_id")
        if source.id == destination.id:
            raise field_error("to_location_id", "a transfer goes to another location")
        return post_move(session, kind="transfer", quantity=quantity, source=source, destination=destination,
                         **common)
    location = resolve_location(session, data.get("warehouse_id"), data.get("location_id"))
    if kind == "receipt":
        cost = data.get("unit_cost")
        return post_move(session, kind="receipt", quantity=quantity, source=None, destination=location,
                         unit_cost=cost if cost is not None else product.cost, **common)
    return post_move(session, kind="delivery", quantity=quantity, source=location, destination=None, **common)
