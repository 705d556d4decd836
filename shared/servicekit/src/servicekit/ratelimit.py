"""Rate limits for public endpoints, counted in PostgreSQL so every web worker and every replica shares them.

A public endpoint (a lead form, a calendar feed, the installer's form, a subscription form) keeps one table of hits:
a row per request with the client's address, when it came, and whatever scopes the limit (a form id). `admit`
counts the hits of that scope in each window and either records this one or answers 429 with `Retry-After`, the
seconds until the oldest hit that fills the window leaves it. An advisory lock per scope makes concurrent requests of
one address count one after the other; hits older than the longest window are pruned as new ones come (those of the
whole form, or of the address when nothing else scopes the limit).
"""

import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, delete, func, insert, select
from sqlalchemy.orm import Session

from .problems import Problem

Limits = Iterable[tuple[timedelta, int]]


def admit(session: Session, hits, scope: dict, limits: Limits, *, name: str, now: datetime | None = None,
          title: str = "Too many requests") -> None:
    """Count a request of `scope` (column -> value, e.g. {"form_id": ..., "address": ...}) in the `hits` model or
    table (with an `at` column), or raise a 429 problem when one of the windows is full."""
    now = now or datetime.now(UTC)
    limits = tuple(limits)
    columns = hits.__table__.c if hasattr(hits, "__table__") else hits.c
    lock_key = ":".join([name, *(str(v) for v in scope.values())])
    session.execute(select(func.pg_advisory_xact_lock(func.hashtext(lock_key))))
    same = and_(*(columns[k] == v for k, v in scope.items()))
    for window, limit in limits:
        recent = session.execute(select(columns.at).where(same, columns.at > now - window)
                                 .order_by(columns.at.desc()).limit(limit)).scalars().all()
        if len(recent) >= limit:
            wait = max(1, math.ceil((recent[-1] + window - now).total_seconds()))
            raise Problem(429, title, f"Try again in {wait} seconds.", "rate-limited",
                          headers={"Retry-After": str(wait)})
    session.execute(insert(hits).values(**scope, at=now))
    # prune the form's old hits of every address (or, without a form, this address's): the indexes lead with these
    kept = {k: v for k, v in scope.items() if k != "address"} or scope
    session.execute(delete(hits).where(*(columns[k] == v for k, v in kept.items()),
                                       columns.at < now - max(window for window, _ in limits)))
