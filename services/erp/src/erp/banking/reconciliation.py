"""Use cases of reconciliation: explain a statement line by what is in the books, or by what it creates.

A line is reconciled with any mix of: customer invoices it pays (one payment per customer, recorded and
allocated by the payments service: one-to-many; several lines paying one invoice each make their own payment:
many-to-one; less than the invoice: partial), supplier bills it pays (the same, outwards), ledger lines already on
the account (a payment or movement recorded by hand), amounts booked to an account (a movement: fees, rent, what
a user rule says), and a difference within the account's write-off limit (written off to
reconciliation_writeoff) or, for an overpayment, held as customer credit. The ledger lines on the account that
result must add up to the line's amount exactly; then the line is reconciled, and the customer's IBAN learnt.

Undoing a reconciliation frees the line and its ledger lines; movements it created (write-offs, rule bookings)
are reversed; payments it created stay (the customer did pay): they wait on the book side for the line again.
"""

from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal

from servicekit import audit
from servicekit.etag import check_version
from servicekit.problems import NotFound, Problem, field_error
from shared_events.actors import actor_label
from sqlalchemy import delete, exists, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ..cheques import issued
from ..db import audit_log
from ..invoicing.events import balance_due
from ..invoicing.models import Invoice
from ..invoicing.service import OPEN
from ..ledger.models import JournalLine
from ..money import cents, money_text
from ..payments import service as payments
from ..purchasing.models import SupplierBill
from . import movements
from .accounts import account_row, ledger_account_of
from .models import (
    BankMovement,
    BankPartyIban,
    BankReconciliation,
    BankReconciliationItem,
    BankRule,
    BankStatementLine,
)
from .reconciling_reads import Context, line_row, reconciliation_view

ZERO = Decimal("0.00")


def _now() -> datetime:
    return datetime.now(UTC)


def _left_on(session: Session, doc) -> Decimal:
    if isinstance(doc, Invoice):
        return balance_due(doc) if doc.kind == "invoice" and doc.status in OPEN else ZERO
    return doc.total - payments.bill_paid(session, doc.id) if doc.status == "approved" else ZERO


def _documents(session: Session, items: list[dict], model, field: str, key: str,
               party_of) -> list[tuple[str, str, Decimal]]:
    """(document id, party id, amount) of each invoice or bill named; 422 naming the one not found or the amount
    above what is left to settle on it (nothing is over-allocated)."""
    ids = [str(item[key]) for item in items]
    found = {d.id: d for d in session.execute(select(model).where(model.id.in_(ids))).scalars()} if ids else {}
    out = []
    for i, item in enumerate(items):
        doc = found.get(str(item[key]))
        if doc is None:
            raise field_error(f"{field}.{i}.{key}", f"no {'invoice' if model is Invoice else 'supplier bill'} with "
                              f"id {item[key]}")
        left = _left_on(session, doc)
        if cents(item["amount"]) > left:
            raise field_error(f"{field}.{i}.amount", f"at most {money_text(left)} is left to settle on "
                              f"{doc.number or 'this document'}")
        out.append((doc.id, party_of(doc), cents(item["amount"])))
    return out


def _book_lines(session: Session, ids: list[int], ledger_id: str) -> list[tuple[int, Decimal]]:
    rows = {r.id: r for r in session.execute(select(JournalLine).where(JournalLine.id.in_(ids))).scalars()} \
        if ids else {}
    out = []
    for i, line_id in enumerate(ids):
        row = rows.get(line_id)
        if row is None or row.account_id != ledger_id:
            raise field_error(f"journal_line_ids.{i}", f"no ledger line {line_id} on this account's ledger account")
        if session.execute(select(exists().where(BankReconciliationItem.journal_line_id == line_id))).scalar():
            raise field_error(f"journal_line_ids.{i}", f"ledger line {line_id} is reconciled with another line",
                              status=409, title="Conflict", type_="conflict")
        out.append((line_id, row.debit - row.credit))
    return out


