"""A customer's credit position: credit limit, open balance (issued invoices less credit notes and receipts) and
what is overdue. Whatever changes one of them (an invoice issued, credited or overdue, a receipt, a bounced
cheque, new terms) calls `refresh`, which publishes erp.credit.changed when the position moved, so the CRM can warn
on a quote before it is sent."""

from datetime import UTC, date, datetime
from decimal import Decimal

from shared_events.actors import actor_extensions
from shared_events.envelope import new_event
from shared_events.outbox import record_event
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ..db import outbox
from ..invoicing.models import Invoice
from ..money import money_text
from ..parties.models import PartyAccount
from ..payments.balances import receivable_balance
from ..payments.models import Payment
from .models import CreditPosition

ZERO = Decimal("0.00")
OPEN = ("issued", "partially_paid", "overdue")


def overdue_amount(session: Session, party_id: str, today: date | None = None) -> Decimal:
    """What the customer owes on invoices past their due date."""
    today = today or datetime.now(UTC).date()
    due = Invoice.gross_total - Invoice.amount_paid - Invoice.amount_credited
    return Decimal(session.execute(select(func.coalesce(func.sum(due), 0)).where(
        Invoice.party_id == str(party_id), Invoice.kind == "invoice", Invoice.status.in_(OPEN),
        Invoice.due_date < today)).scalar_one()).quantize(ZERO)


def bounced_cheques(session: Session, party_id: str) -> tuple[int, Decimal, datetime | None]:
    """How many of the customer's cheques bounced, for how much, and when last: the risk a salesperson sees."""
    count, total, last = session.execute(select(
        func.count(), func.coalesce(func.sum(Payment.amount), 0), func.max(Payment.bounced_at)).where(
        Payment.party_id == str(party_id), Payment.direction == "in", Payment.status == "bounced")).one()
    return count, Decimal(total).quantize(ZERO), last


def current_position(session: Session, party_id: str) -> dict:
    account = session.get(PartyAccount, str(party_id))
    bounced, bounced_total, last_bounce = bounced_cheques(session, party_id)
    return {"party_id": str(party_id), "currency": account.currency if account else "EUR",
            "credit_limit": account.credit_limit if account else None,
            "open_balance": receivable_balance(session, party_id),
            "overdue_amount": overdue_amount(session, party_id), "cheques_bounced": bounced,
            "bounced_total": bounced_total, "last_bounced_at": last_bounce}


def position_state(row: CreditPosition) -> dict:
    """erp.credit.v1: the position with what is still available under the limit."""
    available = None if row.credit_limit is None else max(row.credit_limit - row.open_balance, ZERO)
    return {"party_id": row.party_id, "currency": row.currency,
            "credit_limit": None if row.credit_limit is None else money_text(row.credit_limit),
            "open_balance": money_text(row.open_balance), "overdue_amount": money_text(row.overdue_amount),
            "available_credit": None if available is None else money_text(available),
            "cheques_bounced": row.cheques_bounced, "bounced_total": money_text(row.bounced_total),
            "last_bounced_at": row.last_bounced_at.isoformat() if row.last_bounced_at else None,
            "version": row.version, "updated_at": row.updated_at.isoformat()}


def refresh(session: Session, party_id: str, actor=None) -> None:
    """Recompute the customer's position in the caller's transaction; publish it when it changed. The position row
    is locked for the rest of the transaction, so two transactions publish their versions in commit order."""
    session.execute(insert(CreditPosition).values(
        party_id=str(party_id), currency="EUR", credit_limit=None, open_balance=ZERO, overdue_amount=ZERO,
        cheques_bounced=0, bounced_total=ZERO, version=0, updated_at=datetime.now(UTC)).on_conflict_do_nothing())
    row = session.execute(select(CreditPosition).where(CreditPosition.party_id == str(party_id))
                          .with_for_update()).scalar_one()
    position = current_position(session, party_id)
    if row.version and all(getattr(row, k) == v for k, v in position.items()):
        return
    now = datetime.now(UTC)
    for k, v in position.items():
        setattr(row, k, v)
    row.version += 1
    row.updated_at = now
    session.flush()
    record_event(session, outbox, new_event("erp.credit.changed", row.party_id, position_state(row), row.version,
                                            **actor_extensions(actor)), "credit")


def credit_view(session: Session, party_id: str) -> dict:
    """The position as of now (computed, whether or not it was published yet)."""
    position = current_position(session, party_id)
    limit = position["credit_limit"]
    return {**position, "available_credit": None if limit is None else max(limit - position["open_balance"], ZERO)}
