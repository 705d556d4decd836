"""Use cases of our own cheques: cheque books per bank account, a cheque written to a supplier (a supplier payment
through the payments service into "cheques issued", settling the bills named or the oldest due), and its states
issued -> presented -> cleared | voided (voided from issued or presented). Clearing moves the amount from cheques
issued to the bank account (reconciliation clears a cheque when a statement line names its number); voiding
reverses the supplier payment, so the bills reopen."""

from datetime import UTC, date, datetime

from servicekit import audit
from servicekit.db import new_id, row_view
from servicekit.etag import check_version
from servicekit.problems import NotFound, Problem, field_error
from shared_events.actors import actor_label
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ..db import audit_log
from ..ledger.posting import PostingLine
from ..ledger.service import post_entry
from ..money import cents
from ..payments import service as payments
from ..payments.models import BankAccount
from .models import ChequeBook, IssuedCheque

MOVES = {"issued": ("presented", "voided"), "presented": ("cleared", "voided"), "cleared": (), "voided": ()}
ZERO = cents(0)


def _now() -> datetime:
    return datetime.now(UTC)


def issued_account(session: Session, currency: str) -> BankAccount:
    """The "cheques issued" account of a currency (kind cheques, posting to 403000), made when first needed."""
    session.execute(insert(BankAccount).values(
        id=new_id(), name=f"Cheques issued {currency}", kind="cheques", currency=currency,
        ledger_account="cheques_issued", opening_balance=ZERO, writeoff_limit=ZERO, active=True,
        version=1).on_conflict_do_nothing())
    return session.execute(select(BankAccount).where(BankAccount.kind == "cheques", BankAccount.currency == currency,
                                                     BankAccount.ledger_account == "cheques_issued")
                           .order_by(BankAccount.created_at).limit(1)).scalar_one()


def _bank(session: Session, bank_account_id) -> BankAccount:
    bank = session.get(BankAccount, str(bank_account_id))
    if bank is None or not bank.active or bank.kind != "bank":
        raise field_error("bank_account_id", f"no active bank account with id {bank_account_id}")
    return bank


def create_book(session: Session, data: dict, actor) -> dict:
    bank = _bank(session, data["bank_account_id"])
    if data["last_number"] < data["first_number"]:
        raise field_error("last_number", "below first_number")
    book = ChequeBook(bank_account_id=bank.id, first_number=data["first_number"], last_number=data["last_number"],
                      next_number=data["first_number"], created_by=actor_label(actor), version=1, created_at=_now())
    session.add(book)
    session.flush()
    audit.record(session, audit_log, actor, "create", "cheque_book", book.id, None,
                 {"bank_account_id": bank.id, "first": book.first_number, "last": book.last_number})
    return row_view(book)


def issued_row(session: Session, cheque_id, lock: bool = False) -> IssuedCheque:
    stmt = select(IssuedCheque).where(IssuedCheque.id == str(cheque_id))
    cheque = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if cheque is None:
        raise NotFound("issued cheque", cheque_id)
    return cheque


def issued_view(cheque: IssuedCheque) -> dict:
    return {**row_view(cheque), "allowed_moves": list(MOVES[cheque.state])}


def issue_cheque(session: Session, data: dict, actor) -> dict:
    """Write the next cheque of a book to a supplier: the supplier is paid at once (bills named, else oldest due)."""
    book = session.execute(select(ChequeBook).where(ChequeBook.id == str(data["cheque_book_id"]))
                           .with_for_update()).scalar_one_or_none()
    if book is None:
        raise field_error("cheque_book_id", f"no cheque book with id {data['cheque_book_id']}")
    if book.next_number > book.last_number:
        raise Problem(409, "Cheque book used up", f"Every cheque {book.first_number}-{book.last_number} of this "
                      "book is written: start a new book.", "book-used-up")
    bank = _bank(session, book.bank_account_id)
    number, issue_date = str(book.next_number), data.get("issue_date") or _now().date()
    paid = payments.record_payment(session, {
        "direction": "out", "party_id": data["supplier_id"], "amount": data["amount"], "currency": bank.currency,
        "payment_date": issue_date, "method": "cheque", "bank_account_id": issued_account(session, bank.currency).id,
        "through_cheque_portfolio": True, "cheque_number": number, "cheque_bank": bank.name,
        "reference": f"Cheque {number} on {bank.name}",
        "allocations": [{"document_id": b["bill_id"], "amount": b["amount"]} for b in data.get("bills") or []]
        or None}, actor)
    book.next_number += 1
    cheque = IssuedCheque(cheque_book_id=book.id, bank_account_id=bank.id, number=number,
                          supplier_id=str(data["supplier_id"]), amount=cents(data["amount"]), currency=bank.currency,
                          issue_date=issue_date, due_date=data.get("due_date") or issue_date, state="issued",
                          payment_id=paid["id"], created_by=actor_label(actor), version=1, created_at=_now(),
                          updated_at=_now())
    session.add(cheque)
    session.flush()
    audit.record(session, audit_log, actor, "create", "issued_cheque", cheque.id, None,
                 {"number": number, "amount": cheque.amount, "supplier_id": cheque.supplier_id})
    return issued_view(cheque)


