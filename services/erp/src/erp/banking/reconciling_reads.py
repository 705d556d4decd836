"""What reconciliation reads: the open invoices, the unreconciled ledger lines of an account, the user's rules and
the IBANs known of parties (the matching context); the proposals for a line; the reconciliation report (book
balance against statement balance, with what is unreconciled on each side)."""

from datetime import UTC, date, datetime
from decimal import Decimal

from servicekit.db import row_view
from servicekit.problems import NotFound
from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..cheques import issued
from ..invoicing.models import Invoice
from ..invoicing.service import OPEN
from ..ledger.models import JournalEntry, JournalLine
from ..money import cents
from ..parties.models import PartyReplica
from ..payments.models import BankAccount, PaymentAllocation
from ..purchasing.models import SupplierBill
from . import matching
from .accounts import account_row, balance_of, ledger_account_of
from .models import (
    BankPartyIban,
    BankReconciliation,
    BankReconciliationItem,
    BankRule,
    BankStatement,
    BankStatementLine,
)

ZERO = Decimal("0.00")


def line_row(session: Session, line_id, lock: bool = False) -> BankStatementLine:
    stmt = select(BankStatementLine).where(BankStatementLine.id == str(line_id))
    line = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if line is None:
        raise NotFound("statement line", line_id)
    return line


def texts_of(line: BankStatementLine) -> tuple[str, ...]:
    texts = [line.structured_reference, line.remittance, line.end_to_end_id]
    for detail in line.details or []:
        texts += [detail.get("structured_reference"), detail.get("remittance")]
    return tuple(t for t in texts if t)


def as_matching_line(line: BankStatementLine) -> matching.Line:
    return matching.Line(amount=line.amount, booking_date=line.booking_date, counterparty_name=line.counterparty_name,
                         counterparty_iban=line.counterparty_iban, texts=texts_of(line))


def open_items(session: Session, currency: str) -> list[matching.OpenItem]:
    rows = session.execute(
        select(Invoice.id, Invoice.number, Invoice.party_id, PartyReplica.display_name, PartyReplica.legal_name,
               Invoice.customer_name, Invoice.gross_total - Invoice.amount_paid - Invoice.amount_credited,
               Invoice.due_date, Invoice.issue_date)
        .outerjoin(PartyReplica, PartyReplica.party_id == Invoice.party_id)
        .where(Invoice.kind == "invoice", Invoice.status.in_(OPEN), Invoice.currency == currency)).all()
    return [matching.OpenItem(invoice_id=r[0], number=r[1] or "", party_id=r[2],
                              party_name=r[4] or r[3] or r[5] or "", open_amount=cents(r[6]),
                              due_date=r[7] or r[8] or date.today()) for r in rows if r[6] > 0]


def open_bills(session: Session, currency: str) -> list[matching.OpenItem]:
    """Approved supplier bills with something left to pay, as matching sees them (money out)."""
    paid = (select(PaymentAllocation.bill_id, func.sum(PaymentAllocation.amount).label("paid"))
            .where(PaymentAllocation.reversed_at.is_(None), PaymentAllocation.bill_id.is_not(None))
            .group_by(PaymentAllocation.bill_id).subquery())
    rows = session.execute(
        select(SupplierBill.id, SupplierBill.number, SupplierBill.supplier_invoice_number, SupplierBill.supplier_id,
               PartyReplica.display_name, SupplierBill.total - func.coalesce(paid.c.paid, 0), SupplierBill.due_date)
        .outerjoin(paid, paid.c.bill_id == SupplierBill.id)
        .outerjoin(PartyReplica, PartyReplica.party_id == SupplierBill.supplier_id)
        .where(SupplierBill.status == "approved", SupplierBill.currency == currency)).all()
    return [matching.OpenItem(invoice_id=r[0], number=r[1], party_id=r[3], party_name=r[4] or "",
                              open_amount=cents(r[5]), due_date=r[6], alt_number=r[2] or "") for r in rows if r[5] > 0]


def _self_cancelling():
    """Entries that cancel out and explain no bank line: a reversal, or an entry that was reversed."""
    reversal = aliased(JournalEntry)
    return or_(JournalEntry.reversal_of_id.is_not(None),
               exists().where(reversal.reversal_of_id == JournalEntry.id))


def unreconciled_book_lines(session: Session, account: BankAccount, as_of: date | None = None) -> list[dict]:
    """The account's ledger lines no statement line explains yet (not its opening balance, nor entries that a
    reversal cancelled)."""
    ledger = ledger_account_of(session, account)
    stmt = (select(JournalLine.id, JournalLine.entry_date, JournalLine.debit - JournalLine.credit,
                   JournalEntry.reference, JournalLine.description, JournalEntry.source_type, JournalEntry.source_id)
            .join(JournalEntry, JournalEntry.id == JournalLine.entry_id)
            .where(JournalLine.account_id == ledger.id,
                   ~exists().where(BankReconciliationItem.journal_line_id == JournalLine.id),
                   ~and_(JournalEntry.source_type == "bank_account", JournalEntry.purpose == "opening"),
                   ~_self_cancelling()))
    if as_of:
        stmt = stmt.where(JournalLine.entry_date <= as_of)
    return [{"journal_line_id": r[0], "date": r[1], "amount": cents(r[2]), "reference": r[3], "description": r[4],
             "source_type": r[5], "source_id": r[6]} for r in session.execute(stmt.order_by(JournalLine.entry_date,
                                                                                           JournalLine.id))]


