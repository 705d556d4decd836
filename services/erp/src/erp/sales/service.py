"""Use cases of sales orders: accept or reject an order placed in the CRM (or at the counter), reserve its stock,
deliver it (partially or fully) and cancel it. Each takes a session and the acting user, writes the audit trail and
adds the order's whole state to the outbox (erp.order.v1); none commits.

The warehouse an order ships from is the one named on the order, else the one whose code the caller passes (the
ERP_SALES_WAREHOUSE setting), else the active warehouse that can fill the most lines in full from what is available
(the oldest among equals).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

from servicekit import audit
from servicekit.db import row_view
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error
from shared_events.outbox import record_event
from sqlalchemy import delete, func, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from ..catalog.models import Product
from ..catalog.service import price_for
from ..db import audit_log, outbox
from ..money import four_places, line_amounts, money_text, number_text, totals
from ..numbering import take_number
from ..parties.models import PartyAccount, PartyReplica
from ..payments.balances import receivable_balance
from ..stock import service as stock
from ..stock.models import StockLevel, Warehouse
from ..warranty import serials as warranty_serials
from . import events
from .models import (
    SalesDelivery,
    SalesDeliveryLine,
    SalesOrder,
    SalesOrderLine,
    WaitingOrder,
    order_numbers,
)

SOURCE_TYPE = "sales_order"  # what stock reservations and deliveries name as their source
OPEN = ("accepted", "partially_delivered")
ALLOWED_FROM = {"deliver": OPEN, "cancel": OPEN, "invoice": ("partially_delivered", "delivered", "cancelled")}
SHIPPED_KINDS = ("stockable", "consumable")  # services are delivered without a stock move


class Rejection(Exception):
    """Why an order cannot be accepted: a code the CRM can act on, a sentence, and the field at fault."""

    def __init__(self, code: str, message: str, field: str, status: int = 422):
        super().__init__(message)
        self.code, self.message, self.field, self.status = code, message, field, status

    @property
    def reason(self) -> str:
        return f"{self.code}: {self.message}"

    def problem(self) -> Problem:
        """The answer to a counter sale that cannot be accepted: 422 for a bad field, 409 for credit or stock."""
        if self.status == 422:
            return field_error(self.field, self.message)
        return Problem(409, "Order refused", self.message, self.code.replace("_", "-"),
                       errors=[{"field": self.field, "message": self.message}], reason_code=self.code)


@dataclass(frozen=True)
class LineIn:
    line_no: int
    product_id: str
    quantity: Decimal
    unit_price: Decimal | None
    discount_percent: Decimal
    tax_rate: Decimal | None
    description: str | None = None


@dataclass(frozen=True)
class PlacedOrder:
    """An order placed in the CRM, as plain values (sales/handlers.py reads them from crm.order.placed)."""

    crm_order_id: str
    party_id: str
    currency: str
    lines: list[LineIn]
    placed_at: datetime
    placed_by: str | None = None
    quote_id: str | None = None
    quote_number: str | None = None
    deal_id: str | None = None
    requested_date: date | None = None
    customer_reference: str | None = None
    shipping_address: dict | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _next_number(session: Session, sequence, prefix: str) -> str:
    n = session.execute(select(sequence.next_value())).scalar_one()
    return f"{prefix}-{_now().year}-{n:05d}"


def wrong_state(order: SalesOrder, action: str) -> Problem:
    allowed = ALLOWED_FROM[action]
    return Problem(409, "Wrong state", f"Sales order {order.number} is {order.status}; {action} is allowed only "
                   f"when {' or '.join(allowed)}.", "wrong-state", current_state=order.status, action=action,
                   allowed_states=list(allowed))


# -- checks shared by CRM orders and counter sales ------------------------------------------------

def _customer(session: Session, party_id) -> PartyReplica:
    party = session.get(PartyReplica, str(party_id))
    if party is None:
        raise Rejection("unknown_customer", f"no party with id {party_id} in the ERP (customers come from the CRM)",
                        "party_id")
    if party.status != "active":  # archived, or merged into another party
        raise Rejection(f"customer_{party.status}", f"{party.display_name} is {party.status} in the CRM",
                        "party_id")
    return party


def _products(session: Session, lines: list[LineIn]) -> dict[str, Product]:
    found = {}
    for i, line in enumerate(lines):
        product = session.get(Product, str(line.product_id))
        if product is None:
            raise Rejection("unknown_product", f"line {line.line_no}: no product with id {line.product_id}",
                            f"lines.{i}.product_id")
        if not product.active:
            raise Rejection("inactive_product", f"line {line.line_no}: product {product.sku} is no longer sold",
                            f"lines.{i}.product_id")
        found[product.id] = product
    return found


def _check_credit(session: Session, party_id: str, gross: Decimal) -> None:
    """The customer's open receivable plus this order may not pass its credit limit (when one is set)."""
    limit = session.execute(select(PartyAccount.credit_limit).where(PartyAccount.party_id == str(party_id))
                            ).scalar_one_or_none()
    if limit is None:
        return
    open_balance = receivable_balance(session, party_id)
    if open_balance + gross > limit:
        raise Rejection("credit_limit_exceeded", f"open balance {money_text(open_balance)} + this order "
                        f"{money_text(gross)} "
                        f"exceeds the credit limit {money_text(limit)}", "party_id", status=409)


