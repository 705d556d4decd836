"""The cash position: what the bank accounts and cash boxes hold today, and a simple forecast by week for the next
weeks from what is expected in (cheques not yet cashed by their date, customer invoices by their due date) and out
(approved supplier bills by their due date, our cheques not yet paid by their date). What is overdue counts in the
first week."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..cheques.models import IssuedCheque, ReceivedCheque
from ..cheques.service import OPEN_STATES
from ..invoicing.models import Invoice
from ..invoicing.service import OPEN
from ..payments.models import BankAccount, PaymentAllocation
from ..purchasing.models import SupplierBill
from .accounts import balance_of

ZERO = Decimal("0.00")


def _week_of(day: date, first: date, weeks: int) -> int:
    return min(max((day - first).days // 7, 0), weeks)  # overdue -> week 0; beyond the horizon -> `weeks`


def cash_position(session: Session, currency: str, weeks: int) -> dict:
    today = datetime.now(UTC).date()
    first = today - timedelta(days=today.weekday())  # this week's Monday
    accounts = [{"bank_account_id": a.id, "name": a.name, "kind": a.kind, "balance": balance_of(session, a, today)}
                for a in session.execute(select(BankAccount).where(
                    BankAccount.currency == currency, BankAccount.active.is_(True),
                    BankAccount.kind.in_(("bank", "cash"))).order_by(BankAccount.name)).scalars()]
    cheques = [ZERO] * (weeks + 1)
    receivables = [ZERO] * (weeks + 1)
    payables = [ZERO] * (weeks + 1)
    written = [ZERO] * (weeks + 1)
    for day, amount in session.execute(select(IssuedCheque.due_date, IssuedCheque.amount).where(
            IssuedCheque.currency == currency, IssuedCheque.state.in_(("issued", "presented")))):
        written[_week_of(day, first, weeks)] += amount
    for day, amount in session.execute(select(ReceivedCheque.cheque_date, ReceivedCheque.amount).where(
            ReceivedCheque.currency == currency, ReceivedCheque.state.in_(OPEN_STATES))):
        cheques[_week_of(day, first, weeks)] += amount
    for day, amount in session.execute(select(Invoice.due_date, Invoice.gross_total - Invoice.amount_paid
                                              - Invoice.amount_credited).where(
            Invoice.kind == "invoice", Invoice.status.in_(OPEN), Invoice.currency == currency,
            Invoice.due_date.is_not(None))):
        receivables[_week_of(day, first, weeks)] += amount
    paid = (select(PaymentAllocation.bill_id, func.sum(PaymentAllocation.amount).label("paid"))
            .where(PaymentAllocation.reversed_at.is_(None), PaymentAllocation.bill_id.is_not(None))
            .group_by(PaymentAllocation.bill_id).subquery())
    for day, amount in session.execute(select(SupplierBill.due_date, SupplierBill.total - func.coalesce(paid.c.paid, 0))
                                       .outerjoin(paid, paid.c.bill_id == SupplierBill.id).where(
            SupplierBill.status == "approved", SupplierBill.currency == currency)):
        if amount > 0:
            payables[_week_of(day, first, weeks)] += amount
    running = sum((a["balance"] for a in accounts), ZERO)
    opening, forecast = running, []
    for n in range(weeks):
        net = cheques[n] + receivables[n] - payables[n] - written[n]
        running += net
        forecast.append({"week": n + 1, "starts_on": first + timedelta(weeks=n), "cheques": cheques[n],
                         "receivables": receivables[n], "payables": payables[n], "cheques_issued": written[n],
                         "net": net, "balance": running})
    return {"currency": currency, "as_of": today, "accounts": accounts, "balance": opening, "weeks": forecast,
            "beyond": {"cheques": cheques[weeks], "receivables": receivables[weeks], "payables": payables[weeks],
                       "cheques_issued": written[weeks]}}
