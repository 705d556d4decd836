"""The journal entries of payments (journal BNK, or CSH for cash), written in the payment's transaction.

A receipt debits the bank and credits the customer's receivable for what it settles, and customer credit for the
rest; a supplier payment debits the supplier's payable (and supplier advance for the rest) and credits the bank.
Held credit applied later moves from customer credit to the receivable (supplier advance to the payable). A bounced
cheque reverses its payment's entries.
"""

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from ..ledger.posting import PostingLine
from ..ledger.service import post_entry, reverse_entry
from .models import Payment

ZERO = Decimal("0")


def journal_of(payment: Payment) -> str:
    return "CSH" if payment.method == "cash" else "BNK"


def payment_posting_lines(payment: Payment, money_account: str, allocated: Decimal) -> list[PostingLine]:
    """Pure: the entry of a new payment that settles `allocated` of its amount at once."""
    held = payment.amount - allocated
    label = f"{payment.number} {payment.reference or ''}".strip()
    common = {"description": label, "currency": payment.currency}
    if payment.direction == "in":
        lines = [PostingLine(money_account, debit=payment.amount, **common),
                 PostingLine("receivable", credit=allocated, party_id=payment.party_id, **common),
                 PostingLine("customer_credit", credit=held, party_id=payment.party_id, **common)]
    else:
        lines = [PostingLine("payable", debit=allocated, party_id=payment.party_id, **common),
                 PostingLine("supplier_advance", debit=held, party_id=payment.party_id, **common),
                 PostingLine(money_account, credit=payment.amount, **common)]
    return [line for line in lines if line.debit > 0 or line.credit > 0]


def held_credit_lines(payment: Payment, amount: Decimal) -> list[PostingLine]:
    """Pure: the entry that applies `amount` of a payment's held credit to invoices (or bills)."""
    common = {"party_id": payment.party_id, "description": f"{payment.number} allocated", "currency": payment.currency}
    if payment.direction == "in":
        return [PostingLine("customer_credit", debit=amount, **common), PostingLine("receivable", credit=amount,
                                                                                    **common)]
    return [PostingLine("payable", debit=amount, **common), PostingLine("supplier_advance", credit=amount, **common)]


def post(session: Session, payment: Payment, lines: list[PostingLine], entry_date: date, actor, memo: str,
         purpose: str = "main") -> str | None:
    """Book the payment's entry (purpose "main"), or a later one about it (purpose "allocation:<id>")."""
    if not lines:
        return None
    source_type = "customer_receipt" if payment.direction == "in" else "supplier_payment"
    entry = post_entry(session, journal=journal_of(payment), entry_date=entry_date, lines=lines,
                       reference=payment.number, source_type=source_type, source_id=payment.id, actor=actor,
                       memo=memo, purpose=purpose)
    return str(entry.id)


def reverse(session: Session, entry_id: str | None, entry_date: date, reason: str, actor) -> None:
    if entry_id:
        reverse_entry(session, entry_id, entry_date=entry_date, reason=reason, actor=actor)