def _our_cheques(session: Session, ids: list[str], account_id: str, money_in: bool) -> list:
    """Our cheques a line of money out pays: written on this account and not paid yet."""
    found = []
    for i, cheque_id in enumerate(ids):
        try:
            cheque = issued.issued_row(session, cheque_id)
        except NotFound:
            raise field_error(f"issued_cheque_ids.{i}", f"no cheque of ours with id {cheque_id}") from None
        if money_in or cheque.bank_account_id != account_id or cheque.state not in ("issued", "presented"):
            raise field_error(f"issued_cheque_ids.{i}", f"cheque {cheque.number} is {cheque.state} on another "
                              "account or not waiting to be paid" if not money_in else "money in pays no cheque "
                              "of ours")
        found.append(cheque)
    return found


def _entry_line(session: Session, entry_id: str, ledger_id: str) -> tuple[int, Decimal]:
    row = session.execute(select(JournalLine).where(JournalLine.entry_id == entry_id,
                                                    JournalLine.account_id == ledger_id)).scalar_one()
    return row.id, row.debit - row.credit


def _pay(session: Session, account, line, direction: str, party_id: str, allocations: list[tuple[str, Decimal]],
         credit: Decimal, field: str, actor) -> dict:
    """A payment through the payments service (no second code path), its refusals named after our field."""
    data = {"direction": direction, "party_id": party_id, "amount": sum((a for _, a in allocations), credit),
            "currency": account.currency, "payment_date": line.booking_date, "method": "bank_transfer",
            "bank_account_id": account.id, "auto_allocate": False,
            "reference": (line.end_to_end_id or line.bank_reference or line.remittance or "statement line")[:200],
            "allocations": [{"document_id": doc, "amount": amount} for doc, amount in allocations]}
    try:
        return payments.record_payment(session, data, actor)
    except Problem as e:
        message = e.errors[0]["message"] if e.errors else e.detail
        raise field_error(field, message, status=e.status) from None