def sales_warehouse(session: Session, warehouse_id=None, wanted: dict[str, Decimal] | None = None,
                    code: str = "") -> Warehouse | None:
    """The warehouse an order ships from (see the module's docstring): the one named, else the one whose code is
    `code`, else the active warehouse that has the most of the wanted lines available in full (the oldest among
    equals)."""
    if warehouse_id:
        return stock.warehouse_for_stock(session, warehouse_id)
    stmt = select(Warehouse).where(Warehouse.active)
    if code:
        return session.execute(stmt.where(func.lower(Warehouse.code) == code.lower())).scalar_one_or_none()
    warehouses = list(session.execute(stmt.order_by(Warehouse.created_at, Warehouse.code)).scalars())
    if not warehouses or not wanted:
        return warehouses[0] if warehouses else None
    covered: dict[str, int] = {}
    for level in session.execute(select(StockLevel).where(StockLevel.product_id.in_(list(wanted)))).scalars():
        if level.on_hand - level.reserved >= wanted[level.product_id]:
            covered[level.warehouse_id] = covered.get(level.warehouse_id, 0) + 1
    return max(warehouses, key=lambda w: covered.get(w.id, 0))  # max keeps the first (oldest) among equals


def _reserve(session: Session, order: SalesOrder, lines: list[SalesOrderLine], actor) -> None:
    """Hold the stockable quantities, one reservation per product, in product-id order (the stock lock order)."""
    wanted: dict[str, Decimal] = {}
    first_index: dict[str, int] = {}
    for i, line in enumerate(lines):
        if line.product_kind == "stockable":
            wanted[line.product_id] = wanted.get(line.product_id, Decimal("0")) + line.quantity
            first_index.setdefault(line.product_id, i)
    for product_id in sorted(wanted):
        try:
            stock.reserve(session, product_id=product_id, warehouse_id=order.warehouse_id,
                          quantity=wanted[product_id], source_type=SOURCE_TYPE, source_id=order.id, actor=actor)
        except Problem as exc:
            if exc.type != "insufficient-stock":
                raise
            raise Rejection("insufficient_stock", exc.detail, f"lines.{first_index[product_id]}.quantity",
                            status=409) from None


def _build(session: Session, order: SalesOrder, lines_in: list[LineIn], products: dict[str, Product]
           ) -> list[SalesOrderLine]:
    lines = []
    for i, li in enumerate(lines_in):
        product = products.get(str(li.product_id))
        unit_price, tax_rate = li.unit_price, li.tax_rate
        if unit_price is None:
            quoted = price_for(session, product.id, order.party_id, li.quantity)
            if quoted["currency"] != order.currency:
                raise field_error(f"lines.{i}.unit_price", f"{product.sku} is priced in {quoted['currency']}, the "
                                  f"order is in {order.currency}: give the unit price")
            unit_price = four_places(quoted["unit_price"])
        if tax_rate is None:
            tax_rate = product.tax_rate if product else Decimal("0")
        amounts = line_amounts(li.quantity, unit_price, li.discount_percent, tax_rate)
        lines.append(SalesOrderLine(
            order_id=order.id, line_no=li.line_no, product_id=str(li.product_id),
            product_kind=product.kind if product else None, sku=product.sku if product else None,
            description=(li.description or "").strip() or (product.name if product else None),
            quantity=li.quantity, unit_price=unit_price, discount_percent=li.discount_percent, tax_rate=tax_rate,
            net=amounts.net, tax=amounts.tax, gross=amounts.gross, delivered_quantity=Decimal("0"),
            invoiced_quantity=Decimal("0")))
    doc = totals([line_amounts(x.quantity, x.unit_price, x.discount_percent, x.tax_rate) for x in lines])
    order.net_total, order.tax_total, order.gross_total = doc.net, doc.tax, doc.gross
    return lines


