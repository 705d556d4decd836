"""What the fulfilment endpoints accept (strict: unknown fields are refused) and return."""

from marshmallow import Schema, fields, validate
from servicekit.pagination import PageArgs, page_schema
from servicekit.validators import not_blank

from ..fields import AMOUNT, price, quantity
from .models import NEED_STATUSES, OPERATION_STATUSES, PROCUREMENTS, WORK_ORDER_STATUSES


class ComponentInSchema(Schema):
    component_id = fields.UUID(required=True, metadata={"description": "A stockable or consumable product."})
    quantity = quantity(required=True, metadata={"description": "How much of it one unit takes (> 0)."})


class OperationInSchema(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), not_blank])
    planned_hours = fields.Decimal(as_string=True, required=True, places=2,
                                   validate=validate.Range(min=0, max=10000))


class SupplyInSchema(Schema):
    procurement = fields.String(required=True, validate=validate.OneOf(PROCUREMENTS), metadata={
        "description": "make_to_order: a work order makes it for each order line; buy: bought from a supplier."})
    preferred_supplier_id = fields.UUID(allow_none=True, metadata={
        "description": "A CRM party with the supplier role: short stock is drafted on a purchase order to it."})
    supplier_price = price(allow_none=True, metadata={"description": "Its price (defaults to the product's cost)."})
    lead_time_days = fields.Integer(load_default=0, validate=validate.Range(min=0, max=3650), metadata={
        "description": "Days to buy it, or to make it once its materials are there."})
    components = fields.List(fields.Nested(ComponentInSchema), load_default=list,
                             validate=validate.Length(max=200), metadata={"description": "Bill of materials."})
    operations = fields.List(fields.Nested(OperationInSchema), load_default=list,
                             validate=validate.Length(max=100), metadata={"description": "Routing, in order."})


class ComponentSchema(Schema):
    component_id = fields.UUID()
    sku = fields.String()
    quantity = fields.Decimal(**AMOUNT)


class OperationSchema(Schema):
    name = fields.String()
    planned_hours = fields.Decimal(**AMOUNT)


class SupplySchema(Schema):
    product_id = fields.UUID()
    sku = fields.String()
    procurement = fields.String()
    preferred_supplier_id = fields.UUID(allow_none=True)
    supplier_price = fields.Decimal(allow_none=True, **AMOUNT)
    lead_time_days = fields.Integer()
    components = fields.List(fields.Nested(ComponentSchema))
    operations = fields.List(fields.Nested(OperationSchema))
    version = fields.Integer()


class WorkOrderOperationSchema(Schema):
    position = fields.Integer()
    name = fields.String()
    planned_hours = fields.String()
    assignee = fields.String(allow_none=True)
    status = fields.String(metadata={"description": " | ".join(OPERATION_STATUSES)})


class WorkOrderMaterialSchema(Schema):
    product_id = fields.UUID()
    sku = fields.String()
    quantity = fields.Decimal(**AMOUNT)
    consumed_value = fields.Decimal(allow_none=True, **AMOUNT)
    stock_move_id = fields.UUID(allow_none=True)


class WorkOrderSchema(Schema):
    id = fields.UUID()
    number = fields.String()
    sales_order_id = fields.UUID()
    sales_order_number = fields.String()
    crm_order_id = fields.UUID(allow_none=True)
    deal_id = fields.UUID(allow_none=True)
    party_id = fields.UUID(allow_none=True)
    product_id = fields.UUID()
    sku = fields.String()
    product_name = fields.String()
    quantity = fields.String()
    status = fields.String(metadata={"description": " | ".join(WORK_ORDER_STATUSES)})
    assignee = fields.String(allow_none=True)
    expected_date = fields.Date()
    late = fields.Boolean(metadata={"description": "Not done and past its expected date."})
    unit_cost = fields.String(allow_none=True, metadata={"description": "What one unit's materials cost (done)."})
    started_at = fields.DateTime(allow_none=True)
    done_at = fields.DateTime(allow_none=True)
    operations = fields.List(fields.Nested(WorkOrderOperationSchema))
    materials = fields.List(fields.Nested(WorkOrderMaterialSchema))
    version = fields.Integer()
    updated_at = fields.DateTime()


class WorkOrderUpdateSchema(Schema):
    assignee = fields.String(allow_none=True, validate=validate.Length(max=200))
    expected_date = fields.Date()


class OperationUpdateSchema(Schema):
    assignee = fields.String(allow_none=True, validate=validate.Length(max=200))
    status = fields.String(validate=validate.OneOf(OPERATION_STATUSES))


class WorkOrderListArgs(PageArgs):
    deal_id = fields.UUID()
    sales_order_id = fields.UUID()
    status = fields.List(fields.String(validate=validate.OneOf(WORK_ORDER_STATUSES)))
    assignee = fields.String(validate=validate.Length(max=200))


class PurchaseNeedSchema(Schema):
    id = fields.UUID()
    sales_order_id = fields.UUID()
    sales_order_number = fields.String()
    crm_order_id = fields.UUID(allow_none=True)
    deal_id = fields.UUID(allow_none=True)
    party_id = fields.UUID(allow_none=True)
    work_order_id = fields.UUID(allow_none=True)
    product_id = fields.UUID()
    sku = fields.String()
    product_name = fields.String()
    quantity = fields.String()
    status = fields.String(metadata={"description": " | ".join(NEED_STATUSES)})
    supplier_id = fields.UUID(allow_none=True)
    purchase_order_id = fields.UUID(allow_none=True)
    purchase_order_number = fields.String(allow_none=True)
    expected_date = fields.Date(allow_none=True)
    late = fields.Boolean(metadata={"description": "Not received and past its expected date."})
    reason = fields.String(allow_none=True)
    version = fields.Integer()
    updated_at = fields.DateTime()


class PurchaseNeedListArgs(PageArgs):
    deal_id = fields.UUID()
    sales_order_id = fields.UUID()
    work_order_id = fields.UUID()
    purchase_order_id = fields.UUID()
    status = fields.List(fields.String(validate=validate.OneOf(NEED_STATUSES)))


WorkOrderPageSchema = page_schema(WorkOrderSchema, "WorkOrderPage")
PurchaseNeedPageSchema = page_schema(PurchaseNeedSchema, "PurchaseNeedPage")


class InstallationRecordSchema(Schema):
    id = fields.UUID(metadata={"description": "The CRM's installation id."})
    sales_order_id = fields.UUID()
    sales_order_number = fields.String()
    deal_id = fields.UUID(allow_none=True)
    party_id = fields.UUID(allow_none=True)
    result = fields.String(metadata={"description": "done | problem"})
    serials = fields.List(fields.String())
    signed_by = fields.String()
    completed_at = fields.DateTime()
    recorded_at = fields.DateTime()


class InstallationRecordListArgs(PageArgs):
    sales_order_id = fields.UUID()
    deal_id = fields.UUID()
    serial = fields.String(validate=validate.Length(min=1, max=100), metadata={"description": "Installed serial."})


InstallationRecordPageSchema = page_schema(InstallationRecordSchema, "InstallationRecordPage")
