"""What other modules' documents post, called from inside their transactions: stock moves (journal STK) and
approved supplier bills (journal PUR). The lines themselves come from the pure rules in posting.py."""

from dataclasses import replace
from datetime import UTC
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from . import posting
from .models import JournalEntry
from .service import first_open_date, post_entry


def post_stock_move(session: Session, move, actor, booked: Decimal | None = None) -> JournalEntry | None:
    """The valuation of a stockable product's move: receipt stock/GRNI, delivery COGS/stock, adjustment
    stock/stock variation (either way), at `booked` (the change of the product's value in cents, so the stock
    account never drifts from the valuation) or else the move's value rounded to the cent; nothing for
    transfers or a zero value. One entry per move (purpose "valuation"), dated the move's day (UTC), or the
    first open day when that day is in a closed period: a stock move is never refused by the ledger's lock
    date."""
    incoming = move.from_location_id is None
    lines = posting.stock_move_lines(move.kind, incoming, move.value if booked is None else booked, move.party_id,
                                     f"{move.kind} {move.quantity.normalize():f} x {move.product_id}"[:300])
    if not lines:
        return None
    moved_on = move.done_at.astimezone(UTC).date()
    booked_on = first_open_date(session, moved_on)
    memo = move.reason if booked_on == moved_on else f"moved on {moved_on.isoformat()}, in a closed period"
    return post_entry(session, journal="STK", entry_date=booked_on, lines=lines,
                      reference=(move.reference or f"Stock {move.kind}")[:200], source_type="stock_move",
                      source_id=move.id, actor=actor, memo=memo, purpose="valuation")


def post_supplier_bill(session: Session, bill, actor) -> JournalEntry | None:
    """An approved supplier bill in accounts payable: stocked goods clear GRNI at their receipt value (the price
    difference goes to price variance), other lines are expensed as purchases, the tax is deductible VAT, and the
    supplier's payable is credited for the total, due on the bill's due date. A bill dated in a closed period is
    booked on the first open day (its due date is kept)."""
    from ..catalog.models import Product
    from ..purchasing.models import PurchaseOrderLine, SupplierBillLine

    rows = session.execute(
        select(SupplierBillLine.quantity, SupplierBillLine.subtotal, SupplierBillLine.tax,
               PurchaseOrderLine.unit_price, Product.kind)
        .outerjoin(PurchaseOrderLine, PurchaseOrderLine.id == SupplierBillLine.po_line_id)
        .outerjoin(Product, Product.id == PurchaseOrderLine.product_id)
        .where(SupplierBillLine.bill_id == bill.id).order_by(SupplierBillLine.position)).all()
    billed = [posting.BilledLine(r.subtotal, r.tax, Decimal(r.quantity) * r.unit_price if r.kind == "stockable"
                                 else None) for r in rows]
    lines = posting.supplier_bill_lines(billed, bill.total, bill.supplier_id, bill.due_date,
                                        f"{bill.number} {bill.supplier_invoice_number}"[:300])
    if not lines:
        return None
    lines = [replace(line, currency=bill.currency) for line in lines]
    return post_entry(session, journal="PUR", entry_date=first_open_date(session, bill.bill_date), lines=lines,
                      reference=f"{bill.number} / {bill.supplier_invoice_number}"[:200], source_type="supplier_bill",
                      source_id=bill.id, actor=actor, memo=bill.decision_reason)
