"""What the team and sharing endpoints accept and return."""

from marshmallow import Schema, fields, validate


class TeamMemberSchema(Schema):
    user_id = fields.UUID()
    email = fields.String()
    name = fields.String()
    role = fields.String()


class TeamSchema(Schema):
    id = fields.UUID()
    name = fields.String()
    created_at = fields.DateTime()
    members = fields.List(fields.Nested(TeamMemberSchema))


class TeamCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class MemberSetSchema(Schema):
    user_id = fields.UUID(required=True)
    role = fields.String(load_default="member", validate=validate.OneOf(["member", "manager"]))


class ShareSchema(Schema):
    id = fields.UUID()
    user_id = fields.UUID(allow_none=True)
    team_id = fields.UUID(allow_none=True)
    grantee = fields.String(allow_none=True)
    access = fields.String()
    granted_by = fields.UUID(allow_none=True)
    created_at = fields.DateTime()


class ShareCreateSchema(Schema):
    user_id = fields.UUID(load_default=None)
    team_id = fields.UUID(load_default=None)
    access = fields.String(load_default="read", validate=validate.OneOf(["read", "write"]))


class AssignSchema(Schema):
    owner_id = fields.UUID(required=True)
