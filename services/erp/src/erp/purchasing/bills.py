"""Use cases of supplier bills: enter a supplier's invoice against order lines, check it three ways (ordered,
received, billed), approve it (with a reason when it does not match) or reject it."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from servicekit import audit
from servicekit.etag import check_version
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..db import audit_log
from ..money import line_amounts, totals
from ..parties.models import PartyAccount, PartyReplica
from .matching import ALLOWED_FROM, BilledLine, Tolerance, allowed, match_bill
from .models import PurchaseOrder, PurchaseOrderLine, SupplierBill, SupplierBillLine, bill_numbers
from .postings import post_supplier_bill
from .service import settle_order_state, supplier, wrong_state

DEFAULT_PAYMENT_TERMS_DAYS = 30


def post_to_payables(session: Session, bill: SupplierBill) -> None:
    """Book an approved bill in accounts payable (journal PUR): debit goods received not invoiced (stocked goods,
    at their receipt value; the price difference to price variance) or purchases (other lines), debit deductible
    VAT, credit the supplier's payable for the total, due on the bill's due date. Runs inside the approval's
    transaction, so the journal entry and the approval commit together. A bill dated in a closed period is booked
    on the first open day."""
    post_supplier_bill(session, bill, bill.decided_by)


def _dec(d: Decimal | None) -> str | None:
    """Amounts as they are (already in cents)."""
    return None if d is None else format(d, "f")


def _q(d: Decimal | None) -> str | None:
    """Quantities and unit prices with the 4 decimals they are stored with."""
    return None if d is None else format(Decimal(d).quantize(Decimal("0.0001")), "f")


def _lock_orders(session: Session, po_line_ids: list[str]) -> dict[str, PurchaseOrder]:
    """Lock the orders behind these lines (in id order, like receipts do one by one) so bills and receipts on the
    same order run one after the other."""
    if not po_line_ids:
        return {}
    po_ids = select(PurchaseOrderLine.purchase_order_id).where(PurchaseOrderLine.id.in_(po_line_ids))
    orders = session.execute(select(PurchaseOrder).where(PurchaseOrder.id.in_(po_ids))
                             .order_by(PurchaseOrder.id).with_for_update()).scalars()
    return {po.id: po for po in orders}


def _bill_lines(session: Session, bill_id: str) -> list[SupplierBillLine]:
    return list(session.execute(select(SupplierBillLine).where(SupplierBillLine.bill_id == bill_id)
                                .order_by(SupplierBillLine.position)).scalars())


def _billed_before(session: Session, bill: SupplierBill, po_line_id: str) -> Decimal:
    """What earlier bills (not rejected) claim for an order line: they are matched first."""
    return session.execute(
        select(func.coalesce(func.sum(SupplierBillLine.quantity), 0))
        .join(SupplierBill, SupplierBill.id == SupplierBillLine.bill_id)
        .where(SupplierBillLine.po_line_id == po_line_id, SupplierBill.status != "rejected",
               SupplierBill.seq < bill.seq)).scalar_one()


def _match(session: Session, bill: SupplierBill, lines: list[SupplierBillLine], tolerance: Tolerance) -> None:
    """Run the three-way match of the bill against its orders' current receipts and store the result; a billed
    unit price within `tolerance` of the order's matches."""
    facts, context = [], []
    within_bill: dict[str, Decimal] = {}
    for bl in lines:
        if bl.po_line_id is None:
            facts.append(BilledLine(bl.quantity, bl.unit_price))
            context.append((None, None))
            continue
        pol = session.get(PurchaseOrderLine, bl.po_line_id)
        po = session.get(PurchaseOrder, pol.purchase_order_id)
        before = _billed_before(session, bill, pol.id) + within_bill.get(pol.id, Decimal("0"))
        within_bill[pol.id] = within_bill.get(pol.id, Decimal("0")) + bl.quantity
        facts.append(BilledLine(bl.quantity, bl.unit_price, pol.quantity, pol.unit_price, pol.quantity_received,
                                before))
        context.append((pol, po))
    status, results = match_bill(facts, tolerance)
    out = []
    for bl, fact, (pol, po), result in zip(lines, facts, context, results, strict=True):
        out.append({
            "position": bl.position, "bill_line_id": bl.id, "po_line_id": bl.po_line_id,
            "purchase_order_id": po.id if po else None, "purchase_order_number": po.number if po else None,
            "status": result.status,
            "ordered": {"quantity": _q(pol.quantity), "unit_price": _q(pol.unit_price),
                        "amount": _dec(result.ordered_amount)} if pol else None,
            "received": {"quantity": _q(pol.quantity_received), "amount": _dec(result.received_amount)}
            if pol else None,
            "billed": {"quantity": _q(bl.quantity), "unit_price": _q(bl.unit_price),
                       "amount": _dec(result.billed_amount), "previously_billed": _q(fact.previously_billed)},
            "differences": [{"code": d.code, "message": d.message, "expected": _q(d.expected),
                             "actual": _q(d.actual)} for d in result.differences],
        })
    bill.match_status = status
    bill.match = {"status": status, "checked_at": datetime.now(UTC).isoformat(),
                  "tolerance": {"per_unit": str(tolerance.per_unit), "percent": str(tolerance.percent)},
                  "lines": out}


