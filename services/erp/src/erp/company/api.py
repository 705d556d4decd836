"""HTTP endpoints of the company's settings: who the seller is on every document."""

from flask import Response
from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_required, required_version
from servicekit.problems import Problem
from servicekit.web import sessions, with_etag

from . import service
from .schemas import CompanySchema, CompanyUpdateSchema

blp = Blueprint("company", __name__, url_prefix="/api/v1",
                description="The company's identity as its documents print it: legal name, address, VAT number, "
                            "registration, logo, bank accounts, payment terms, footer and dunning texts.")


@blp.route("/company")
class Company(MethodView):
    @requires("company:read")
    @blp.response(200, CompanySchema)
    def get(self):
        """The company's settings; `ready` says whether invoices can show what the law asks of a seller."""
        with sessions().begin() as session:
            return with_etag(service.company_view(session))

    @requires("company:update")
    @if_match_required
    @blp.arguments(CompanyUpdateSchema)
    @blp.response(200, CompanySchema)
    def patch(self, changes):
        """Change some settings (administrators). Requires If-Match with the ETag of your last GET."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.update_company(session, expected, changes, current_principal()))


@blp.route("/company/logo")
class CompanyLogo(MethodView):
    @requires("company:read")
    @blp.response(200, content_type="image/png", description="The logo (PNG or JPEG)")
    @blp.alt_response(404, description="No logo is set")
    def get(self):
        """The logo printed at the top of documents."""
        with sessions().begin() as session:
            found = service.logo(session)
        if found is None:
            raise Problem(404, "Not found", "No logo is set: PATCH /api/v1/company with `logo`.", "not-found")
        return Response(found[0], mimetype=found[1])
