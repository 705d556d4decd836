"""HTTP endpoints of purchasing: purchase orders, their goods receipts, supplier bills."""

from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_optional, if_match_required, required_version
from servicekit.web import create_once, idempotent, optional_version, sessions, settings, with_etag

from . import bills, service
from .matching import Tolerance
from .schemas import (
    GoodsReceiptCreateSchema,
    GoodsReceiptSchema,
    PurchaseOrderCancelSchema,
    PurchaseOrderCreateSchema,
    PurchaseOrderListArgs,
    PurchaseOrderPageSchema,
    PurchaseOrderSchema,
    PurchaseOrderUpdateSchema,
    SupplierBillApproveSchema,
    SupplierBillCreateSchema,
    SupplierBillListArgs,
    SupplierBillPageSchema,
    SupplierBillRejectSchema,
    SupplierBillSchema,
)

blp = Blueprint("purchasing", __name__, url_prefix="/api/v1",
                description="Buying from suppliers (CRM parties with the supplier role): purchase orders, goods "
                            "receipts that put stock in, supplier bills checked three ways (ordered, received, "
                            "billed) before approval.")




def _tolerance() -> Tolerance:
    """How far a billed unit price may be from the order's (PURCHASING_PRICE_TOLERANCE[_PERCENT])."""
    config = settings()
    return Tolerance(config.price_tolerance, config.price_tolerance_percent)


# -- purchase orders -----------------------------------------------------------------------------

@blp.route("/purchase-orders")
class PurchaseOrders(MethodView):
    @requires("purchasing:read")
    @blp.arguments(PurchaseOrderListArgs, location="query")
    @blp.response(200, PurchaseOrderPageSchema)
    def get(self, args):
        """Purchase orders (filter by supplier, state, order date; q searches the number; sort: number,
        order_date, expected_date, total, state, created_at)."""
        with sessions().begin() as session:
            return service.list_orders(session, args)

    @requires("purchasing:create")
    @blp.arguments(PurchaseOrderCreateSchema)
    @blp.response(201, PurchaseOrderSchema)
    @blp.alt_response(422, description="Invalid field, e.g. a supplier_id that is not an active supplier")
    @idempotent
    def post(self, data):
        """Create a draft purchase order. Send Idempotency-Key to make retries safe."""
        return create_once("POST /purchase-orders", PurchaseOrderSchema,
                           lambda session, me: service.create_order(session, data, me),
                           lambda v: f"/api/v1/purchase-orders/{v['id']}")


