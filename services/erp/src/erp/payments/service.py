"""Use cases of payments: record a customer receipt or a supplier payment, allocate it to invoices or bills
(explicitly, or oldest due first), hold what is left as credit and apply it later, follow a cheque until it clears
or bounces. Each takes a session and the acting user, writes the audit trail, books the journal entry and adds
the payment's state to the outbox (erp.payment.v1); none commits.
"""

from datetime import UTC, date, datetime
from decimal import Decimal

from servicekit import audit
from servicekit.db import row_view
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error
from shared_events.actors import actor_label
from shared_events.outbox import record_event
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..credit import service as credit
from ..db import audit_log, outbox
from ..invoicing import service as invoicing
from ..invoicing.events import balance_due
from ..invoicing.models import Invoice
from ..money import cents, money_text
from ..numbering import take_number
from ..parties.models import PartyReplica
from ..purchasing.models import SupplierBill
from . import events, postings
from .balances import party_balance
from .models import BankAccount, Payment, PaymentAllocation

ZERO = Decimal("0.00")
CHEQUE_MOVES = {"deposited": ("received",), "cleared": ("deposited",), "bounced": ("received", "deposited")}


def _now() -> datetime:
    return datetime.now(UTC)


# -- bank accounts --------------------------------------------------------------------------------

def create_bank_account(session: Session, data: dict, actor) -> dict:
    name = data["name"].strip()
    if session.execute(select(BankAccount.id).where(func.lower(BankAccount.name) == name.lower())).first():
        raise Problem(409, "Bank account exists", f"A bank account named {name!r} exists.", "conflict",
                      errors=[{"field": "name", "message": "already used"}])
    account = BankAccount(name=name, iban=(data.get("iban") or "").replace(" ", "").upper() or None,
                          currency=data.get("currency") or "EUR", ledger_account=data.get("ledger_account") or "bank",
                          active=True, version=1)
    session.add(account)
    session.flush()
    audit.record(session, audit_log, actor, "create", "bank_account", account.id, None,
                 {k: getattr(account, k) for k in ("name", "iban", "currency", "ledger_account")})
    return row_view(account)


def list_bank_accounts(session: Session) -> list[dict]:
    return [row_view(a) for a in session.execute(select(BankAccount).order_by(func.lower(BankAccount.name))).scalars()]


# -- reading --------------------------------------------------------------------------------------

def payment_row(session: Session, payment_id, lock: bool = False) -> Payment:
    stmt = select(Payment).where(Payment.id == str(payment_id))
    payment = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if payment is None:
        raise NotFound("payment", payment_id)
    return payment


def allocations_of(session: Session, payment: Payment) -> list[dict]:
    """The allocations still in force, oldest first, with the document's number."""
    rows = session.execute(
        select(PaymentAllocation, Invoice.number, SupplierBill.number)
        .outerjoin(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .outerjoin(SupplierBill, SupplierBill.id == PaymentAllocation.bill_id)
        .where(PaymentAllocation.payment_id == payment.id, PaymentAllocation.reversed_at.is_(None))
        .order_by(PaymentAllocation.created_at, PaymentAllocation.id)).all()
    return [{"id": a.id, "document_id": a.invoice_id or a.bill_id, "document_type": "invoice" if a.invoice_id
             else "supplier_bill", "document_number": inv_no or bill_no, "amount": a.amount,
             "allocated_on": a.allocated_on} for a, inv_no, bill_no in rows]


def payment_view(session: Session, payment: Payment) -> dict:
    view = row_view(payment)
    view["unallocated"] = payment.amount - payment.allocated if payment.status == "posted" else ZERO
    view["allocations"] = allocations_of(session, payment)
    party = session.get(PartyReplica, payment.party_id)
    view["party"] = {"id": payment.party_id, "display_name": party.display_name if party else None}
    return view


def get_payment(session: Session, payment_id) -> dict:
    return payment_view(session, payment_row(session, payment_id))


SORTABLE = {"number": Payment.number, "payment_date": Payment.payment_date, "amount": Payment.amount,
            "created_at": Payment.created_at}


def list_payments(session: Session, args: dict) -> dict:
    stmt = select(Payment)
    for key in ("party_id", "bank_account_id"):
        if args.get(key):
            stmt = stmt.where(getattr(Payment, key) == str(args[key]))
    for key in ("direction", "method", "status", "cheque_status"):
        if args.get(key):
            stmt = stmt.where(getattr(Payment, key) == args[key])
    if args.get("with_credit"):
        stmt = stmt.where(Payment.status == "posted", Payment.allocated < Payment.amount)
    if args.get("date_from"):
        stmt = stmt.where(Payment.payment_date >= args["date_from"])
    if args.get("date_to"):
        stmt = stmt.where(Payment.payment_date <= args["date_to"])
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE, [Payment.payment_date.desc(), Payment.number.desc()])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [payment_view(session, p) for p in page["items"]]
    return page


