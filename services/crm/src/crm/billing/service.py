"""What sales and support see of the ERP's documents: a customer's orders, open invoices and balance, a deal's
orders, and the customers with overdue invoices. Read-only; visibility follows the party's."""

from datetime import UTC, datetime
from decimal import Decimal

from servicekit.auth.principal import Principal
from servicekit.db import row_view
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..access.visibility import visible
from ..deals.service import find_deal
from ..parties.models import Party
from ..parties.service import find_party
from .models import CreditReplica, InvoiceReplica, OrderReplica, PaymentReplica

OPEN = ("issued", "partially_paid", "overdue")


def _rows(session: Session, stmt) -> list[dict]:
    return [row_view(r) for r in session.execute(stmt).scalars()]


def party_billing(session: Session, party_id: str, actor: Principal) -> dict:
    """A customer's orders, open invoices, balance per currency and last delivery, as the ERP last reported."""
    party = find_party(session, party_id, actor)
    orders = _rows(session, select(OrderReplica).where(OrderReplica.party_id == party.id)
                   .order_by(OrderReplica.erp_updated_at.desc()).limit(50))
    # invoices with something left to pay; credit notes with credit not yet applied
    open_invoices = _rows(session, select(InvoiceReplica).where(
        InvoiceReplica.party_id == party.id, InvoiceReplica.kind == "invoice", InvoiceReplica.status.in_(OPEN),
        InvoiceReplica.balance_due > 0).order_by(InvoiceReplica.due_date))
    open_credits = _rows(session, select(InvoiceReplica).where(
        InvoiceReplica.party_id == party.id, InvoiceReplica.kind == "credit_note", InvoiceReplica.balance_due < 0)
        .order_by(InvoiceReplica.issue_date))
    balances = session.execute(
        select(InvoiceReplica.currency, func.sum(InvoiceReplica.balance_due))
        .where(InvoiceReplica.party_id == party.id, InvoiceReplica.status.in_(OPEN), InvoiceReplica.balance_due != 0)
        .group_by(InvoiceReplica.currency).order_by(InvoiceReplica.currency)).all()
    payments = _rows(session, select(PaymentReplica).where(PaymentReplica.party_id == party.id)
                     .order_by(PaymentReplica.payment_date.desc()).limit(20))
    last_delivery = session.execute(select(func.max(OrderReplica.last_delivery_at))
                                    .where(OrderReplica.party_id == party.id)).scalar()
    today = datetime.now(UTC).date()
    return {
        "party_id": party.id,
        "balance": [{"currency": c, "amount": a or Decimal("0")} for c, a in balances],
        "overdue_count": sum(1 for i in open_invoices if i["due_date"] and i["due_date"] < today),
        "open_invoices": open_invoices,
        "open_credits": open_credits,
        "orders": orders,
        "recent_payments": payments,
        "last_delivery_at": last_delivery,
        "credit": _credit(session, party.id),
    }


def _credit(session: Session, party_id: str) -> dict | None:
    row = session.get(CreditReplica, party_id)
    if row is None:
        return None
    return {k: getattr(row, k) for k in ("currency", "credit_limit", "open_balance", "overdue_amount",
                                          "available_credit", "cheques_bounced", "bounced_total",
                                          "last_bounced_at", "erp_updated_at")}


def credit_warnings(session: Session, party_id: str, currency: str, amount: Decimal) -> list[str]:
    """What the ERP's credit position says about selling `amount` more to the customer: overdue invoices, and a
    credit limit this would pass (the ERP would then reject the order)."""
    row = session.get(CreditReplica, party_id)
    if row is None:
        return []
    warnings = []
    if row.overdue_amount > 0:
        warnings.append(f"credit: the customer has {row.overdue_amount:,.2f} {row.currency} overdue")
    if row.cheques_bounced:
        warnings.append(f"credit: {row.cheques_bounced} of the customer's cheques bounced "
                        f"({row.bounced_total:,.2f} {row.currency}), last on {row.last_bounced_at:%Y-%m-%d}")
    if row.credit_limit is not None and row.currency == currency and row.open_balance + amount > row.credit_limit:
        warnings.append(f"credit: open balance {row.open_balance:,.2f} + this quote {amount:,.2f} exceeds the "
                        f"credit limit {row.credit_limit:,.2f} {row.currency}: the ERP would reject the order")
    return warnings


def deal_orders(session: Session, deal_id: str, actor: Principal) -> list[dict]:
    deal = find_deal(session, deal_id, actor)
    return _rows(session, select(OrderReplica).where(OrderReplica.deal_id == deal.id)
                 .order_by(OrderReplica.erp_updated_at.desc()))


def overdue_customers(session: Session, actor: Principal, page: int, page_size: int) -> dict:
    """Customers the caller may see with invoices past due, most overdue first."""
    today = datetime.now(UTC).date()
    overdue = (InvoiceReplica.status.in_(OPEN)) & (InvoiceReplica.due_date < today)
    stmt = (select(Party.id, Party.display_name, Party.owner_id, InvoiceReplica.currency,
                   func.sum(InvoiceReplica.balance_due).label("overdue_amount"),
                   func.count().label("invoices"), func.min(InvoiceReplica.due_date).label("oldest_due_date"))
            .join(InvoiceReplica, InvoiceReplica.party_id == Party.id)
            .where(overdue, visible("parties", "party", Party.id, Party.owner_id, actor))
            .group_by(Party.id, Party.display_name, Party.owner_id, InvoiceReplica.currency)
            .order_by(func.min(InvoiceReplica.due_date), Party.display_name))
    total = session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = session.execute(stmt.limit(page_size).offset((page - 1) * page_size)).all()
    items = [{"party_id": r.id, "display_name": r.display_name, "owner_id": r.owner_id, "currency": r.currency,
              "overdue_amount": r.overdue_amount, "invoices": r.invoices, "oldest_due_date": r.oldest_due_date,
              "days_overdue": (today - r.oldest_due_date).days} for r in rows]
    return {"items": items, "total": total, "page": page, "page_size": page_size,
            "pages": -(-total // page_size) if total else 0}
