"""HTTP endpoints of imports: read the form and file, call one use case, answer."""

from flask import current_app, jsonify, make_response, request
from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.problems import field_error
from servicekit.web import sessions

from . import service
from .schemas import ImportFormSchema, ImportListArgs, ImportPageSchema, ImportReportSchema, ImportSchema

blp = Blueprint("imports", __name__, url_prefix="/api/v1/imports",
                description="Imports of companies, people and leads from CSV, XLSX and vCard files: preview with "
                            "dry_run, then import as one batch that can be reverted. Needs parties:import (and "
                            "leads:create for leads).")


def _db():
    return current_app.extensions["crm.db"]


@blp.route("")
class Imports(MethodView):
    @requires("parties:import")
    @blp.arguments(ImportFormSchema, location="form", content_type="multipart/form-data")
    @blp.response(201, ImportReportSchema, description="Imported: the batch id, its counts and row errors")
    @blp.alt_response(200, schema=ImportReportSchema, description="dry_run: what the import would do")
    @blp.alt_response(202, schema=ImportSchema, description="Queued (more than 10,000 rows, or background=true): "
                                                            "follow it on GET /imports/{id}")
    @blp.alt_response(413, description="More than 250,000 rows or 25 MB: split the file")
    def post(self, form):
        """Import a file: up to 10,000 rows inside the request (201 with the report), larger files in the worker
        (202; GET /imports/{id} shows rows done, the rate and the ETA)."""
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise field_error("file", "send the file as the multipart field 'file'")
        data = service.upload_slices(upload.stream)  # read in slices: a large file is never whole in memory
        db = _db()
        report, batch = service.import_file(db.sessions, db.engine, upload.filename, data, form, current_principal())
        if batch is None:
            return report, 200
        location = {"Location": f"/api/v1/imports/{batch.id}"}
        if batch.status == "queued":  # another schema than the 201's: answered here, not by the decorator
            return make_response(jsonify(ImportSchema().dump(report)), 202, location)
        return report, 201, location

    @requires("parties:import")
    @blp.arguments(ImportListArgs, location="query")
    @blp.response(200, ImportPageSchema)
    def get(self, args):
        """Your imports, newest first (administrators see everyone's)."""
        with sessions().begin() as session:
            return service.list_imports(session, args, current_principal())


@blp.route("/<uuid:import_id>")
class ImportById(MethodView):
    @requires("parties:import")
    @blp.response(200, ImportSchema)
    def get(self, import_id):
        """An import's status, progress (processed_rows of total_rows), counts and row errors."""
        with sessions().begin() as session:
            return service.get_import(session, import_id, current_principal())


@blp.route("/<uuid:import_id>/revert")
class ImportRevert(MethodView):
    @requires("parties:import")
    @blp.response(200, ImportSchema)
    @blp.alt_response(409, description="The import is not done (running, failed or already reverted)")
    def post(self, import_id):
        """Undo an import: delete the records it created (unless changed since or pointed at by deals, activities,
        quotes...), restore the ones it updated (unless changed since); revert_report lists what was kept."""
        with sessions().begin() as session:
            return service.revert_import(session, import_id, current_principal())
