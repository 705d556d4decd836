"""What stock looks like: levels, the move history, reservations, the valuation as of a date, movement reports.

The valuation and the movement reports are computed in SQL from history (moves and valuation layers), never from
the running totals, so they answer for any past date.
"""

import csv
import io
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from servicekit.db import row_view
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, field_error
from sqlalchemy import and_, case, func, literal, null, or_, select
from sqlalchemy.orm import Session, aliased

from ..catalog.models import Product
from ..parties.models import PartyReplica
from .models import Location, Reservation, StockLevel, StockMove, StockProduct, StockQuant, ValuationLayer, Warehouse
from .valuation import unit_cost

ZERO = Decimal("0")


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


def _period(stmt, column, date_from: date | None, date_to: date | None):
    if date_from and date_to and date_to < date_from:
        raise field_error("date_to", "cannot be before date_from")
    if date_from:
        stmt = stmt.where(column >= _day_start(date_from))
    if date_to:
        stmt = stmt.where(column < _day_start(date_to + timedelta(days=1)))
    return stmt


# -- levels --------------------------------------------------------------------------------------

def list_levels(session: Session, args: dict) -> dict:
    """On hand, reserved and available per location, per warehouse or per product (`by`)."""
    by = args.get("by", "warehouse")
    if by == "location":
        on_hand = StockQuant.on_hand
        reserved = available = null()
        stmt = (select(StockQuant.product_id, Product.sku, Product.name.label("product_name"),
                       StockQuant.warehouse_id, Warehouse.code.label("warehouse_code"), StockQuant.location_id,
                       Location.path.label("location"), on_hand.label("on_hand"), reserved.label("reserved"),
                       available.label("available"))
                .join(Product, Product.id == StockQuant.product_id)
                .join(Warehouse, Warehouse.id == StockQuant.warehouse_id)
                .join(Location, Location.id == StockQuant.location_id))
        nonzero, negative = on_hand != 0, on_hand < 0
        extra_sort = {"warehouse_code": Warehouse.code, "location": Location.path}
        default = [Product.sku, Warehouse.code, Location.path]
        if args.get("location_id"):
            stmt = stmt.where(StockQuant.location_id == str(args["location_id"]))
        if args.get("warehouse_id"):
            stmt = stmt.where(StockQuant.warehouse_id == str(args["warehouse_id"]))
    elif by == "warehouse":
        on_hand, reserved = StockLevel.on_hand, StockLevel.reserved
        available = on_hand - reserved
        stmt = (select(StockLevel.product_id, Product.sku, Product.name.label("product_name"),
                       StockLevel.warehouse_id, Warehouse.code.label("warehouse_code"),
                       null().label("location_id"), null().label("location"), on_hand.label("on_hand"),
                       reserved.label("reserved"), available.label("available"))
                .join(Product, Product.id == StockLevel.product_id)
                .join(Warehouse, Warehouse.id == StockLevel.warehouse_id))
        nonzero, negative = or_(on_hand != 0, reserved != 0), or_(on_hand < 0, available < 0)
        extra_sort = {"warehouse_code": Warehouse.code}
        default = [Product.sku, Warehouse.code]
        if args.get("warehouse_id"):
            stmt = stmt.where(StockLevel.warehouse_id == str(args["warehouse_id"]))
    else:
        if args.get("warehouse_id") or args.get("location_id"):
            raise field_error("by", "by=product totals every warehouse; use by=warehouse or by=location to filter")
        on_hand, reserved = StockProduct.on_hand, StockProduct.reserved
        available = on_hand - reserved
        stmt = (select(StockProduct.product_id, Product.sku, Product.name.label("product_name"),
                       null().label("warehouse_id"), null().label("warehouse_code"), null().label("location_id"),
                       null().label("location"), on_hand.label("on_hand"), reserved.label("reserved"),
                       available.label("available"))
                .join(Product, Product.id == StockProduct.product_id))
        nonzero, negative = or_(on_hand != 0, reserved != 0), or_(on_hand < 0, available < 0)
        extra_sort, default = {}, [Product.sku]
    if args.get("location_id") and by == "warehouse":
        raise field_error("location_id", "filters by=location only")
    if args.get("product_id"):
        stmt = stmt.where(Product.id == str(args["product_id"]))
    if args.get("sku"):
        stmt = stmt.where(func.lower(Product.sku) == args["sku"].lower())
    if args.get("below_zero"):
        stmt = stmt.where(negative)
    elif not args.get("include_zero"):
        stmt = stmt.where(nonzero)
    sortable = {"sku": Product.sku, "on_hand": on_hand, **extra_sort}
    if by != "location":
        sortable |= {"reserved": reserved, "available": available}
    stmt = apply_sort(stmt, args.get("sort"), sortable, default)
    return paginate(session, stmt, args["page"], args["page_size"], entities=False)


