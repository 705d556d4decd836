"""Use cases of money moved without a customer or supplier document: deposits, withdrawals, bank fees, interest
(and what reconciliation books for a rule or a write-off), their reversal, and transfers between own accounts.
Each posts its balanced entry in the caller's transaction."""

from datetime import UTC, date, datetime
from decimal import Decimal

from servicekit import audit
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.problems import NotFound, Problem, field_error
from shared_events.actors import actor_label
from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ..db import audit_log
from ..ledger.models import JournalLine
from ..money import cents, money_text
from ..payments.models import BankAccount
from . import postings
from .accounts import ledger_account_of, resolve_one, usable_account
from .models import BankMovement, BankReconciliationItem, BankTransfer

DIRECTION = {"deposit": "in", "withdrawal": "out", "fee": "out", "interest": "in", "other_in": "in",
             "other_out": "out"}
DEFAULT_COUNTER = {"fee": "bank_fees", "interest": "interest_income"}
AUDITED = ("bank_account_id", "kind", "direction", "amount", "movement_date", "counter_account", "party_id",
           "reference", "status", "journal_entry_id", "tax_rate", "tax_amount", "tax_account")
ZERO = Decimal("0")


def _now() -> datetime:
    return datetime.now(UTC)


def movement_row(session: Session, movement_id, lock: bool = False) -> BankMovement:
    stmt = select(BankMovement).where(BankMovement.id == str(movement_id))
    movement = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if movement is None:
        raise NotFound("bank movement", movement_id)
    return movement


def add_movement(session: Session, account: BankAccount, kind: str, data: dict, actor) -> BankMovement:
    """Book a movement of `account` and return the row (reconciliation books its rules and write-offs here)."""
    counter = (data.get("counter_account") or DEFAULT_COUNTER.get(kind) or "").strip()
    if not counter:
        raise field_error("counter_account", f"required for a {kind}: the account the money comes from or goes to "
                          "(a code such as 101000, or a role)")
    own = ledger_account_of(session, account)
    if resolve_one(session, counter, "counter_account").id == own.id:
        raise field_error("counter_account", f"{counter} is {account.name}'s own ledger account")
    movement = BankMovement(bank_account_id=account.id, kind=kind, direction=DIRECTION[kind],
                            amount=cents(data["amount"]), movement_date=data.get("movement_date") or _now().date(),
                            counter_account=counter, party_id=str(data["party_id"]) if data.get("party_id") else None,
                            reference=data.get("reference"), description=data.get("description"), status="posted",
                            created_by=actor_label(actor), version=1, created_at=_now(), updated_at=_now())
    if data.get("tax_rate"):
        _split_tax(session, movement, Decimal(data["tax_rate"]), data.get("tax_account"), own.id)
    session.add(movement)
    session.flush()
    label = movement.description or movement.reference or f"{kind.replace('_', ' ')} {account.name}"
    movement.journal_entry_id = postings.post(
        session, kind=account.kind, lines=postings.taxed_money_lines(
            own.code, counter, movement.tax_account or "", movement.direction, movement.amount,
            movement.tax_amount or ZERO, label[:300], movement.party_id, account.currency),
        entry_date=movement.movement_date, reference=(movement.reference or f"{kind} {account.name}")[:200],
        source_type="bank_movement", source_id=movement.id, purpose="main", memo=label, actor=actor)
    session.flush()
    audit.record(session, audit_log, actor, "create", "bank_movement", movement.id, None,
                 {k: getattr(movement, k) for k in AUDITED})
    return movement


def _split_tax(session: Session, movement: BankMovement, rate: Decimal, tax_account: str | None,
               own_id: str) -> None:
    """The movement's gross split into net and tax at `rate`, the tax booked to `tax_account` (by default the VAT
    deductible on money out, the VAT collected on money in)."""
    if not ZERO < rate < 1:
        raise field_error("tax_rate", "a tax rate is above 0 and below 1 (0.2 = 20 %)")
    tax_account = (tax_account or "").strip() or ("vat_deductible" if movement.direction == "out"
                                                  else "vat_collected")
    if resolve_one(session, tax_account, "tax_account").id == own_id:
        raise field_error("tax_account", f"{tax_account} is the bank account's own ledger account")
    net, tax = postings.split_gross(movement.amount, rate)
    if net <= 0:
        raise field_error("amount", f"{money_text(movement.amount)} is too small to split off a tax")
    movement.tax_rate, movement.tax_amount, movement.tax_account = rate, tax, tax_account


def record_movement(session: Session, account_id, data: dict, actor) -> dict:
    """A deposit, withdrawal, bank fee or interest on an account, posted against its counter account."""
    account = usable_account(session, account_id, "bank_account_id")
    return row_view(add_movement(session, account, data["kind"], data, actor))


