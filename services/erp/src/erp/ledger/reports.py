"""Financial reports, computed in SQL from journal_lines (GROUP BY and window functions, never a Python loop over
lines): trial balance, profit and loss, balance sheet, general ledger of an account, AR/AP aging, customer and
supplier statements. Every report is as of a date (the end of that day), default today.

Aging rule: a party's settlements (credits on the receivable, debits on the payable) are applied to its open
items oldest due date first (FIFO); what is left of each item is aged by its due date (the entry date when it has
none). A party whose settlements exceed its items shows the excess as `unapplied` (an advance). Credit notes and
reversals therefore settle the oldest item rather than the one they name; open-item matching would need
reconciliation data the ledger does not hold yet.
"""

import base64
from datetime import date
from decimal import Decimal

from servicekit.problems import field_error
from sqlalchemy import case, false, func, literal, select, text, tuple_
from sqlalchemy.orm import Session

from ..parties.models import PartyReplica
from . import posting
from .models import Account, AccountMapping, Journal, JournalEntry, JournalLine

ZERO = Decimal("0")
L = JournalLine


def _money(value) -> Decimal:
    return Decimal(value or 0).quantize(posting.CENT)


def fiscal_year_start(as_of: date) -> date:
    return date(posting.fiscal_year(as_of), 1, 1)


def _check_period(date_from: date | None, date_to: date) -> None:
    if date_from and date_from > date_to:
        raise field_error("date_from", "cannot be after the end of the period")


def account_by_code_or_role(session: Session, name: str, field: str = "account") -> Account:
    if name in posting.ROLES:
        account = session.execute(select(Account).join(AccountMapping, AccountMapping.account_id == Account.id)
                                  .where(AccountMapping.role == name)).scalar_one_or_none()
    else:
        account = session.execute(select(Account).where(Account.code == name)).scalar_one_or_none()
    if account is None:
        raise field_error(field, f"no account {name!r}")
    return account


# -- trial balance -------------------------------------------------------------------------------

def trial_balance(session: Session, as_of: date) -> dict:
    """Per account: total debits, total credits and the balance up to `as_of`; the totals are equal."""
    sums = (select(L.account_id, func.sum(L.debit).label("debit"), func.sum(L.credit).label("credit"))
            .where(L.entry_date <= as_of).group_by(L.account_id).subquery())
    rows = session.execute(select(Account.code, Account.name, Account.type, sums.c.debit, sums.c.credit)
                           .join(sums, sums.c.account_id == Account.id).order_by(Account.code)).all()
    lines = []
    for r in rows:
        balance = _money(r.debit) - _money(r.credit)
        lines.append({"account": r.code, "name": r.name, "type": r.type, "debit": _money(r.debit),
                      "credit": _money(r.credit), "balance": balance, "debit_balance": max(balance, ZERO),
                      "credit_balance": max(-balance, ZERO)})
    totals = {k: sum((line[k] for line in lines), ZERO) for k in ("debit", "credit", "debit_balance",
                                                                  "credit_balance")}
    return {"as_of": as_of, "lines": lines, "totals": totals,
            "balanced": totals["debit"] == totals["credit"] and totals["debit_balance"] == totals["credit_balance"]}


# -- profit and loss -----------------------------------------------------------------------------

def profit_and_loss(session: Session, date_from: date | None, as_of: date) -> dict:
    """Income and expense accounts over a period (default: the fiscal year up to `as_of`); result = income -
    expense."""
    date_from = date_from or fiscal_year_start(as_of)
    _check_period(date_from, as_of)
    sums = (select(L.account_id, func.sum(L.debit - L.credit).label("net"))
            .where(L.entry_date.between(date_from, as_of)).group_by(L.account_id).subquery())
    rows = session.execute(select(Account.code, Account.name, Account.type, sums.c.net)
                           .join(sums, sums.c.account_id == Account.id)
                           .where(Account.type.in_(("income", "expense"))).order_by(Account.code)).all()
    income = [{"account": r.code, "name": r.name, "amount": -_money(r.net)} for r in rows if r.type == "income"]
    expense = [{"account": r.code, "name": r.name, "amount": _money(r.net)} for r in rows if r.type == "expense"]
    total_income = sum((i["amount"] for i in income), ZERO)
    total_expense = sum((e["amount"] for e in expense), ZERO)
    return {"date_from": date_from, "as_of": as_of, "income": income, "expense": expense,
            "total_income": total_income, "total_expense": total_expense, "result": total_income - total_expense}


