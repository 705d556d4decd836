"""Use cases of cheques received: receive one (a customer receipt through the payments service, into the cheques
in portfolio account), move it through its states with a balanced entry for each move that changes where its
value sits, and read the portfolio by due date (the maturity ladder).

States and their moves (anything else is a 409):
    in_portfolio -> deposited_for_collection | endorsed | given_as_collateral
    deposited_for_collection | given_as_collateral | endorsed -> cleared | bounced
    bounced -> returned | re_presented | protested;  re_presented -> cleared | bounced
A post-dated cheque is not deposited before its date. Endorsing pays a supplier (a supplier payment through the
payments service, out of the portfolio). A bounce reverses the receipt through the payments service, so the
customer's invoices reopen; a bounced endorsed cheque also reopens what we owed the supplier.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from servicekit import audit
from servicekit.db import new_id, row_view
from servicekit.etag import check_version
from servicekit.problems import NotFound, Problem, field_error
from shared_events.actors import actor_label
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ..db import audit_log
from ..invoicing import service as invoicing
from ..ledger.posting import PostingLine
from ..ledger.service import post_entry
from ..money import cents
from ..payments import service as payments
from ..payments.models import BankAccount
from .models import ChequeTransition, IssuedCheque, ReceivedCheque

ZERO = Decimal("0.00")
MOVES = {
    "in_portfolio": ("deposited_for_collection", "endorsed", "given_as_collateral"),
    "deposited_for_collection": ("cleared", "bounced"),
    "given_as_collateral": ("cleared", "bounced"),
    "endorsed": ("cleared", "bounced"),
    "bounced": ("returned", "re_presented", "protested"),
    "re_presented": ("cleared", "bounced"),
    "cleared": (), "returned": (), "protested": (),
}
# where the value of a cheque sits in each state (the ledger role): the invariant the tests check
HELD_IN = {"in_portfolio": "cheques_in_portfolio", "deposited_for_collection": "cheques_at_bank",
           "given_as_collateral": "cheques_collateral", "re_presented": "cheques_at_bank"}
OPEN_STATES = tuple(HELD_IN)


def _now() -> datetime:
    return datetime.now(UTC)


def portfolio_account(session: Session, currency: str) -> BankAccount:
    """The company's "cheques in portfolio" account of a currency, made the first time it is needed."""
    session.execute(insert(BankAccount).values(
        id=new_id(), name=f"Cheques in portfolio {currency}", kind="cheques", currency=currency,
        ledger_account="cheques_in_portfolio", opening_balance=ZERO, writeoff_limit=ZERO, active=True,
        version=1).on_conflict_do_nothing())
    return session.execute(select(BankAccount).where(BankAccount.kind == "cheques", BankAccount.currency == currency,
                                                     BankAccount.ledger_account == "cheques_in_portfolio")
                           .order_by(BankAccount.created_at).limit(1)).scalar_one()


def cheque_row(session: Session, cheque_id, lock: bool = False) -> ReceivedCheque:
    stmt = select(ReceivedCheque).where(ReceivedCheque.id == str(cheque_id))
    cheque = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if cheque is None:
        raise NotFound("cheque", cheque_id)
    return cheque


def drawer_bounces(session: Session, drawer: str) -> int:
    return session.execute(select(func.count()).select_from(ChequeTransition).join(
        ReceivedCheque, ReceivedCheque.id == ChequeTransition.cheque_id).where(
        func.lower(ReceivedCheque.drawer) == drawer.lower(), ChequeTransition.to_state == "bounced")).scalar_one()


def drawers(session: Session, drawer: str | None) -> list[dict]:
    """Each drawer's cheques and how often they bounced: a drawer whose cheques bounce is a risk."""
    bounced = (select(ChequeTransition.cheque_id).where(ChequeTransition.to_state == "bounced").distinct()
               .subquery())
    stmt = (select(func.min(ReceivedCheque.drawer), func.count(), func.count(bounced.c.cheque_id),
                   func.coalesce(func.sum(ReceivedCheque.amount).filter(bounced.c.cheque_id.is_not(None)), 0))
            .outerjoin(bounced, bounced.c.cheque_id == ReceivedCheque.id)
            .group_by(func.lower(ReceivedCheque.drawer)))
    if drawer:
        stmt = stmt.where(func.lower(ReceivedCheque.drawer).contains(drawer.lower()))
    rows = session.execute(stmt.order_by(func.count(bounced.c.cheque_id).desc(), func.min(ReceivedCheque.drawer))
                           .limit(500)).all()
    return [{"drawer": name, "cheques": count, "bounced": bounces, "bounced_total": total,
             "bounce_rate": round(bounces / count, 4) if count else 0.0} for name, count, bounces, total in rows]


