"""What a party owes, computed from its documents: invoices and credit notes, receipts, supplier bills and
payments (positive = the party owes us, negative = we owe the party or hold its credit)."""

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..invoicing.models import Invoice
from ..purchasing.models import SupplierBill
from .models import Payment

ZERO = Decimal("0.00")


def receivable_balance(session: Session, party_id: str, currency: str | None = None) -> Decimal:
    """Issued invoices less credit notes less receipts (bounced ones excluded): the customer's open balance."""
    docs = select(Invoice.kind, func.coalesce(func.sum(Invoice.gross_total), 0)).where(
        Invoice.party_id == str(party_id), Invoice.status != "draft").group_by(Invoice.kind)
    receipts = select(func.coalesce(func.sum(Payment.amount), 0)).where(
        Payment.party_id == str(party_id), Payment.direction == "in", Payment.status == "posted")
    if currency:
        docs = docs.where(Invoice.currency == currency)
        receipts = receipts.where(Payment.currency == currency)
    by_kind = dict(session.execute(docs).all())
    return (Decimal(by_kind.get("invoice", 0)) - Decimal(by_kind.get("credit_note", 0))
            - Decimal(session.execute(receipts).scalar_one())).quantize(ZERO)


def payable_balance(session: Session, party_id: str, currency: str | None = None) -> Decimal:
    """Approved supplier bills less supplier payments: what we owe the supplier."""
    bills = select(func.coalesce(func.sum(SupplierBill.total), 0)).where(
        SupplierBill.supplier_id == str(party_id), SupplierBill.status == "approved")
    paid = select(func.coalesce(func.sum(Payment.amount), 0)).where(
        Payment.party_id == str(party_id), Payment.direction == "out", Payment.status == "posted")
    if currency:
        bills = bills.where(SupplierBill.currency == currency)
        paid = paid.where(Payment.currency == currency)
    return (Decimal(session.execute(bills).scalar_one()) - Decimal(session.execute(paid).scalar_one())).quantize(ZERO)


def party_balance(session: Session, party_id: str, currency: str | None = None) -> Decimal:
    """What the party owes us net of what we owe it (negative = credit on the party's side)."""
    return receivable_balance(session, party_id, currency) - payable_balance(session, party_id, currency)