# -- balance sheet -------------------------------------------------------------------------------

def balance_sheet(session: Session, as_of: date) -> dict:
    """Assets = liabilities + equity, where equity includes the result of the current fiscal year and the results
    of earlier years not yet closed into retained earnings (both computed from income and expense accounts)."""
    start = fiscal_year_start(as_of)
    sums = (select(L.account_id, func.sum(L.debit - L.credit).label("net"),
                   func.sum(case((L.entry_date >= start, L.debit - L.credit), else_=0)).label("this_year"))
            .where(L.entry_date <= as_of).group_by(L.account_id).subquery())
    rows = session.execute(select(Account.code, Account.name, Account.type, sums.c.net, sums.c.this_year)
                           .join(sums, sums.c.account_id == Account.id).order_by(Account.code)).all()
    sections = {"asset": [], "liability": [], "equity": []}
    result_this_year = result_before = ZERO
    for r in rows:
        net = _money(r.net)
        if r.type in ("income", "expense"):
            result_this_year -= _money(r.this_year)
            result_before -= net - _money(r.this_year)
        elif net != 0:
            sections[r.type].append({"account": r.code, "name": r.name,
                                     "amount": net if r.type == "asset" else -net})
    if result_before:
        sections["equity"].append({"account": None, "name": "Results of earlier years not yet closed",
                                   "amount": result_before})
    sections["equity"].append({"account": None, "name": "Result of the current fiscal year",
                               "amount": result_this_year})
    total = {k: sum((line["amount"] for line in v), ZERO) for k, v in sections.items()}
    return {"as_of": as_of, "fiscal_year_start": start, "assets": sections["asset"],
            "liabilities": sections["liability"], "equity": sections["equity"], "total_assets": total["asset"],
            "total_liabilities": total["liability"], "total_equity": total["equity"],
            "total_liabilities_and_equity": total["liability"] + total["equity"],
            "current_year_result": result_this_year,
            "balanced": total["asset"] == total["liability"] + total["equity"]}


# -- general ledger ------------------------------------------------------------------------------

def _running_lines(where, opening: Decimal, sign: int = 1, limit: int | None = None):
    """Lines (by date, then posting order) with their running balance, then their entries' number and journal.
    The window runs over journal_lines in index order, so a page stops reading after its last line."""
    amount = (L.debit - L.credit) if sign > 0 else (L.credit - L.debit)
    inner = (select(L.id, L.entry_id, L.entry_date, L.account_id, L.debit, L.credit, L.party_id, L.description,
                    L.due_date, L.journal_id,
                    (literal(opening) + func.sum(amount).over(order_by=(L.entry_date, L.id))).label("balance"))
             .where(*where).order_by(L.entry_date, L.id))
    if limit is not None:
        inner = inner.limit(limit)
    w = inner.subquery()
    return (select(w.c.entry_date, JournalEntry.number, Journal.code.label("journal"), JournalEntry.reference,
                   Account.code.label("account"), w.c.description, w.c.party_id, w.c.due_date, w.c.debit, w.c.credit,
                   w.c.balance, w.c.entry_id, w.c.id)
            .join(JournalEntry, JournalEntry.id == w.c.entry_id).join(Journal, Journal.id == w.c.journal_id)
            .join(Account, Account.id == w.c.account_id).order_by(w.c.entry_date, w.c.id))


def _line_dict(r) -> dict:
    return {"entry_date": r.entry_date, "number": r.number, "journal": r.journal, "reference": r.reference,
            "account": r.account, "description": r.description, "party_id": r.party_id, "due_date": r.due_date,
            "debit": _money(r.debit), "credit": _money(r.credit), "balance": _money(r.balance),
            "entry_id": r.entry_id}