def _accept(session: Session, order: SalesOrder, lines_in: list[LineIn], actor) -> list[SalesOrderLine]:
    """Check the customer, the products, the credit limit and the stock; reserve; or raise Rejection."""
    _customer(session, order.party_id)
    products = _products(session, lines_in)
    lines = _build(session, order, lines_in, products)
    session.add_all(lines)
    session.flush()
    _check_credit(session, order.party_id, order.gross_total)
    if any(line.product_kind in SHIPPED_KINDS for line in lines):
        if order.warehouse_id is None:
            raise Rejection("no_warehouse", "there is no active warehouse to ship from", "warehouse_id", status=409)
        _reserve(session, order, lines, actor)
    return lines


# -- views, audit, events -------------------------------------------------------------------------

def order_lines(session: Session, order_id: str) -> list[SalesOrderLine]:
    return list(session.execute(select(SalesOrderLine).where(SalesOrderLine.order_id == order_id)
                                .order_by(SalesOrderLine.line_no)).scalars())


def order_view(session: Session, order: SalesOrder, with_lines: bool = True) -> dict:
    view = row_view(order)
    party = session.get(PartyReplica, order.party_id)
    view["customer"] = {"id": order.party_id, "display_name": party.display_name if party else None}
    view["allowed_actions"] = [a for a, states in ALLOWED_FROM.items() if order.status in states]
    if with_lines:
        view["lines"] = [{**row_view(line),
                          "remaining_quantity": line.quantity - line.delivered_quantity,
                          "to_invoice_quantity": line.delivered_quantity - line.invoiced_quantity}
                         for line in order_lines(session, order.id)]
    return view


def _audit_state(order: SalesOrder, lines: list[SalesOrderLine]) -> dict:
    state = {k: getattr(order, k) for k in ("number", "source", "crm_order_id", "party_id", "status", "reason",
                                            "currency", "warehouse_id", "net_total", "tax_total", "gross_total")}
    state["lines"] = [{k: getattr(line, k) for k in ("line_no", "product_id", "quantity", "unit_price",
                                                      "discount_percent", "tax_rate", "delivered_quantity",
                                                      "invoiced_quantity")} for line in lines]
    return state


def publish(session: Session, verb: str, order: SalesOrder, actor) -> None:
    """Add the order's whole state to the outbox as erp.order.<verb>."""
    session.flush()
    record_event(session, outbox, events.order_event(verb, order, order_lines(session, order.id), actor), "order")


def _touch(order: SalesOrder) -> None:
    order.version += 1
    order.updated_at = _now()


def _new_order(session: Session, **values) -> SalesOrder:
    now = _now()
    order = SalesOrder(number=_next_number(session, order_numbers, "SO"), status="accepted", version=1,
                       net_total=Decimal("0"), tax_total=Decimal("0"), gross_total=Decimal("0"),
                       created_at=now, updated_at=now, **values)
    session.add(order)
    session.flush()
    return order


# -- orders placed in the CRM ---------------------------------------------------------------------

def place_crm_order(session: Session, placed: PlacedOrder, actor: str, warehouse_code: str = "") -> SalesOrder:
    """Accept an order placed in the CRM (stock reserved) or reject it with a reason; it ships from the warehouse
    whose code is `warehouse_code` when given. An order the ERP already holds for the same CRM order id is returned
    as it is (a redelivery)."""
    existing = session.execute(select(SalesOrder).where(SalesOrder.crm_order_id == placed.crm_order_id)
                               ).scalar_one_or_none()
    if existing is not None:
        return existing
    lines_in = placed.lines
    wanted: dict[str, Decimal] = {}
    for li in lines_in:
        wanted[str(li.product_id)] = wanted.get(str(li.product_id), Decimal("0")) + li.quantity
    warehouse = sales_warehouse(session, wanted=wanted, code=warehouse_code)
    order = _new_order(
        session, source="crm", crm_order_id=placed.crm_order_id, quote_id=placed.quote_id,
        quote_number=placed.quote_number, deal_id=placed.deal_id, party_id=placed.party_id,
        currency=placed.currency, warehouse_id=warehouse.id if warehouse else None,
        requested_date=placed.requested_date, customer_reference=placed.customer_reference,
        shipping_address=placed.shipping_address, placed_at=placed.placed_at, placed_by=placed.placed_by)
    try:
        with session.begin_nested():
            lines = _accept(session, order, lines_in, actor)
    except Rejection as rejection:
        order.status, order.reason_code, order.reason = "rejected", rejection.code, rejection.reason
        # the lines as the CRM sent them, so the rejected order still says what was asked for
        lines = _build(session, order, [li for li in lines_in], {
            p.id: p for p in session.execute(select(Product).where(
                Product.id.in_([str(li.product_id) for li in lines_in]))).scalars()})
        session.add_all(lines)
    session.flush()
    audit.record(session, audit_log, actor, "accept" if order.status == "accepted" else "reject", "sales_order",
                 order.id, None, _audit_state(order, lines))
    publish(session, order.status, order, actor)
    return order