def rules_for(session: Session, account: BankAccount) -> list[matching.Rule]:
    rows = session.execute(select(BankRule).where(BankRule.active.is_(True), or_(
        BankRule.bank_account_id.is_(None), BankRule.bank_account_id == account.id)).order_by(BankRule.created_at))
    return [matching.Rule(id=r.id, name=r.name, account=r.account, party_id=r.party_id, text_contains=r.text_contains,
                          counterparty_contains=r.counterparty_contains, counterparty_iban=r.counterparty_iban,
                          direction=r.direction, amount_min=r.amount_min, amount_max=r.amount_max,
                          tax_rate=r.tax_rate, tax_account=r.tax_account)
            for r in rows.scalars()]


def party_ibans(session: Session) -> dict[str, str]:
    return dict(session.execute(select(BankPartyIban.iban, BankPartyIban.party_id)).all())


class Context:
    """Everything matching needs about an account, read once for a run over many lines."""

    def __init__(self, session: Session, account: BankAccount):
        self.account = account
        self.open_items = matching.OpenItems(open_items(session, account.currency))
        self.book = [matching.BookItem(b["journal_line_id"], b["amount"], b["date"],
                                       f"{b['source_type']} {b['reference'] or ''}".strip())
                     for b in unreconciled_book_lines(session, account)]
        self.rules = rules_for(session, account)
        self.ibans = party_ibans(session)
        self.issued = [matching.IssuedItem(c.id, c.number, c.amount) for c in issued.outstanding(session, account.id)]
        self.bills = matching.OpenItems(open_bills(session, account.currency))

    def propose(self, line: BankStatementLine) -> list[matching.Proposal]:
        return matching.propose(as_matching_line(line), self.open_items, self.book, self.rules, self.ibans,
                                self.account.writeoff_limit, self.issued, self.bills)

    def consumed(self, proposal: matching.Proposal, line: BankStatementLine) -> None:
        """Forget what an applied proposal used up, so the next lines are matched against what is left, and know
        the IBAN the line came from (or went to) as its party's, as the reconciliation just learnt it."""
        if line.counterparty_iban and proposal.party_id and (proposal.invoices or proposal.bills):
            self.ibans.setdefault(line.counterparty_iban.upper(), proposal.party_id)
        for item, amount in proposal.invoices:
            self.open_items.take(item.invoice_id, amount)
        for item, amount in proposal.bills:
            self.bills.take(item.invoice_id, amount)
        used = set(proposal.journal_line_ids)
        self.book = [b for b in self.book if b.journal_line_id not in used]
        self.issued = [c for c in self.issued if c.cheque_id not in proposal.issued_cheque_ids]


def proposals(session: Session, line_id) -> dict:
    line = line_row(session, line_id)
    account = account_row(session, line.bank_account_id)
    found = [] if line.reconciled else Context(session, account).propose(line)
    return {"line": row_view(line), "proposals": [p.as_dict() for p in found]}


def reconciliation_view(session: Session, rec: BankReconciliation) -> dict:
    view = row_view(rec)
    view["items"] = [{"journal_line_id": i.journal_line_id, "amount": i.amount} for i in session.execute(
        select(BankReconciliationItem).where(BankReconciliationItem.reconciliation_id == rec.id)
        .order_by(BankReconciliationItem.journal_line_id)).scalars()]
    return view


def get_reconciliation(session: Session, reconciliation_id) -> dict:
    rec = session.get(BankReconciliation, str(reconciliation_id))
    if rec is None:
        raise NotFound("reconciliation", reconciliation_id)
    return reconciliation_view(session, rec)


def report(session: Session, account_id, as_of: date | None) -> dict:
    """Book balance against the statement balance on a day, and what explains the difference: the lines still
    unreconciled on each side (and, if any, a difference between the account's opening balance and the first
    statement's)."""
    account = account_row(session, account_id)
    statements = select(BankStatement).where(BankStatement.bank_account_id == account.id)
    if as_of:
        statements = statements.where(or_(BankStatement.to_date.is_(None), BankStatement.to_date <= as_of))
    last = session.execute(statements.order_by(BankStatement.created_at.desc()).limit(1)).scalar_one_or_none()
    first = session.execute(select(BankStatement).where(BankStatement.bank_account_id == account.id)
                            .order_by(BankStatement.created_at).limit(1)).scalar_one_or_none()
    as_of = as_of or (last.to_date if last and last.to_date else datetime.now(UTC).date())
    book_balance = balance_of(session, account, as_of)
    statement_balance = last.closing_balance if last else account.opening_balance
    book_items = unreconciled_book_lines(session, account, as_of)
    lines = [row_view(x) for x in session.execute(select(BankStatementLine).where(
        BankStatementLine.bank_account_id == account.id, BankStatementLine.reconciled.is_(False),
        BankStatementLine.booking_date <= as_of).order_by(BankStatementLine.booking_date,
                                                          BankStatementLine.position)).scalars()]
    book_total = sum((b["amount"] for b in book_items), ZERO)
    statement_total = sum((x["amount"] for x in lines), ZERO)
    opening_difference = account.opening_balance - first.opening_balance if first else ZERO
    counts = session.execute(select(func.count(), func.count().filter(BankStatementLine.reconciled)).where(
        BankStatementLine.bank_account_id == account.id)).one()
    return {"bank_account_id": account.id, "name": account.name, "currency": account.currency, "as_of": as_of,
            "book_balance": book_balance, "statement_balance": statement_balance,
            "difference": book_balance - statement_balance, "opening_difference": opening_difference,
            "unreconciled_book_total": book_total, "unreconciled_statement_total": statement_total,
            "explained": book_balance - statement_balance == opening_difference + book_total - statement_total,
            "statement_lines": counts[0], "reconciled_lines": counts[1],
            "unreconciled_book_items": book_items, "unreconciled_statement_lines": lines}