def _audit_state(payment: Payment) -> dict:
    return {k: getattr(payment, k) for k in ("number", "direction", "party_id", "amount", "allocated", "currency",
                                             "payment_date", "method", "bank_account_id", "reference", "status",
                                             "cheque_number", "cheque_bank", "cheque_status", "bounce_reason")}


def _publish(session: Session, verb: str, payment: Payment, actor) -> None:
    session.flush()
    balance = party_balance(session, payment.party_id, payment.currency)
    record_event(session, outbox, events.payment_event(verb, payment, allocations_of(session, payment), balance,
                                                       actor), "payment")
    if payment.direction == "in":
        credit.refresh(session, payment.party_id, actor)


def _touch(payment: Payment) -> None:
    payment.version += 1
    payment.updated_at = _now()


# -- allocation -----------------------------------------------------------------------------------

def _lock_bills(session: Session, bill_ids: list[str]) -> dict[str, SupplierBill]:
    if not bill_ids:
        return {}
    found = session.execute(select(SupplierBill).where(SupplierBill.id.in_(sorted(set(bill_ids))))
                            .order_by(SupplierBill.id).with_for_update()).scalars()
    return {b.id: b for b in found}


def bill_paid(session: Session, bill_id: str) -> Decimal:
    return session.execute(select(func.coalesce(func.sum(PaymentAllocation.amount), 0)).where(
        PaymentAllocation.bill_id == bill_id, PaymentAllocation.reversed_at.is_(None))).scalar_one()


def _open_documents(session: Session, payment: Payment) -> list[tuple[object, Decimal]]:
    """The party's documents with something left to settle, oldest due first, locked."""
    if payment.direction == "in":
        return [(inv, balance_due(inv)) for inv in invoicing.open_invoices(session, payment.party_id,
                                                                           payment.currency)]
    ids = session.execute(select(SupplierBill.id).where(
        SupplierBill.supplier_id == payment.party_id, SupplierBill.status == "approved",
        SupplierBill.currency == payment.currency)).scalars()
    bills = sorted(_lock_bills(session, list(ids)).values(), key=lambda b: (b.due_date, b.bill_date, b.seq))
    return [(b, b.total - bill_paid(session, b.id)) for b in bills if b.total > bill_paid(session, b.id)]


def _explicit_documents(session: Session, payment: Payment, items: list[dict]) -> list[tuple[object, Decimal]]:
    ids = [str(item["document_id"]) for item in items]
    if len(set(ids)) != len(ids):
        raise field_error("allocations", "a document appears twice")
    found = (invoicing.lock_invoices(session, ids) if payment.direction == "in" else _lock_bills(session, ids))
    plan = []
    for i, item in enumerate(items):
        doc, field = found.get(str(item["document_id"])), f"allocations.{i}.document_id"
        if payment.direction == "in":
            if doc is None or doc.kind != "invoice":
                raise field_error(field, f"no customer invoice with id {item['document_id']}")
            if doc.status not in invoicing.OPEN:
                raise field_error(field, f"invoice {doc.number or '(draft)'} is {doc.status}: nothing to pay on it")
            party, left = doc.party_id, balance_due(doc)
        else:
            if doc is None:
                raise field_error(field, f"no supplier bill with id {item['document_id']}")
            if doc.status != "approved":
                raise field_error(field, f"bill {doc.number} is {doc.status}: only approved bills are paid")
            party, left = doc.supplier_id, doc.total - bill_paid(session, doc.id)
        if party != payment.party_id:
            raise field_error(field, f"{getattr(doc, 'number', None)} belongs to another party")
        if doc.currency != payment.currency:
            raise field_error(field, f"{doc.number} is in {doc.currency}, the payment in {payment.currency}")
        if cents(item["amount"]) > left:
            raise field_error(f"allocations.{i}.amount",
                              f"at most {money_text(left)} is left to settle on {doc.number}")
        plan.append((doc, cents(item["amount"])))
    return plan