def cheque_view(session: Session, cheque: ReceivedCheque) -> dict:
    view = row_view(cheque)
    view["drawer_bounces"] = drawer_bounces(session, cheque.drawer)
    view["allowed_moves"] = list(MOVES[cheque.state])
    view["transitions"] = [row_view(t) for t in session.execute(
        select(ChequeTransition).where(ChequeTransition.cheque_id == cheque.id).order_by(ChequeTransition.id))
        .scalars()]
    return view


def _log(session: Session, cheque: ReceivedCheque, from_state: str | None, on: date, entry_id: str | None,
         note: str | None, actor) -> None:
    session.add(ChequeTransition(cheque_id=cheque.id, from_state=from_state, to_state=cheque.state, on_date=on,
                                 journal_entry_id=entry_id, note=note, created_by=actor_label(actor),
                                 created_at=_now()))


def _move_value(session: Session, cheque: ReceivedCheque, debit: str, credit: str, on: date, step: int,
                actor) -> str:
    """The entry that moves the cheque's value from one account to another."""
    label = f"Cheque {cheque.number} ({cheque.drawer_bank}) {cheque.state.replace('_', ' ')}"
    entry = post_entry(session, journal="BNK", entry_date=on, lines=[
        PostingLine(debit, debit=cheque.amount, description=label, currency=cheque.currency),
        PostingLine(credit, credit=cheque.amount, description=label, currency=cheque.currency)],
        reference=f"Cheque {cheque.number}"[:200], source_type="received_cheque", source_id=cheque.id, actor=actor,
        memo=label, purpose=f"{cheque.state}:{step}")
    return str(entry.id)


def receive_cheque(session: Session, data: dict, actor) -> dict:
    """A customer's cheque, post-dated or not: recorded as the customer's receipt (allocated as given, or oldest
    due first) into the portfolio, where it waits for its date."""
    currency = data.get("currency") or "EUR"
    portfolio = portfolio_account(session, currency)
    received_on = data.get("received_on") or _now().date()
    receipt = payments.record_payment(session, {
        "direction": "in", "party_id": data["party_id"], "amount": data["amount"], "currency": currency,
        "payment_date": received_on, "method": "cheque", "bank_account_id": portfolio.id,
        "through_cheque_portfolio": True,
        "cheque_number": data["number"], "cheque_bank": data["drawer_bank"],
        "reference": f"Cheque {data['number']} due {data['cheque_date'].isoformat()}",
        "allocations": data.get("allocations"), "auto_allocate": data.get("auto_allocate", True)}, actor)
    cheque = ReceivedCheque(number=data["number"].strip(), drawer=data["drawer"].strip(),
                            drawer_bank=data["drawer_bank"].strip(), drawer_branch=data.get("drawer_branch"),
                            cheque_date=data["cheque_date"], received_on=received_on, amount=cents(data["amount"]),
                            currency=currency, party_id=str(data["party_id"]), state="in_portfolio",
                            receipt_payment_id=receipt["id"], created_by=actor_label(actor), version=1,
                            created_at=_now(), updated_at=_now())
    session.add(cheque)
    session.flush()
    _log(session, cheque, None, received_on, receipt["journal_entry_id"], f"receipt {receipt['number']}", actor)
    session.flush()
    audit.record(session, audit_log, actor, "create", "received_cheque", cheque.id, None,
                 {"number": cheque.number, "amount": cheque.amount, "cheque_date": cheque.cheque_date})
    return cheque_view(session, cheque)