def line_cursor(entry_date: date, line_id: int) -> str:
    """Where a page ends, for the next one: opaque to clients (the date and the line's posting order)."""
    return base64.urlsafe_b64encode(f"{entry_date.isoformat()}|{line_id}".encode()).decode().rstrip("=")


def _after(cursor: str) -> tuple[date, int]:
    try:
        day, line_id = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().split("|")
        return date.fromisoformat(day), int(line_id)
    except (ValueError, UnicodeDecodeError):
        raise field_error("after", "not a cursor this report gave (next_cursor)") from None


def general_ledger(session: Session, account: str, date_from: date | None, as_of: date, page: int | None = 1,
                   page_size: int = 100, after: str | None = None) -> dict:
    """An account's lines between two dates with the running balance (debit positive), after its opening balance;
    page=None returns every line (exports).

    Keyset paging: a page is the lines after the line before it, in index order, their running balance started
    from the sum of the lines up to that line, which the same index-only scan that totals the period gives.
    `after` (the next_cursor of the page before) names that line; `page` finds it by an index-only OFFSET over
    (date, id). A deep page then costs about what the first one does."""
    _check_period(date_from, as_of)
    acc = account_by_code_or_role(session, account)
    period = [L.account_id == acc.id, L.entry_date <= as_of]
    if date_from:
        period.append(L.entry_date >= date_from)
    opening = _money(session.execute(select(func.sum(L.debit - L.credit)).where(
        L.account_id == acc.id, L.entry_date < date_from)).scalar()) if date_from else ZERO
    cursor = _after(after) if after else None
    past_end = False
    if cursor is None and page and page > 1:  # the line before the page, by an index-only OFFSET over (date, id)
        row = session.execute(select(L.entry_date, L.id).where(*period).order_by(L.entry_date, L.id)
                              .offset((page - 1) * page_size - 1).limit(1)).first()
        cursor, past_end = (tuple(row), False) if row else (None, True)
    before = tuple_(L.entry_date, L.id) <= tuple_(*cursor) if cursor else false()
    agg = session.execute(select(func.count(), func.sum(L.debit), func.sum(L.credit),
                                 func.count().filter(before), func.sum(L.debit - L.credit).filter(before))
                          .where(*period)).one()
    total, debit, credit = agg[0], _money(agg[1]), _money(agg[2])
    if cursor:
        stmt = _running_lines([*period, tuple_(L.entry_date, L.id) > tuple_(*cursor)], opening + _money(agg[4]),
                              limit=page_size)
        page = agg[3] // page_size + 1
    elif page:
        stmt = _running_lines(period, opening, limit=page_size)
    else:
        stmt = _running_lines(period, opening)
    rows = [] if past_end else session.execute(stmt).all()
    shown = (agg[3] if cursor else ((page or 1) - 1) * page_size) + len(rows)
    more = page is not None and rows and shown < total
    return {"account": acc.code, "name": acc.name, "type": acc.type, "date_from": date_from, "as_of": as_of,
            "opening_balance": opening, "total_debit": debit, "total_credit": credit,
            "closing_balance": opening + debit - credit, "items": [_line_dict(r) for r in rows],
            "total": total, "page": page or 1, "page_size": page_size if page else total,
            "pages": -(-total // page_size) if page and total else (1 if total else 0),
            "next_cursor": line_cursor(rows[-1].entry_date, rows[-1].id) if more else None}


# -- aging ---------------------------------------------------------------------------------------

AGING_SQL = """
WITH l AS (
    SELECT party_id, coalesce(due_date, entry_date) AS due, entry_date, id, {item} AS amount, {settle} AS settled
    FROM journal_lines
    WHERE account_id = :account_id AND entry_date <= :as_of AND party_id IS NOT NULL),
p AS (SELECT party_id, sum(amount) AS items, sum(settled) AS settled FROM l GROUP BY party_id),
o AS (SELECT l.party_id, :as_of - l.due AS late,
             GREATEST(0, LEAST(l.amount, sum(l.amount) OVER (PARTITION BY l.party_id ORDER BY l.due, l.entry_date, l.id)
                                         - p.settled)) AS open
      FROM l JOIN p ON p.party_id = l.party_id WHERE l.amount > 0),
b AS (SELECT party_id,
             coalesce(sum(open) FILTER (WHERE late <= 0), 0) AS current,
             coalesce(sum(open) FILTER (WHERE late BETWEEN 1 AND 30), 0) AS days_1_30,
             coalesce(sum(open) FILTER (WHERE late BETWEEN 31 AND 60), 0) AS days_31_60,
             coalesce(sum(open) FILTER (WHERE late BETWEEN 61 AND 90), 0) AS days_61_90,
             coalesce(sum(open) FILTER (WHERE late > 90), 0) AS over_90
      FROM o GROUP BY party_id)
SELECT p.party_id, r.display_name, coalesce(b.current, 0) AS current, coalesce(b.days_1_30, 0) AS days_1_30,
       coalesce(b.days_31_60, 0) AS days_31_60, coalesce(b.days_61_90, 0) AS days_61_90,
       coalesce(b.over_90, 0) AS over_90, GREATEST(0, p.settled - p.items) AS unapplied,
       p.items - p.settled AS balance
FROM p LEFT JOIN b ON b.party_id = p.party_id LEFT JOIN party_replicas r ON r.party_id = p.party_id
WHERE p.items <> p.settled {party_filter}
ORDER BY r.display_name NULLS LAST, p.party_id
"""
AGING_COLUMNS = (*posting.AGING_BUCKETS, "unapplied", "balance")


def aging(session: Session, kind: str, as_of: date, account: str | None = None, party_id=None) -> dict:
    """AR (kind "receivable") or AP ("payable") aging as of a date: each party's open items by days past due."""
    acc = account_by_code_or_role(session, account or kind)
    item, settle = ("debit", "credit") if kind == "receivable" else ("credit", "debit")
    sql = AGING_SQL.format(item=item, settle=settle, party_filter="AND p.party_id = :party_id" if party_id else "")
    params = {"account_id": acc.id, "as_of": as_of, **({"party_id": str(party_id)} if party_id else {})}
    lines = [{"party_id": str(r.party_id), "name": r.display_name, **{k: _money(getattr(r, k)) for k in AGING_COLUMNS}}
             for r in session.execute(text(sql), params)]
    totals = {k: sum((line[k] for line in lines), ZERO) for k in AGING_COLUMNS}
    return {"kind": kind, "account": acc.code, "as_of": as_of, "lines": lines, "totals": totals}


# -- statements ----------------------------------------------------------------------------------

def statement(session: Session, kind: str, party_id, date_from: date | None, as_of: date,
              account: str | None = None) -> dict:
    """A customer's (receivable) or supplier's (payable) lines between two dates with the running balance of what
    they owe us (customer) or we owe them (supplier), after the opening balance."""
    _check_period(date_from, as_of)
    acc = account_by_code_or_role(session, account or kind)
    party_id = str(party_id)
    sign = 1 if kind == "receivable" else -1
    amount = (L.debit - L.credit) if sign > 0 else (L.credit - L.debit)
    where = [L.party_id == party_id, L.account_id == acc.id, L.entry_date <= as_of]
    opening = ZERO
    if date_from:
        opening = _money(session.execute(select(func.sum(amount)).where(
            L.party_id == party_id, L.account_id == acc.id, L.entry_date < date_from)).scalar())
        where.append(L.entry_date >= date_from)
    agg = session.execute(select(func.sum(L.debit), func.sum(L.credit)).where(*where)).one()
    debit, credit = _money(agg[0]), _money(agg[1])
    party = session.get(PartyReplica, party_id)
    return {"kind": "customer" if kind == "receivable" else "supplier", "party_id": party_id,
            "name": party.display_name if party else None, "account": acc.code, "date_from": date_from,
            "as_of": as_of, "opening_balance": opening, "total_debit": debit, "total_credit": credit,
            "closing_balance": opening + sign * (debit - credit),
            "lines": [_line_dict(r) for r in session.execute(_running_lines(where, opening, sign))]}
