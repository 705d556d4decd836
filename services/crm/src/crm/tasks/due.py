"""When tasks are due, as SQL over the database's current time: overdue is never stored, so it is never stale.

`tz` is an IANA zone name ("Europe/Paris"): a day, and so "today" or a whole-day due date, starts at midnight
there. A task due on a date is overdue from the next midnight of that zone.
"""

from sqlalchemy import DateTime, and_, case, cast, func, or_

from .models import PENDING, Task


def today(tz: str):
    """The current date in the zone."""
    return func.date(func.timezone(tz, func.now()))


def day_start(tz: str, days_from_today: int = 0):
    """The instant the day `days_from_today` after today starts in the zone."""
    return func.timezone(tz, cast(today(tz) + days_from_today, DateTime))


def is_pending():
    return Task.status.in_(PENDING)


def is_overdue(tz: str):
    return and_(is_pending(), or_(Task.due_at < func.now(), Task.due_date < today(tz)))


def is_due_within(tz: str, days: int):
    """Due from the start of today until the start of the day `days` later (today: days=1)."""
    return or_(and_(Task.due_at >= day_start(tz), Task.due_at < day_start(tz, days)),
               and_(Task.due_date >= today(tz), Task.due_date < today(tz) + days))


def is_undated():
    return and_(Task.due_at.is_(None), Task.due_date.is_(None))


def due_key(tz: str):
    """One instant to sort by: due_at, or the end of the due date in the zone (undated tasks sort last)."""
    return func.coalesce(Task.due_at, func.timezone(tz, cast(Task.due_date + 1, DateTime)))


def priority_rank():
    """urgent 0, high 1, normal 2, low 3: sorting by it ascending puts the most urgent first."""
    return case({"urgent": 0, "high": 1, "normal": 2, "low": 3}, value=Task.priority)