def _bank(session: Session, data: dict, cheque: ReceivedCheque) -> BankAccount:
    if not data.get("bank_account_id"):
        raise field_error("bank_account_id", "required: the bank account it goes to")
    bank = session.get(BankAccount, str(data["bank_account_id"]))
    if bank is None or not bank.active or bank.kind != "bank":
        raise field_error("bank_account_id", f"no active bank account with id {data['bank_account_id']}")
    if bank.currency != cheque.currency:
        raise field_error("bank_account_id", f"{bank.name} is in {bank.currency}, the cheque in {cheque.currency}")
    return bank


def move_cheque(session: Session, cheque_id, expected_version: int, data: dict, actor) -> dict:
    """Move a cheque to its next state (409 for a move its state does not allow), posting what it changes."""
    cheque = cheque_row(session, cheque_id, lock=True)
    check_version(cheque.version, expected_version)
    _apply(session, cheque, data["to_state"], data.get("on_date") or _now().date(), data, actor)
    return cheque_view(session, cheque)


def _apply(session: Session, cheque: ReceivedCheque, target: str, on: date, data: dict, actor) -> None:
    if target not in MOVES[cheque.state]:
        raise Problem(409, "Move not allowed", f"Cheque {cheque.number} is {cheque.state}: it can become "
                      f"{' or '.join(MOVES[cheque.state]) or 'nothing else'}, not {target}.", "wrong-state",
                      current_state=cheque.state, allowed_states=list(MOVES[cheque.state]))
    if target == "bounced" and not (data.get("reason") or "").strip():
        raise field_error("reason", "say why the cheque bounced")
    before, step = cheque.state, cheque.version
    entry_id, note = None, data.get("reason") or data.get("note")
    if target in ("deposited_for_collection", "given_as_collateral"):
        if target == "deposited_for_collection" and on < cheque.cheque_date:
            raise Problem(409, "Post-dated", f"Cheque {cheque.number} is dated {cheque.cheque_date.isoformat()}: it "
                          "can be deposited from that day.", "post-dated", cheque_date=cheque.cheque_date.isoformat())
        cheque.bank_account_id = _bank(session, data, cheque).id
        cheque.state = target
        entry_id = _move_value(session, cheque, HELD_IN[target], "cheques_in_portfolio", on, step, actor)
        if target == "deposited_for_collection":
            payments.move_cheque(session, cheque.receipt_payment_id, "deposited", None, actor)
    elif target == "re_presented":
        # presented to the bank again: the customer pays again (a new receipt, settling what the bounce reopened)
        bank = _bank(session, {"bank_account_id": data.get("bank_account_id") or cheque.bank_account_id}, cheque)
        again = payments.record_payment(session, {
            "direction": "in", "party_id": cheque.party_id, "amount": cheque.amount, "currency": cheque.currency,
            "payment_date": on, "method": "cheque", "bank_account_id": portfolio_account(session, cheque.currency).id,
            "through_cheque_portfolio": True, "cheque_number": cheque.number, "cheque_bank": cheque.drawer_bank,
            "reference": f"Cheque {cheque.number} presented again"}, actor)
        cheque.receipt_payment_id, cheque.bank_account_id, cheque.state = again["id"], bank.id, target
        entry_id = _move_value(session, cheque, "cheques_at_bank", "cheques_in_portfolio", on, step, actor)
        payments.move_cheque(session, again["id"], "deposited", None, actor)
        note = note or f"receipt {again['number']}"
    elif target == "endorsed":
        supplier = data.get("supplier_id")
        if not supplier:
            raise field_error("supplier_id", "required: the supplier the cheque is endorsed to")
        paid = payments.record_payment(session, {
            "direction": "out", "party_id": supplier, "amount": cheque.amount, "currency": cheque.currency,
            "payment_date": on, "method": "cheque", "bank_account_id": portfolio_account(session, cheque.currency).id,
            "through_cheque_portfolio": True,
            "cheque_number": cheque.number, "cheque_bank": cheque.drawer_bank,
            "reference": f"Cheque {cheque.number} endorsed", "auto_allocate": True,
            "allocations": [{"document_id": b["bill_id"], "amount": b["amount"]} for b in data.get("bills") or []]
            or None}, actor)
        cheque.state, cheque.endorsement_payment_id, cheque.endorsed_to_party_id = target, paid["id"], str(supplier)
        entry_id, note = paid["journal_entry_id"], note or f"supplier payment {paid['number']}"
    elif target == "cleared":
        if before != "endorsed":
            bank = session.get(BankAccount, cheque.bank_account_id)
            cheque.state = target
            entry_id = _move_value(session, cheque, bank.ledger_account, HELD_IN[before], on, step, actor)
            if before == "given_as_collateral":
                payments.move_cheque(session, cheque.receipt_payment_id, "deposited", None, actor)
            payments.move_cheque(session, cheque.receipt_payment_id, "cleared", None, actor)
        cheque.state = target
    elif target == "bounced":
        reason = data["reason"].strip()
        if before in HELD_IN:  # the value comes back to the portfolio, then the receipt is reversed out of it
            cheque.state = "in_portfolio"
            entry_id = _move_value(session, cheque, "cheques_in_portfolio", HELD_IN[before], on, step, actor)
        if before == "endorsed":
            payments.move_cheque(session, cheque.endorsement_payment_id, "bounced", reason, actor)
        payments.move_cheque(session, cheque.receipt_payment_id, "bounced", reason, actor)
        cheque.state = target
        if data.get("bounce_fee"):
            fee = invoicing.create_invoice(session, {
                "party_id": cheque.party_id, "currency": cheque.currency, "issue": True, "issue_date": on,
                "notes": f"Cheque {cheque.number} ({cheque.drawer_bank}) bounced: {reason}",
                "lines": [{"description": f"Fee for bounced cheque {cheque.number}", "quantity": Decimal("1"),
                           "unit_price": cents(data["bounce_fee"]), "tax_rate": Decimal("0")}]}, actor)
            note = f"{reason}; bounce fee charged on invoice {fee['number']}"
    else:
        cheque.state = target  # returned to the customer, or protested: its value is already back in receivables
    cheque.version, cheque.updated_at = cheque.version + 1, _now()
    _log(session, cheque, before, on, entry_id, note, actor)
    session.flush()
    audit.record(session, audit_log, actor, f"cheque_{target}", "received_cheque", cheque.id, {"state": before},
                 {"state": cheque.state})