def reconcile(session: Session, line_id, data: dict, actor, rule: str = "manual", score: int = 100,
              explanation: str | None = None) -> dict:
    """Explain a statement line (see the module's docstring); 422 naming what does not add up, nothing changed."""
    line = line_row(session, line_id, lock=True)
    if line.reconciled:
        raise Problem(409, "Already reconciled", "This statement line is reconciled: undo that first.",
                      "already-reconciled")
    account = account_row(session, line.bank_account_id)
    ledger = ledger_account_of(session, account)
    money_in = line.amount > 0
    invoices = _documents(session, data.get("invoices") or [], Invoice, "invoices", "invoice_id",
                          lambda d: d.party_id)
    bills = _documents(session, data.get("bills") or [], SupplierBill, "bills", "bill_id",
                       lambda d: d.supplier_id)
    if invoices and not money_in:
        raise field_error("invoices", "money out of the account pays no customer invoice (use bills)")
    if bills and money_in:
        raise field_error("bills", "money into the account pays no supplier bill (use invoices)")
    existing = _book_lines(session, [int(x) for x in data.get("journal_line_ids") or []], ledger.id)
    cheques = _our_cheques(session, [str(x) for x in data.get("issued_cheque_ids") or []], account.id, money_in)
    account_lines = data.get("account_lines") or []
    sign = 1 if money_in else -1
    covered = (sum((a for *_, a in invoices), ZERO) - sum((a for *_, a in bills), ZERO)
               - sum((c.amount for c in cheques), ZERO)
               + sum((a for _, a in existing), ZERO) + sign * sum((cents(x["amount"]) for x in account_lines), ZERO))
    difference = line.amount - covered
    by_party: dict[str, list[tuple[str, Decimal]]] = defaultdict(list)
    for doc, party, amount in invoices + bills:
        by_party[party].append((doc, amount))
    credit: dict[str, Decimal] = {}
    writeoff = ZERO
    if difference != 0:
        if data.get("hold_as_credit") and money_in and difference > 0 and len(by_party) == 1:
            credit[next(iter(by_party))] = difference
        elif data.get("write_off") and abs(difference) <= account.writeoff_limit:
            writeoff = difference
        else:
            raise field_error("amount", f"the items add up to {money_text(covered)} but the line is "
                              f"{money_text(line.amount)} (a difference of {money_text(difference)}; "
                              f"{account.name} writes off at most {money_text(account.writeoff_limit)})")
    if not (invoices or bills or existing or cheques or account_lines or credit or writeoff):
        raise field_error("invoices", "name what explains the line: invoices, bills, journal_line_ids or "
                          "account_lines")

    items = list(existing)
    payment_ids, movement_ids = [], []
    for party, allocations in by_party.items():
        paid = _pay(session, account, line, "in" if money_in else "out", party, allocations,
                    credit.get(party, ZERO), "invoices" if money_in else "bills", actor)
        payment_ids.append(paid["id"])
        items.append(_entry_line(session, paid["journal_entry_id"], ledger.id))
    for cheque in cheques:
        items.append(_entry_line(session, issued.clear_for_statement(session, cheque.id, line.booking_date, actor),
                                 ledger.id))
    text = (line.remittance or line.counterparty_name or "statement line")[:250]
    for i, booked in enumerate(account_lines):
        try:
            movement = movements.add_movement(session, account, "other_in" if money_in else "other_out", {
                "amount": booked["amount"], "movement_date": line.booking_date, "counter_account": booked["account"],
                "party_id": booked.get("party_id"), "reference": (line.bank_reference or None),
                "description": booked.get("description") or text, "tax_rate": booked.get("tax_rate"),
                "tax_account": booked.get("tax_account")}, actor)
        except Problem as e:
            message = e.errors[0]["message"] if e.errors else e.detail
            named = e.errors[0].get("field") if e.errors else None
            where = named if named in ("tax_rate", "tax_account", "amount") else "account"
            raise field_error(f"account_lines.{i}.{where}", message) from None
        movement_ids.append(movement.id)
        items.append(_entry_line(session, movement.journal_entry_id, ledger.id))
    if writeoff:
        movement = movements.add_movement(session, account, "other_in" if writeoff > 0 else "other_out", {
            "amount": abs(writeoff), "movement_date": line.booking_date, "counter_account": "reconciliation_writeoff",
            "description": f"Difference written off: {text}"[:300]}, actor)
        movement_ids.append(movement.id)
        items.append(_entry_line(session, movement.journal_entry_id, ledger.id))
    if sum((a for _, a in items), ZERO) != line.amount:  # the rule of the whole module: checked, not assumed
        raise Problem(409, "Does not add up", f"The ledger lines add up to {sum((a for _, a in items), ZERO)}, the "
                      f"statement line is {line.amount}.", "conflict")

    rec = BankReconciliation(bank_account_id=account.id, statement_line_id=line.id, rule=rule, score=Decimal(score),
                             explanation=explanation or data.get("note") or "matched by hand",
                             payment_ids=payment_ids or None, movement_ids=movement_ids or None, status="active",
                             created_by=actor_label(actor), created_at=_now(), version=1)
    session.add(rec)
    session.flush()
    session.add_all(BankReconciliationItem(reconciliation_id=rec.id, journal_line_id=jl, amount=amount)
                    for jl, amount in items)
    line.reconciled, line.version = True, line.version + 1
    if line.counterparty_iban and len(by_party) == 1:
        session.execute(insert(BankPartyIban).values(iban=line.counterparty_iban.upper(), party_id=next(iter(by_party)),
                                                     learned_from_line_id=line.id).on_conflict_do_nothing())
    if data.get("learn_rule") and account_lines:
        _learn(session, account, line, account_lines[0], actor)
    session.flush()
    audit.record(session, audit_log, actor, "reconcile", "bank_statement_line", line.id, None,
                 {"reconciliation_id": rec.id, "rule": rule, "items": [jl for jl, _ in items],
                  "payments": payment_ids, "movements": movement_ids})
    return reconciliation_view(session, rec)


def _learn(session: Session, account, line, booked: dict, actor) -> None:
    """A manual booking remembered as a rule: the same counterparty (else the same text), the same direction."""
    name = (line.counterparty_name or "").strip()
    text = None if name else " ".join((line.remittance or "").split()[:3]) or None
    session.add(BankRule(name=f"Learnt from {name or text or 'a statement line'}"[:100], bank_account_id=account.id,
                         counterparty_contains=name or None, text_contains=text,
                         direction="in" if line.amount > 0 else "out", account=booked["account"],
                         tax_rate=booked.get("tax_rate") or None, tax_account=booked.get("tax_account") or None,
                         party_id=str(booked["party_id"]) if booked.get("party_id") else None, active=True,
                         created_by=actor_label(actor), version=1, created_at=_now(), updated_at=_now()))