@blp.route("/purchase-orders/<uuid:po_id>")
class PurchaseOrderById(MethodView):
    @requires("purchasing:read")
    @blp.response(200, PurchaseOrderSchema)
    def get(self, po_id):
        """One purchase order with its lines: ordered, received, cancelled, remaining and billed quantities."""
        with sessions().begin() as session:
            return with_etag(service.get_order(session, po_id))

    @requires("purchasing:update")
    @if_match_required
    @blp.arguments(PurchaseOrderUpdateSchema)
    @blp.response(200, PurchaseOrderSchema)
    @blp.alt_response(409, description="The order's state does not allow this change")
    @blp.alt_response(412, description="The order changed since the ETag you sent")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, po_id):
        """Change a draft (lines are replaced as a whole); once sent, only expected_date and notes. Requires
        If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.update_order(session, po_id, expected, changes, current_principal()))


@blp.route("/purchase-orders/<uuid:po_id>/send")
class PurchaseOrderSend(MethodView):
    @requires("purchasing:update")
    @if_match_optional
    @blp.response(200, PurchaseOrderSchema)
    @blp.alt_response(409, description="Only a draft can be sent")
    def post(self, po_id):
        """Send a draft to the supplier; its lines are then fixed. If-Match is checked when sent."""
        with sessions().begin() as session:
            return with_etag(service.send_order(session, po_id, optional_version(), current_principal()))


@blp.route("/purchase-orders/<uuid:po_id>/cancel")
class PurchaseOrderCancel(MethodView):
    @requires("purchasing:update")
    @if_match_optional
    @blp.arguments(PurchaseOrderCancelSchema)
    @blp.response(200, PurchaseOrderSchema)
    @blp.alt_response(409, description="Received, billed or cancelled orders cannot be cancelled")
    def post(self, data, po_id):
        """Cancel a draft or sent order. On a partially received order, cancel the unreceived remainder: the order
        becomes received (and can be billed for what came). If-Match is checked when sent."""
        with sessions().begin() as session:
            return with_etag(service.cancel_order(session, po_id, optional_version(), data.get("reason"),
                                                  current_principal()))


@blp.route("/purchase-orders/<uuid:po_id>/receipts")
class PurchaseOrderReceipts(MethodView):
    @requires("purchasing:read")
    @blp.response(200, GoodsReceiptSchema(many=True))
    def get(self, po_id):
        """The goods received against this order, oldest first."""
        with sessions().begin() as session:
            return service.list_receipts(session, po_id)

    @requires("purchasing:receive")
    @blp.arguments(GoodsReceiptCreateSchema)
    @blp.response(201, GoodsReceiptSchema)
    @blp.alt_response(409, description="The order is not sent or partially received")
    @blp.alt_response(422, description="A quantity above what remains to receive, or a line of another order")
    @idempotent
    def post(self, data, po_id):
        """Receive goods (partially or fully): stockable products enter stock at the order's price. Send
        Idempotency-Key to make retries safe."""
        return create_once(f"POST /purchase-orders/{po_id}/receipts", GoodsReceiptSchema,
                           lambda session, me: service.receive(session, po_id, data, me),
                           lambda v: f"/api/v1/purchase-orders/{po_id}/receipts")


# -- supplier bills ------------------------------------------------------------------------------

@blp.route("/supplier-bills")
class SupplierBills(MethodView):
    @requires("purchasing:read")
    @blp.arguments(SupplierBillListArgs, location="query")
    @blp.response(200, SupplierBillPageSchema)
    def get(self, args):
        """Supplier bills (filter by supplier, status, match status, order, bill date; q searches our number and
        the supplier's; sort: number, bill_date, due_date, total, created_at)."""
        with sessions().begin() as session:
            return bills.list_bills(session, args)

    @requires("purchasing:bill")
    @blp.arguments(SupplierBillCreateSchema)
    @blp.response(201, SupplierBillSchema)
    @blp.alt_response(409, description="The supplier's invoice number is already entered, or an order is a draft")
    @idempotent
    def post(self, data):
        """Enter a supplier's invoice; it is matched three ways against its order lines (the result is in
        `match`) and waits for approval. Send Idempotency-Key to make retries safe."""
        return create_once("POST /supplier-bills", SupplierBillSchema,
                           lambda session, me: bills.enter_bill(session, data, me, _tolerance()),
                           lambda v: f"/api/v1/supplier-bills/{v['id']}")


@blp.route("/supplier-bills/<uuid:bill_id>")
class SupplierBillById(MethodView):
    @requires("purchasing:read")
    @blp.response(200, SupplierBillSchema)
    def get(self, bill_id):
        """One supplier bill with its lines and its three-way match."""
        with sessions().begin() as session:
            return with_etag(bills.get_bill(session, bill_id))


@blp.route("/supplier-bills/<uuid:bill_id>/approve")
class SupplierBillApprove(MethodView):
    @requires("purchasing:bill")
    @if_match_optional
    @blp.arguments(SupplierBillApproveSchema)
    @blp.response(200, SupplierBillSchema)
    @blp.alt_response(409, description="The bill is already approved or rejected")
    @blp.alt_response(422, description="The bill does not match its orders and no reason was given")
    def post(self, data, bill_id):
        """Approve a bill for payment. The match is run again first; a bill that does not match needs a reason.
        If-Match is checked when sent."""
        with sessions().begin() as session:
            return with_etag(bills.approve_bill(session, bill_id, optional_version(), data.get("reason"),
                                                current_principal(), _tolerance()))


@blp.route("/supplier-bills/<uuid:bill_id>/reject")
class SupplierBillReject(MethodView):
    @requires("purchasing:bill")
    @if_match_optional
    @blp.arguments(SupplierBillRejectSchema)
    @blp.response(200, SupplierBillSchema)
    @blp.alt_response(409, description="The bill is already approved or rejected")
    def post(self, data, bill_id):
        """Reject a bill (with a reason): its quantities no longer count as billed. If-Match is checked when
        sent."""
        with sessions().begin() as session:
            return with_etag(bills.reject_bill(session, bill_id, optional_version(), data["reason"],
                                               current_principal()))