def deposit_slip(session: Session, data: dict, actor) -> dict:
    """Deposit several cheques of the portfolio to one bank account at once: each is moved to
    deposited_for_collection (and posted) as if one by one; a cheque that may not be deposited refuses the slip."""
    ids = [str(i) for i in data["cheque_ids"]]
    if len(set(ids)) != len(ids):
        raise field_error("cheque_ids", "a cheque appears twice")
    found = {c.id: c for c in session.execute(select(ReceivedCheque).where(ReceivedCheque.id.in_(sorted(ids)))
                                              .order_by(ReceivedCheque.id).with_for_update()).scalars()}
    on, slip = data.get("on_date") or _now().date(), new_id()
    for i, cheque_id in enumerate(ids):
        cheque = found.get(cheque_id)
        if cheque is None:
            raise field_error(f"cheque_ids.{i}", f"no cheque with id {cheque_id}")
        try:
            _apply(session, cheque, "deposited_for_collection", on, {"bank_account_id": data["bank_account_id"],
                                                                     "note": f"deposit slip {slip}"}, actor)
        except Problem as e:
            raise Problem(e.status, e.title, f"cheque {cheque.number}: {e.detail}", e.type,
                          errors=[{"field": f"cheque_ids.{i}", "message": e.detail or e.title}]) from None
        cheque.deposit_slip_id = slip
    session.flush()
    return get_deposit_slip(session, slip)


def get_deposit_slip(session: Session, slip_id) -> dict:
    cheques = list(session.execute(select(ReceivedCheque).where(ReceivedCheque.deposit_slip_id == str(slip_id))
                                   .order_by(ReceivedCheque.cheque_date, ReceivedCheque.number)).scalars())
    if not cheques:
        raise NotFound("deposit slip", slip_id)
    bank = session.get(BankAccount, cheques[0].bank_account_id)
    on = session.execute(select(func.min(ChequeTransition.on_date)).where(
        ChequeTransition.cheque_id == cheques[0].id, ChequeTransition.to_state == "deposited_for_collection")
    ).scalar_one()
    return {"id": str(slip_id), "bank_account_id": bank.id, "bank_account_name": bank.name, "iban": bank.iban,
            "currency": cheques[0].currency, "on_date": on, "count": len(cheques),
            "total": sum((c.amount for c in cheques), ZERO),
            "cheques": [{"id": c.id, "number": c.number, "drawer": c.drawer, "drawer_bank": c.drawer_bank,
                         "drawer_branch": c.drawer_branch, "cheque_date": c.cheque_date, "amount": c.amount,
                         "state": c.state} for c in cheques]}