def _allocate(session: Session, payment: Payment, items: list[dict] | None, actor, on: date
              ) -> list[PaymentAllocation]:
    """Settle documents with the payment's unallocated part: the given allocations, or oldest due first."""
    available = payment.amount - payment.allocated
    if items:
        plan = _explicit_documents(session, payment, items)
        wanted = sum((amount for _, amount in plan), ZERO)
        if wanted > available:
            raise field_error("allocations", f"the allocations add up to {money_text(wanted)} but only "
                              f"{money_text(available)} of "
                              f"{payment.number} is unallocated")
    else:
        plan, left = [], available
        for doc, open_amount in _open_documents(session, payment):
            if left <= 0:
                break
            take = min(open_amount, left)
            plan.append((doc, take))
            left -= take
    made = []
    for doc, amount in plan:
        is_invoice = payment.direction == "in"
        made.append(PaymentAllocation(payment_id=payment.id, invoice_id=doc.id if is_invoice else None,
                                      bill_id=None if is_invoice else doc.id, amount=amount, allocated_on=on,
                                      created_by=actor_label(actor), created_at=_now()))  # keeps their order
        session.add(made[-1])
        if is_invoice:
            invoicing.record_payment(session, doc, amount, actor)
        payment.allocated += amount
    session.flush()
    return made


# -- recording, allocating, cheques ---------------------------------------------------------------

def _money_account(session: Session, data: dict, currency: str) -> tuple[str | None, str]:
    """The bank account named (active, same currency) and the ledger account the money goes through."""
    if data.get("bank_account_id"):
        bank = session.get(BankAccount, str(data["bank_account_id"]))
        if bank is None or not bank.active:
            raise field_error("bank_account_id", f"no active bank account with id {data['bank_account_id']}")
        if bank.kind == "cheques" and not data.get("through_cheque_portfolio"):
            # only the cheques module moves money in and out of the portfolio, with a cheque row for each
            raise field_error("bank_account_id", f"{bank.name} holds cheques: receive one with POST /cheques")
        if bank.currency != currency:
            raise field_error("bank_account_id", f"{bank.name} is in {bank.currency}, the payment in {currency}")
        return bank.id, bank.ledger_account
    if data.get("method") == "cash":
        return None, "cash"
    raise field_error("bank_account_id", "required (which bank account received or paid it), except for cash")


# counters of receipts and supplier payments per year, beside the invoice series (a '#' no invoice series has)
NUMBER_SERIES = {"in": ("#RC", "RC"), "out": ("#PM", "PM")}


def _take_number(session: Session, direction: str, on: date) -> str:
    """The next receipt (RC) or payment (PM) number of the year, from a counter row locked until the transaction
    ends: consecutive without gaps, and a refused payment (a rollback) gives its number back."""
    return take_number(session, *NUMBER_SERIES[direction], on)


def record_payment(session: Session, data: dict, actor) -> dict:
    """A customer receipt (direction in) or a supplier payment (out), allocated at once to the documents given or,
    without allocations, oldest due first (auto_allocate false keeps it all as credit); what is left is held."""
    party = session.get(PartyReplica, str(data["party_id"]))
    if party is None:
        raise field_error("party_id", f"no party with id {data['party_id']} (parties are created in the CRM)")
    method = data.get("method") or "bank_transfer"
    currency = data.get("currency") or "EUR"
    bank_account_id, money_account = _money_account(session, {**data, "method": method}, currency)
    if method == "cheque" and not (data.get("cheque_number") or "").strip():
        raise field_error("cheque_number", "required for a cheque")
    direction = data["direction"]
    payment_date = data.get("payment_date") or _now().date()
    payment = Payment(
        number=_take_number(session, direction, payment_date), direction=direction, party_id=party.party_id,
        amount=cents(data["amount"]), allocated=ZERO, currency=currency, payment_date=payment_date, method=method,
        bank_account_id=bank_account_id, reference=data.get("reference"), status="posted",
        cheque_number=(data.get("cheque_number") or "").strip() or None if method == "cheque" else None,
        cheque_bank=data.get("cheque_bank") if method == "cheque" else None,
        cheque_status="received" if method == "cheque" else None, created_by=actor_label(actor), version=1,
        created_at=_now(), updated_at=_now())
    session.add(payment)
    session.flush()
    if data.get("allocations") or data.get("auto_allocate", True):
        _allocate(session, payment, data.get("allocations"), actor, payment_date)
    allocated = payment.allocated
    payment.journal_entry_id = postings.post(
        session, payment, postings.payment_posting_lines(payment, money_account, allocated), payment_date, actor,
        f"{'Receipt from' if direction == 'in' else 'Payment to'} {party.display_name}")
    session.flush()
    audit.record(session, audit_log, actor, "create", "payment", payment.id, None, _audit_state(payment))
    _publish(session, "received" if direction == "in" else "made", payment, actor)
    return payment_view(session, payment)