# -- moves and reservations ----------------------------------------------------------------------

MOVE_SORTABLE = {"done_at": StockMove.done_at, "created_at": StockMove.created_at, "quantity": StockMove.quantity,
                 "value": StockMove.value, "kind": StockMove.kind}


def list_moves(session: Session, args: dict) -> dict:
    stmt = select(StockMove)
    for key in ("product_id", "party_id", "kind", "source_type", "source_id"):
        if args.get(key):
            stmt = stmt.where(getattr(StockMove, key) == str(args[key]))
    if args.get("warehouse_id"):
        w = str(args["warehouse_id"])
        stmt = stmt.where(or_(StockMove.from_warehouse_id == w, StockMove.to_warehouse_id == w))
    if args.get("location_id"):
        loc = str(args["location_id"])
        stmt = stmt.where(or_(StockMove.from_location_id == loc, StockMove.to_location_id == loc))
    if args.get("reference"):
        stmt = stmt.where(func.lower(StockMove.reference).contains(args["reference"].lower(), autoescape=True))
    stmt = _period(stmt, StockMove.done_at, args.get("date_from"), args.get("date_to"))
    stmt = apply_sort(stmt, args.get("sort"), MOVE_SORTABLE, [StockMove.done_at.desc(), StockMove.id])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [row_view(m) for m in page["items"]]
    return page


def get_move(session: Session, move_id) -> dict:
    move = session.get(StockMove, str(move_id))
    if move is None:
        raise NotFound("stock move", move_id)
    return row_view(move)


def list_reservations(session: Session, args: dict) -> dict:
    stmt = select(Reservation)
    for key in ("product_id", "warehouse_id", "source_type", "source_id"):
        if args.get(key):
            stmt = stmt.where(getattr(Reservation, key) == str(args[key]))
    if args.get("status", "active") != "all":
        stmt = stmt.where(Reservation.status == args.get("status", "active"))
    stmt = apply_sort(stmt, args.get("sort"), {"created_at": Reservation.created_at,
                                               "quantity": Reservation.quantity},
                      [Reservation.created_at.desc(), Reservation.id])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [row_view(r) for r in page["items"]]
    return page


# -- valuation as of a date ----------------------------------------------------------------------

def valuation_as_of(session: Session, as_of: date, product_id: str | None = None) -> dict:
    """Quantity and value of every stockable product at the end of `as_of` (UTC), summed from the valuation
    layers recorded up to then; totals per currency."""
    quantity, value = func.sum(ValuationLayer.quantity), func.sum(ValuationLayer.value)
    stmt = (select(Product.id.label("product_id"), Product.sku, Product.name.label("product_name"),
                   Product.currency, Product.valuation_method, quantity.label("quantity"), value.label("value"))
            .join(Product, Product.id == ValuationLayer.product_id)
            .where(ValuationLayer.done_at < _day_start(as_of + timedelta(days=1)))
            .group_by(Product.id, Product.sku, Product.name, Product.currency, Product.valuation_method)
            .having(or_(quantity != 0, value != 0))
            .order_by(Product.sku))
    if product_id:
        stmt = stmt.where(ValuationLayer.product_id == str(product_id))
    items, totals = [], {}
    for row in session.execute(stmt):
        item = dict(row._mapping)
        item["unit_cost"] = unit_cost(row.value / row.quantity) if row.quantity else None
        items.append(item)
        totals[row.currency] = totals.get(row.currency, ZERO) + row.value
    return {"as_of": as_of, "items": items,
            "totals": [{"currency": c, "value": v} for c, v in sorted(totals.items())]}