def bill_view(session: Session, bill: SupplierBill, with_lines: bool = True) -> dict:
    view = {c: getattr(bill, c) for c in SupplierBill.__table__.columns.keys() if c != "seq"}
    party = session.get(PartyReplica, bill.supplier_id)
    view["supplier"] = {"id": bill.supplier_id, "display_name": party.display_name if party else None}
    view["allowed_actions"] = ["approve", "reject"] if bill.status == "awaiting_approval" else []
    if with_lines:
        view["lines"] = _bill_lines(session, bill.id)
    else:
        view.pop("match")
    return view


def _audit_state(session: Session, bill: SupplierBill) -> dict:
    state = {k: getattr(bill, k) for k in ("number", "supplier_id", "supplier_invoice_number", "bill_date",
                                           "due_date", "currency", "status", "match_status", "subtotal",
                                           "tax_total", "total", "decision_reason")}
    state["lines"] = [{k: getattr(line, k) for k in ("po_line_id", "description", "quantity", "unit_price",
                                                      "tax_rate")} for line in _bill_lines(session, bill.id)]
    return state


def _check_unique_invoice(session: Session, supplier_id: str, invoice_number: str) -> None:
    taken = session.execute(select(SupplierBill.number).where(
        SupplierBill.supplier_id == supplier_id, SupplierBill.status != "rejected",
        func.lower(SupplierBill.supplier_invoice_number) == invoice_number.lower())).scalar_one_or_none()
    if taken:
        raise _already_entered(invoice_number, f"as {taken}")


def _already_entered(invoice_number: str, how: str) -> Problem:
    return Problem(409, "Invoice already entered", f"This supplier's invoice {invoice_number} is already entered "
                   f"{how}.", "conflict",
                   errors=[{"field": "supplier_invoice_number", "message": f"already entered {how}"}])


def _due_date(session: Session, supplier_id: str, bill_date: date) -> date:
    days = session.execute(select(PartyAccount.payment_terms_days).where(PartyAccount.party_id == supplier_id)
                           ).scalar_one_or_none()
    return bill_date + timedelta(days=DEFAULT_PAYMENT_TERMS_DAYS if days is None else days)