# -- orders that overtook their customer ----------------------------------------------------------

_PARTY_LOCK = text("SELECT pg_advisory_xact_lock(hashtextextended('erp.party:' || p, 0)) "
                   "FROM unnest(CAST(:ids AS text[])) AS p ORDER BY p")


def lock_parties(session: Session, party_ids) -> None:
    """Serialise, per party, an order checking for its customer against the party's arrival: whichever commits
    first, the other sees it (an order never waits for a party that has already arrived)."""
    if party_ids:
        session.execute(_PARTY_LOCK, {"ids": sorted(str(p) for p in party_ids)})


def customer_known(session: Session, party_id: str) -> bool:
    """Whether the party has reached the replica (locked against its arrival until the transaction ends)."""
    lock_parties(session, [party_id])
    return session.get(PartyReplica, str(party_id)) is not None


def wait_for_customer(session: Session, crm_order_id: str, party_id: str, data: dict, actor: str) -> None:
    """Keep an order whose customer is not in the replica yet; it is placed when the party arrives."""
    kept = session.execute(pg_insert(WaitingOrder).values(
        crm_order_id=crm_order_id, party_id=str(party_id), data=data, actor=actor, waiting_since=_now())
        .on_conflict_do_nothing().returning(WaitingOrder.crm_order_id)).first()
    if kept:
        audit.record(session, audit_log, actor, "wait", "crm_order", crm_order_id, None,
                     {"party_id": str(party_id), "reason": "the customer has not reached the ERP yet"})


def take_waiting_orders(session: Session, party_ids) -> list[WaitingOrder]:
    """The orders that waited for these parties, oldest first, removed from the waiting list (the caller places
    them in the same transaction)."""
    if not party_ids:
        return []
    lock_parties(session, party_ids)
    return list(session.execute(delete(WaitingOrder).where(WaitingOrder.party_id.in_([str(p) for p in party_ids]))
                                .returning(WaitingOrder)).scalars().all())


def list_waiting_orders(session: Session, args: dict) -> dict:
    """Orders placed in the CRM that wait for their customer's party, oldest first (sort: waiting_since)."""
    stmt = apply_sort(select(WaitingOrder), args.get("sort"), {"waiting_since": WaitingOrder.waiting_since},
                      [WaitingOrder.waiting_since, WaitingOrder.crm_order_id])
    if args.get("party_id"):
        stmt = stmt.where(WaitingOrder.party_id == str(args["party_id"]))
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [{"crm_order_id": w.crm_order_id, "party_id": w.party_id, "waiting_since": w.waiting_since,
                      "quote_number": w.data.get("quote_number"), "deal_id": w.data.get("deal_id"),
                      "currency": w.data.get("currency"), "gross_total": w.data.get("gross_total"),
                      "lines": len(w.data.get("lines") or [])} for w in page["items"]]
    return page


# -- counter sales --------------------------------------------------------------------------------