VALUATION_COLUMNS = ["product_id", "sku", "product_name", "valuation_method", "currency", "quantity", "unit_cost",
                     "value"]


def valuation_csv(report: dict) -> str:
    rows = report["items"] + [{"sku": "TOTAL", "currency": t["currency"], "value": t["value"]}
                              for t in report["totals"]]
    return to_csv(VALUATION_COLUMNS, rows)


def to_csv(columns: list[str], rows: list[dict]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, extrasaction="ignore", lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _plain(row.get(k)) for k in columns})
    return out.getvalue()


def _plain(value):
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return "" if value is None else value


# -- movements by product, supplier or customer --------------------------------------------------

def movements(session: Session, args: dict) -> dict:
    """Quantities and values in and out over a period, grouped by product, or by supplier (receipts' party) or
    customer (deliveries' party). With a warehouse, transfers in and out of it count; without, they are internal."""
    group_by = args.get("group_by", "product")
    m = StockMove
    w = str(args["warehouse_id"]) if args.get("warehouse_id") else None
    if w:
        incoming = and_(m.to_warehouse_id == w, or_(m.from_warehouse_id.is_(None), m.from_warehouse_id != w))
        outgoing = and_(m.from_warehouse_id == w, or_(m.to_warehouse_id.is_(None), m.to_warehouse_id != w))
    else:
        incoming, outgoing = m.from_location_id.is_(None), m.to_location_id.is_(None)

    def total(condition, column):
        return func.coalesce(func.sum(case((condition, column), else_=literal(ZERO))), ZERO)

    measures = [total(incoming, m.quantity).label("quantity_in"), total(outgoing, m.quantity).label("quantity_out"),
                total(incoming, m.value).label("value_in"), total(outgoing, m.value).label("value_out"),
                func.count(m.id).label("moves")]
    if group_by == "product":
        stmt = (select(m.product_id, Product.sku, Product.name.label("product_name"), *measures)
                .join(Product, Product.id == m.product_id)
                .group_by(m.product_id, Product.sku, Product.name).order_by(Product.sku))
        stmt = stmt.where(or_(incoming, outgoing))
    else:
        kind = "receipt" if group_by == "supplier" else "delivery"
        party = aliased(PartyReplica)
        stmt = (select(m.party_id, party.display_name.label("party_name"),
                       func.count(func.distinct(m.product_id)).label("products"), *measures)
                .outerjoin(party, party.party_id == m.party_id)
                .where(m.kind == kind, or_(incoming, outgoing))
                .group_by(m.party_id, party.display_name)
                .order_by(party.display_name.nulls_last(), m.party_id.nulls_last()))
    if args.get("product_id"):
        stmt = stmt.where(m.product_id == str(args["product_id"]))
    if args.get("party_id"):
        stmt = stmt.where(m.party_id == str(args["party_id"]))
    stmt = _period(stmt, m.done_at, args.get("date_from"), args.get("date_to"))
    items = []
    for row in session.execute(stmt):
        item = dict(row._mapping)
        item["net_quantity"] = item["quantity_in"] - item["quantity_out"]
        items.append(item)
    return {"group_by": group_by, "date_from": args.get("date_from"), "date_to": args.get("date_to"),
            "warehouse_id": w, "items": items,
            "totals": {"value_in": sum((i["value_in"] for i in items), ZERO),
                       "value_out": sum((i["value_out"] for i in items), ZERO),
                       "moves": sum(i["moves"] for i in items)}}


MOVEMENT_COLUMNS = {
    "product": ["product_id", "sku", "product_name", "quantity_in", "quantity_out", "net_quantity", "value_in",
                "value_out", "moves"],
    "party": ["party_id", "party_name", "products", "quantity_in", "quantity_out", "value_in", "value_out", "moves"],
}


def movements_csv(report: dict) -> str:
    return to_csv(MOVEMENT_COLUMNS["product" if report["group_by"] == "product" else "party"], report["items"])