def enter_bill(session: Session, data: dict, actor, tolerance: Tolerance) -> dict:
    """Record a supplier's invoice, claim the billed quantities on its order lines, and match it three ways."""
    party = supplier(session, data["supplier_id"], active=False)  # an archived supplier's last invoice still counts
    invoice_number = data["supplier_invoice_number"].strip()
    _check_unique_invoice(session, party.party_id, invoice_number)
    due_date = data.get("due_date") or _due_date(session, party.party_id, data["bill_date"])
    if due_date < data["bill_date"]:
        raise field_error("due_date", f"cannot be before the bill date {data['bill_date'].isoformat()}")
    po_line_ids = [str(item["po_line_id"]) for item in data["lines"] if item.get("po_line_id")]
    orders = _lock_orders(session, po_line_ids)
    built = []
    for i, item in enumerate(data["lines"]):
        pol = None
        if item.get("po_line_id"):
            pol = session.get(PurchaseOrderLine, str(item["po_line_id"]))
            if pol is None:
                raise field_error(f"lines.{i}.po_line_id", f"no purchase order line with id {item['po_line_id']}")
            po = orders[pol.purchase_order_id]
            if po.supplier_id != party.party_id:
                raise field_error(f"lines.{i}.po_line_id", f"belongs to {po.number}, ordered from another supplier")
            if po.currency != data["currency"]:
                raise field_error("currency", f"the bill is in {data['currency']} but {po.number} is in "
                                  f"{po.currency}")
            if not allowed("bill", po.state):
                raise wrong_state("Purchase order", po.number, po.state, "bill", ALLOWED_FROM["bill"])
        description = (item.get("description") or "").strip() or (pol.description if pol else "")
        if not description:
            raise field_error(f"lines.{i}.description", "required on a line without po_line_id")
        tax_rate = item["tax_rate"] if item.get("tax_rate") is not None else (pol.tax_rate if pol else Decimal("0"))
        amounts = line_amounts(item["quantity"], item["unit_price"], 0, tax_rate)
        built.append(SupplierBillLine(position=i + 1, po_line_id=pol.id if pol else None, description=description,
                                      quantity=item["quantity"], unit_price=item["unit_price"], tax_rate=tax_rate,
                                      subtotal=amounts.net, tax=amounts.tax, total=amounts.gross))
        if pol is not None:
            pol.quantity_billed += item["quantity"]
    seq = session.execute(select(bill_numbers.next_value())).scalar_one()
    doc = totals([line_amounts(b.quantity, b.unit_price, 0, b.tax_rate) for b in built])
    bill = SupplierBill(seq=seq, number=f"BILL-{datetime.now(UTC).year}-{seq:05d}", supplier_id=party.party_id,
                        supplier_invoice_number=invoice_number, bill_date=data["bill_date"], due_date=due_date,
                        currency=data["currency"], status="awaiting_approval", match_status="discrepancy", match={},
                        subtotal=doc.net, tax_total=doc.tax, total=doc.gross,
                        created_by=getattr(actor, "user_id", None), version=1)
    try:
        with session.begin_nested():  # a concurrent entry of the same invoice waits on the unique index
            session.add(bill)
            session.flush()
    except IntegrityError:
        raise _already_entered(invoice_number, "by someone else just now") from None
    for b in built:
        b.bill_id = bill.id
    session.add_all(built)
    session.flush()
    _match(session, bill, built, tolerance)
    session.flush()
    audit.record(session, audit_log, actor, "create", "supplier_bill", bill.id, None, _audit_state(session, bill))
    return bill_view(session, bill)


def _bill(session: Session, bill_id, lock: bool = False) -> SupplierBill:
    stmt = select(SupplierBill).where(SupplierBill.id == str(bill_id))
    bill = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if bill is None:
        raise NotFound("supplier bill", bill_id)
    return bill


def get_bill(session: Session, bill_id) -> dict:
    return bill_view(session, _bill(session, bill_id))


def _decide(session: Session, bill_id, expected_version: int | None, action: str) -> SupplierBill:
    bill = _bill(session, bill_id, lock=True)
    if expected_version is not None:
        check_version(bill.version, expected_version)
    if bill.status != "awaiting_approval":
        raise wrong_state("Supplier bill", bill.number, bill.status, action, ("awaiting_approval",))
    return bill


