"""HTTP endpoint of the statistics: read arguments, tabulate in one transaction, answer JSON or CSV."""

import csv
import io

from flask import Response
from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.web import sessions

from . import service
from .schemas import StatisticsArgs, StatisticsRowSchema, StatisticsSchema
from .subjects import SUBJECTS

SUBJECT_NAMES = ", ".join(SUBJECTS)

blp = Blueprint("statistics", __name__, url_prefix="/api/v1/statistics",
                description=f"Counts and sums of {SUBJECT_NAMES} grouped by up to three dimensions "
                            "(owner, stage, status, source, type, period, ...): the grid seen from different "
                            "points of view. Only records you may see count. Needs statistics:read and the "
                            "subject's read permission.")

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value, is_label: bool):
    """Labels come from users (party names, campaigns): one a spreadsheet would run as a formula is quoted."""
    if is_label and isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def as_csv(result: dict) -> Response:
    measures = set(result["measures"])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(result["columns"])
    for row in StatisticsRowSchema(many=True).dump(result["rows"]):
        writer.writerow([_cell(row.get(c), c not in measures) for c in result["columns"]])
    return Response(out.getvalue(), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="statistics-{result["subject"]}.csv"'})


@blp.route("/<subject>")
class Statistics(MethodView):
    @requires("statistics:read")
    @blp.arguments(StatisticsArgs, location="query")
    @blp.response(200, StatisticsSchema)
    @blp.alt_response(404, description=f"No such subject: use one of {SUBJECT_NAMES}")
    @blp.alt_response(422, description="A dimension, measure or filter the subject does not have (problem+json "
                                       "naming it and listing the allowed ones)")
    def get(self, args, subject):
        """Counts, sums and averages of one subject's records grouped by up to three dimensions, computed in SQL.

        Periods (created_period, closed_period, occurred_period, ...) are cut in UTC by `period`. Money is never
        added across currencies: with a money measure the rows and totals are split by currency. `format=csv`
        answers the rows as text/csv instead.
        """
        with sessions().begin() as session:
            result = service.tabulate(session, subject, args, current_principal())
        return as_csv(result) if args["format"] == "csv" else result