def create_order(session: Session, data: dict, actor, warehouse_code: str = "") -> dict:
    """An order entered in the ERP (a counter sale): accepted with its stock reserved, or refused (422 for a bad
    customer or product, 409 over the credit limit or short of stock) with nothing kept. Without a warehouse_id it
    ships from the warehouse whose code is `warehouse_code`, else the oldest active one."""
    party_account = session.get(PartyAccount, str(data["party_id"]))
    currency = data.get("currency") or (party_account.currency if party_account else "EUR")
    lines_in = [LineIn(line_no=i + 1, product_id=str(x["product_id"]), quantity=four_places(x["quantity"]),
                       unit_price=four_places(x.get("unit_price")),
                       discount_percent=four_places(x.get("discount_percent") or Decimal("0")),
                       tax_rate=four_places(x.get("tax_rate")), description=x.get("description"))
                for i, x in enumerate(data["lines"])]
    try:
        _customer(session, data["party_id"])
        warehouse = sales_warehouse(session, data.get("warehouse_id"), code=warehouse_code)
        order = _new_order(
            session, source="erp", party_id=str(data["party_id"]), currency=currency,
            warehouse_id=warehouse.id if warehouse else None, requested_date=data.get("requested_date"),
            customer_reference=data.get("customer_reference"), shipping_address=data.get("shipping_address"),
            placed_at=_now(), placed_by=getattr(actor, "label", None))
        lines = _accept(session, order, lines_in, actor)
    except Rejection as rejection:
        raise rejection.problem() from None
    session.flush()
    audit.record(session, audit_log, actor, "create", "sales_order", order.id, None, _audit_state(order, lines))
    publish(session, "accepted", order, actor)
    return order_view(session, order)


# -- reading --------------------------------------------------------------------------------------

def get_order_row(session: Session, order_id, lock: bool = False) -> SalesOrder:
    stmt = select(SalesOrder).where(SalesOrder.id == str(order_id))
    order = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if order is None:
        raise NotFound("sales order", order_id)
    return order


def get_order(session: Session, order_id) -> dict:
    return order_view(session, get_order_row(session, order_id))


SORTABLE = {"number": SalesOrder.number, "placed_at": SalesOrder.placed_at, "gross_total": SalesOrder.gross_total,
            "status": SalesOrder.status, "created_at": SalesOrder.created_at}


def list_orders(session: Session, args: dict) -> dict:
    stmt = select(SalesOrder)
    if args.get("party_id"):
        stmt = stmt.where(SalesOrder.party_id == str(args["party_id"]))
    if args.get("status"):
        stmt = stmt.where(SalesOrder.status.in_(args["status"]))
    if args.get("crm_order_id"):
        stmt = stmt.where(SalesOrder.crm_order_id == str(args["crm_order_id"]))
    if args.get("source"):
        stmt = stmt.where(SalesOrder.source == args["source"])
    if args.get("q"):
        stmt = stmt.where(func.lower(SalesOrder.number).contains(args["q"].strip().lower(), autoescape=True))
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE, [SalesOrder.created_at.desc(), SalesOrder.number.desc()])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [order_view(session, o, with_lines=False) for o in page["items"]]
    return page


# -- deliveries and cancellation ------------------------------------------------------------------

def _status_after_delivery(lines: list[SalesOrderLine]) -> str:
    return "delivered" if all(line.delivered_quantity >= line.quantity for line in lines) else "partially_delivered"


