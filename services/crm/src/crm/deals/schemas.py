"""What the pipeline and deal endpoints accept (strict: unknown fields are refused) and return."""

from decimal import ROUND_HALF_UP, Decimal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from servicekit.pagination import PageArgs, page_schema

from .models import DEAL_STATUSES, STAGE_KINDS

CURRENCY = validate.Regexp(r"^[A-Z]{3}$", error="an ISO 4217 code in capitals, e.g. EUR")
MAX_AMOUNT = Decimal("9999999999999999.99")


def Money(**kwargs):  # noqa: N802 - reads like a field class
    """A decimal amount, at most 2 places after rounding half up, never negative; a string on the way out."""
    return fields.Decimal(places=2, rounding=ROUND_HALF_UP, as_string=True, allow_nan=False,
                          validate=validate.Range(min=0, max=MAX_AMOUNT), **kwargs)


_name = dict(validate=validate.Length(min=1, max=100))
_probability = dict(validate=validate.Range(min=0, max=100),
                    metadata={"description": "Win probability of deals in this stage, 0-100."})


class PipelineStageSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    position = fields.Integer()
    probability = fields.Integer()
    kind = fields.String(metadata={"description": "open, won or lost"})
    deal_count = fields.Integer(metadata={"description": "Deals in this stage, any status, visible or not."})


class PipelineStageCreateSchema(Schema):
    name = fields.String(required=True, **_name)
    probability = fields.Integer(required=True, **_probability)
    position = fields.Integer(validate=validate.Range(min=1), metadata={
        "description": "1 = first; default: after the last open stage."})


class PipelineStageSeedSchema(Schema):
    name = fields.String(required=True, **_name)
    probability = fields.Integer(**_probability)
    kind = fields.String(load_default="open", validate=validate.OneOf(STAGE_KINDS))


class PipelineStageUpdateSchema(Schema):
    name = fields.String(**_name)
    probability = fields.Integer(**_probability)


class PipelineStageOrderSchema(Schema):
    stage_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=50))


class PipelineSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    currency = fields.String()
    active = fields.Boolean()
    is_default = fields.Boolean()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    stages = fields.List(fields.Nested(PipelineStageSchema))


class PipelineCreateSchema(Schema):
    name = fields.String(required=True, **_name)
    currency = fields.String(load_default="EUR", validate=CURRENCY,
                             metadata={"description": "Default currency of its deals."})
    active = fields.Boolean(load_default=True)
    is_default = fields.Boolean(load_default=False)
    stages = fields.List(fields.Nested(PipelineStageSeedSchema), validate=validate.Length(min=3, max=50), metadata={
        "description": "In order; default: Qualification 10, Proposal 40, Negotiation 70, Won 100, Lost 0."})


class PipelineUpdateSchema(Schema):
    name = fields.String(**_name)
    currency = fields.String(validate=CURRENCY)
    active = fields.Boolean()
    is_default = fields.Boolean()


class PipelineListArgs(Schema):
    include_inactive = fields.Boolean(load_default=False)


