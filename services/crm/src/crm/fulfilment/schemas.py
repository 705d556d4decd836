"""What the fulfilment endpoints return."""

from marshmallow import Schema, fields

from ..tasks.schemas import TaskSchema


class FulfilmentOperationSchema(Schema):
    position = fields.Integer()
    name = fields.String()
    planned_hours = fields.String()
    assignee = fields.String(allow_none=True)
    status = fields.String()


class FulfilmentItemSchema(Schema):
    id = fields.UUID()
    kind = fields.String(metadata={"description": "work_order | purchase"})
    number = fields.String(allow_none=True, metadata={"description": "The work order's or purchase order's number."})
    sales_order_number = fields.String()
    sku = fields.String()
    product_name = fields.String()
    quantity = fields.String()
    status = fields.String(metadata={"description": "work order: planned | in_progress | done; purchase: draft | "
                                                    "ordered | received | cancelled | no_supplier"})
    expected_date = fields.Date(allow_none=True)
    late = fields.Boolean(metadata={"description": "Still open and past its expected date."})
    assignee = fields.String(allow_none=True)
    operations = fields.List(fields.Nested(FulfilmentOperationSchema), allow_none=True)
    updated_at = fields.DateTime()


class FulfilmentOrderSchema(Schema):
    id = fields.UUID()
    number = fields.String()
    status = fields.String()
    last_delivery_at = fields.DateTime(allow_none=True)


class DealFulfilmentSchema(Schema):
    deal_id = fields.UUID()
    stage = fields.String(metadata={"description": "not_ordered | planned | waiting_for_materials | in_production | "
                                                   "late | ready | delivered | installing | installed | "
                                                   "installation_problem"})
    summary = fields.String(metadata={"description": "What to tell the customer, in one sentence."})
    late = fields.Boolean()
    orders = fields.List(fields.Nested(FulfilmentOrderSchema))
    work_orders = fields.List(fields.Nested(FulfilmentItemSchema))
    purchases = fields.List(fields.Nested(FulfilmentItemSchema))
    installations = fields.List(fields.Nested(lambda: InstallationSchema()))
    tasks = fields.List(fields.Nested(TaskSchema), metadata={
        "description": "The deal's tasks you may see (stage tasks, estimate requests, installation...), soonest due "
                       "first."})


class InstallationPhotoSchema(Schema):
    id = fields.UUID()
    content_type = fields.String()
    size = fields.Integer()


class InstallationSchema(Schema):
    id = fields.UUID()
    deal_id = fields.UUID()
    party_id = fields.UUID(allow_none=True)
    sales_order_id = fields.UUID()
    sales_order_number = fields.String()
    task_id = fields.UUID(allow_none=True)
    team_id = fields.UUID(allow_none=True)
    status = fields.String(metadata={"description": "open | done | problem"})
    link_active = fields.Boolean(metadata={"description": "A form link is out and usable."})
    link_expires_at = fields.DateTime(allow_none=True)
    result = fields.String(allow_none=True)
    notes = fields.String(allow_none=True)
    signed_by = fields.String(allow_none=True)
    serials = fields.List(fields.String())
    photos = fields.List(fields.Nested(InstallationPhotoSchema))
    submitted_at = fields.DateTime(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class InstallationLinkSchema(Schema):
    url = fields.String(metadata={"description": "Send this to the installer: it opens the form, once."})
    token = fields.String()
    expires_at = fields.DateTime()
    installation = fields.Nested(InstallationSchema)


class InstallationListArgs(Schema):
    deal_id = fields.UUID(required=True)


class InstallationReceivedSchema(Schema):
    status = fields.String(metadata={"description": "recorded"})
