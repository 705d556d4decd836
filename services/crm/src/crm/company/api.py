"""The company's identity as the CRM holds it: a read-only copy of the ERP's settings (erp.company.v1)."""

from flask import current_app
from flask.views import MethodView
from marshmallow import Schema, fields
from servicekit.auth.principal import requires
from servicekit.blueprint import Blueprint
from servicekit.web import sessions

from . import service

blp = Blueprint("company", __name__, url_prefix="/api/v1",
                description="Who the company is on quotes: the ERP owns it (PATCH /api/v1/company on the ERP); the "
                            "CRM shows the copy it received.")


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


@blp.route("/company")
class Company(MethodView):
    @requires("catalog:read")
    @blp.response(200, CompanyCopySchema)
    def get(self):
        """The seller block quotes print, and where it comes from."""
        fallback = current_app.extensions["crm.quotes"].seller
        erp = current_app.extensions["servicekit.web"].settings.erp_public_url
        with sessions().begin() as session:
            return {**service.company_copy(session, fallback), "edit_url": f"{erp}/api/v1/company"}
