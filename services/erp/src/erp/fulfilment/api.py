"""HTTP endpoints of fulfilment: how a product is obtained (bill of materials, routing, supplier), the work orders
made for orders from won deals, and the purchase needs drafted on purchase orders."""

from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_required, required_version
from servicekit.web import sessions, with_etag

from . import supply, work_orders
from .schemas import (
    InstallationRecordListArgs,
    InstallationRecordPageSchema,
    OperationUpdateSchema,
    PurchaseNeedListArgs,
    PurchaseNeedPageSchema,
    SupplyInSchema,
    SupplySchema,
    WorkOrderListArgs,
    WorkOrderPageSchema,
    WorkOrderSchema,
    WorkOrderUpdateSchema,
)

blp = Blueprint("fulfilment", __name__, url_prefix="/api/v1",
                description="From won deal to finished product: products made to order (bill of materials, "
                            "routing) or bought (preferred supplier, price, lead time); work orders for the "
                            "made-to-order lines of accepted orders; purchase needs for what is short, drafted on "
                            "purchase orders that a purchaser sends.")


@blp.route("/products/<uuid:product_id>/supply")
class ProductSupply(MethodView):
    @requires("catalog:read")
    @blp.response(200, SupplySchema)
    def get(self, product_id):
        """How the product is obtained: made to order (components, operations) or bought (supplier, lead time)."""
        with sessions().begin() as session:
            return with_etag(supply.supply_view(session, product_id))

    @requires("catalog:update")
    @blp.arguments(SupplyInSchema)
    @blp.response(200, SupplySchema)
    @blp.alt_response(422, description="Invalid field, e.g. a bill of materials that contains its own product")
    def put(self, data, product_id):
        """Set how the product is obtained, its bill of materials and routing as a whole (a cycle through the
        components is refused with 422)."""
        with sessions().begin() as session:
            return with_etag(supply.set_supply(session, product_id, data, current_principal()))


@blp.route("/work-orders")
class WorkOrders(MethodView):
    @requires("production:read")
    @blp.arguments(WorkOrderListArgs, location="query")
    @blp.response(200, WorkOrderPageSchema)
    def get(self, args):
        """Work orders (filter by deal, sales order, status, assignee; sort: number, expected_date, status,
        created_at). `late` marks those past their expected date."""
        with sessions().begin() as session:
            return work_orders.list_work_orders(session, args)


@blp.route("/work-orders/<uuid:wo_id>")
class WorkOrderById(MethodView):
    @requires("production:read")
    @blp.response(200, WorkOrderSchema)
    def get(self, wo_id):
        """One work order with its operations and materials."""
        with sessions().begin() as session:
            return with_etag(work_orders.get_work_order(session, wo_id))

    @requires("production:update")
    @if_match_required
    @blp.arguments(WorkOrderUpdateSchema)
    @blp.response(200, WorkOrderSchema)
    @blp.alt_response(409, description="A done work order does not change")
    def patch(self, changes, wo_id):
        """Assign the work order or move its expected date. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(work_orders.update_work_order(session, wo_id, expected, changes, current_principal()))


@blp.route("/work-orders/<uuid:wo_id>/operations/<string:position>")
class WorkOrderOperation(MethodView):
    @requires("production:update")
    @if_match_required
    @blp.arguments(OperationUpdateSchema)
    @blp.response(200, WorkOrderSchema)
    @blp.alt_response(409, description="A done work order does not change")
    def patch(self, changes, wo_id, position):
        """Assign an operation or move it on (planned -> in_progress -> done). If-Match is the work order's ETag."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(work_orders.update_operation(session, wo_id, position, expected, changes,
                                                          current_principal()))


@blp.route("/work-orders/<uuid:wo_id>/start")
class WorkOrderStart(MethodView):
    @requires("production:update")
    @if_match_required
    @blp.response(200, WorkOrderSchema)
    @blp.alt_response(409, description="Only a planned work order starts")
    def post(self, wo_id):
        """planned -> in_progress. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(work_orders.start_work_order(session, wo_id, expected, current_principal()))


@blp.route("/work-orders/<uuid:wo_id>/complete")
class WorkOrderComplete(MethodView):
    @requires("production:update")
    @if_match_required
    @blp.response(200, WorkOrderSchema)
    @blp.alt_response(409, description="Not in progress, or a material is not in stock (insufficient-stock)")
    def post(self, wo_id):
        """in_progress -> done: the materials leave stock and the finished goods enter it at their cost. Requires
        If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(work_orders.complete_work_order(session, wo_id, expected, current_principal()))


@blp.route("/purchase-needs")
class PurchaseNeeds(MethodView):
    @requires("purchasing:read")
    @blp.arguments(PurchaseNeedListArgs, location="query")
    @blp.response(200, PurchaseNeedPageSchema)
    def get(self, args):
        """What orders from won deals need bought (filter by deal, sales order, work order, purchase order,
        status): each on a draft purchase order of its preferred supplier until the purchaser sends it."""
        with sessions().begin() as session:
            return work_orders.list_purchase_needs(session, args)


@blp.route("/installation-records")
class InstallationRecords(MethodView):
    @requires("sales:read")
    @blp.arguments(InstallationRecordListArgs, location="query")
    @blp.response(200, InstallationRecordPageSchema)
    def get(self, args):
        """What installers reported in the CRM for sales orders: result, sign-off and the serials installed
        (filter by sales order, deal or serial)."""
        with sessions().begin() as session:
            return work_orders.list_installations(session, args)