def allocate_payment(session: Session, payment_id, data: dict, actor) -> dict:
    """Apply a payment's held credit to documents (given, or oldest due first)."""
    payment = payment_row(session, payment_id, lock=True)
    if payment.status != "posted":
        raise Problem(409, "Wrong state", f"Payment {payment.number} is {payment.status}: it holds no credit.",
                      "wrong-state", current_state=payment.status)
    if payment.allocated >= payment.amount:
        raise Problem(409, "Nothing to allocate", f"Payment {payment.number} is fully allocated.",
                      "nothing-to-allocate")
    before = _audit_state(payment)
    on = data.get("allocation_date") or _now().date()
    made = _allocate(session, payment, data.get("allocations"), actor, on)
    if not made:
        raise Problem(409, "Nothing to allocate", f"{payment.number}: the party has no open document to settle.",
                      "nothing-to-allocate")
    amount = sum((a.amount for a in made), ZERO)
    entry_id = postings.post(session, payment, postings.held_credit_lines(payment, amount), on, actor,
                             f"{payment.number}: held credit applied", purpose=f"allocation:{made[0].id}")
    for a in made:
        a.journal_entry_id = entry_id
    _touch(payment)
    session.flush()
    audit.record(session, audit_log, actor, "allocate", "payment", payment.id, before, _audit_state(payment))
    _publish(session, "allocated", payment, actor)
    return payment_view(session, payment)


def move_cheque(session: Session, payment_id, status: str, reason: str | None, actor) -> dict:
    """received -> deposited -> cleared, or bounced from received or deposited: a bounced cheque reverses its
    payment (allocations taken back from the invoices, journal entries reversed)."""
    payment = payment_row(session, payment_id, lock=True)
    if payment.method != "cheque":
        raise Problem(409, "Not a cheque", f"Payment {payment.number} was made by {payment.method}.", "wrong-state")
    allowed = CHEQUE_MOVES[status]
    if payment.cheque_status not in allowed:
        raise Problem(409, "Wrong state", f"Cheque of {payment.number} is {payment.cheque_status}; it can become "
                      f"{status} only when {' or '.join(allowed)}.", "wrong-state",
                      current_state=payment.cheque_status, allowed_states=list(allowed))
    before = _audit_state(payment)
    payment.cheque_status = status
    if status == "bounced":
        if not (reason or "").strip():
            raise field_error("reason", "say why the cheque bounced")
        _bounce(session, payment, reason.strip(), actor)
    _touch(payment)
    session.flush()
    audit.record(session, audit_log, actor, f"cheque_{status}", "payment", payment.id, before, _audit_state(payment))
    # not "received" again: that announces new money (the CRM notes it on the timeline); this is the same payment
    _publish(session, "allocated", payment, actor)
    return payment_view(session, payment)


def _bounce(session: Session, payment: Payment, reason: str, actor) -> None:
    today = _now().date()
    active = list(session.execute(select(PaymentAllocation).where(
        PaymentAllocation.payment_id == payment.id, PaymentAllocation.reversed_at.is_(None))
        .order_by(PaymentAllocation.id)).scalars())
    invoices = invoicing.lock_invoices(session, [a.invoice_id for a in active if a.invoice_id])
    for a in active:
        a.reversed_at = _now()
        if a.invoice_id:
            invoicing.record_payment(session, invoices[a.invoice_id], -a.amount, actor)
        postings.reverse(session, a.journal_entry_id, max(today, a.allocated_on),
                         f"cheque {payment.cheque_number} bounced", actor)
    # a reversal is never dated before the entry it reverses (a cheque may be dated ahead)
    postings.reverse(session, payment.journal_entry_id, max(today, payment.payment_date),
                     f"cheque {payment.cheque_number} bounced: {reason}", actor)
    payment.status, payment.allocated = "bounced", ZERO
    payment.bounced_at, payment.bounce_reason = _now(), reason
