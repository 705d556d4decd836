"""What the purchasing endpoints accept (strict: unknown fields are refused) and return."""


from marshmallow import Schema, fields, validate
from servicekit.pagination import PageArgs, page_schema

from ..fields import AMOUNT, CURRENCY, price, quantity, tax_rate
from .models import BILL_STATUSES, MATCH_STATUSES, PO_STATES

LINES = validate.Length(min=1, max=500)


# -- purchase orders -----------------------------------------------------------------------------

class PurchaseOrderLineInSchema(Schema):
    product_id = fields.UUID(required=True, metadata={"description": "An active stockable or consumable product."})
    description = fields.String(validate=validate.Length(max=2000),
                                metadata={"description": "Defaults to the product's name."})
    quantity = quantity(required=True)
    unit_price = price(allow_none=True, metadata={"description": "Defaults to the product's cost (same currency)."})
    tax_rate = tax_rate(allow_none=True)


class _PurchaseOrderFields(Schema):
    supplier_id = fields.UUID(metadata={"description": "A CRM party with the supplier role, active."})
    currency = fields.String(validate=CURRENCY)
    order_date = fields.Date()
    expected_date = fields.Date(allow_none=True)
    warehouse_id = fields.UUID(metadata={"description": "Where the goods are to be received."})
    notes = fields.String(allow_none=True, validate=validate.Length(max=5000))
    lines = fields.List(fields.Nested(PurchaseOrderLineInSchema), validate=LINES)


class PurchaseOrderCreateSchema(_PurchaseOrderFields):
    supplier_id = fields.UUID(required=True, metadata={"description": "A CRM party with the supplier role, active."})
    currency = fields.String(load_default="EUR", validate=CURRENCY)
    warehouse_id = fields.UUID(required=True, metadata={"description": "Where the goods are to be received."})
    lines = fields.List(fields.Nested(PurchaseOrderLineInSchema), required=True, validate=LINES)


class PurchaseOrderUpdateSchema(_PurchaseOrderFields):
    """In draft, anything; once sent, only expected_date and notes."""


class PurchaseOrderLineSchema(Schema):
    id = fields.UUID()
    position = fields.Integer()
    product_id = fields.UUID()
    description = fields.String()
    quantity = fields.Decimal(**AMOUNT)
    unit_price = fields.Decimal(**AMOUNT)
    tax_rate = fields.Decimal(**AMOUNT)
    subtotal = fields.Decimal(**AMOUNT)
    tax = fields.Decimal(**AMOUNT)
    total = fields.Decimal(**AMOUNT)
    quantity_received = fields.Decimal(**AMOUNT)
    quantity_cancelled = fields.Decimal(**AMOUNT, metadata={"description": "Unreceived remainder cancelled."})
    quantity_remaining = fields.Decimal(**AMOUNT, metadata={"description": "Still to be received."})
    quantity_billed = fields.Decimal(**AMOUNT, metadata={"description": "On supplier bills not rejected."})
    quantity_billed_approved = fields.Decimal(**AMOUNT, metadata={"description": "On approved supplier bills."})


class PurchasingPartyRefSchema(Schema):
    id = fields.UUID()
    display_name = fields.String(allow_none=True)


class PurchaseOrderSchema(Schema):
    id = fields.UUID()
    number = fields.String(metadata={"description": "PO-<year>-<n>"})
    supplier_id = fields.UUID()
    supplier = fields.Nested(PurchasingPartyRefSchema)
    currency = fields.String()
    order_date = fields.Date()
    expected_date = fields.Date(allow_none=True)
    warehouse_id = fields.UUID()
    state = fields.String(metadata={"description": " | ".join(PO_STATES)})
    notes = fields.String(allow_none=True)
    subtotal = fields.Decimal(**AMOUNT)
    tax_total = fields.Decimal(**AMOUNT)
    total = fields.Decimal(**AMOUNT)
    cancel_reason = fields.String(allow_none=True)
    allowed_actions = fields.List(fields.String(), metadata={"description": "What the order's state allows now."})
    version = fields.Integer()
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    lines = fields.List(fields.Nested(PurchaseOrderLineSchema))


class PurchaseOrderListArgs(PageArgs):
    supplier_id = fields.UUID()
    state = fields.List(fields.String(validate=validate.OneOf(PO_STATES)),
                        metadata={"description": "One or more states (repeat the parameter)."})
    date_from = fields.Date(metadata={"description": "Ordered on or after."})
    date_to = fields.Date(metadata={"description": "Ordered on or before."})
    q = fields.String(metadata={"description": "Search in the order number."})


class PurchaseOrderCancelSchema(Schema):
    reason = fields.String(allow_none=True, validate=validate.Length(max=2000))


# -- goods receipts ------------------------------------------------------------------------------

class GoodsReceiptLineInSchema(Schema):
    po_line_id = fields.UUID(required=True)
    quantity = quantity(required=True)
    location_id = fields.UUID(allow_none=True, metadata={"description": "A location of the order's warehouse; "
                                                                        "defaults to its main stock location."})


class GoodsReceiptCreateSchema(Schema):
    lines = fields.List(fields.Nested(GoodsReceiptLineInSchema), required=True, validate=LINES)
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


class GoodsReceiptLineSchema(Schema):
    id = fields.UUID()
    po_line_id = fields.UUID()
    product_id = fields.UUID()
    quantity = fields.Decimal(**AMOUNT)
    unit_cost = fields.Decimal(**AMOUNT)
    location_id = fields.UUID(allow_none=True)
    stock_move_id = fields.UUID(allow_none=True, metadata={"description": "None for consumables (not stocked)."})


