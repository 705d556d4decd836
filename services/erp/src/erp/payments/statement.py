"""A party's current account: its invoices, credit notes, bills and payments between two dates with a running
balance (positive = the party owes us), the opening and closing balances, and its open invoices by age."""

from datetime import UTC, date, datetime
from decimal import Decimal

from servicekit.problems import NotFound
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..invoicing.events import balance_due
from ..invoicing.models import Invoice
from ..invoicing.rules import AGING_BUCKETS, aging_bucket
from ..parties.models import PartyAccount, PartyReplica
from ..purchasing.models import SupplierBill
from .models import Payment

ZERO = Decimal("0.00")


def _movements(session: Session, party_id: str, currency: str) -> list[dict]:
    """Every movement of the party's account, each as {date, type, number, document_id, debit, credit, ...}."""
    out = []
    for inv in session.execute(select(Invoice).where(Invoice.party_id == party_id, Invoice.currency == currency,
                                                     Invoice.status != "draft")).scalars():
        invoice = inv.kind == "invoice"
        out.append({"date": inv.issue_date, "type": inv.kind, "number": inv.number, "document_id": inv.id,
                    "due_date": inv.due_date if invoice else None, "debit": inv.gross_total if invoice else ZERO,
                    "credit": ZERO if invoice else inv.gross_total, "at": inv.issued_at})
    for bill in session.execute(select(SupplierBill).where(SupplierBill.supplier_id == party_id,
                                                           SupplierBill.currency == currency,
                                                           SupplierBill.status == "approved")).scalars():
        out.append({"date": bill.bill_date, "type": "supplier_bill", "number": bill.number, "document_id": bill.id,
                    "due_date": bill.due_date, "debit": ZERO, "credit": bill.total, "at": bill.decided_at})
    for p in session.execute(select(Payment).where(Payment.party_id == party_id,
                                                   Payment.currency == currency)).scalars():
        incoming = p.direction == "in"
        kind = "receipt" if incoming else "payment"
        out.append({"date": p.payment_date, "type": kind, "number": p.number, "document_id": p.id, "due_date": None,
                    "debit": ZERO if incoming else p.amount, "credit": p.amount if incoming else ZERO,
                    "at": p.created_at})
        if p.status == "bounced":
            out.append({"date": p.bounced_at.date(), "type": f"{kind}_bounced", "number": p.number,
                        "document_id": p.id, "due_date": None, "debit": p.amount if incoming else ZERO,
                        "credit": ZERO if incoming else p.amount, "at": p.bounced_at})
    out.sort(key=lambda m: (m["date"], m["at"] or datetime.min.replace(tzinfo=UTC), m["number"] or ""))
    return out


def statement(session: Session, party_id, date_from: date | None, date_to: date | None,
              currency: str | None = None) -> dict:
    party = session.get(PartyReplica, str(party_id))
    if party is None:
        raise NotFound("party", party_id)
    if currency is None:
        account = session.get(PartyAccount, party.party_id)
        currency = account.currency if account else "EUR"
    today = datetime.now(UTC).date()
    date_to = date_to or today
    opening, lines = ZERO, []
    balance = ZERO
    for m in _movements(session, party.party_id, currency):
        if m["date"] > date_to:
            continue
        if date_from and m["date"] < date_from:
            opening += m["debit"] - m["credit"]
            balance = opening
            continue
        balance += m["debit"] - m["credit"]
        lines.append({k: v for k, v in m.items() if k != "at"} | {"balance": balance})
    if not lines:
        balance = opening
    aging = {bucket: ZERO for bucket in AGING_BUCKETS}
    open_items = []
    for inv in session.execute(select(Invoice).where(
            Invoice.party_id == party.party_id, Invoice.kind == "invoice", Invoice.currency == currency,
            Invoice.status.in_(("issued", "partially_paid", "overdue"))).order_by(Invoice.due_date)).scalars():
        bucket = aging_bucket(inv.due_date, date_to)
        aging[bucket] += balance_due(inv)
        open_items.append({"document_id": inv.id, "number": inv.number, "due_date": inv.due_date,
                           "balance_due": balance_due(inv), "bucket": bucket})
    return {"party_id": party.party_id, "display_name": party.display_name, "currency": currency,
            "date_from": date_from, "date_to": date_to, "opening_balance": opening, "closing_balance": balance,
            "lines": lines, "open_invoices": open_items, "aging": aging}
