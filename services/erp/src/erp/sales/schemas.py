"""What the sales order endpoints accept (strict: unknown fields are refused) and return."""


from marshmallow import Schema, fields, validate
from servicekit.pagination import PageArgs, page_schema

from ..fields import AMOUNT, CURRENCY, discount, price, quantity, tax_rate
from .models import ORDER_SOURCES, ORDER_STATUSES


class SalesOrderLineInSchema(Schema):
    product_id = fields.UUID(required=True, metadata={"description": "An active product."})
    quantity = quantity(required=True)
    unit_price = price(allow_none=True, metadata={"description": "Defaults to the customer's price (price lists)."})
    discount_percent = discount(allow_none=True)
    tax_rate = tax_rate(allow_none=True, metadata={"description": "Defaults to the product's rate; 0.2 = 20 %"})
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))


class SalesOrderCreateSchema(Schema):
    party_id = fields.UUID(required=True, metadata={"description": "A customer (CRM party), not archived."})
    currency = fields.String(validate=CURRENCY, metadata={"description": "Defaults to the customer's currency."})
    warehouse_id = fields.UUID(allow_none=True, metadata={"description": "Where the goods ship from (default: the "
                                                                         "sales warehouse)."})
    requested_date = fields.Date(allow_none=True)
    customer_reference = fields.String(allow_none=True, validate=validate.Length(max=200))
    shipping_address = fields.Dict(allow_none=True)
    lines = fields.List(fields.Nested(SalesOrderLineInSchema), required=True, validate=validate.Length(min=1, max=500))


class SalesDeliveryLineInSchema(Schema):
    line_id = fields.UUID(required=True, metadata={"description": "A line of the order."})
    quantity = quantity(required=True)
    serials = fields.List(fields.String(validate=validate.Length(min=1, max=100)),
                          validate=validate.Length(max=500), metadata={
                              "description": "The serial numbers shipped, one per unit: required for a product "
                                             "whose warranty terms are serial-tracked; unique per product."})


class SalesDeliveryCreateSchema(Schema):
    lines = fields.List(fields.Nested(SalesDeliveryLineInSchema), validate=validate.Length(min=1, max=500),
                        metadata={"description": "Omit to deliver everything that remains."})
    note = fields.String(allow_none=True, validate=validate.Length(max=2000))


class SalesOrderCancelSchema(Schema):
    reason = fields.String(allow_none=True, validate=validate.Length(max=2000))


class SalesOrderLineSchema(Schema):
    id = fields.UUID()
    line_no = fields.Integer()
    product_id = fields.UUID()
    product_kind = fields.String(allow_none=True)
    sku = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    quantity = fields.Decimal(**AMOUNT)
    unit_price = fields.Decimal(**AMOUNT)
    discount_percent = fields.Decimal(**AMOUNT)
    tax_rate = fields.Decimal(**AMOUNT)
    net = fields.Decimal(**AMOUNT)
    tax = fields.Decimal(**AMOUNT)
    gross = fields.Decimal(**AMOUNT)
    delivered_quantity = fields.Decimal(**AMOUNT)
    remaining_quantity = fields.Decimal(**AMOUNT, metadata={"description": "Still to deliver."})
    invoiced_quantity = fields.Decimal(**AMOUNT, metadata={"description": "On invoices, drafts included."})
    to_invoice_quantity = fields.Decimal(**AMOUNT, metadata={"description": "Delivered, not yet invoiced."})


class SalesPartyRefSchema(Schema):
    id = fields.UUID()
    display_name = fields.String(allow_none=True)


class SalesOrderSchema(Schema):
    id = fields.UUID()
    number = fields.String(metadata={"description": "SO-<year>-<n>"})
    source = fields.String(metadata={"description": " | ".join(ORDER_SOURCES)})
    crm_order_id = fields.UUID(allow_none=True)
    quote_id = fields.UUID(allow_none=True)
    quote_number = fields.String(allow_none=True)
    deal_id = fields.UUID(allow_none=True)
    party_id = fields.UUID()
    customer = fields.Nested(SalesPartyRefSchema)
    status = fields.String(metadata={"description": " | ".join(ORDER_STATUSES)})
    reason_code = fields.String(allow_none=True, metadata={
        "description": "Why it was rejected: unknown_customer, customer_archived, customer_merged, unknown_product, "
                       "inactive_product, credit_limit_exceeded, insufficient_stock, no_warehouse."})
    reason = fields.String(allow_none=True)
    currency = fields.String()
    warehouse_id = fields.UUID(allow_none=True)
    requested_date = fields.Date(allow_none=True)
    customer_reference = fields.String(allow_none=True)
    shipping_address = fields.Dict(allow_none=True)
    net_total = fields.Decimal(**AMOUNT)
    tax_total = fields.Decimal(**AMOUNT)
    gross_total = fields.Decimal(**AMOUNT)
    placed_at = fields.DateTime()
    placed_by = fields.String(allow_none=True)
    last_delivery_at = fields.DateTime(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)
    allowed_actions = fields.List(fields.String())
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    lines = fields.List(fields.Nested(SalesOrderLineSchema))


class SalesDeliveryLineSchema(Schema):
    id = fields.UUID()
    order_line_id = fields.UUID()
    product_id = fields.UUID()
    quantity = fields.Decimal(**AMOUNT)
    stock_move_id = fields.UUID(allow_none=True)
    serials = fields.List(fields.String(), metadata={"description": "Serial numbers shipped on this line."})


class SalesDeliverySchema(Schema):
    id = fields.UUID()
    number = fields.String(metadata={"description": "DL-<year>-<n>"})
    order_id = fields.UUID()
    note = fields.String(allow_none=True)
    delivered_by = fields.String(allow_none=True)
    delivered_at = fields.DateTime()
    lines = fields.List(fields.Nested(SalesDeliveryLineSchema))


class SalesOrderListArgs(PageArgs):
    party_id = fields.UUID()
    crm_order_id = fields.UUID()
    status = fields.List(fields.String(validate=validate.OneOf(ORDER_STATUSES)))
    source = fields.String(validate=validate.OneOf(ORDER_SOURCES))
    q = fields.String(metadata={"description": "Search in the number."})


SalesOrderPageSchema = page_schema(SalesOrderSchema, "SalesOrderPage")


class WaitingOrderListArgs(PageArgs):
    party_id = fields.UUID()


class WaitingOrderSchema(Schema):
    crm_order_id = fields.UUID(metadata={"description": "The order's id in the CRM."})
    party_id = fields.UUID(metadata={"description": "The customer the ERP has not received yet."})
    waiting_since = fields.DateTime()
    quote_number = fields.String(allow_none=True)
    deal_id = fields.UUID(allow_none=True)
    currency = fields.String()
    gross_total = fields.Decimal(allow_none=True, **AMOUNT)
    lines = fields.Integer(metadata={"description": "How many lines the order has."})


WaitingOrderPageSchema = page_schema(WaitingOrderSchema, "WaitingOrderPage")