class GoodsReceiptSchema(Schema):
    id = fields.UUID()
    number = fields.String(metadata={"description": "GR-<year>-<n>"})
    purchase_order_id = fields.UUID()
    note = fields.String(allow_none=True)
    received_by = fields.String(allow_none=True)
    received_at = fields.DateTime()
    lines = fields.List(fields.Nested(GoodsReceiptLineSchema))


# -- supplier bills ------------------------------------------------------------------------------

class SupplierBillLineInSchema(Schema):
    po_line_id = fields.UUID(allow_none=True, metadata={"description": "The order line billed; a line without one "
                                                                       "is flagged in the match."})
    description = fields.String(validate=validate.Length(max=2000),
                                metadata={"description": "Defaults to the order line's; required without one."})
    quantity = quantity(required=True)
    unit_price = price(required=True)
    tax_rate = tax_rate(allow_none=True, metadata={"description": "Defaults to the order line's."})


class SupplierBillCreateSchema(Schema):
    supplier_id = fields.UUID(required=True)
    supplier_invoice_number = fields.String(required=True, validate=validate.Length(min=1, max=64),
                                            metadata={"description": "Unique per supplier."})
    bill_date = fields.Date(required=True)
    due_date = fields.Date(metadata={"description": "Defaults to the bill date plus the supplier's payment terms."})
    currency = fields.String(required=True, validate=CURRENCY)
    lines = fields.List(fields.Nested(SupplierBillLineInSchema), required=True, validate=LINES)


class SupplierBillLineSchema(Schema):
    id = fields.UUID()
    position = fields.Integer()
    po_line_id = fields.UUID(allow_none=True)
    description = fields.String()
    quantity = fields.Decimal(**AMOUNT)
    unit_price = fields.Decimal(**AMOUNT)
    tax_rate = fields.Decimal(**AMOUNT)
    subtotal = fields.Decimal(**AMOUNT)
    tax = fields.Decimal(**AMOUNT)
    total = fields.Decimal(**AMOUNT)


class ThreeWayMatchDifferenceSchema(Schema):
    code = fields.String(metadata={"description": "no_purchase_order | quantity_exceeds_received | price_differs"})
    message = fields.String()
    expected = fields.String(allow_none=True)
    actual = fields.String(allow_none=True)


class ThreeWayMatchLineSchema(Schema):
    position = fields.Integer()
    bill_line_id = fields.UUID()
    po_line_id = fields.UUID(allow_none=True)
    purchase_order_id = fields.UUID(allow_none=True)
    purchase_order_number = fields.String(allow_none=True)
    status = fields.String(metadata={"description": " | ".join(MATCH_STATUSES)})
    ordered = fields.Dict(allow_none=True, metadata={"description": "{quantity, unit_price, amount}"})
    received = fields.Dict(allow_none=True, metadata={"description": "{quantity, amount} (amount at order price)"})
    billed = fields.Dict(metadata={"description": "{quantity, unit_price, amount, previously_billed}"})
    differences = fields.List(fields.Nested(ThreeWayMatchDifferenceSchema))


class ThreeWayMatchSchema(Schema):
    status = fields.String(metadata={"description": " | ".join(MATCH_STATUSES)})
    checked_at = fields.String()
    tolerance = fields.Dict(metadata={"description": "{per_unit, percent}: allowed unit price difference"})
    lines = fields.List(fields.Nested(ThreeWayMatchLineSchema))


class SupplierBillSchema(Schema):
    id = fields.UUID()
    number = fields.String(metadata={"description": "BILL-<year>-<n> (ours)"})
    supplier_id = fields.UUID()
    supplier = fields.Nested(PurchasingPartyRefSchema)
    supplier_invoice_number = fields.String()
    bill_date = fields.Date()
    due_date = fields.Date()
    currency = fields.String()
    status = fields.String(metadata={"description": " | ".join(BILL_STATUSES)})
    match_status = fields.String(metadata={"description": " | ".join(MATCH_STATUSES)})
    match = fields.Nested(ThreeWayMatchSchema, metadata={"description": "The three-way match, line by line."})
    subtotal = fields.Decimal(**AMOUNT)
    tax_total = fields.Decimal(**AMOUNT)
    total = fields.Decimal(**AMOUNT)
    decision_reason = fields.String(allow_none=True)
    decided_by = fields.String(allow_none=True)
    decided_at = fields.DateTime(allow_none=True)
    allowed_actions = fields.List(fields.String())
    version = fields.Integer()
    created_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    lines = fields.List(fields.Nested(SupplierBillLineSchema))


class SupplierBillListArgs(PageArgs):
    supplier_id = fields.UUID()
    status = fields.List(fields.String(validate=validate.OneOf(BILL_STATUSES)),
                         metadata={"description": "One or more statuses (repeat the parameter)."})
    match_status = fields.String(validate=validate.OneOf(MATCH_STATUSES))
    purchase_order_id = fields.UUID(metadata={"description": "Bills with a line on this order."})
    date_from = fields.Date(metadata={"description": "Billed on or after."})
    date_to = fields.Date(metadata={"description": "Billed on or before."})
    q = fields.String(metadata={"description": "Search our number and the supplier's invoice number."})


class SupplierBillApproveSchema(Schema):
    reason = fields.String(allow_none=True, validate=validate.Length(max=2000),
                           metadata={"description": "Required when the bill does not match its orders."})


class SupplierBillRejectSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


PurchaseOrderPageSchema = page_schema(PurchaseOrderSchema, "PurchaseOrderPage")
SupplierBillPageSchema = page_schema(SupplierBillSchema, "SupplierBillPage")
