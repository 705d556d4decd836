"""What the import endpoints accept (a multipart form with the file) and return."""

import json

from flask_smorest.fields import Upload
from marshmallow import Schema, ValidationError, fields, validate
from servicekit.pagination import PageArgs, page_schema

from ..parties.models import KINDS
from .fields import LEAD_FIELDS, PARTY_FIELDS
from .models import ON_DUPLICATE, STATUSES, TARGETS


class JsonMapping(fields.Field):
    """A JSON object sent as a form field: {"column header": "field", ...} (null or "" ignores a column)."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            mapping = json.loads(value) if isinstance(value, str) else value
        except json.JSONDecodeError as exc:
            raise ValidationError(f"not JSON: {exc.msg}") from None
        if not isinstance(mapping, dict) or not all(
                isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in mapping.items()):
            raise ValidationError('a JSON object of column header -> field, e.g. {"E-mail": "email"}')
        return mapping


class ImportFormSchema(Schema):
    file = Upload(metadata={"description": "CSV (any of , ; tab |; UTF-8 or Windows-1252), XLSX (first sheet) or "
                                           "vCard .vcf (RFC 6350, 3.0 or 4.0). The first row of a table names "
                                           "the columns. Up to 250,000 rows and 25 MB; above 10,000 rows the worker "
                                           "imports it (202)."})
    target = fields.String(required=True, validate=validate.OneOf(TARGETS))
    mapping = JsonMapping(load_default=None, metadata={
        "description": "JSON {column header: field}. Party fields: " + ", ".join(PARTY_FIELDS) + ". Lead fields: "
                       + ", ".join(LEAD_FIELDS) + ". Without it, headers named like a field (or a usual alias: "
                       "name, company, e-mail, mobile, vat...) are mapped. Ignored for vCards. email and phone may "
                       "come from several columns, and a cell may hold several separated by ;."})
    on_duplicate = fields.String(load_default="skip", validate=validate.OneOf(ON_DUPLICATE), metadata={
        "description": "A row matching a record you can see (same email, phone or tax id) or an earlier row: skip "
                       "it, update that record (given values replace, emails/phones/roles are added), or create "
                       "a new record anyway."})
    dry_run = fields.Boolean(load_default=False, metadata={
        "description": "Preview only: the counts, the errors and the first rows as they would be stored; nothing "
                       "is written. A file above 10,000 rows is previewed on its first 10,000."})
    background = fields.Boolean(load_default=False, metadata={
        "description": "Queue the import for the worker whatever its size (202); files above 10,000 rows always "
                       "are."})
    kind = fields.String(validate=validate.OneOf(KINDS), metadata={
        "description": "Parties: the kind of every row (default: a kind column, else person when the row names a "
                       "person, company otherwise)."})


class RowErrorSchema(Schema):
    row = fields.Integer(metadata={"description": "Row in the file (the header is row 1; in a vCard file, the card)"})
    field = fields.String()
    column = fields.String(allow_none=True)
    message = fields.String()


class PreviewRowSchema(Schema):
    row = fields.Integer(metadata={"description": "0: a company created for a person's company name"})
    action = fields.String(metadata={"description": "create, update, unchanged or skip"})
    match_id = fields.UUID(allow_none=True, metadata={"description": "The record the row matched."})
    match_reason = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    record = fields.Dict(metadata={"description": "The record as it would be stored."})


class ImportReportSchema(Schema):
    id = fields.UUID(allow_none=True, metadata={"description": "The batch (null for a dry run)."})
    dry_run = fields.Boolean()
    status = fields.String(metadata={"description": "preview (dry run) or done"})
    target = fields.String()
    file_name = fields.String()
    file_format = fields.String()
    on_duplicate = fields.String()
    rows = fields.Integer(metadata={"description": "Data rows in the file."})
    to_create = fields.Integer(metadata={"description": "Records created (companies made for people included)."})
    to_update = fields.Integer()
    unchanged = fields.Integer(metadata={"description": "Matched records the row would not change."})
    skipped = fields.Integer()
    error_rows = fields.Integer(metadata={"description": "Rows not imported because of an error."})
    errors = fields.List(fields.Nested(RowErrorSchema), metadata={"description": "The first 1,000."})
    warnings = fields.List(fields.Nested(RowErrorSchema), metadata={"description": "Imported, with a remark."})
    preview = fields.List(fields.Nested(PreviewRowSchema), metadata={"description": "The first 20 rows."})


class ImportSchema(Schema):
    id = fields.UUID()
    target = fields.String()
    file_name = fields.String()
    file_format = fields.String()
    on_duplicate = fields.String()
    mapping = fields.Dict()
    status = fields.String(metadata={"description": ", ".join(STATUSES)})
    total_rows = fields.Integer()
    processed_rows = fields.Integer(metadata={"description": "Progress while running."})
    rate_rows_per_second = fields.Float(allow_none=True, metadata={
        "description": "Rows written a second (so far while running; overall once done)."})
    eta_seconds = fields.Float(allow_none=True, metadata={"description": "While running: seconds left at that rate."})
    attempts = fields.Integer(metadata={"description": "Worker runs of a queued import (a run that stopped half-way "
                                                       "is taken again, at most 3 times)."})
    created_count = fields.Integer()
    updated_count = fields.Integer()
    unchanged_count = fields.Integer()
    skipped_count = fields.Integer()
    error_count = fields.Integer(metadata={"description": "Rows not imported because of an error."})
    errors = fields.List(fields.Nested(RowErrorSchema))
    failure = fields.String(allow_none=True)
    revert_report = fields.Dict(allow_none=True, metadata={
        "description": "deleted, restored, and kept: [{record_id, reason}] (changed since, or pointed at)."})
    created_by = fields.UUID()
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    progress_at = fields.DateTime(allow_none=True, metadata={"description": "When processed_rows last moved."})
    finished_at = fields.DateTime(allow_none=True)
    reverted_at = fields.DateTime(allow_none=True)
    reverted_by = fields.UUID(allow_none=True)


class ImportListArgs(PageArgs):
    target = fields.String(validate=validate.OneOf(TARGETS))


ImportPageSchema = page_schema(ImportSchema, "ImportPage")
