"""What the statistics endpoint accepts, and what it returns: the row and totals schemas are built from the subjects,
so every column a subject can produce is documented."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from webargs.fields import DelimitedList

from .service import MAX_DIMENSIONS, MAX_ROWS
from .subjects import PERIODS, SUBJECTS, Period


def _allowed(what) -> str:
    return "; ".join(f"{s.name}: {', '.join(what(s)) or '(count only)'}" for s in SUBJECTS.values())


def _taken_by(name: str) -> str:
    """Which subjects a filter applies to (and the values it takes); the others answer 422 naming it."""
    taking = [s for s in SUBJECTS.values() if name in s.filters]
    if not any(s.filters[name].values for s in taking):
        return f"For {', '.join(s.name for s in taking)}."
    return "For " + "; ".join(f"{s.name} ({', '.join(s.filters[name].values)})" for s in taking) + "."


class StatisticsArgs(Schema):
    group_by = DelimitedList(fields.String(), load_default=list, metadata={
        "description": f"Up to {MAX_DIMENSIONS} dimensions, comma-separated. {_allowed(lambda s: s.dimensions)}."})
    period = fields.String(load_default="month", validate=validate.OneOf(PERIODS), metadata={
        "description": "How *_period dimensions cut time, in UTC (weeks are ISO weeks, Monday to Sunday)."})
    measures = DelimitedList(fields.String(), metadata={
        "description": f"count is always there; default: all of the subject's. {_allowed(lambda s: s.measures)}. "
                       "Amounts are never added across currencies: with one, rows are split by currency."})
    date_from = fields.Date(metadata={"description": "First day (UTC) of the subject's main date. "
                                                     f"{_allowed(lambda s: [s.date.key])}."})
    date_to = fields.Date(metadata={"description": "Last day (UTC), included."})
    owner_id = fields.UUID(metadata={"description": _taken_by("owner_id")})
    pipeline_id = fields.UUID(metadata={"description": _taken_by("pipeline_id") + " A quote's is its deal's."})
    status = fields.String(metadata={"description": _taken_by("status") + " Superseded quote versions count only "
                                                                          "with status=superseded."})
    source = fields.String(metadata={"description": _taken_by("source") + " A deal's is its lead's."})
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]), metadata={
        "description": "csv: the rows as text/csv, one column per entry of `columns`."})

    @validates_schema
    def range_in_order(self, data, **_):
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise ValidationError("must not be before date_from", "date_to")


def _dimension_columns() -> dict[str, fields.Field]:
    """Every column a dimension of some subject gives, as a nullable string saying where it comes from."""
    used: dict[str, list[str]] = {}
    for s in SUBJECTS.values():
        for name, dim in s.dimensions.items():
            for column in [name] if isinstance(dim, Period) else [c for c, _ in dim.columns]:
                used.setdefault(column, []).append(f"{s.name} by {name}")
    used["currency"].append("and whenever a money measure is asked for")
    return {c: fields.String(allow_none=True, metadata={"description": "; ".join(where)}) for c, where in used.items()}


_MONEY = {n for s in SUBJECTS.values() for n, m in s.measures.items() if m.money}
_MEASURES = {"count": fields.Integer(), **{
    n: fields.Decimal(as_string=True) if n in _MONEY else fields.Integer()
    for s in SUBJECTS.values() for n in s.measures}}

StatisticsRowSchema = Schema.from_dict({**_dimension_columns(), **_MEASURES}, name="StatisticsRow")
StatisticsAmountSchema = Schema.from_dict({"currency": fields.String(), "count": fields.Integer(), **{
    n: f for n, f in _MEASURES.items() if n in _MONEY}}, name="StatisticsAmount")
StatisticsTotalsSchema = Schema.from_dict({
    "count": fields.Integer(),
    "by_currency": fields.List(fields.Nested(StatisticsAmountSchema), metadata={
        "description": "With a money measure: the count and the measures per currency."}),
    **{n: f for n, f in _MEASURES.items() if n not in _MONEY},
}, name="StatisticsTotals")


class StatisticsSchema(Schema):
    subject = fields.String()
    group_by = fields.List(fields.String())
    period = fields.String(allow_none=True, metadata={"description": "Set when grouping by a *_period dimension."})
    measures = fields.List(fields.String())
    columns = fields.List(fields.String(), metadata={"description": "The keys of each row, in order."})
    rows = fields.List(fields.Nested(StatisticsRowSchema), metadata={
        "description": "One per combination of dimension values (and currency), ordered by the dimensions."})
    totals = fields.Nested(StatisticsTotalsSchema)
    truncated = fields.Boolean(metadata={"description": f"More than {MAX_ROWS} rows: narrow the query."})

