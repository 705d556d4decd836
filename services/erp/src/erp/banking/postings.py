"""The journal entries of banking (journal BNK, CSH for a cash box), written in the transaction of what caused them:
an account's opening balance, a movement (deposit, withdrawal, fee, interest, a reconciliation rule or write-off;
with a tax rate, its gross split into net and tax),
and a transfer between own accounts (one entry the same day, else two through the transfer-in-transit account).
The line builders are pure."""

from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from ..ledger.posting import PostingLine
from ..ledger.service import post_entry, reverse_entry
from ..money import cents

ZERO = Decimal("0")
TRANSIT = "transfer_in_transit"


def journal_of(kind: str) -> str:
    return "CSH" if kind == "cash" else "BNK"


def money_lines(account: str, counter: str, direction: str, amount: Decimal, description: str | None,
                party_id: str | None = None, currency: str | None = None) -> list[PostingLine]:
    """Pure: money in debits the account and credits the counter account; money out the other way round. A
    negative amount (an overdrawn opening balance) swaps the sides."""
    if amount < 0:
        direction, amount = ("out" if direction == "in" else "in"), -amount
    common = {"description": description, "currency": currency}
    own = PostingLine(account, debit=amount, **common) if direction == "in" else PostingLine(account, credit=amount,
                                                                                            **common)
    other = (PostingLine(counter, credit=amount, party_id=party_id, **common) if direction == "in"
             else PostingLine(counter, debit=amount, party_id=party_id, **common))
    return [own, other]


def split_gross(gross: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """Pure: the net and the tax in a gross amount at a tax rate, to the cent: the net rounded half away from zero
    (as invoices round), the tax what is left, so the two add up to the gross exactly."""
    net = cents(gross / (1 + rate))
    return net, gross - net


def taxed_money_lines(account: str, counter: str, tax_account: str, direction: str, gross: Decimal, tax: Decimal,
                      description: str | None, party_id: str | None = None,
                      currency: str | None = None) -> list[PostingLine]:
    """Pure: money_lines of the gross with its tax split off the counter account to the tax account (money out:
    the net expense and the deductible tax are debited; money in: the net income and the tax collected
    credited)."""
    own, other = money_lines(account, counter, direction, gross, description, party_id, currency)
    if not tax:
        return [own, other]
    side = "debit" if direction == "out" else "credit"
    net = PostingLine(counter, party_id=party_id, description=description, currency=currency,
                      **{side: gross - tax})
    return [own, net, PostingLine(tax_account, description=description, currency=currency, **{side: tax})]


def transfer_legs(from_account: str, to_account: str, amount: Decimal, same_day: bool, description: str,
                  currency: str) -> list[list[PostingLine]]:
    """Pure: the entries of a transfer: [from -> to] the same day, else [from -> transit], [transit -> to]."""
    if same_day:
        return [money_lines(to_account, from_account, "in", amount, description, currency=currency)]
    return [money_lines(TRANSIT, from_account, "in", amount, description, currency=currency),
            money_lines(to_account, TRANSIT, "in", amount, description, currency=currency)]


def post(session: Session, *, kind: str, lines: list[PostingLine], entry_date: date, reference: str,
         source_type: str, source_id: str, purpose: str, memo: str, actor) -> str:
    entry = post_entry(session, journal=journal_of(kind), entry_date=entry_date, lines=lines, reference=reference,
                       source_type=source_type, source_id=source_id, actor=actor, memo=memo, purpose=purpose)
    return str(entry.id)


def reverse(session: Session, entry_id: str, entry_date: date, reason: str, actor) -> None:
    reverse_entry(session, entry_id, entry_date=entry_date, reason=reason, actor=actor)
