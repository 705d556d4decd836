"""Statistics of one subject, grouped by up to three of its dimensions, computed in SQL with GROUP BY over the
records the caller may see (the same predicates as the lists, applied before any filter or count)."""

from datetime import UTC, date, datetime, time, timedelta

from servicekit.auth.principal import Principal, forbidden
from servicekit.problems import Problem, field_error
from shared_events.money import cents
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .subjects import SUBJECTS, Dimension, Measure, Period, Subject

MAX_DIMENSIONS = 3
MAX_ROWS = 10_000
FILTERS = ("owner_id", "pipeline_id", "status", "source")


def subject_named(name: str) -> Subject:
    subject = SUBJECTS.get(name)
    if subject is None:
        raise Problem(404, "Not found", f"There are no statistics about {name!r}: ask for one of "
                      f"{', '.join(SUBJECTS)}.", "not-found")
    return subject


def _dimensions(subject: Subject, names: list[str], period: str) -> list[Dimension]:
    allowed = ", ".join(subject.dimensions)
    for name in names:
        if name not in subject.dimensions:
            raise field_error("group_by", f"cannot group {subject.name} by {name!r}; use up to {MAX_DIMENSIONS} "
                                          f"of {allowed}")
    if len(names) > MAX_DIMENSIONS:
        raise field_error("group_by", f"at most {MAX_DIMENSIONS} dimensions, of {allowed}")
    if len(set(names)) < len(names):
        raise field_error("group_by", "name each dimension once")
    return [subject.dimensions[name].at(name, period) for name in names]


def _measures(subject: Subject, names: list[str] | None) -> dict[str, Measure]:
    """The measures asked for (default: all of the subject's); count is always there."""
    if names is None:
        return dict(subject.measures)
    names = [n for n in names if n != "count"]
    unknown = [n for n in names if n not in subject.measures]
    if unknown:
        allowed = ", ".join(["count", *subject.measures])
        raise field_error("measures", f"{subject.name} have no measure {unknown[0]!r}; use {allowed}")
    return {n: subject.measures[n] for n in dict.fromkeys(names)}


def _utc_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, UTC)


def _conditions(subject: Subject, args: dict, actor: Principal) -> tuple[list, set[str]]:
    """Visibility first, then the filters asked for; and the joins those filters need."""
    conditions, joins = [subject.visible(actor)], set()
    if args.get("date_from"):
        conditions.append(subject.date >= _utc_midnight(args["date_from"]))
    if args.get("date_to"):
        conditions.append(subject.date < _utc_midnight(args["date_to"] + timedelta(days=1)))
    for name in FILTERS:
        value = args.get(name)
        if value is None:
            continue
        f = subject.filters.get(name)
        if f is None:
            raise field_error(name, f"{subject.name} cannot be filtered by {name}; they take "
                                    f"{', '.join(['date_from', 'date_to', *subject.filters])}")
        if f.values and value not in f.values:
            raise field_error(name, f"use one of {', '.join(f.values)}")
        conditions.append(f.column == str(value))
        joins.update(f.joins)
    if subject.hidden_statuses and args.get("status") not in subject.hidden_statuses:
        conditions.append(subject.filters["status"].column.not_in(subject.hidden_statuses))
    return conditions, joins


def _grouped(subject: Subject, dimensions: list[Dimension], currency, measures: dict[str, Measure],
             conditions: list, joins: set[str]):
    """SELECT dimensions [, currency], count, measures ... GROUP BY dimensions [, currency], in the dimensions'
    order (empty dimensions last)."""
    keys = [(name, expr) for d in dimensions for name, expr in d.columns]
    ordering = [expr for d in dimensions for expr in d.ordering]
    if currency is not None:
        keys.append(("currency", currency))
        ordering.append(currency)
    joins = joins | {j for d in dimensions for j in d.joins} | {j for m in measures.values() for j in m.joins}
    stmt = select(*(expr.label(name) for name, expr in keys), func.count().label("count"),
                  *(m.expression.label(name) for name, m in measures.items())).select_from(subject.table)
    for name, (target, onclause) in subject.joins.items():
        if name in joins:
            stmt = stmt.outerjoin(target, onclause)
    grouped = {id(expr): expr for expr in [*(expr for _, expr in keys), *ordering]}
    return (stmt.where(*conditions).group_by(*grouped.values())
            .order_by(*(expr.asc().nulls_last() for expr in ordering)))


def _values(row, measures: dict[str, Measure]) -> dict:
    out = dict(row._mapping)
    for name, m in measures.items():
        if m.money and out[name] is not None:
            out[name] = cents(out[name])
    return out


def tabulate(session: Session, subject_name: str, args: dict, actor: Principal) -> dict:
    """Counts (and sums) of the subject's visible records, one row per combination of the dimensions' values.

    Amounts are never added across currencies: when a money measure is asked for, rows and totals are split by
    currency too. Periods are cut in UTC.
    """
    subject = subject_named(subject_name)
    if not actor.can(subject.permission):
        raise forbidden(subject.permission)
    names = list(args.get("group_by") or [])
    period = args.get("period", "month")
    dimensions = _dimensions(subject, names, period)
    measures = _measures(subject, args.get("measures"))
    conditions, joins = _conditions(subject, args, actor)
    in_currency = subject.currency is not None and any(m.money for m in measures.values())
    split = subject.currency if in_currency and "currency" not in names else None
    result = session.execute(_grouped(subject, dimensions, split, measures, conditions, joins)
                             .limit(MAX_ROWS + 1)).all()
    rows = [_values(r, measures) for r in result[:MAX_ROWS]]
    total = session.execute(_grouped(subject, [], subject.currency if in_currency else None, measures,
                                     conditions, joins)).all()
    if in_currency:
        by_currency = [_values(r, measures) for r in total]
        totals = {"count": sum(t["count"] for t in by_currency), "by_currency": by_currency}
    else:
        totals = _values(total[0], measures)
    columns = [name for d in dimensions for name, _ in d.columns]
    columns += ["currency"] if split is not None else []
    return {"subject": subject.name, "group_by": names,
            "period": period if any(isinstance(subject.dimensions[n], Period) for n in names) else None,
            "measures": ["count", *measures], "columns": [*columns, "count", *measures], "rows": rows,
            "totals": totals, "truncated": len(result) > MAX_ROWS}
