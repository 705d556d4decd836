"""What the parties API accepts (strict: unknown fields are refused) and returns."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from servicekit import validators
from servicekit.compiled_dump import compile_dump
from servicekit.pagination import PageArgs, page_schema

from ..imports.compiled import compile_schema
from .models import KINDS, ROLES

_text = dict(validate=validate.Length(min=1, max=300))


class EmailSchema(Schema):
    value = fields.Email(required=True)
    label = fields.String(allow_none=True, validate=validate.Length(max=50))
    primary = fields.Boolean(load_default=False)


class PhoneSchema(Schema):
    value = fields.String(required=True, validate=[
        validate.Length(min=3, max=40),
        validate.Regexp(r"^\+?[0-9 ().\-/]+$", error="use digits, spaces and + ( ) . - / only")])
    label = fields.String(allow_none=True, validate=validate.Length(max=50))
    primary = fields.Boolean(load_default=False)


class ContactPoint(fields.Nested):
    """An email or phone: {value, label, primary}, or just the value as a plain string."""

    def _deserialize(self, value, attr, data, partial=None, **kwargs):
        if isinstance(value, str):
            value = {"value": value}
        elif not isinstance(value, dict):
            raise ValidationError("a string such as \"ap@acme.example\", or an object {value, label, primary}")
        return super()._deserialize(value, attr, data, partial=partial, **kwargs)


class AddressSchema(Schema):
    line1 = fields.String(allow_none=True, validate=validate.Length(max=200))
    line2 = fields.String(allow_none=True, validate=validate.Length(max=200))
    city = fields.String(allow_none=True, validate=validate.Length(max=100))
    postal_code = fields.String(allow_none=True, validate=validate.Length(max=20))
    region = fields.String(allow_none=True, validate=validate.Length(max=100))
    country = fields.String(allow_none=True, validate=validators.country)


class _PartyFields(Schema):
    legal_name = fields.String(allow_none=True, **_text, metadata={"description": "A company's registered name."})
    first_name = fields.String(allow_none=True, validate=validate.Length(max=150))
    last_name = fields.String(allow_none=True, validate=validate.Length(max=150))
    company_id = fields.UUID(allow_none=True, metadata={"description": "The company a person works for."})
    job_title = fields.String(allow_none=True, validate=validate.Length(max=150))
    roles = fields.List(fields.String(validate=validate.OneOf(ROLES)), validate=validate.Length(max=4))
    tax_id = fields.String(allow_none=True, validate=validate.Length(max=50))
    emails = fields.List(ContactPoint(EmailSchema), validate=validate.Length(max=20), metadata={
        "description": "Each {value, label, primary}, or just the address: [\"ap@acme.example\"]."})
    phones = fields.List(ContactPoint(PhoneSchema), validate=validate.Length(max=20), metadata={
        "description": "Each {value, label, primary}, or just the number: [\"+33 1 23 45 67 89\"]."})
    website = fields.Url(allow_none=True, validate=validate.Length(max=300))
    billing_address = fields.Nested(AddressSchema, allow_none=True)
    shipping_address = fields.Nested(AddressSchema, allow_none=True)
    owner_id = fields.UUID(allow_none=True, metadata={"description": "The user who owns the record (default: you)."})


class PartyCreateSchema(_PartyFields):
    kind = fields.String(required=True, validate=validate.OneOf(KINDS))

    @validates_schema
    def names_fit_kind(self, data, **_):
        if data["kind"] == "company":
            if not data.get("legal_name"):
                raise ValidationError("a company needs its legal name", "legal_name")
            for f in ("first_name", "last_name", "company_id", "job_title"):
                if data.get(f):
                    raise ValidationError("only people have this field", f)
        else:
            if not data.get("last_name") and not data.get("first_name"):
                raise ValidationError("a person needs a first or last name", "last_name")
            if data.get("legal_name"):
                raise ValidationError("only companies have a legal name", "legal_name")


class PartyUpdateSchema(_PartyFields):
    """Fields to change; absent fields stay as they are. `kind` cannot change."""


class PartySchema(_PartyFields):
    id = fields.UUID()
    kind = fields.String()
    display_name = fields.String()
    status = fields.String()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    archived_at = fields.DateTime(allow_none=True)
    merged_into_id = fields.UUID(allow_none=True, metadata={
        "description": "Set when status is merged: this party was a duplicate of that one; follow it."})
    import_batch_id = fields.UUID(allow_none=True, metadata={"description": "The import that created it."})


class PartyListArgs(PageArgs):
    q = fields.String(metadata={"description": "Search in name, email and tax id (case-insensitive)."})
    kind = fields.String(validate=validate.OneOf(KINDS))
    role = fields.String(validate=validate.OneOf(ROLES))
    status = fields.String(load_default="active", validate=validate.OneOf(["active", "archived", "merged", "all"]),
                           metadata={"description": "active (default), archived, merged (absorbed duplicates) or all."})
    company_id = fields.UUID()
    owner_id = fields.UUID()
    tax_id = fields.String()
    country = fields.String(metadata={"description": "Billing address country (ISO code)."})


PartyPageSchema = page_schema(PartySchema, "PartyPage")


def precompiled(schema: Schema) -> Schema:
    """This schema instance with its load and dump run by functions derived from it once (the import's compiled
    loader, servicekit's compiled dump): the same answers (tests/test_parties_compiled.py checks), without
    marshmallow's per-call machinery. A body the compiled loader is unsure of, or any error, goes through
    marshmallow itself, which names the field. The OpenAPI document still reads the schema."""
    fast_load, schema_load = compile_schema(schema), schema.load
    fast_dump, schema_dump = compile_dump(schema), schema.dump
    # lists of ContactPoint take a plain string for {"value": string}: the compiled loader sees the object form
    shorthand = tuple(name for name, f in schema.load_fields.items() if isinstance(f, fields.List)
                      and isinstance(f.inner, ContactPoint) and f.data_key is None)

    def expanded(data):
        if not isinstance(data, dict):
            return data
        for name in shorthand:
            items = data.get(name)
            if isinstance(items, list) and any(isinstance(item, str) for item in items):
                data = {**data, name: [{"value": item} if isinstance(item, str) else item for item in items]}
        return data

    def load(data, *, many=None, partial=None, unknown=None):
        if many is None and partial is None and unknown is None:
            loaded = fast_load(expanded(data))
            if loaded is not None:
                return loaded
        return schema_load(data, many=many, partial=partial, unknown=unknown)

    def dump(obj, *, many=None):
        return schema_dump(obj, many=many) if many else fast_dump(obj)

    schema.load, schema.dump = load, dump
    return schema


CREATE = precompiled(PartyCreateSchema())
PARTY = precompiled(PartySchema())
