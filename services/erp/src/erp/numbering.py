"""Legal numbers without gaps: each series has a counter row per year, locked until the transaction ends, so
concurrent documents queue for the next number and a rolled-back one gives its number back. Invoice series are
named by the user (INV, CN, ...); the other documents use series starting with '#', which no invoice series may."""

from datetime import date

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from .invoicing.models import InvoiceCounter


def lock_counter(session: Session, series: str, year: int) -> InvoiceCounter:
    """The series' counter for the year, created at 0 if new, locked until the transaction ends."""
    session.execute(insert(InvoiceCounter).values(series=series, fiscal_year=year, last_number=0)
                    .on_conflict_do_nothing())
    return session.execute(select(InvoiceCounter).where(InvoiceCounter.series == series,
                                                        InvoiceCounter.fiscal_year == year)
                           .with_for_update().execution_options(populate_existing=True)).scalar_one()


def take_number(session: Session, series: str, prefix: str, on: date) -> str:
    """The next number of a '#' series for the year, e.g. RC-2026-00042."""
    counter = lock_counter(session, series, on.year)
    counter.last_number += 1
    return f"{prefix}-{on.year}-{counter.last_number:05d}"
