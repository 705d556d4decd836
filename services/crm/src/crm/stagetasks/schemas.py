"""What the stage-task and estimate endpoints accept (strict) and return."""

from marshmallow import Schema, fields, validate

from ..tasks.models import PRIORITIES
from .models import ASSIGNEE_KINDS, ESTIMATE_STATUSES, TEMPLATE_KINDS


class StageTaskTemplateSchema(Schema):
    kind = fields.String(load_default="task", validate=validate.OneOf(TEMPLATE_KINDS), metadata={
        "description": "task, or estimate_request: the addressee answers hours and materials onto the deal."})
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))
    assignee_kind = fields.String(required=True, validate=validate.OneOf(ASSIGNEE_KINDS), metadata={
        "description": "deal_owner, user (assignee_id = a user) or team (assignee_id = a team: its manager)."})
    assignee_id = fields.UUID(load_default=None, allow_none=True)
    due_in_days = fields.Integer(load_default=1, validate=validate.Range(min=0, max=365))
    priority = fields.String(load_default="normal", validate=validate.OneOf(PRIORITIES))


class StageTaskTemplatesSchema(Schema):
    templates = fields.List(fields.Nested(StageTaskTemplateSchema), required=True,
                            validate=validate.Length(max=20))


class MaterialSchema(Schema):
    description = fields.String(required=True, validate=validate.Length(min=1, max=200))
    quantity = fields.Decimal(required=True, as_string=True, places=4,
                              validate=validate.Range(min=0, min_inclusive=False, max=10**9))
    unit = fields.String(load_default="unit", validate=validate.Length(min=1, max=20))


class EstimateSubmitSchema(Schema):
    hours = fields.Decimal(required=True, as_string=True, places=2, validate=validate.Range(min=0, max=100000))
    materials = fields.List(fields.Nested(MaterialSchema), load_default=list, validate=validate.Length(max=100))
    notes = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=5000))


class EstimateSchema(Schema):
    id = fields.UUID()
    deal_id = fields.UUID()
    task_id = fields.UUID()
    requested_from = fields.UUID()
    status = fields.String(metadata={"description": " | ".join(ESTIMATE_STATUSES)})
    hours = fields.Decimal(as_string=True, allow_none=True)
    materials = fields.List(fields.Dict())
    notes = fields.String(allow_none=True)
    submitted_by = fields.UUID(allow_none=True)
    submitted_at = fields.DateTime(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()


class EscalationRunSchema(Schema):
    escalated = fields.List(fields.UUID(), metadata={"description": "The overdue tasks escalated by this run."})
