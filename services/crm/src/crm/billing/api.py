"""HTTP views of what the ERP reported: a customer's billing, a deal's orders, overdue customers."""

from flask.views import MethodView
from servicekit import pagination
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.pagination import PageArgs
from servicekit.web import sessions

from . import service
from .schemas import OrderViewSchema, OverdueCustomerPageSchema, PartyBillingSchema

blp = Blueprint("billing", __name__, url_prefix="/api/v1",
                description="Orders, invoices and payments as the ERP reports them (read-only; the ERP owns them).")


@blp.route("/parties/<uuid:party_id>/billing")
class PartyBilling(MethodView):
    @requires("parties:read")
    @blp.response(200, PartyBillingSchema)
    def get(self, party_id):
        """The customer's open invoices and balance, recent orders, payments and last delivery."""
        with sessions().begin() as session:
            return service.party_billing(session, party_id, current_principal())


@blp.route("/deals/<uuid:deal_id>/orders")
class DealOrders(MethodView):
    @requires("deals:read")
    @blp.response(200, OrderViewSchema(many=True))
    def get(self, deal_id):
        """The ERP orders that came from this deal, with their status."""
        with sessions().begin() as session:
            return service.deal_orders(session, deal_id, current_principal())


@blp.route("/billing/overdue-customers")
class OverdueCustomers(MethodView):
    @requires("parties:read")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, OverdueCustomerPageSchema)
    def get(self, args):
        """Customers you can see with invoices past due (collections), most overdue first."""
        with sessions().begin() as session:
            pagination.fixed_order(args, "most overdue first")
            return service.overdue_customers(session, current_principal(), args["page"], args["page_size"])
