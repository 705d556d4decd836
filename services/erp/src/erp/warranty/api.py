"""HTTP endpoints of warranties: product terms, the entitlements invoices created, claims and reports."""

from datetime import date

from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_required, required_version
from servicekit.web import sessions, with_etag

from . import claims, reports, service
from .schemas import (
    ClaimListArgs,
    ClaimPageSchema,
    ClaimSchema,
    CostReportArgs,
    CostReportSchema,
    EntitlementClaimsSchema,
    EntitlementListArgs,
    EntitlementPageSchema,
    EntitlementSchema,
    OpenEntitlementsArgs,
    OpenEntitlementsSchema,
    PeriodArgs,
    SettingsSchema,
    SettingsSetSchema,
    TermsSchema,
    TermsSetSchema,
)

blp = Blueprint("warranty", __name__, url_prefix="/api/v1/warranty",
                description="Warranty terms of products, and the entitlements issued invoices create (terms copied "
                            "at the sale; shortened or voided by credit notes), published on erp.warranty.v1.")


@blp.route("/terms/<uuid:product_id>")
class Terms(MethodView):
    @requires("catalog:read")
    @blp.response(200, TermsSchema)
    def get(self, product_id):
        """A product's warranty terms (without explicit terms: its warranty_months, parts and labour; version 0).
        Its ETag is what If-Match needs."""
        with sessions().begin() as session:
            return with_etag(service.get_terms(session, product_id))

    @requires("catalog:update")
    @if_match_required
    @blp.arguments(TermsSetSchema)
    @blp.response(200, TermsSchema)
    @blp.alt_response(412, description="The terms changed since the ETag you sent")
    @blp.alt_response(428, description="If-Match is missing")
    def put(self, data, product_id):
        """Set a product's terms as a whole; invoices issued from now on copy them, earlier ones keep theirs.
        Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.set_terms(session, product_id, expected, data, current_principal()))


@blp.route("/settings")
class Settings(MethodView):
    @requires("company:read")
    @blp.response(200, SettingsSchema)
    def get(self):
        """The company's warranty policy (a replaced unit keeps or renews its term). Its ETag is what If-Match
        needs."""
        with sessions().begin() as session:
            return with_etag(service.get_settings(session))

    @requires("company:update")
    @if_match_required
    @blp.arguments(SettingsSetSchema)
    @blp.response(200, SettingsSchema)
    @blp.alt_response(412, description="The settings changed since the ETag you sent")
    @blp.alt_response(428, description="If-Match is missing")
    def put(self, data):
        """Set the replacement policy: keep the remaining term or renew it. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.set_settings(session, expected, data, current_principal()))


@blp.route("/entitlements")
class Entitlements(MethodView):
    @requires("invoices:read")
    @blp.arguments(EntitlementListArgs, location="query")
    @blp.response(200, EntitlementPageSchema)
    def get(self, args):
        """Entitlements (filter by customer, product, status, active_on, ending_before); soonest end first."""
        with sessions().begin() as session:
            return service.list_entitlements(session, args)


@blp.route("/entitlements/<uuid:entitlement_id>")
class EntitlementById(MethodView):
    @requires("invoices:read")
    @blp.response(200, EntitlementSchema)
    def get(self, entitlement_id):
        """One entitlement with the terms it was sold with."""
        with sessions().begin() as session:
            return service.get_entitlement(session, entitlement_id)


@blp.route("/claims")
class Claims(MethodView):
    @requires("invoices:read")
    @blp.arguments(ClaimListArgs, location="query")
    @blp.response(200, ClaimPageSchema)
    def get(self, args):
        """Warranty claims of CRM tickets as the ERP booked them (accepted) or refused them (rejected, with the
        reason), newest first."""
        with sessions().begin() as session:
            return claims.list_claims(session, args)


@blp.route("/claims/<uuid:claim_id>")
class ClaimById(MethodView):
    @requires("invoices:read")
    @blp.response(200, ClaimSchema)
    def get(self, claim_id):
        """One warranty claim: parts issued, labour, cost, the supplier's share."""
        with sessions().begin() as session:
            return claims.get_claim(session, claim_id)


@blp.route("/reports/costs")
class CostReport(MethodView):
    @requires("ledger:report")
    @blp.arguments(CostReportArgs, location="query")
    @blp.response(200, CostReportSchema)
    def get(self, args):
        """Warranty cost of accepted claims by product, customer, supplier or month (claim dates date_from to
        date_to): claims, parts, labour, total, the suppliers' share and the net cost, with totals."""
        with sessions().begin() as session:
            return reports.cost_report(session, args)


@blp.route("/reports/claims-per-entitlement")
class ClaimsPerEntitlement(MethodView):
    @requires("ledger:report")
    @blp.arguments(PeriodArgs, location="query")
    @blp.response(200, EntitlementClaimsSchema)
    def get(self, args):
        """Each entitlement with accepted claims in the period: how many and what they cost, most claimed first."""
        with sessions().begin() as session:
            return reports.claims_per_entitlement(session, args)


@blp.route("/reports/open-entitlements")
class OpenEntitlements(MethodView):
    @requires("ledger:report")
    @blp.arguments(OpenEntitlementsArgs, location="query")
    @blp.response(200, OpenEntitlementsSchema)
    def get(self, args):
        """Entitlements in force on a day (default today) and when each expires, soonest first."""
        with sessions().begin() as session:
            return reports.open_entitlements(session, args, date.today())