def get_cheque(session: Session, cheque_id) -> dict:
    return cheque_view(session, cheque_row(session, cheque_id))


def list_cheques(session: Session, args: dict) -> list[dict]:
    """The portfolio by due date; due_within_days lists what is due soon in the portfolio ("deposit now")."""
    stmt = select(ReceivedCheque)
    if args.get("state"):
        stmt = stmt.where(ReceivedCheque.state == args["state"])
    if args.get("party_id"):
        stmt = stmt.where(ReceivedCheque.party_id == str(args["party_id"]))
    if args.get("due_within_days") is not None:
        stmt = stmt.where(ReceivedCheque.state == "in_portfolio",
                          ReceivedCheque.cheque_date <= _now().date() + timedelta(days=args["due_within_days"]))
    rows = session.execute(stmt.order_by(ReceivedCheque.cheque_date, ReceivedCheque.number).limit(2000)).scalars()
    return [{**row_view(c), "allowed_moves": list(MOVES[c.state])} for c in rows]


def maturity_ladder(session: Session, by: str, currency: str) -> dict:
    """Cheques still to be cashed (in portfolio, at the bank, as collateral) by the week or month they fall due;
    those dated before today are "due"."""
    today = _now().date()
    rows = session.execute(select(ReceivedCheque.cheque_date, ReceivedCheque.state, func.count(),
                                  func.sum(ReceivedCheque.amount))
                           .where(ReceivedCheque.state.in_(OPEN_STATES), ReceivedCheque.currency == currency)
                           .group_by(ReceivedCheque.cheque_date, ReceivedCheque.state)).all()
    buckets: dict[str, dict] = {}
    for day, state, count, total in rows:
        if day <= today:
            key = "due"
        elif by == "month":
            key = f"{day.year}-{day.month:02d}"
        else:
            year, week, _ = day.isocalendar()
            key = f"{year}-W{week:02d}"
        bucket = buckets.setdefault(key, {"period": key, "count": 0, "total": ZERO, "in_portfolio": ZERO,
                                          "deposited_for_collection": ZERO, "given_as_collateral": ZERO,
                                          "re_presented": ZERO})
        bucket["count"] += count
        bucket["total"] += total
        bucket[state] += total
    periods = sorted(buckets.values(), key=lambda b: ("" if b["period"] == "due" else b["period"]))
    return {"by": by, "currency": currency, "as_of": today, "periods": periods,
            "total": sum((b["total"] for b in periods), ZERO)}


def outgoing_ladder(session: Session, by: str, currency: str) -> dict:
    """Our cheques not yet paid by the bank, by the week or month they fall due ("due" for today or before)."""
    today = _now().date()
    rows = session.execute(select(IssuedCheque.due_date, func.count(), func.sum(IssuedCheque.amount))
                           .where(IssuedCheque.state.in_(("issued", "presented")), IssuedCheque.currency == currency)
                           .group_by(IssuedCheque.due_date)).all()
    buckets: dict[str, dict] = {}
    for day, count, total in rows:
        key = "due" if day <= today else (f"{day.year}-{day.month:02d}" if by == "month"
                                          else "{}-W{:02d}".format(*day.isocalendar()[:2]))
        bucket = buckets.setdefault(key, {"period": key, "count": 0, "total": ZERO})
        bucket["count"] += count
        bucket["total"] += total
    periods = sorted(buckets.values(), key=lambda b: ("" if b["period"] == "due" else b["period"]))
    return {"by": by, "currency": currency, "as_of": today, "periods": periods,
            "total": sum((b["total"] for b in periods), ZERO)}