def reconciled_entry(session: Session, entry_id: str | None) -> bool:
    return bool(entry_id) and session.execute(select(exists().where(
        BankReconciliationItem.journal_line_id == JournalLine.id, JournalLine.entry_id == entry_id))).scalar()


def reverse_movement(session: Session, movement_id, expected_version: int, reversal_date: date | None,
                     actor) -> dict:
    """Cancel a movement booked in error: its entry is reversed (never edited). A movement a statement line
    explains is unreconciled first."""
    movement = movement_row(session, movement_id, lock=True)
    check_version(movement.version, expected_version)
    if movement.status != "posted":
        raise Problem(409, "Wrong state", "This movement is already reversed.", "wrong-state",
                      current_state=movement.status)
    if reconciled_entry(session, movement.journal_entry_id):
        raise Problem(409, "Reconciled", "A statement line is reconciled with this movement: unreconcile it "
                      "first.", "reconciled")
    reverse_posted(session, movement, reversal_date, "movement reversed", actor)
    return row_view(movement)


def reverse_posted(session: Session, movement: BankMovement, reversal_date: date | None, reason: str,
                   actor) -> None:
    """Reverse a posted movement's entry (dated today, or its own date if later) and mark it reversed."""
    before = {k: getattr(movement, k) for k in AUDITED}
    postings.reverse(session, movement.journal_entry_id, max(reversal_date or _now().date(), movement.movement_date),
                     reason, actor)
    movement.status, movement.version, movement.updated_at = "reversed", movement.version + 1, _now()
    session.flush()
    audit.record(session, audit_log, actor, "reverse", "bank_movement", movement.id, before,
                 {k: getattr(movement, k) for k in AUDITED})


def list_movements(session: Session, account_id) -> list[dict]:
    rows = session.execute(select(BankMovement).where(BankMovement.bank_account_id == str(account_id))
                           .order_by(BankMovement.movement_date.desc(), BankMovement.created_at.desc())
                           .limit(1000)).scalars()
    return [row_view(m) for m in rows]


# -- transfers between own accounts ---------------------------------------------------------------

def transfer(session: Session, data: dict, actor) -> dict:
    """Move money between two own accounts of one currency: one entry when it arrives the day it leaves, else
    one entry the day it leaves (into transfers in transit) and one the day it arrives (out of them)."""
    source = usable_account(session, data["from_account_id"], "from_account_id")
    target = usable_account(session, data["to_account_id"], "to_account_id")
    if source.id == target.id:
        raise field_error("to_account_id", "the same account as from_account_id")
    if source.currency != target.currency:
        raise field_error("to_account_id", f"{target.name} is in {target.currency}, {source.name} in "
                          f"{source.currency}: a transfer moves one currency")
    sent_on = data.get("sent_on") or _now().date()
    received_on = data.get("received_on") or sent_on
    if received_on < sent_on:
        raise field_error("received_on", "before sent_on: money arrives after it leaves")
    amount = cents(data["amount"])
    row = BankTransfer(from_account_id=source.id, to_account_id=target.id, amount=amount, currency=source.currency,
                       sent_on=sent_on, received_on=received_on, reference=data.get("reference"),
                       created_by=actor_label(actor), version=1, created_at=_now())
    session.add(row)
    session.flush()
    label = f"Transfer {source.name} -> {target.name} {money_text(amount)}"[:300]
    legs = postings.transfer_legs(ledger_account_of(session, source).code, ledger_account_of(session, target).code,
                                  amount, sent_on == received_on, label, source.currency)
    reference = (row.reference or label)[:200]
    dates = [sent_on] if len(legs) == 1 else [sent_on, received_on]
    kinds = [source.kind] if len(legs) == 1 else [source.kind, target.kind]
    entry_ids = [postings.post(session, kind=kind, lines=lines, entry_date=on, reference=reference,
                               source_type="bank_transfer", source_id=row.id,
                               purpose=("main" if len(legs) == 1 else ("sent", "received")[i]), memo=label,
                               actor=actor) for i, (lines, on, kind) in enumerate(zip(legs, dates, kinds, strict=True))]
    row.sent_entry_id, row.received_entry_id = entry_ids[0], entry_ids[-1]
    session.flush()
    audit.record(session, audit_log, actor, "create", "bank_transfer", row.id, None,
                 {"from": source.name, "to": target.name, "amount": amount, "sent_on": sent_on,
                  "received_on": received_on})
    return row_view(row)


def get_transfer(session: Session, transfer_id) -> dict:
    row = session.get(BankTransfer, str(transfer_id))
    if row is None:
        raise NotFound("transfer", transfer_id)
    return row_view(row)
