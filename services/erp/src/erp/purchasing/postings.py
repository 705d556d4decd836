"""The journal entries of approved supplier bills (journal PUR), written in the approval's transaction: the pure
lines of a bill and the use case that posts them."""

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..catalog.models import Product
from ..ledger.models import JournalEntry
from ..ledger.posting import ZERO, PostingLine, lines_from_amounts
from ..ledger.service import first_open_date, post_entry
from ..money import cents
from .models import PurchaseOrderLine, SupplierBillLine


@dataclass(frozen=True)
class BilledAmounts:
    """A supplier bill line for posting: its net and tax, and for stocked goods what their receipt put in GRNI."""

    subtotal: Decimal
    tax: Decimal
    received_value: Decimal | None = None  # billed quantity x the order's price: None for expensed lines


def supplier_bill_lines(lines: list[BilledAmounts], total: Decimal, supplier_id: str, due_date: date,
                        description: str | None = None) -> list[PostingLine]:
    """An approved bill: debit GRNI (stocked goods, at the receipt's value) with the price difference to price
    variance, or purchases (expensed lines); debit VAT deductible; credit the supplier's payable for the total.
    A cent of rounding between the lines and the bill's total goes to the rounding accounts."""
    net = {"grni": ZERO, "price_variance": ZERO, "purchases": ZERO, "vat_deductible": ZERO}
    for line in lines:
        if line.received_value is None:
            net["purchases"] += line.subtotal
        else:
            received = cents(line.received_value)
            net["grni"] += received
            net["price_variance"] += line.subtotal - received
        net["vat_deductible"] += line.tax
    difference = total - sum(net.values(), ZERO)
    net["rounding" if difference > 0 else "rounding_gain"] = difference
    net["payable"] = -total
    common = {role: {"description": description} for role in net}
    common["payable"] = {"description": description, "party_id": supplier_id, "due_date": due_date}
    return lines_from_amounts(net, **common)


def post_supplier_bill(session: Session, bill, actor) -> JournalEntry | None:
    """An approved supplier bill in accounts payable: stocked goods clear GRNI at their receipt value (the price
    difference goes to price variance), other lines are expensed as purchases, the tax is deductible VAT, and the
    supplier's payable is credited for the total, due on the bill's due date. A bill dated in a closed period is
    booked on the first open day (its due date is kept)."""
    rows = session.execute(
        select(SupplierBillLine.quantity, SupplierBillLine.subtotal, SupplierBillLine.tax,
               PurchaseOrderLine.unit_price, Product.kind)
        .outerjoin(PurchaseOrderLine, PurchaseOrderLine.id == SupplierBillLine.po_line_id)
        .outerjoin(Product, Product.id == PurchaseOrderLine.product_id)
        .where(SupplierBillLine.bill_id == bill.id).order_by(SupplierBillLine.position)).all()
    billed = [BilledAmounts(r.subtotal, r.tax, Decimal(r.quantity) * r.unit_price if r.kind == "stockable"
                            else None) for r in rows]
    lines = supplier_bill_lines(billed, bill.total, bill.supplier_id, bill.due_date,
                                        f"{bill.number} {bill.supplier_invoice_number}"[:300])
    if not lines:
        return None
    lines = [replace(line, currency=bill.currency) for line in lines]
    return post_entry(session, journal="PUR", entry_date=first_open_date(session, bill.bill_date), lines=lines,
                      reference=f"{bill.number} / {bill.supplier_invoice_number}"[:200], source_type="supplier_bill",
                      source_id=bill.id, actor=actor, memo=bill.decision_reason)
