"""What the company endpoint returns."""

from marshmallow import Schema, fields


class CompanyCopySchema(Schema):
    source = fields.String(metadata={"description": "erp (the ERP's settings) or setting (CRM_QUOTE_SELLER, until "
                                                    "the ERP's arrive)."})
    seller_lines = fields.List(fields.String(), metadata={"description": "The seller block quotes print."})
    legal_name = fields.String(allow_none=True)
    vat_id = fields.String(allow_none=True)
    address = fields.Dict(allow_none=True)
    version = fields.Integer(allow_none=True, metadata={"description": "The ERP's version of the settings."})
    erp_updated_at = fields.DateTime(allow_none=True)
    edit_url = fields.String(metadata={"description": "Where an administrator changes them."})
