"""What the stock endpoints accept (strict, kind by kind) and return; quantities and money are decimal strings."""

from datetime import UTC, datetime

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from servicekit.pagination import PageArgs, page_schema

from ..fields import places
from .models import COUNT_STATUSES, MOVE_KINDS, RESERVATION_STATUSES

CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_\-]*$", error="letters, digits, _ and - only")


def Quantity(**kw) -> fields.Decimal:  # noqa: N802 - a field factory reads like a field class
    return fields.Decimal(as_string=True, allow_nan=False,
                          validate=[places(4, below_power=13), *kw.pop("validate", [])], **kw)


def Money(**kw) -> fields.Decimal:  # noqa: N802
    return fields.Decimal(as_string=True, allow_nan=False,
                          validate=[places(6, below_power=13), *kw.pop("validate", [])], **kw)


def _today():
    return datetime.now(UTC).date()


# -- warehouses and locations --------------------------------------------------------------------

class WarehouseSchema(Schema):
    id = fields.UUID()
    code = fields.String()
    name = fields.String()
    active = fields.Boolean()
    default_location_id = fields.UUID(metadata={"description": "Its STOCK location, used when none is given."})
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class WarehouseCreateSchema(Schema):
    code = fields.String(required=True, validate=[validate.Length(min=1, max=20), CODE],
                         metadata={"description": "Unique, stored in upper case."})
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    active = fields.Boolean(load_default=True)


class WarehouseUpdateSchema(Schema):
    code = fields.String(validate=[validate.Length(min=1, max=20), CODE])
    name = fields.String(validate=validate.Length(min=1, max=100))
    active = fields.Boolean(metadata={"description": "A warehouse holding or reserving stock cannot be deactivated."})


class WarehouseListArgs(PageArgs):
    q = fields.String(metadata={"description": "Search code and name."})
    active = fields.Boolean(load_default=None, allow_none=True)


class StockLocationSchema(Schema):
    id = fields.UUID()
    warehouse_id = fields.UUID()
    parent_id = fields.UUID(allow_none=True)
    code = fields.String()
    name = fields.String()
    path = fields.String(metadata={"description": "Codes from the top, e.g. A/01."})
    is_default = fields.Boolean()
    active = fields.Boolean()
    created_at = fields.DateTime()


class StockLocationCreateSchema(Schema):
    code = fields.String(required=True, validate=[validate.Length(min=1, max=30), CODE])
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    parent_id = fields.UUID(load_default=None, allow_none=True)


class LocationListArgs(Schema):
    include_inactive = fields.Boolean(load_default=False)


# -- moves ---------------------------------------------------------------------------------------

class StockMoveSchema(Schema):
    id = fields.UUID()
    kind = fields.String()
    product_id = fields.UUID()
    quantity = fields.Decimal(as_string=True)
    from_location_id = fields.UUID(allow_none=True)
    to_location_id = fields.UUID(allow_none=True)
    from_warehouse_id = fields.UUID(allow_none=True)
    to_warehouse_id = fields.UUID(allow_none=True)
    unit_cost = fields.Decimal(as_string=True)
    value = fields.Decimal(as_string=True, metadata={"description": "quantity × unit_cost"})
    reference = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    source_type = fields.String(allow_none=True)
    source_id = fields.String(allow_none=True)
    party_id = fields.UUID(allow_none=True)
    done_at = fields.DateTime()
    actor_id = fields.String(allow_none=True)
    actor = fields.String(attribute="actor_name", allow_none=True)
    created_at = fields.DateTime()


_PLACE = {"receipt": ("warehouse_id", "location_id"), "delivery": ("warehouse_id", "location_id"),
          "adjustment": ("warehouse_id", "location_id"),
          "transfer": ("from_warehouse_id", "from_location_id", "to_warehouse_id", "to_location_id")}
_ALL_PLACES = {"warehouse_id", "location_id", "from_warehouse_id", "from_location_id", "to_warehouse_id",
               "to_location_id"}


