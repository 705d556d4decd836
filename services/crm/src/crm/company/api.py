"""The company's identity as the CRM holds it: a read-only copy of the ERP's settings (erp.company.v1)."""

from flask import current_app
from flask.views import MethodView
from servicekit.auth.principal import requires
from servicekit.blueprint import Blueprint
from servicekit.web import sessions

from . import service
from .schemas import CompanyCopySchema

blp = Blueprint("company", __name__, url_prefix="/api/v1",
                description="Who the company is on quotes: the ERP owns it (PATCH /api/v1/company on the ERP); the "
                            "CRM shows the copy it received.")


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
