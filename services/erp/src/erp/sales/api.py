"""HTTP endpoints of sales orders: list and read, counter sales, deliveries, cancellation."""

from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.web import create_once, idempotent, sessions, settings, with_etag

from . import service
from .schemas import (
    SalesDeliveryCreateSchema,
    SalesDeliverySchema,
    SalesOrderCancelSchema,
    SalesOrderCreateSchema,
    SalesOrderListArgs,
    SalesOrderPageSchema,
    SalesOrderSchema,
    WaitingOrderListArgs,
    WaitingOrderPageSchema,
)

blp = Blueprint("sales", __name__, url_prefix="/api/v1",
                description="Sales orders: placed in the CRM (crm.order.placed) and accepted or rejected here, or "
                            "entered at the counter; stock reserved on acceptance, delivered in one go or in parts.")


@blp.route("/sales-orders")
class SalesOrders(MethodView):
    @requires("sales:read")
    @blp.arguments(SalesOrderListArgs, location="query")
    @blp.response(200, SalesOrderPageSchema)
    def get(self, args):
        """Sales orders (filter by customer, status, source, CRM order; q searches the number; sort: number,
        placed_at, gross_total, status, created_at)."""
        with sessions().begin() as session:
            return service.list_orders(session, args)

    @requires("sales:create")
    @blp.arguments(SalesOrderCreateSchema)
    @blp.response(201, SalesOrderSchema)
    @blp.alt_response(409, description="Over the customer's credit limit, or not enough stock (backorders off)")
    @blp.alt_response(422, description="Invalid field, e.g. an unknown or archived customer, an inactive product")
    @idempotent
    def post(self, data):
        """Enter an order at the counter: accepted with its stock reserved, or refused. Send Idempotency-Key to
        make retries safe."""
        return create_once("POST /sales-orders", SalesOrderSchema,
                           lambda session, me: service.create_order(session, data, me, settings().sales_warehouse),
                           lambda v: f"/api/v1/sales-orders/{v['id']}")


@blp.route("/sales-orders/waiting")
class WaitingOrders(MethodView):
    @requires("sales:read")
    @blp.arguments(WaitingOrderListArgs, location="query")
    @blp.response(200, WaitingOrderPageSchema)
    def get(self, args):
        """Orders placed in the CRM whose customer has not reached the ERP yet (the party and the order travel on
        different topics). Each is accepted or rejected as soon as its party arrives."""
        with sessions().begin() as session:
            return service.list_waiting_orders(session, args)


@blp.route("/sales-orders/<uuid:order_id>")
class SalesOrderById(MethodView):
    @requires("sales:read")
    @blp.response(200, SalesOrderSchema)
    def get(self, order_id):
        """One sales order with its lines: ordered, delivered and invoiced quantities."""
        with sessions().begin() as session:
            return with_etag(service.get_order(session, order_id))


@blp.route("/sales-orders/<uuid:order_id>/deliveries")
class SalesOrderDeliveries(MethodView):
    @requires("sales:read")
    @blp.response(200, SalesDeliverySchema(many=True))
    def get(self, order_id):
        """The deliveries of this order, oldest first."""
        with sessions().begin() as session:
            return service.list_deliveries(session, order_id)

    @requires("sales:deliver")
    @blp.arguments(SalesDeliveryCreateSchema)
    @blp.response(201, SalesDeliverySchema)
    @blp.alt_response(409, description="The order is not open for delivery, or the stock is short")
    @blp.alt_response(422, description="A quantity above what remains, or a line of another order")
    @idempotent
    def post(self, data, order_id):
        """Deliver lines of the order (partially or fully; no lines = everything that remains). Goods leave the
        order's warehouse, consuming its reservation. Send Idempotency-Key to make retries safe."""
        return create_once(f"POST /sales-orders/{order_id}/deliveries", SalesDeliverySchema,
                           lambda session, me: service.deliver(session, order_id, data, me),
                           lambda v: f"/api/v1/sales-orders/{order_id}/deliveries")


@blp.route("/sales-orders/<uuid:order_id>/cancel")
class SalesOrderCancel(MethodView):
    @requires("sales:cancel")
    @blp.arguments(SalesOrderCancelSchema)
    @blp.response(200, SalesOrderSchema)
    @blp.alt_response(409, description="Only an accepted or partially delivered order can be cancelled")
    def post(self, data, order_id):
        """Cancel what has not been delivered; the order's stock reservations are released."""
        with sessions().begin() as session:
            return with_etag(service.cancel(session, order_id, data.get("reason"), current_principal()))
