"""HTTP endpoints of stock: warehouses and locations, moves, levels, reservations, reports, inventory counts."""

import functools

from flask import Response
from flask.views import MethodView
from marshmallow import Schema, fields, validate
from servicekit.auth.principal import current_principal, forbidden, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import etag_of, if_match_required, required_version
from servicekit.web import create_once, idempotent, sessions

from . import counts, reports, service, warehouses
from .schemas import (
    CountListArgs,
    CountPageSchema,
    InventoryCountCreateSchema,
    InventoryCountLinesSchema,
    InventoryCountSchema,
    LevelListArgs,
    LevelPageSchema,
    LocationListArgs,
    MoveListArgs,
    MovementArgs,
    MovePageSchema,
    ReservationListArgs,
    ReservationPageSchema,
    StockLocationCreateSchema,
    StockLocationSchema,
    StockMoveCreateSchema,
    StockMovementReportSchema,
    StockMoveSchema,
    StockReservationCreateSchema,
    StockReservationSchema,
    StockValuationSchema,
    ValuationArgs,
    WarehouseCreateSchema,
    WarehouseListArgs,
    WarehousePageSchema,
    WarehouseSchema,
    WarehouseUpdateSchema,
)

warehouses_blp = Blueprint("warehouses", __name__, url_prefix="/api/v1/warehouses",
                           description="Warehouses and their locations (each has a default location, STOCK).")
stock_blp = Blueprint("stock", __name__, url_prefix="/api/v1/stock",
                      description="Stock moves (the only way quantities change), levels, reservations, the "
                                  "valuation as of a date and movement reports.")
counts_blp = Blueprint("inventory_counts", __name__, url_prefix="/api/v1/inventory-counts",
                       description="Physical inventory counts: enter counted quantities, validate to post the "
                                   "differences as adjustments.")


def requires_any(*permissions: str):
    """401/403 before anything else unless the caller holds one of the permissions; the view checks which."""
    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            me = current_principal()
            if not any(me.can(p) for p in permissions):
                raise forbidden(permissions[0])
            return fn(*args, **kwargs)
        return wrapper
    return decorator


