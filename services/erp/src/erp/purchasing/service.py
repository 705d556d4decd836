"""Use cases of purchase orders and goods receipts: each takes a session and the acting user, changes the
order, writes the audit trail, and (for stockable goods received) asks the stock module for a stock move.

Supplier bills and their three-way match are in bills.py.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

from servicekit import audit
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..catalog.models import Product
from ..db import audit_log
from ..fulfilment.publishing import follow_purchase_order
from ..money import line_amounts, totals
from ..parties.models import PartyReplica
from ..stock.models import Location, Warehouse
from ..stock.service import receive_goods
from .matching import ALLOWED_FROM, LineProgress, allowed, state_after_progress
from .models import (
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
    SupplierBill,
    SupplierBillLine,
    po_numbers,
    receipt_numbers,
)

PURCHASABLE_KINDS = ("stockable", "consumable")
# What may still change once the order went to the supplier; everything else is settled by sending it.
EDITABLE_AFTER_DRAFT = ("expected_date", "notes")


# -- shared checks -------------------------------------------------------------------------------

def supplier(session: Session, supplier_id, field: str = "supplier_id", active: bool = True) -> PartyReplica:
    """The CRM party behind supplier_id, which must hold the supplier role (and be active for new orders)."""
    party = session.get(PartyReplica, str(supplier_id))
    if party is None:
        raise field_error(field, f"no party with id {supplier_id} (suppliers are created in the CRM)")
    if "supplier" not in (party.roles or []):
        raise field_error(field, f"{party.display_name} is not a supplier: give the party the supplier role "
                          "in the CRM first")
    if active and party.status != "active":
        raise field_error(field, f"{party.display_name} is {party.status} in the CRM: no new orders")
    return party


def wrong_state(what: str, number: str, state: str, action: str, allowed_from) -> Problem:
    """409 saying the current state and the states the action is allowed from."""
    return Problem(409, "Wrong state", f"{what} {number} is {state}; {action} is allowed only when "
                   f"{' or '.join(allowed_from)}.", "wrong-state", current_state=state, action=action,
                   allowed_states=list(allowed_from))


def _require(po: PurchaseOrder, action: str) -> None:
    if not allowed(action, po.state):
        raise wrong_state("Purchase order", po.number, po.state, action, ALLOWED_FROM[action])


def _next_number(session: Session, sequence, prefix: str) -> tuple[int, str]:
    n = session.execute(select(sequence.next_value())).scalar_one()
    return n, f"{prefix}-{datetime.now(UTC).year}-{n:05d}"


def _fmt(d: Decimal) -> str:
    text = format(d.normalize(), "f")
    return text if "." not in text else text.rstrip("0").rstrip(".")


# -- purchase orders -----------------------------------------------------------------------------

def _order(session: Session, po_id, lock: bool = False) -> PurchaseOrder:
    stmt = select(PurchaseOrder).where(PurchaseOrder.id == str(po_id))
    po = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if po is None:
        raise NotFound("purchase order", po_id)
    return po


def order_lines(session: Session, po_id: str) -> list[PurchaseOrderLine]:
    return list(session.execute(select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == po_id)
                                .order_by(PurchaseOrderLine.position)).scalars())


def _warehouse(session: Session, warehouse_id) -> str:
    wh = session.get(Warehouse, str(warehouse_id))
    if wh is None:
        raise field_error("warehouse_id", f"no warehouse with id {warehouse_id}")
    if not wh.active:
        raise field_error("warehouse_id", f"warehouse {wh.code} is inactive")
    return wh.id


def _product(session: Session, product_id, field: str) -> Product:
    p = session.get(Product, str(product_id))
    if p is None:
        raise field_error(field, f"no product with id {product_id}")
    if not p.active:
        raise field_error(field, f"product {p.sku} is inactive")
    if p.kind not in PURCHASABLE_KINDS:
        raise field_error(field, f"product {p.sku} is a {p.kind}: only stockable or consumable products are "
                          "bought with purchase orders")
    return p


def _replace_lines(session: Session, po: PurchaseOrder, lines: list[dict]) -> None:
    """Build the order's lines (prices default to the product's cost and tax rate) and its totals."""
    built = []
    for i, data in enumerate(lines):
        product = _product(session, data["product_id"], f"lines.{i}.product_id")
        if product.kind == "stockable" and product.currency != po.currency:
            # the receipt values stock at the order's price, and there are no exchange rates yet
            raise field_error(f"lines.{i}.product_id", f"stock of {product.sku} is valued in {product.currency}: "
                              f"buy it in {product.currency}, not {po.currency}")
        unit_price = data.get("unit_price")
        if unit_price is None:
            if product.currency != po.currency:
                raise field_error(f"lines.{i}.unit_price", f"required: the cost of {product.sku} is in "
                                  f"{product.currency}, the order in {po.currency}")
            unit_price = product.cost
        tax_rate = data["tax_rate"] if data.get("tax_rate") is not None else product.tax_rate
        amounts = line_amounts(data["quantity"], unit_price, 0, tax_rate)
        built.append(PurchaseOrderLine(
            purchase_order_id=po.id, position=i + 1, product_id=product.id,
            description=(data.get("description") or "").strip() or product.name, quantity=data["quantity"],
            unit_price=unit_price, tax_rate=tax_rate, subtotal=amounts.net, tax=amounts.tax,
            total=amounts.gross, quantity_received=Decimal("0"), quantity_cancelled=Decimal("0"),
            quantity_billed=Decimal("0")))
    for old in order_lines(session, po.id):
        session.delete(old)
    session.flush()
    session.add_all(built)
    doc = totals([line_amounts(b.quantity, b.unit_price, 0, b.tax_rate) for b in built])
    po.subtotal, po.tax_total, po.total = doc.net, doc.tax, doc.gross


def _check_dates(order_date: date, expected_date: date | None) -> None:
    if expected_date is not None and expected_date < order_date:
        raise field_error("expected_date", f"cannot be before the order date {order_date.isoformat()}")


def order_view(session: Session, po: PurchaseOrder, with_lines: bool = True) -> dict:
    view = row_view(po)
    party = session.get(PartyReplica, po.supplier_id)
    view["supplier"] = {"id": po.supplier_id, "display_name": party.display_name if party else None}
    view["allowed_actions"] = [a for a, states in ALLOWED_FROM.items() if po.state in states]
    if with_lines:
        lines = order_lines(session, po.id)
        approved = approved_billed(session, [line.id for line in lines])
        view["lines"] = [{**row_view(line),
                          "quantity_remaining": line.quantity - line.quantity_received - line.quantity_cancelled,
                          "quantity_billed_approved": approved.get(line.id, Decimal("0.0000"))}
                         for line in lines]
    return view


def _audit_state(session: Session, po: PurchaseOrder) -> dict:
    state = {k: getattr(po, k) for k in ("number", "supplier_id", "currency", "order_date", "expected_date",
                                         "warehouse_id", "state", "notes", "subtotal", "tax_total", "total",
                                         "cancel_reason")}
    state["lines"] = [{k: getattr(line, k) for k in ("product_id", "description", "quantity", "unit_price", "tax_rate",
                                                      "quantity_received", "quantity_cancelled", "quantity_billed")}
                      for line in order_lines(session, po.id)]
    return state


def _touch(po: PurchaseOrder) -> None:
    po.version += 1
    po.updated_at = datetime.now(UTC)


def create_order(session: Session, data: dict, actor) -> dict:
    """A draft purchase order for an active supplier of the replica, numbered PO-<year>-<n>."""
    party = supplier(session, data["supplier_id"])
    warehouse_id = _warehouse(session, data["warehouse_id"])
    order_date = data.get("order_date") or datetime.now(UTC).date()
    _check_dates(order_date, data.get("expected_date"))
    _, number = _next_number(session, po_numbers, "PO")
    po = PurchaseOrder(number=number, supplier_id=party.party_id, currency=data.get("currency") or "EUR",
                       order_date=order_date, expected_date=data.get("expected_date"), warehouse_id=warehouse_id,
                       state="draft", notes=data.get("notes"), created_by=getattr(actor, "user_id", None), version=1)
    session.add(po)
    session.flush()
    _replace_lines(session, po, data["lines"])
    session.flush()
    audit.record(session, audit_log, actor, "create", "purchase_order", po.id, None, _audit_state(session, po))
    return order_view(session, po)


def get_order(session: Session, po_id) -> dict:
    return order_view(session, _order(session, po_id))


def update_order(session: Session, po_id, expected_version: int, changes: dict, actor) -> dict:
    """Change a draft freely; once sent, only the expected date and the notes (until everything arrived)."""
    po = _order(session, po_id, lock=True)
    check_version(po.version, expected_version)
    if not changes:
        return order_view(session, po)
    settled = sorted(set(changes) - set(EDITABLE_AFTER_DRAFT))
    if settled and not allowed("edit_lines", po.state):
        raise wrong_state("Purchase order", po.number, po.state, f"changing {', '.join(settled)}",
                          ALLOWED_FROM["edit_lines"])
    if not allowed("edit", po.state):
        raise wrong_state("Purchase order", po.number, po.state, f"changing {', '.join(sorted(changes))}",
                          ALLOWED_FROM["edit"])
    before = _audit_state(session, po)
    if "supplier_id" in changes:
        po.supplier_id = supplier(session, changes["supplier_id"]).party_id
    if "warehouse_id" in changes:
        po.warehouse_id = _warehouse(session, changes["warehouse_id"])
    for k in ("currency", "order_date", "expected_date", "notes"):
        if k in changes:
            setattr(po, k, changes[k])
    _check_dates(po.order_date, po.expected_date)
    if "lines" in changes:
        _replace_lines(session, po, changes["lines"])
    elif "currency" in changes:  # the same lines, checked again against the new currency
        _replace_lines(session, po, [{"product_id": line.product_id, "description": line.description,
                                      "quantity": line.quantity, "unit_price": line.unit_price,
                                      "tax_rate": line.tax_rate} for line in order_lines(session, po.id)])
    _touch(po)
    session.flush()
    follow_purchase_order(session, po, actor)
    audit.record(session, audit_log, actor, "update", "purchase_order", po.id, before, _audit_state(session, po))
    return order_view(session, po)


def send_order(session: Session, po_id, expected_version: int | None, actor) -> dict:
    """The order goes to the supplier: its lines and prices are now a commitment."""
    po = _order(session, po_id, lock=True)
    if expected_version is not None:
        check_version(po.version, expected_version)
    _require(po, "send")
    before = _audit_state(session, po)
    po.state = "sent"
    po.sent_at = datetime.now(UTC)
    _touch(po)
    session.flush()
    follow_purchase_order(session, po, actor)
    audit.record(session, audit_log, actor, "send", "purchase_order", po.id, before, _audit_state(session, po))
    return order_view(session, po)


def cancel_order(session: Session, po_id, expected_version: int | None, reason: str | None, actor) -> dict:
    """Cancel a draft or sent order; on a partially received one, cancel what has not arrived (the order is then
    received, and can be billed for what came)."""
    po = _order(session, po_id, lock=True)
    if expected_version is not None:
        check_version(po.version, expected_version)
    _require(po, "cancel")
    before = _audit_state(session, po)
    lines = order_lines(session, po.id)
    for line in lines:
        line.quantity_cancelled = line.quantity - line.quantity_received
    if po.state == "partially_received":
        po.state = state_after_progress(po.state, _progress(session, lines))
    else:
        po.state = "cancelled"
    po.cancel_reason = reason
    po.cancelled_at = datetime.now(UTC)
    _touch(po)
    session.flush()
    follow_purchase_order(session, po, actor)
    audit.record(session, audit_log, actor, "cancel", "purchase_order", po.id, before, _audit_state(session, po))
    return order_view(session, po)


def approved_billed(session: Session, line_ids: list[str]) -> dict[str, Decimal]:
    """Per order line, the quantity on approved supplier bills."""
    if not line_ids:
        return {}
    rows = session.execute(
        select(SupplierBillLine.po_line_id, func.sum(SupplierBillLine.quantity))
        .join(SupplierBill, SupplierBill.id == SupplierBillLine.bill_id)
        .where(SupplierBillLine.po_line_id.in_(line_ids), SupplierBill.status == "approved")
        .group_by(SupplierBillLine.po_line_id)).all()
    return {line_id: qty for line_id, qty in rows}


def _progress(session: Session, lines: list[PurchaseOrderLine]) -> list[LineProgress]:
    billed = approved_billed(session, [line.id for line in lines])
    return [LineProgress(line.quantity, line.quantity_received, line.quantity_cancelled,
                         billed.get(line.id, Decimal("0"))) for line in lines]


def settle_order_state(session: Session, po: PurchaseOrder, actor) -> None:
    """After receipts or approved bills: move the order to the state its lines now call for."""
    new_state = state_after_progress(po.state, _progress(session, order_lines(session, po.id)))
    if new_state != po.state:
        before = {"state": po.state}
        po.state = new_state
        _touch(po)
        audit.record(session, audit_log, actor, "update", "purchase_order", po.id, before, {"state": new_state})


SORTABLE = {"number": PurchaseOrder.number, "order_date": PurchaseOrder.order_date,
            "expected_date": PurchaseOrder.expected_date, "total": PurchaseOrder.total,
            "state": PurchaseOrder.state, "created_at": PurchaseOrder.created_at}


def list_orders(session: Session, args: dict) -> dict:
    stmt = select(PurchaseOrder)
    if args.get("supplier_id"):
        stmt = stmt.where(PurchaseOrder.supplier_id == str(args["supplier_id"]))
    if args.get("state"):
        stmt = stmt.where(PurchaseOrder.state.in_(args["state"]))
    if args.get("date_from"):
        stmt = stmt.where(PurchaseOrder.order_date >= args["date_from"])
    if args.get("date_to"):
        stmt = stmt.where(PurchaseOrder.order_date <= args["date_to"])
    if args.get("q"):
        stmt = stmt.where(func.lower(PurchaseOrder.number).contains(args["q"].strip().lower(), autoescape=True))
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE, [PurchaseOrder.order_date.desc(),
                                                          PurchaseOrder.number.desc()])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [order_view(session, po, with_lines=False) for po in page["items"]]
    return page


# -- goods receipts ------------------------------------------------------------------------------

def _location(session: Session, location_id, warehouse_id: str, field: str) -> str:
    loc = session.get(Location, str(location_id))
    if loc is None or loc.warehouse_id != warehouse_id:
        raise field_error(field, f"no location with id {location_id} in the order's warehouse")
    if not loc.active:
        raise field_error(field, f"location {loc.path} is inactive")
    return loc.id


def receive(session: Session, po_id, data: dict, actor) -> dict:
    """Record goods that arrived against an order; stockable ones enter stock at the order's price."""
    po = _order(session, po_id, lock=True)
    _require(po, "receive")
    lines = {line.id: line for line in order_lines(session, po.id)}
    seen: set[str] = set()
    for i, item in enumerate(data["lines"]):
        line = lines.get(str(item["po_line_id"]))
        if line is None:
            raise field_error(f"lines.{i}.po_line_id", f"not a line of {po.number}")
        if line.id in seen:
            raise field_error(f"lines.{i}.po_line_id", "this order line appears twice in the receipt")
        seen.add(line.id)
        remaining = line.quantity - line.quantity_received - line.quantity_cancelled
        if item["quantity"] > remaining:
            raise field_error(f"lines.{i}.quantity", f"at most {_fmt(remaining)} remain to receive on this line "
                              f"(ordered {_fmt(line.quantity)}, received {_fmt(line.quantity_received)}"
                              + (f", cancelled {_fmt(line.quantity_cancelled)})" if line.quantity_cancelled else ")"))
        if item.get("location_id"):
            _location(session, item["location_id"], po.warehouse_id, f"lines.{i}.location_id")
    before = _audit_state(session, po)
    _, number = _next_number(session, receipt_numbers, "GR")
    receipt = GoodsReceipt(number=number, purchase_order_id=po.id, note=data.get("note"),
                           received_by=getattr(actor, "label", None))
    session.add(receipt)
    session.flush()
    # the stock module locks each product's stock: take them in a stable order so receipts cannot deadlock
    for item in sorted(data["lines"], key=lambda it: (lines[str(it["po_line_id"])].product_id, str(it["po_line_id"]))):
        line = lines[str(item["po_line_id"])]
        rl = GoodsReceiptLine(receipt_id=receipt.id, po_line_id=line.id, product_id=line.product_id,
                              quantity=item["quantity"], unit_cost=line.unit_price,
                              location_id=str(item["location_id"]) if item.get("location_id") else None)
        session.add(rl)
        session.flush()
        if session.get(Product, line.product_id).kind == "stockable":  # consumables are expensed, not stocked
            move = receive_goods(
                session, product_id=line.product_id, warehouse_id=po.warehouse_id, quantity=item["quantity"],
                unit_cost=line.unit_price, reference=f"{po.number} / {receipt.number}",
                source_type="purchase_receipt", source_id=rl.id, party_id=po.supplier_id, actor=actor,
                location_id=rl.location_id)
            rl.stock_move_id, rl.location_id = str(move.id), move.to_location_id  # where the goods went
        line.quantity_received += item["quantity"]
    session.flush()
    po.state = state_after_progress(po.state, _progress(session, list(lines.values())))
    _touch(po)
    session.flush()
    follow_purchase_order(session, po, actor)
    view = receipt_view(session, receipt)
    audit.record(session, audit_log, actor, "create", "goods_receipt", receipt.id, None, {
        "number": receipt.number, "purchase_order": po.number, "note": receipt.note,
        "lines": [{k: rl[k] for k in ("po_line_id", "product_id", "quantity", "unit_cost", "location_id",
                                      "stock_move_id")} for rl in view["lines"]]})
    audit.record(session, audit_log, actor, "receive", "purchase_order", po.id, before, _audit_state(session, po))
    return view


def receipt_view(session: Session, receipt: GoodsReceipt) -> dict:
    lines = session.execute(
        select(GoodsReceiptLine).join(PurchaseOrderLine, PurchaseOrderLine.id == GoodsReceiptLine.po_line_id)
        .where(GoodsReceiptLine.receipt_id == receipt.id).order_by(PurchaseOrderLine.position)).scalars()
    return {**row_view(receipt), "lines": [row_view(line) for line in lines]}


def list_receipts(session: Session, po_id) -> list[dict]:
    po = _order(session, po_id)
    receipts = session.execute(select(GoodsReceipt).where(GoodsReceipt.purchase_order_id == po.id)
                               .order_by(GoodsReceipt.received_at, GoodsReceipt.number)).scalars()
    return [receipt_view(session, r) for r in receipts]
