"""The posted journal in hledger's journal format, so an independent program can check the books.

Each posted entry, in the order of the hash chain: its date, `(number)`, reference and memo; one posting per line
with the account as "code name" (hledger's own separator, the colon, replaced) and the amount in the ledger's
currency, debits positive and credits negative. `hledger -f FILE bal` then gives every account's balance.
"""

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Account, JournalEntry, JournalLine, LedgerSettings

BATCH = 500


def _clean(text: str | None) -> str:
    return " ".join((text or "").replace(";", ",").split())


def account_name(code: str, name: str) -> str:
    return _clean(f"{code} {name}").replace(":", "-")


def _amount(value: Decimal, currency: str) -> str:
    return f"{value:.2f} {currency}"


def journal(session: Session, date_to: date | None = None) -> Iterator[str]:
    """The journal as text, entry by entry (read in batches: memory stays flat however long the ledger)."""
    settings = session.get(LedgerSettings, 1)
    currency = settings.currency if settings else "EUR"
    names = {a.id: account_name(a.code, a.name) for a in session.execute(select(Account)).scalars()}
    yield f"; exported from the ERP ledger, posted entries{f' up to {date_to}' if date_to else ''}\n"
    yield f"commodity 1,000.00 {currency}\n\n"
    after = 0
    while True:
        stmt = (select(JournalEntry).where(JournalEntry.status == "posted", JournalEntry.chain_seq > after)
                .order_by(JournalEntry.chain_seq).limit(BATCH))
        if date_to:
            stmt = stmt.where(JournalEntry.entry_date <= date_to)
        entries = session.execute(stmt).scalars().all()
        if not entries:
            return
        lines = session.execute(select(JournalLine).where(JournalLine.entry_id.in_([e.id for e in entries]))
                                .order_by(JournalLine.entry_id, JournalLine.position)).scalars().all()
        by_entry: dict[str, list[JournalLine]] = {}
        for line in lines:
            by_entry.setdefault(line.entry_id, []).append(line)
        for e in entries:
            title = _clean(e.reference) + (f" | {_clean(e.memo)}" if e.memo else "")
            out = [f"{e.entry_date.isoformat()} ({e.number}) {title}\n"]
            for line in by_entry.get(e.id, []):
                signed = line.debit - line.credit
                out.append(f"    {names[line.account_id]}  {_amount(signed, currency)}\n")
            yield "".join(out) + "\n"
        after = entries[-1].chain_seq