class StockMoveCreateSchema(Schema):
    """A move entered by hand. Receipts, deliveries and adjustments name a warehouse (its STOCK location) or a
    location; transfers name where from and where to (warehouses or locations)."""

    kind = fields.String(required=True, validate=validate.OneOf(MOVE_KINDS))
    product_id = fields.UUID(required=True)
    quantity = Quantity(required=True, metadata={
        "description": "Greater than 0; for an adjustment, signed: +5 adds five, -5 removes five."})
    warehouse_id = fields.UUID()
    location_id = fields.UUID()
    from_warehouse_id = fields.UUID()
    from_location_id = fields.UUID()
    to_warehouse_id = fields.UUID()
    to_location_id = fields.UUID()
    unit_cost = Money(allow_none=True, validate=[validate.Range(min=0)], metadata={
        "description": "Receipts and additions only; defaults to the current average (or the product's cost)."})
    reason = fields.String(validate=validate.Length(min=1, max=300), metadata={"description": "Adjustments: required."})
    reference = fields.String(validate=validate.Length(max=200))
    source_type = fields.String(validate=validate.Length(min=1, max=50), metadata={"description": "Default: manual."})
    source_id = fields.String(validate=validate.Length(min=1, max=100))
    party_id = fields.UUID(allow_none=True, metadata={"description": "Supplier of a receipt, customer of a delivery."})
    done_at = fields.AwareDateTime(metadata={
        "description": "When it happened (default now); not in the future, nor before the product's last move."})

    @validates_schema
    def per_kind(self, data, **_):
        kind = data.get("kind")
        if kind not in MOVE_KINDS:
            return
        errors = {}
        for name in sorted((_ALL_PLACES - set(_PLACE[kind])) & set(data)):
            errors[name] = [f"not used by a {kind}"]
        if kind == "transfer":
            for side in ("from", "to"):
                if not (data.get(f"{side}_warehouse_id") or data.get(f"{side}_location_id")):
                    errors[f"{side}_location_id"] = [f"a transfer needs {side}_location_id or {side}_warehouse_id"]
        elif not (data.get("warehouse_id") or data.get("location_id")):
            errors["warehouse_id"] = ["required (or location_id)"]
        quantity = data.get("quantity")
        if quantity is not None:
            if kind == "adjustment" and quantity == 0:
                errors["quantity"] = ["an adjustment adds (+) or removes (-) a quantity other than 0"]
            elif kind != "adjustment" and quantity <= 0:
                errors["quantity"] = ["must be greater than 0"]
        if kind == "adjustment" and not (data.get("reason") or "").strip():
            errors["reason"] = ["an adjustment needs a reason"]
        if kind != "adjustment" and data.get("reason"):
            errors["reason"] = ["only adjustments take a reason"]
        if data.get("unit_cost") is not None and (kind in ("delivery", "transfer") or (
                kind == "adjustment" and quantity is not None and quantity < 0)):
            errors["unit_cost"] = ["goods leave at their current cost: do not give one"]
        if errors:
            raise ValidationError(errors)


class MoveListArgs(PageArgs):
    product_id = fields.UUID()
    warehouse_id = fields.UUID(metadata={"description": "Moves into or out of this warehouse."})
    location_id = fields.UUID()
    party_id = fields.UUID()
    kind = fields.String(validate=validate.OneOf(MOVE_KINDS))
    source_type = fields.String()
    source_id = fields.String()
    reference = fields.String(metadata={"description": "Part of the reference."})
    date_from = fields.Date(metadata={"description": "done_at on or after this day (UTC)."})
    date_to = fields.Date(metadata={"description": "done_at on or before this day (UTC)."})


# -- levels and reservations ---------------------------------------------------------------------

class StockLevelSchema(Schema):
    product_id = fields.UUID()
    sku = fields.String()
    product_name = fields.String()
    warehouse_id = fields.UUID(allow_none=True)
    warehouse_code = fields.String(allow_none=True)
    location_id = fields.UUID(allow_none=True)
    location = fields.String(allow_none=True)
    on_hand = fields.Decimal(as_string=True)
    reserved = fields.Decimal(as_string=True, allow_none=True, metadata={
        "description": "Reservations are held per warehouse: null on location rows."})
    available = fields.Decimal(as_string=True, allow_none=True, metadata={"description": "on_hand - reserved"})


class LevelListArgs(PageArgs):
    by = fields.String(load_default="warehouse", validate=validate.OneOf(["location", "warehouse", "product"]))
    product_id = fields.UUID()
    sku = fields.String()
    warehouse_id = fields.UUID()
    location_id = fields.UUID()
    below_zero = fields.Boolean(load_default=False, metadata={"description": "Only rows below zero (backorders)."})
    include_zero = fields.Boolean(load_default=False, metadata={"description": "Also rows with nothing left."})


class StockReservationSchema(Schema):
    id = fields.UUID()
    product_id = fields.UUID()
    warehouse_id = fields.UUID()
    source_type = fields.String()
    source_id = fields.String()
    quantity = fields.Decimal(as_string=True)
    remaining = fields.Decimal(as_string=True, metadata={"description": "Still held; deliveries consume it."})
    status = fields.String()
    actor = fields.String(attribute="actor_name", allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class StockReservationCreateSchema(Schema):
    product_id = fields.UUID(required=True)
    warehouse_id = fields.UUID(required=True)
    quantity = Quantity(required=True, validate=[validate.Range(min=0, min_inclusive=False)])
    source_type = fields.String(required=True, validate=validate.Length(min=1, max=50))
    source_id = fields.String(required=True, validate=validate.Length(min=1, max=100))


class ReservationListArgs(PageArgs):
    product_id = fields.UUID()
    warehouse_id = fields.UUID()
    source_type = fields.String()
    source_id = fields.String()
    status = fields.String(load_default="active", validate=validate.OneOf([*RESERVATION_STATUSES, "all"]))


# -- reports -------------------------------------------------------------------------------------

def _report_format() -> fields.String:
    return fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]),
                         metadata={"description": "json, or csv (text/csv)."})


