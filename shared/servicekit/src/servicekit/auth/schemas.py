"""What the identity endpoints accept and return."""

from marshmallow import Schema, fields, validate

from ..pagination import PageArgs, page_schema

ROLE_NAME = validate.Regexp(r"^[a-z][a-z0-9_]{1,49}$", error="lowercase letters, digits and _, 2-50 long")


class LoginSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=500))


class UserSchema(Schema):
    id = fields.UUID()
    email = fields.Email()
    name = fields.String()
    is_active = fields.Boolean()
    roles = fields.List(fields.String())
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class MeSchema(UserSchema):
    permissions = fields.List(fields.String())
    token_id = fields.UUID()


class UserCreateSchema(Schema):
    email = fields.Email(required=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    password = fields.String(required=True, load_only=True, validate=validate.Length(max=500))
    roles = fields.List(fields.String(validate=ROLE_NAME), load_default=list)


class UserUpdateSchema(Schema):
    email = fields.Email()
    name = fields.String(validate=validate.Length(min=1, max=200))
    password = fields.String(load_only=True, validate=validate.Length(max=500))
    roles = fields.List(fields.String(validate=ROLE_NAME))
    is_active = fields.Boolean()


class UserListArgs(PageArgs):
    q = fields.String()
    role = fields.String()
    is_active = fields.Boolean(load_default=None)


class TokenSchema(Schema):
    id = fields.UUID()
    kind = fields.String(metadata={"description": "session (from login) or personal (for integrations)"})
    name = fields.String()
    prefix = fields.String(metadata={"description": "The token's first characters, to recognise it."})
    created_at = fields.DateTime()
    expires_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    last_used_at = fields.DateTime(allow_none=True)


class TokenIssuedSchema(TokenSchema):
    token = fields.String(metadata={"description": "Shown once: store it now."})
    token_type = fields.String()
    user = fields.Nested(UserSchema)


class TokenCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True)


class RoleSchema(Schema):
    name = fields.String()
    description = fields.String()
    permissions = fields.List(fields.String())
    builtin = fields.Boolean()


class RoleCreateSchema(Schema):
    name = fields.String(required=True, validate=ROLE_NAME)
    description = fields.String(load_default="", validate=validate.Length(max=300))
    permissions = fields.List(fields.String(), required=True)


class RoleUpdateSchema(Schema):
    description = fields.String(validate=validate.Length(max=300))
    permissions = fields.List(fields.String())


class PermissionsSchema(Schema):
    permissions = fields.List(fields.String())


class AuditArgs(PageArgs):
    entity_type = fields.String()
    entity_id = fields.String()
    actor_id = fields.String()
    action = fields.String()
    since = fields.AwareDateTime()


class AuditEntrySchema(Schema):
    id = fields.UUID()
    at = fields.DateTime()
    actor_id = fields.String(allow_none=True)
    actor = fields.String(allow_none=True)
    token_id = fields.UUID(allow_none=True)
    action = fields.String()
    entity_type = fields.String()
    entity_id = fields.String()
    changes = fields.Dict()


UserPageSchema = page_schema(UserSchema, "UserPage")
AuditPageSchema = page_schema(AuditEntrySchema, "AuditPage")
