"""What the warranty claim endpoint accepts (strict) and returns."""

from marshmallow import Schema, fields, validate

from .claim_models import CLAIM_STATUSES

AMOUNT = {"as_string": True}


class ClaimPartInSchema(Schema):
    product_id = fields.UUID(required=True, metadata={"description": "A product of the catalog (the part used)."})
    quantity = fields.Decimal(required=True, places=4, validate=validate.Range(min=0.0001, max=100000),
                              metadata={"description": "Units used, > 0."}, **AMOUNT)


class ClaimCreateSchema(Schema):
    entitlement_id = fields.UUID(required=True, metadata={
        "description": "The customer's entitlement for the ticket's product (see GET /tickets/{id}/coverage)."})
    parts = fields.List(fields.Nested(ClaimPartInSchema), load_default=list, validate=validate.Length(max=100))
    labour_hours = fields.Decimal(load_default=None, places=2, validate=validate.Range(min=0, max=10000),
                                  **AMOUNT)
    labour_rate = fields.Decimal(load_default=None, places=2, validate=validate.Range(min=0, max=100000),
                                 metadata={"description": "Per hour, in `currency`."}, **AMOUNT)
    currency = fields.String(load_default="EUR", validate=validate.Regexp(r"^[A-Z]{3}$"))
    faulty_serial = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=100), metadata={
        "description": "Default: the ticket's serial, else the entitlement's."})
    replacement_serial = fields.String(allow_none=True, load_default=None, validate=validate.Length(min=1, max=100),
                                       metadata={"description": "The serial of the unit sent as a replacement."})
    resolution = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=5000))


class ClaimPartSchema(Schema):
    product_id = fields.UUID()
    sku = fields.String(allow_none=True)
    name = fields.String(allow_none=True)
    quantity = fields.String()


class ClaimSchema(Schema):
    id = fields.UUID()
    ticket_id = fields.UUID()
    party_id = fields.UUID()
    product_id = fields.UUID()
    entitlement_id = fields.UUID()
    faulty_serial = fields.String(allow_none=True)
    replacement_serial = fields.String(allow_none=True)
    parts = fields.List(fields.Nested(ClaimPartSchema))
    labour_hours = fields.Decimal(**AMOUNT)
    labour_rate = fields.Decimal(**AMOUNT)
    labour_cost = fields.Decimal(metadata={"description": "labour_hours x labour_rate, in cents."}, **AMOUNT)
    currency = fields.String()
    resolution = fields.String(allow_none=True)
    revision = fields.Integer(metadata={"description": "1, then one more per correction."})
    status = fields.String(metadata={"description": " | ".join(CLAIM_STATUSES) + ": submitted until the ERP "
                                                                                 "answers this revision"})
    status_reason = fields.String(allow_none=True, metadata={"description": "Why the ERP rejected it."})
    answered_revision = fields.Integer(allow_none=True)
    erp_number = fields.String(allow_none=True, metadata={"description": "The ERP's claim number."})
    erp_total_cost = fields.Decimal(allow_none=True, metadata={"description": "What the ERP booked."}, **AMOUNT)
    claimed_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