def deliver(session: Session, order_id, data: dict, actor) -> dict:
    """Ship all or part of what remains: each goods line leaves the order's warehouse through the stock module
    (consuming the order's reservation); the order becomes partially_delivered or delivered."""
    order = get_order_row(session, order_id, lock=True)
    if order.status not in ALLOWED_FROM["deliver"]:
        raise wrong_state(order, "deliver")
    lines = {line.id: line for line in order_lines(session, order.id)}
    items = data.get("lines")
    if not items:  # everything that remains
        items = [{"line_id": line.id, "quantity": line.quantity - line.delivered_quantity}
                 for line in lines.values() if line.quantity > line.delivered_quantity]
        if any(warranty_serials.is_tracked(session, lines[str(it["line_id"])].product_id) for it in items):
            raise field_error("lines", "a product of this order is shipped by serial number: list the lines "
                              "with their serials")
    items = [{**item, "quantity": four_places(item["quantity"])} for item in items]
    seen: set[str] = set()
    for i, item in enumerate(items):
        line = lines.get(str(item["line_id"]))
        if line is None:
            raise field_error(f"lines.{i}.line_id", f"not a line of {order.number}")
        if line.id in seen:
            raise field_error(f"lines.{i}.line_id", "this order line appears twice in the delivery")
        seen.add(line.id)
        remaining = line.quantity - line.delivered_quantity
        if item["quantity"] > remaining:
            raise field_error(f"lines.{i}.quantity", f"at most {number_text(remaining)} remain to deliver on "
                              f"line {line.line_no} (ordered {number_text(line.quantity)})")
        item["serials"] = warranty_serials.check_shipped(session, f"lines.{i}.serials", line.product_id,
                                                         item["quantity"], item.get("serials"))
    before = _audit_state(order, list(lines.values()))
    delivery = SalesDelivery(number=take_number(session, "#DL", "DL", _now().date()), order_id=order.id,
                             note=data.get("note"), delivered_by=getattr(actor, "label", None) or str(actor),
                             delivered_at=_now())
    session.add(delivery)
    session.flush()
    for item in sorted(items, key=lambda it: (lines[str(it["line_id"])].product_id, str(it["line_id"]))):
        line = lines[str(item["line_id"])]
        product = session.get(Product, line.product_id)
        move = None
        if product is not None and product.kind in SHIPPED_KINDS:
            move = stock.deliver_goods(
                session, product_id=line.product_id, warehouse_id=order.warehouse_id, quantity=item["quantity"],
                reference=f"{order.number} / {delivery.number}", source_type=SOURCE_TYPE, source_id=order.id,
                party_id=order.party_id, actor=actor)
        shipped = SalesDeliveryLine(delivery_id=delivery.id, order_line_id=line.id, product_id=line.product_id,
                                    quantity=item["quantity"], stock_move_id=move.id if move else None)
        session.add(shipped)
        if item["serials"]:
            session.flush()
            warranty_serials.record_shipped(session, line.product_id, order.party_id, shipped.id, line.id,
                                            item["serials"], delivery.delivered_at.date())
        line.delivered_quantity += item["quantity"]
    order.status = _status_after_delivery(list(lines.values()))
    if order.status == "delivered":
        stock.release(session, source_type=SOURCE_TYPE, source_id=order.id, actor=actor)  # what backorders left
    order.last_delivery_at = delivery.delivered_at
    _touch(order)
    session.flush()
    audit.record(session, audit_log, actor, "create", "sales_delivery", delivery.id, None, {
        "number": delivery.number, "order": order.number,
        "lines": [{"line_id": str(it["line_id"]), "quantity": it["quantity"], "serials": it["serials"]}
                  for it in items]})
    audit.record(session, audit_log, actor, "deliver", "sales_order", order.id, before,
                 _audit_state(order, list(lines.values())))
    publish(session, order.status, order, actor)
    return delivery_view(session, delivery)


def delivery_view(session: Session, delivery: SalesDelivery) -> dict:
    lines = session.execute(
        select(SalesDeliveryLine).join(SalesOrderLine, SalesOrderLine.id == SalesDeliveryLine.order_line_id)
        .where(SalesDeliveryLine.delivery_id == delivery.id).order_by(SalesOrderLine.line_no)).scalars().all()
    serials = warranty_serials.serials_of_delivery_lines(session, [line.id for line in lines])
    return {**row_view(delivery), "lines": [{**row_view(line), "serials": serials.get(line.id, [])}
                                            for line in lines]}


def list_deliveries(session: Session, order_id) -> list[dict]:
    order = get_order_row(session, order_id)
    found = session.execute(select(SalesDelivery).where(SalesDelivery.order_id == order.id)
                            .order_by(SalesDelivery.delivered_at, SalesDelivery.number)).scalars()
    return [delivery_view(session, d) for d in found]


def cancel(session: Session, order_id, reason: str | None, actor) -> dict:
    """Cancel what has not been delivered: the order's reservations are released. What was delivered can still
    be invoiced."""
    order = get_order_row(session, order_id, lock=True)
    if order.status not in ALLOWED_FROM["cancel"]:
        raise wrong_state(order, "cancel")
    lines = order_lines(session, order.id)
    before = _audit_state(order, lines)
    stock.release(session, source_type=SOURCE_TYPE, source_id=order.id, actor=actor)
    order.status = "cancelled"
    order.reason = (reason or "").strip() or None
    order.cancelled_at = _now()
    _touch(order)
    session.flush()
    audit.record(session, audit_log, actor, "cancel", "sales_order", order.id, before, _audit_state(order, lines))
    publish(session, "cancelled", order, actor)
    return order_view(session, order)


# -- what invoicing calls -------------------------------------------------------------------------

def note_invoiced(session: Session, order: SalesOrder, actor) -> None:
    """An invoice for this order was issued: a delivered order whose every line is invoiced becomes invoiced;
    the CRM hears erp.order.invoiced either way."""
    lines = order_lines(session, order.id)
    before = order.status
    if order.status == "delivered" and all(line.invoiced_quantity >= line.quantity for line in lines):
        order.status = "invoiced"
    _touch(order)
    session.flush()
    if order.status != before:
        audit.record(session, audit_log, actor, "update", "sales_order", order.id, {"status": before},
                     {"status": order.status})
    publish(session, "invoiced", order, actor)
