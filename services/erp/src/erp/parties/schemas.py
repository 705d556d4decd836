"""What the ERP's customer and supplier endpoints accept and return."""

from flask import current_app, request
from marshmallow import Schema, ValidationError, fields, pre_load, validate
from servicekit.pagination import PageArgs, page_schema

from ..fields import CURRENCY
from .models import MASTER_FIELDS


class AccountSchema(Schema):
    payment_terms_days = fields.Integer()
    credit_limit = fields.Decimal(as_string=True, allow_none=True)
    currency = fields.String()
    customer_group = fields.String(allow_none=True)
    version = fields.Integer()


class PartyViewSchema(Schema):
    id = fields.UUID(attribute="party_id")
    kind = fields.String()
    display_name = fields.String()
    legal_name = fields.String(allow_none=True)
    first_name = fields.String(allow_none=True)
    last_name = fields.String(allow_none=True)
    company_id = fields.UUID(allow_none=True)
    job_title = fields.String(allow_none=True)
    roles = fields.List(fields.String())
    tax_id = fields.String(allow_none=True)
    emails = fields.List(fields.Dict())
    phones = fields.List(fields.Dict())
    website = fields.String(allow_none=True)
    billing_address = fields.Dict(allow_none=True)
    shipping_address = fields.Dict(allow_none=True)
    status = fields.String()
    merged_into_id = fields.UUID(allow_none=True, metadata={
        "description": "Set when status is merged: the CRM merged this duplicate into that party; follow it."})
    crm_version = fields.Integer(attribute="sequence", metadata={"description": "The CRM version this copy reflects."})
    crm_updated_at = fields.DateTime()
    replicated_at = fields.DateTime()
    account = fields.Nested(AccountSchema, metadata={"description": "ERP-owned terms (editable here)."})
    master_data = fields.Dict(metadata={"description": "Where the master data is owned and edited."})


class PartyChangeSchema(Schema):
    event_id = fields.UUID()
    event_type = fields.String()
    sequence = fields.Integer()
    actor = fields.String(allow_none=True)
    changed_fields = fields.List(fields.String())
    occurred_at = fields.DateTime()
    received_at = fields.DateTime()


class AccountUpdateSchema(Schema):
    """ERP-owned terms. Master data (names, addresses, tax id, contacts, roles) is refused: the CRM owns it."""

    payment_terms_days = fields.Integer(validate=validate.Range(min=0, max=365))
    credit_limit = fields.Decimal(allow_none=True, places=2, validate=validate.Range(min=0), as_string=True)
    currency = fields.String(validate=CURRENCY)
    customer_group = fields.String(allow_none=True, validate=validate.Length(max=50),
                                   metadata={"description": "Selects the group's price lists."})

    @pre_load
    def refuse_master_data(self, data, **_):
        if isinstance(data, dict):
            owned = sorted(set(data) & set(MASTER_FIELDS))
            if owned:
                crm = current_app.config.get("CRM_PUBLIC_URL", "")
                party_id = (request.view_args or {}).get("party_id", "<id>")
                raise ValidationError({
                    f: [f"master data owned by the CRM: change it there (PATCH {crm}/api/v1/parties/{party_id})"]
                    for f in owned})
        return data


class PartyListArgs(PageArgs):
    q = fields.String(metadata={"description": "Search in name, email and tax id."})
    status = fields.String(load_default="active", validate=validate.OneOf(["active", "archived", "merged", "all"]))
    kind = fields.String(validate=validate.OneOf(["company", "person"]))
    country = fields.String()


PartyPageSchema = page_schema(PartyViewSchema, "ErpPartyPage")
PartyChangeListSchema = page_schema(PartyChangeSchema, "PartyChangePage")