class _DealFields(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    party_id = fields.UUID(metadata={"description": "The company or person the deal is with (one you can see)."})
    contact_person_id = fields.UUID(allow_none=True, metadata={"description": "A person you can see."})
    amount = Money()
    currency = fields.String(validate=CURRENCY)
    expected_close_date = fields.Date(allow_none=True)


class DealCreateSchema(_DealFields):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    party_id = fields.UUID(required=True)
    pipeline_id = fields.UUID(metadata={"description": "Default: the default pipeline."})
    stage_id = fields.UUID(metadata={"description": "An open stage of the pipeline; default: its first."})
    owner_id = fields.UUID(metadata={"description": "Default: you; someone else needs deals:assign."})


class DealUpdateSchema(_DealFields):
    """Fields to change; the stage changes through /move, /won, /lost and /reopen, the owner through /assign."""


class DealStageRefSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    kind = fields.String()
    probability = fields.Integer()


class DealSchema(_DealFields):
    id = fields.UUID()
    pipeline_id = fields.UUID()
    stage_id = fields.UUID()
    stage = fields.Nested(DealStageRefSchema)
    owner_id = fields.UUID(allow_none=True)
    source_lead_id = fields.UUID(allow_none=True)
    status = fields.String()
    close_reason = fields.String(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    stage_entered_at = fields.DateTime()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


DealPageSchema = page_schema(DealSchema, "DealPage")


class DealListArgs(PageArgs):
    q = fields.String(metadata={"description": "Search in the deal's name (case-insensitive)."})
    pipeline_id = fields.UUID()
    stage_id = fields.UUID()
    status = fields.String(load_default="all", validate=validate.OneOf([*DEAL_STATUSES, "all"]))
    owner_id = fields.UUID()
    party_id = fields.UUID()
    source_lead_id = fields.UUID()
    expected_close_from = fields.Date()
    expected_close_to = fields.Date()


class DealMoveSchema(Schema):
    stage_id = fields.UUID(required=True)
    reason = fields.String(validate=validate.Length(min=1, max=500),
                           metadata={"description": "Required when the stage is the lost stage."})


class DealWonSchema(Schema):
    reason = fields.String(validate=validate.Length(min=1, max=500))


class DealLostSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class DealReopenSchema(Schema):
    stage_id = fields.UUID(metadata={"description": "Default: the open stage the deal was closed from."})


class DealStageChangeSchema(Schema):
    id = fields.UUID()
    from_stage_id = fields.UUID(allow_none=True)
    from_stage_name = fields.String(allow_none=True)
    to_stage_id = fields.UUID(allow_none=True)
    to_stage_name = fields.String()
    changed_at = fields.DateTime()
    seconds_in_previous = fields.Integer(allow_none=True, metadata={"description": "Time spent in from_stage."})
    actor_id = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)


class BoardArgs(Schema):
    owner_id = fields.UUID()
    include_closed = fields.Boolean(load_default=False, metadata={"description": "List won and lost deals too."})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200),
                           metadata={"description": "Deals listed per stage (counts and totals cover all)."})


class PipelineBoardTotalSchema(Schema):
    currency = fields.String()
    count = fields.Integer()
    amount = fields.Decimal(as_string=True)
    weighted_amount = fields.Decimal(as_string=True)


class PipelineBoardStageSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    position = fields.Integer()
    probability = fields.Integer()
    kind = fields.String()
    count = fields.Integer()
    totals = fields.List(fields.Nested(PipelineBoardTotalSchema), metadata={"description": "One entry per currency."})
    deals = fields.List(fields.Nested(DealSchema))


class PipelineBoardSchema(Schema):
    pipeline_id = fields.UUID()
    pipeline_name = fields.String()
    currency = fields.String()
    stages = fields.List(fields.Nested(PipelineBoardStageSchema))


class ForecastArgs(Schema):
    from_ = fields.Date(data_key="from", metadata={"description": "First day (default: the first of this month)."})
    to = fields.Date(metadata={"description": "Last day (default: twelve months after from)."})
    pipeline_id = fields.UUID()
    owner_id = fields.UUID()
    group_by = fields.String(load_default="month", validate=validate.OneOf(["month", "owner"]))
    commit_probability = fields.Integer(load_default=70, validate=validate.Range(min=0, max=100), metadata={
        "description": "Open deals at or above this stage probability count as committed."})

    @validates_schema
    def range_in_order(self, data, **_):
        if data.get("from_") and data.get("to") and data["to"] < data["from_"]:
            raise ValidationError("must not be before from", "to")


class DealForecastRowSchema(Schema):
    period = fields.String(allow_none=True, metadata={"description": "YYYY-MM (group_by=month)."})
    owner_id = fields.UUID(allow_none=True, metadata={"description": "group_by=owner"})
    currency = fields.String()
    open_count = fields.Integer()
    open_amount = fields.Decimal(as_string=True)
    weighted_amount = fields.Decimal(as_string=True, metadata={"description": "amount x probability / 100"})
    committed_amount = fields.Decimal(as_string=True)
    best_case_amount = fields.Decimal(as_string=True)
    won_count = fields.Integer()
    won_amount = fields.Decimal(as_string=True)


class DealForecastTotalSchema(DealForecastRowSchema):
    class Meta:
        exclude = ("period", "owner_id")


class DealForecastSchema(Schema):
    group_by = fields.String()
    from_ = fields.Date(data_key="from")
    to = fields.Date()
    commit_probability = fields.Integer()
    pipeline_id = fields.UUID(allow_none=True)
    rows = fields.List(fields.Nested(DealForecastRowSchema))
    totals = fields.List(fields.Nested(DealForecastTotalSchema), metadata={"description": "One entry per currency."})