def _csv(text: str, name: str) -> Response:
    return Response(text, mimetype="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


# -- warehouses ----------------------------------------------------------------------------------

@warehouses_blp.route("")
class Warehouses(MethodView):
    @requires("stock:read")
    @warehouses_blp.arguments(WarehouseListArgs, location="query")
    @warehouses_blp.response(200, WarehousePageSchema)
    def get(self, args):
        """Warehouses, searchable by code and name."""
        with sessions().begin() as session:
            return warehouses.list_warehouses(session, args)

    @requires("stock:adjust")
    @warehouses_blp.arguments(WarehouseCreateSchema)
    @warehouses_blp.response(201, WarehouseSchema)
    @idempotent
    def post(self, data):
        """Create a warehouse with its default location STOCK. Send Idempotency-Key to make retries safe."""
        return create_once("POST /warehouses", WarehouseSchema(),
                       lambda session, me: warehouses.create_warehouse(session, data, me))


@warehouses_blp.route("/<uuid:warehouse_id>")
class WarehouseById(MethodView):
    @requires("stock:read")
    @warehouses_blp.response(200, WarehouseSchema)
    def get(self, warehouse_id):
        """One warehouse; its ETag is what If-Match needs for changes."""
        with sessions().begin() as session:
            view = warehouses.get_warehouse(session, warehouse_id)
        return view, 200, {"ETag": etag_of(view["version"])}

    @requires("stock:adjust")
    @if_match_required
    @warehouses_blp.arguments(WarehouseUpdateSchema)
    @warehouses_blp.response(200, WarehouseSchema)
    def patch(self, changes, warehouse_id):
        """Rename, recode or (de)activate a warehouse. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            view = warehouses.update_warehouse(session, warehouse_id, expected, changes, current_principal())
        return view, 200, {"ETag": etag_of(view["version"])}


@warehouses_blp.route("/<uuid:warehouse_id>/locations")
class WarehouseLocations(MethodView):
    @requires("stock:read")
    @warehouses_blp.arguments(LocationListArgs, location="query")
    @warehouses_blp.response(200, StockLocationSchema(many=True))
    def get(self, args, warehouse_id):
        """The warehouse's locations, as a tree flattened by path."""
        with sessions().begin() as session:
            return warehouses.list_locations(session, warehouse_id, args["include_inactive"])

    @requires("stock:adjust")
    @warehouses_blp.arguments(StockLocationCreateSchema)
    @warehouses_blp.response(201, StockLocationSchema)
    def post(self, data, warehouse_id):
        """Add a location (zone, aisle, bin), optionally under another one."""
        with sessions().begin() as session:
            return warehouses.create_location(session, warehouse_id, data, current_principal())


# -- moves ---------------------------------------------------------------------------------------

@stock_blp.route("/moves")
class Moves(MethodView):
    @requires("stock:read")
    @stock_blp.arguments(MoveListArgs, location="query")
    @stock_blp.response(200, MovePageSchema)
    def get(self, args):
        """The move history, newest first; filter by product, warehouse, location, party, kind, source, dates."""
        with sessions().begin() as session:
            return reports.list_moves(session, args)

    @requires_any("stock:move", "stock:adjust")
    @stock_blp.arguments(StockMoveCreateSchema)
    @stock_blp.response(201, StockMoveSchema)
    @stock_blp.alt_response(409, description="Not enough stock (problem+json with `available`)")
    @idempotent
    def post(self, data):
        """Record a receipt, delivery or transfer (stock:move) or an adjustment with its reason (stock:adjust).

        Moves are never edited: correct one with a counter move. Send Idempotency-Key to make retries safe.
        """
        needed = "stock:adjust" if data["kind"] == "adjustment" else "stock:move"
        if not current_principal().can(needed):
            raise forbidden(needed)
        return create_once("POST /stock/moves", StockMoveSchema(),
                       lambda session, me: service.record_move(session, data, me))


@stock_blp.route("/moves/<uuid:move_id>")
class MoveById(MethodView):
    @requires("stock:read")
    @stock_blp.response(200, StockMoveSchema)
    def get(self, move_id):
        with sessions().begin() as session:
            return reports.get_move(session, move_id)


@stock_blp.route("/levels")
class Levels(MethodView):
    @requires("stock:read")
    @stock_blp.arguments(LevelListArgs, location="query")
    @stock_blp.response(200, LevelPageSchema)
    def get(self, args):
        """On hand, reserved and available, by warehouse (default), by location or by product in total."""
        with sessions().begin() as session:
            return reports.list_levels(session, args)


# -- reservations --------------------------------------------------------------------------------

class StockReleaseSchema(Schema):
    source_type = fields.String(required=True, validate=validate.Length(min=1, max=50))
    source_id = fields.String(required=True, validate=validate.Length(min=1, max=100))


@stock_blp.route("/reservations")
class Reservations(MethodView):
    @requires("stock:read")
    @stock_blp.arguments(ReservationListArgs, location="query")
    @stock_blp.response(200, ReservationPageSchema)
    def get(self, args):
        """Reservations (active ones unless status is given)."""
        with sessions().begin() as session:
            return reports.list_reservations(session, args)

    @requires("stock:move")
    @stock_blp.arguments(StockReservationCreateSchema)
    @stock_blp.response(201, StockReservationSchema)
    @stock_blp.alt_response(409, description="Not enough available (problem+json with `available`)")
    @idempotent
    def post(self, data):
        """Hold stock in a warehouse for a document. Send Idempotency-Key to make retries safe."""
        return create_once("POST /stock/reservations", StockReservationSchema(),
                       lambda session, me: service.reserve(session, actor=me, **data))


@stock_blp.route("/reservations/release")
class ReleaseBySource(MethodView):
    @requires("stock:move")
    @stock_blp.arguments(StockReleaseSchema)
    @stock_blp.response(200, StockReservationSchema(many=True))
    def post(self, data):
        """Release every active reservation of a document (e.g. a cancelled sales order); returns them."""
        with sessions().begin() as session:
            return service.release(session, actor=current_principal(), **data)


@stock_blp.route("/reservations/<uuid:reservation_id>")
class ReservationById(MethodView):
    @requires("stock:move")
    @stock_blp.response(200, StockReservationSchema)
    def delete(self, reservation_id):
        """Release one reservation; returns it, released."""
        with sessions().begin() as session:
            return service.release_reservation(session, reservation_id, current_principal())


# -- reports -------------------------------------------------------------------------------------

@stock_blp.route("/valuation")
class Valuation(MethodView):
    @requires("stock:report")
    @stock_blp.arguments(ValuationArgs, location="query")
    @stock_blp.response(200, StockValuationSchema)
    def get(self, args):
        """Quantity and value per product at the end of as_of (from history), with totals; ?format=csv for CSV."""
        with sessions().begin() as session:
            report = reports.valuation_as_of(session, args["as_of"], args.get("product_id"))
        if args["format"] == "csv":
            return _csv(reports.valuation_csv(report), f"stock-valuation-{args['as_of'].isoformat()}.csv")
        return report


@stock_blp.route("/reports/movements")
class Movements(MethodView):
    @requires("stock:report")
    @stock_blp.arguments(MovementArgs, location="query")
    @stock_blp.response(200, StockMovementReportSchema)
    def get(self, args):
        """Quantities and values in and out, by product, supplier (receipts) or customer (deliveries)."""
        with sessions().begin() as session:
            report = reports.movements(session, args)
        if args["format"] == "csv":
            return _csv(reports.movements_csv(report), f"stock-movements-by-{report['group_by']}.csv")
        return report


# -- inventory counts ----------------------------------------------------------------------------

@counts_blp.route("")
class Counts(MethodView):
    @requires("stock:read")
    @counts_blp.arguments(CountListArgs, location="query")
    @counts_blp.response(200, CountPageSchema)
    def get(self, args):
        """Inventory counts, newest first (without their lines)."""
        with sessions().begin() as session:
            return counts.list_counts(session, args)

    @requires("stock:count")
    @counts_blp.arguments(InventoryCountCreateSchema)
    @counts_blp.response(201, InventoryCountSchema)
    @idempotent
    def post(self, data):
        """Open a draft count for a warehouse. Send Idempotency-Key to make retries safe."""
        return create_once("POST /inventory-counts", InventoryCountSchema(),
                       lambda session, me: counts.create_count(session, data, me))


@counts_blp.route("/<uuid:count_id>")
class CountById(MethodView):
    @requires("stock:read")
    @counts_blp.response(200, InventoryCountSchema)
    def get(self, count_id):
        """A count with its lines: counted, system quantity when counted, difference, the adjustment posted."""
        with sessions().begin() as session:
            return counts.get_count(session, count_id)


@counts_blp.route("/<uuid:count_id>/lines")
class CountLines(MethodView):
    @requires("stock:count")
    @counts_blp.arguments(InventoryCountLinesSchema)
    @counts_blp.response(200, InventoryCountSchema)
    def post(self, data, count_id):
        """Enter counted quantities (a line for the same product and location is replaced)."""
        with sessions().begin() as session:
            return counts.set_lines(session, count_id, data["lines"], current_principal())


@counts_blp.route("/<uuid:count_id>/validate")
class ValidateCount(MethodView):
    @requires("stock:count")
    @counts_blp.response(200, InventoryCountSchema)
    @counts_blp.alt_response(409, description="Already validated or cancelled")
    def post(self, count_id):
        """Post the differences as adjustments ("inventory count IC-…"), all or nothing."""
        with sessions().begin() as session:
            return counts.validate_count(session, count_id, current_principal())


@counts_blp.route("/<uuid:count_id>/cancel")
class CancelCount(MethodView):
    @requires("stock:count")
    @counts_blp.response(200, InventoryCountSchema)
    def post(self, count_id):
        """Drop a draft count; nothing is posted."""
        with sessions().begin() as session:
            return counts.cancel_count(session, count_id, current_principal())