def undo(session: Session, reconciliation_id, expected_version: int, actor) -> dict:
    """Unreconcile: the line and its ledger lines are free again; movements the reconciliation created are
    reversed, payments stay in the books."""
    rec = session.execute(select(BankReconciliation).where(BankReconciliation.id == str(reconciliation_id))
                          .with_for_update()).scalar_one_or_none()
    if rec is None:
        raise NotFound("reconciliation", reconciliation_id)
    check_version(rec.version, expected_version)
    if rec.status != "active":
        raise Problem(409, "Already undone", "This reconciliation was undone.", "wrong-state",
                      current_state=rec.status)
    line = line_row(session, rec.statement_line_id, lock=True)
    session.execute(delete(BankReconciliationItem).where(BankReconciliationItem.reconciliation_id == rec.id))
    for movement_id in rec.movement_ids or []:
        movement = session.get(BankMovement, movement_id)
        if movement is not None and movement.status == "posted":
            movements.reverse_posted(session, movement, None, "reconciliation undone", actor)
    rec.status, rec.undone_at, rec.undone_by, rec.version = "undone", _now(), actor_label(actor), rec.version + 1
    line.reconciled, line.version = False, line.version + 1
    session.flush()
    audit.record(session, audit_log, actor, "unreconcile", "bank_statement_line", line.id,
                 {"reconciliation_id": rec.id}, None)
    return reconciliation_view(session, rec)


def _proposal_data(proposal, line) -> dict:
    data = {"invoices": [{"invoice_id": item.invoice_id, "amount": amount} for item, amount in proposal.invoices],
            "journal_line_ids": proposal.journal_line_ids, "issued_cheque_ids": proposal.issued_cheque_ids,
            "bills": [{"bill_id": item.invoice_id, "amount": amount} for item, amount in proposal.bills]}
    if proposal.account:
        data["account_lines"] = [{"account": proposal.account, "amount": abs(line.amount),
                                  "party_id": proposal.party_id, "tax_rate": proposal.tax_rate,
                                  "tax_account": proposal.tax_account}]
    if proposal.difference:
        data["write_off" if "written off" in proposal.explanation else "hold_as_credit"] = True
    return data


def auto_reconcile(session: Session, account_id, min_score: int, actor) -> dict:
    """Apply the best proposal of every unreconciled line that scores at least `min_score`; each line in its own
    savepoint, so one that does not work out leaves the others alone. Returns what was matched and why."""
    account = account_row(session, account_id, lock=True)
    context = Context(session, account)
    lines = list(session.execute(select(BankStatementLine).where(
        BankStatementLine.bank_account_id == account.id, BankStatementLine.reconciled.is_(False))
        .order_by(BankStatementLine.booking_date, BankStatementLine.statement_id, BankStatementLine.position))
        .scalars())
    results = []
    for line in lines:
        found = context.propose(line)
        best = found[0] if found else None
        if best is None or best.score < min_score:
            results.append({"line_id": line.id, "amount": line.amount, "matched": False,
                            "rule": best.rule if best else None, "score": best.score if best else None,
                            "explanation": best.explanation if best else "no proposal"})
            continue
        try:
            with session.begin_nested():
                rec = reconcile(session, line.id, _proposal_data(best, line), actor, best.rule, best.score,
                                best.explanation)
        except Problem as e:
            results.append({"line_id": line.id, "amount": line.amount, "matched": False, "rule": best.rule,
                            "score": best.score, "explanation": f"{best.explanation}; not applied: {e.detail}"})
            continue
        context.consumed(best, line)
        results.append({"line_id": line.id, "amount": line.amount, "matched": True, "rule": best.rule,
                        "score": best.score, "explanation": best.explanation, "reconciliation_id": rec["id"]})
    matched = sum(1 for r in results if r["matched"])
    return {"bank_account_id": account.id, "lines": len(results), "matched": matched,
            "left": len(results) - matched, "results": results}