def _clear(session: Session, cheque: IssuedCheque, on: date, actor) -> str:
    bank = session.get(BankAccount, cheque.bank_account_id)
    label = f"Cheque {cheque.number} cashed"
    entry = post_entry(session, journal="BNK", entry_date=on, lines=[
        PostingLine("cheques_issued", debit=cheque.amount, description=label, currency=cheque.currency),
        PostingLine(bank.ledger_account, credit=cheque.amount, description=label, currency=cheque.currency)],
        reference=label, source_type="issued_cheque", source_id=cheque.id, actor=actor, memo=label,
        purpose="cleared")
    cheque.state, cheque.cleared_on, cheque.clearing_entry_id = "cleared", on, str(entry.id)
    return str(entry.id)


def move_issued(session: Session, cheque_id, expected_version: int | None, data: dict, actor) -> dict:
    cheque = issued_row(session, cheque_id, lock=True)
    if expected_version is not None:
        check_version(cheque.version, expected_version)
    target, on = data["to_state"], data.get("on_date") or _now().date()
    if target not in MOVES[cheque.state]:
        raise Problem(409, "Move not allowed", f"Cheque {cheque.number} is {cheque.state}: it can become "
                      f"{' or '.join(MOVES[cheque.state]) or 'nothing else'}, not {target}.", "wrong-state",
                      current_state=cheque.state, allowed_states=list(MOVES[cheque.state]))
    before = cheque.state
    if target == "cleared":
        _clear(session, cheque, on, actor)
    elif target == "voided":
        payments.move_cheque(session, cheque.payment_id, "bounced", f"cheque {cheque.number} voided: "
                             f"{data.get('reason') or 'cancelled'}", actor)
        cheque.state = target
    else:
        cheque.state = target
    cheque.version, cheque.updated_at = cheque.version + 1, _now()
    session.flush()
    audit.record(session, audit_log, actor, f"issued_cheque_{target}", "issued_cheque", cheque.id,
                 {"state": before}, {"state": cheque.state})
    return issued_view(cheque)


def clear_for_statement(session: Session, cheque_id: str, on: date, actor) -> str:
    """Clear an issued (or presented) cheque because the bank's statement shows it paid; the clearing entry."""
    cheque = issued_row(session, cheque_id, lock=True)
    if cheque.state not in ("issued", "presented"):
        raise Problem(409, "Move not allowed", f"Cheque {cheque.number} is {cheque.state}.", "wrong-state")
    entry_id = _clear(session, cheque, on, actor)
    cheque.version, cheque.updated_at = cheque.version + 1, _now()
    session.flush()
    return entry_id


def outstanding(session: Session, bank_account_id: str) -> list[IssuedCheque]:
    """The cheques written on an account that the bank has not paid yet."""
    return list(session.execute(select(IssuedCheque).where(IssuedCheque.bank_account_id == bank_account_id,
                                                           IssuedCheque.state.in_(("issued", "presented"))))
                .scalars())


def list_issued(session: Session, state: str | None) -> list[dict]:
    stmt = select(IssuedCheque)
    if state:
        stmt = stmt.where(IssuedCheque.state == state)
    return [issued_view(c) for c in session.execute(stmt.order_by(IssuedCheque.due_date, IssuedCheque.number)
                                                    .limit(2000)).scalars()]
