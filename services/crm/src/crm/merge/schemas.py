"""What the duplicate and merge endpoints accept and return."""

from marshmallow import Schema, fields, validate
from servicekit.pagination import PageArgs, page_schema

from ..parties.models import KINDS
from .service import FIELDS, MAX_ABSORBED


class DuplicateArgs(PageArgs):
    kind = fields.String(validate=validate.OneOf(KINDS))
    include_archived = fields.Boolean(load_default=False, metadata={"description": "Archived parties count too."})


class PartyDuplicateArgs(Schema):
    include_archived = fields.Boolean(load_default=False)


class PartyMatchSchema(Schema):
    reason = fields.String(metadata={"description": "email, phone, tax_id or name (a person's: at the same company)"})
    value = fields.String(metadata={"description": "The normalized value they share."})


class DuplicateMatchSchema(PartyMatchSchema):
    party_ids = fields.List(fields.UUID())


class DuplicatePartySchema(Schema):
    id = fields.UUID()
    kind = fields.String()
    display_name = fields.String()
    company_id = fields.UUID(allow_none=True)
    email = fields.String(allow_none=True, metadata={"description": "The first email."})
    phone = fields.String(allow_none=True)
    tax_id = fields.String(allow_none=True)
    status = fields.String()
    owner_id = fields.UUID(allow_none=True)
    version = fields.Integer(metadata={"description": "Send it as If-Match when this party is the survivor."})
    created_at = fields.DateTime()


class DuplicateGroupSchema(Schema):
    score = fields.Integer(metadata={"description": "0-100: how sure the weakest link of the group is."})
    reasons = fields.List(fields.String())
    matches = fields.List(fields.Nested(DuplicateMatchSchema))
    suggested_survivor_id = fields.UUID(metadata={"description": "The most complete party (the oldest on a tie)."})
    parties = fields.List(fields.Nested(DuplicatePartySchema), metadata={"description": "Oldest first."})


DuplicateGroupPageSchema = page_schema(DuplicateGroupSchema, "DuplicateGroupPage")


class PartyDuplicateSchema(DuplicatePartySchema):
    score = fields.Integer()
    reasons = fields.List(fields.String())
    matches = fields.List(fields.Nested(PartyMatchSchema))


class MergeSchema(Schema):
    party_ids = fields.List(fields.UUID(), required=True, validate=validate.Length(min=1, max=MAX_ABSORBED),
                            metadata={"description": "The duplicates this party absorbs (same kind)."})
    field_choices = fields.Dict(keys=fields.String(validate=validate.OneOf(FIELDS)), values=fields.UUID(),
                                load_default=dict, metadata={
                                    "description": "Field -> the party (survivor or absorbed) to take its value "
                                                   "from. Other fields: the survivor's, or where it has none the "
                                                   "first absorbed party's that has one. Roles, emails and phones "
                                                   "are always united."})
