"""What the activity and activity-type endpoints accept (strict: unknown fields are refused) and return."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from servicekit.pagination import PageArgs, page_schema
from webargs.fields import DelimitedList

from .models import DIRECTIONS

_KEY = validate.Regexp(r"^[a-z][a-z0-9_]{1,39}$", error="2-40 lower-case letters, digits or _, starting with a letter")
_COLOR = validate.Regexp(r"^#[0-9a-fA-F]{6}$", error="a colour as #RRGGBB")


# -- activity types ------------------------------------------------------------------------------

class ActivityTypeSchema(Schema):
    key = fields.String()
    label = fields.String()
    icon = fields.String(allow_none=True)
    color = fields.String(allow_none=True)
    has_direction = fields.Boolean(metadata={"description": "Activities of this type say inbound or outbound."})
    builtin = fields.Boolean()
    active = fields.Boolean()
    position = fields.Integer()
    version = fields.Integer()


class _TypeFields(Schema):
    label = fields.String(validate=validate.Length(min=1, max=100))
    icon = fields.String(allow_none=True, validate=validate.Length(max=50))
    color = fields.String(allow_none=True, validate=_COLOR)
    position = fields.Integer(validate=validate.Range(min=0, max=10000))


class ActivityTypeCreateSchema(_TypeFields):
    key = fields.String(required=True, validate=_KEY, metadata={"description": "Stable identifier, e.g. site_visit."})
    label = fields.String(required=True, validate=validate.Length(min=1, max=100))
    has_direction = fields.Boolean(load_default=False)


class ActivityTypeUpdateSchema(_TypeFields):
    active = fields.Boolean(metadata={"description": "Inactive types stay on old activities but take no new ones."})


class ActivityTypeListArgs(Schema):
    include_inactive = fields.Boolean(load_default=False)


# -- activities ----------------------------------------------------------------------------------

class _ActivityFields(Schema):
    type = fields.String(validate=validate.Length(min=1, max=40),
                         metadata={"description": "An activity type key: call, email, sms, messenger, meeting, "
                                                  "note, or one your managers added (GET /api/v1/activity-types)."})
    subject = fields.String(validate=validate.Length(min=1, max=300))
    body = fields.String(allow_none=True, validate=validate.Length(max=100_000))
    direction = fields.String(allow_none=True, validate=validate.OneOf(DIRECTIONS),
                              metadata={"description": "For calls, emails and messages."})
    occurred_at = fields.AwareDateTime(metadata={"description": "When it happened (default now); a meeting's start."})
    ends_at = fields.AwareDateTime(allow_none=True, metadata={"description": "A meeting's end."})
    duration_minutes = fields.Integer(allow_none=True, validate=validate.Range(min=0, max=100_000),
                                      metadata={"description": "Default: from occurred_at to ends_at."})
    outcome = fields.String(allow_none=True, validate=validate.Length(max=200),
                            metadata={"description": "E.g. reached, voicemail, no answer, agreed next step."})
    party_id = fields.UUID(allow_none=True, metadata={"description": "The company or person it was with."})
    deal_id = fields.UUID(allow_none=True)
    lead_id = fields.UUID(allow_none=True)
    participants = fields.List(fields.UUID(), validate=validate.Length(max=50),
                               metadata={"description": "Users who took part; they see the activity too."})

    @validates_schema
    def ends_after_start(self, data, **_):
        if data.get("ends_at") and data.get("occurred_at") and data["ends_at"] < data["occurred_at"]:
            raise ValidationError("must not be before occurred_at", "ends_at")


class ActivityCreateSchema(_ActivityFields):
    type = fields.String(required=True, validate=validate.Length(min=1, max=40))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=300))
    owner_id = fields.UUID(allow_none=True, metadata={"description": "Whose activity it is (default: you; someone "
                                                                     "else needs activities:assign)."})

    @validates_schema
    def is_linked(self, data, **_):
        if not (data.get("party_id") or data.get("deal_id") or data.get("lead_id")):
            raise ValidationError("link the activity to a party, a deal or a lead", "party_id")


class ActivityUpdateSchema(_ActivityFields):
    """Fields to change; absent fields stay as they are. The owner changes through /assign."""


class ActivitySchema(_ActivityFields):
    id = fields.UUID()
    type_label = fields.String(allow_none=True)
    party_name = fields.String(allow_none=True)
    owner_id = fields.UUID()
    created_by = fields.UUID(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ActivityListArgs(PageArgs):
    q = fields.String(metadata={"description": "Search in subject and body (case-insensitive)."})
    party_id = fields.UUID()
    deal_id = fields.UUID()
    lead_id = fields.UUID()
    type = DelimitedList(fields.String(), metadata={"description": "Activity type keys, comma-separated."})
    owner_id = fields.UUID()
    participant_id = fields.UUID(metadata={"description": "Activities this user took part in."})
    direction = fields.String(validate=validate.OneOf(DIRECTIONS))
    since = fields.AwareDateTime(metadata={"description": "Occurred at or after."})
    until = fields.AwareDateTime(metadata={"description": "Occurred before."})


ActivityPageSchema = page_schema(ActivitySchema, "ActivityPage")