class ValuationArgs(Schema):
    as_of = fields.Date(load_default=_today, metadata={"description": "End of this day (UTC); default today."})
    product_id = fields.UUID()
    format = _report_format()


class StockValuationLineSchema(Schema):
    product_id = fields.UUID()
    sku = fields.String()
    product_name = fields.String()
    valuation_method = fields.String()
    currency = fields.String()
    quantity = fields.Decimal(as_string=True)
    unit_cost = fields.Decimal(as_string=True, allow_none=True)
    value = fields.Decimal(as_string=True)


class StockCurrencyTotalSchema(Schema):
    currency = fields.String()
    value = fields.Decimal(as_string=True)


class StockValuationSchema(Schema):
    as_of = fields.Date()
    items = fields.List(fields.Nested(StockValuationLineSchema))
    totals = fields.List(fields.Nested(StockCurrencyTotalSchema))


class MovementArgs(Schema):
    group_by = fields.String(load_default="product", validate=validate.OneOf(["product", "supplier", "customer"]))
    date_from = fields.Date()
    date_to = fields.Date()
    warehouse_id = fields.UUID()
    product_id = fields.UUID()
    party_id = fields.UUID()
    format = _report_format()


class StockMovementLineSchema(Schema):
    product_id = fields.UUID()
    sku = fields.String()
    product_name = fields.String()
    party_id = fields.UUID(allow_none=True)
    party_name = fields.String(allow_none=True)
    products = fields.Integer()
    quantity_in = fields.Decimal(as_string=True)
    quantity_out = fields.Decimal(as_string=True)
    net_quantity = fields.Decimal(as_string=True)
    value_in = fields.Decimal(as_string=True)
    value_out = fields.Decimal(as_string=True)
    moves = fields.Integer()


class StockMovementTotalsSchema(Schema):
    value_in = fields.Decimal(as_string=True)
    value_out = fields.Decimal(as_string=True)
    moves = fields.Integer()


class StockMovementReportSchema(Schema):
    group_by = fields.String()
    date_from = fields.Date(allow_none=True)
    date_to = fields.Date(allow_none=True)
    warehouse_id = fields.UUID(allow_none=True)
    items = fields.List(fields.Nested(StockMovementLineSchema))
    totals = fields.Nested(StockMovementTotalsSchema)


# -- inventory counts ----------------------------------------------------------------------------

class InventoryCountLineSchema(Schema):
    id = fields.UUID()
    product_id = fields.UUID()
    sku = fields.String()
    product_name = fields.String()
    location_id = fields.UUID()
    location = fields.String()
    counted_quantity = fields.Decimal(as_string=True)
    system_quantity = fields.Decimal(as_string=True, metadata={"description": "On hand there when counted."})
    difference = fields.Decimal(as_string=True, metadata={"description": "Posted as an adjustment on validation."})
    move_id = fields.UUID(allow_none=True)
    counted_at = fields.DateTime()
    counted_by = fields.String(allow_none=True)


class InventoryCountSchema(Schema):
    id = fields.UUID()
    number = fields.Integer()
    reference = fields.String(metadata={"description": "IC-00042"})
    warehouse_id = fields.UUID()
    warehouse_code = fields.String()
    status = fields.String()
    note = fields.String(allow_none=True)
    version = fields.Integer()
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    validated_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    lines = fields.List(fields.Nested(InventoryCountLineSchema))


class InventoryCountCreateSchema(Schema):
    warehouse_id = fields.UUID(required=True)
    note = fields.String(validate=validate.Length(max=2000))


class InventoryCountLineInputSchema(Schema):
    product_id = fields.UUID(required=True)
    location_id = fields.UUID(load_default=None, allow_none=True, metadata={"description": "Default: STOCK."})
    counted_quantity = Quantity(required=True, validate=[validate.Range(min=0)])


class InventoryCountLinesSchema(Schema):
    lines = fields.List(fields.Nested(InventoryCountLineInputSchema), required=True,
                        validate=validate.Length(min=1, max=1000))


class CountListArgs(PageArgs):
    warehouse_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(COUNT_STATUSES))


WarehousePageSchema = page_schema(WarehouseSchema, "WarehousePage")
MovePageSchema = page_schema(StockMoveSchema, "StockMovePage")
LevelPageSchema = page_schema(StockLevelSchema, "StockLevelPage")
ReservationPageSchema = page_schema(StockReservationSchema, "StockReservationPage")
CountPageSchema = page_schema(InventoryCountSchema, "InventoryCountPage")