def approve_bill(session: Session, bill_id, expected_version: int | None, reason: str | None, actor,
                 tolerance: Tolerance) -> dict:
    """Accept the bill for payment. The match is run again first (goods may have arrived since it was entered);
    a bill that still does not match needs a reason. Orders whose lines are now all billed become billed."""
    bill = _decide(session, bill_id, expected_version, "approve")
    lines = _bill_lines(session, bill.id)
    orders = _lock_orders(session, [bl.po_line_id for bl in lines if bl.po_line_id])
    before = _audit_state(session, bill)
    _match(session, bill, lines, tolerance)
    reason = (reason or "").strip() or None
    if bill.match_status == "discrepancy" and not reason:
        codes = sorted({d["code"] for line in bill.match["lines"] for d in line["differences"]})
        raise field_error("reason", f"required: the bill does not match its orders ({', '.join(codes)}); say why "
                          "it is approved anyway")
    bill.status = "approved"
    bill.decision_reason = reason
    bill.decided_by = getattr(actor, "label", None)
    bill.decided_at = datetime.now(UTC)
    bill.version += 1
    bill.updated_at = bill.decided_at
    session.flush()
    post_to_payables(session, bill)
    for po in orders.values():
        settle_order_state(session, po, actor)
    session.flush()
    audit.record(session, audit_log, actor, "approve", "supplier_bill", bill.id, before, _audit_state(session, bill))
    return bill_view(session, bill)


def reject_bill(session: Session, bill_id, expected_version: int | None, reason: str, actor) -> dict:
    """Refuse the bill: its quantities stop counting as billed and its invoice number may be entered again."""
    bill = _decide(session, bill_id, expected_version, "reject")
    lines = _bill_lines(session, bill.id)
    _lock_orders(session, [bl.po_line_id for bl in lines if bl.po_line_id])
    before = _audit_state(session, bill)
    for bl in lines:
        if bl.po_line_id:
            session.get(PurchaseOrderLine, bl.po_line_id).quantity_billed -= bl.quantity
    bill.status = "rejected"
    bill.decision_reason = reason.strip()
    bill.decided_by = getattr(actor, "label", None)
    bill.decided_at = datetime.now(UTC)
    bill.version += 1
    bill.updated_at = bill.decided_at
    session.flush()
    audit.record(session, audit_log, actor, "reject", "supplier_bill", bill.id, before, _audit_state(session, bill))
    return bill_view(session, bill)


SORTABLE = {"number": SupplierBill.seq, "bill_date": SupplierBill.bill_date, "due_date": SupplierBill.due_date,
            "total": SupplierBill.total, "created_at": SupplierBill.created_at}


def list_bills(session: Session, args: dict) -> dict:
    stmt = select(SupplierBill)
    if args.get("supplier_id"):
        stmt = stmt.where(SupplierBill.supplier_id == str(args["supplier_id"]))
    if args.get("status"):
        stmt = stmt.where(SupplierBill.status.in_(args["status"]))
    if args.get("match_status"):
        stmt = stmt.where(SupplierBill.match_status == args["match_status"])
    if args.get("purchase_order_id"):
        on_order = (select(SupplierBillLine.bill_id).join(PurchaseOrderLine,
                                                          PurchaseOrderLine.id == SupplierBillLine.po_line_id)
                    .where(PurchaseOrderLine.purchase_order_id == str(args["purchase_order_id"])))
        stmt = stmt.where(SupplierBill.id.in_(on_order))
    if args.get("date_from"):
        stmt = stmt.where(SupplierBill.bill_date >= args["date_from"])
    if args.get("date_to"):
        stmt = stmt.where(SupplierBill.bill_date <= args["date_to"])
    if args.get("q"):
        q = args["q"].strip().lower()
        stmt = stmt.where(or_(func.lower(SupplierBill.number).contains(q, autoescape=True),
                              func.lower(SupplierBill.supplier_invoice_number).contains(q, autoescape=True)))
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE, [SupplierBill.bill_date.desc(), SupplierBill.seq.desc()])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [bill_view(session, b, with_lines=False) for b in page["items"]]
    return page
