"""HTTP endpoints of exports: GET /api/v1/{parties,leads,deals}/export?format=...&<the list's filters>."""

from datetime import UTC, datetime

from flask import Response
from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.web import sessions

from . import formats, service
from .schemas import DealExportArgs, LeadExportArgs, PartyExportArgs

blp = Blueprint("exports", __name__, url_prefix="/api/v1",
                description="Any list as a file, with the list's filters and sort and only the records you may "
                            "see: CSV and XLSX (every column; the headers are the import's field names, so a file "
                            "can be edited and imported back), PDF (a table), vCard for people.")

MEDIA = {"csv": "text/csv; charset=utf-8", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "pdf": "application/pdf", "vcf": "text/vcard; charset=utf-8"}
TITLES = {"parties": "Parties", "leads": "Leads", "deals": "Deals"}
_DOC = {"responses": {"200": {"description": "The file, as an attachment",
                              "content": {m.split(";")[0]: {} for m in MEDIA.values()}},
                      "422": {"description": "Too many rows for the format, or a bad filter"}}}


def _export(what: str, args: dict) -> Response:
    fmt = args["format"]
    with sessions().begin() as session:
        columns, rows = service.export_rows(session, what, dict(args), current_principal())
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    if fmt == "csv":
        body = formats.to_csv(columns, rows)
    elif fmt == "xlsx":
        body = formats.to_xlsx(columns, rows, TITLES[what])
    elif fmt == "vcf":
        body = formats.to_vcards(rows)
    else:
        filters = ", ".join(f"{k}={v}" for k, v in sorted(args.items()) if k != "format" and v is not None)
        body = formats.to_pdf(f"{TITLES[what]} ({len(rows)})", service.PDF_COLUMNS[what], rows,
                              f"Exported {stamp} UTC" + (f" - {filters}" if filters else ""))
    return Response(body, mimetype=MEDIA[fmt].split(";")[0], content_type=MEDIA[fmt], headers={
        "Content-Disposition": f'attachment; filename="{what}-{stamp}.{fmt}"'})


@blp.route("/parties/export")
class PartyExport(MethodView):
    @requires("parties:export")
    @blp.arguments(PartyExportArgs, location="query")
    @blp.doc(**_DOC)
    def get(self, args):
        """Export the parties you see, with the list's filters (format=vcf: the people as vCards)."""
        return _export("parties", args)


@blp.route("/leads/export")
class LeadExport(MethodView):
    @requires("leads:export")
    @blp.arguments(LeadExportArgs, location="query")
    @blp.doc(**_DOC)
    def get(self, args):
        """Export the leads you see, with the list's filters."""
        return _export("leads", args)


@blp.route("/deals/export")
class DealExport(MethodView):
    @requires("deals:export")
    @blp.arguments(DealExportArgs, location="query")
    @blp.doc(**_DOC)
    def get(self, args):
        """Export the deals you see, with the list's filters."""
        return _export("deals", args)
