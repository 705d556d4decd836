"""Export arguments: a list endpoint's filters and sort (without paging) plus the file format."""

from marshmallow import fields, validate

from ..deals.schemas import DealListArgs
from ..leads.schemas import LeadListArgs
from ..parties.schemas import PartyListArgs

_FORMAT = {"description": "csv, xlsx or pdf (a table of the main columns; up to 2,000 rows)"}


class PartyExportArgs(PartyListArgs):
    class Meta:
        exclude = ("page", "page_size")

    format = fields.String(required=True, validate=validate.OneOf(["csv", "xlsx", "pdf", "vcf"]), metadata={
        "description": _FORMAT["description"] + "; vcf: people as vCards (RFC 6350)"})


class LeadExportArgs(LeadListArgs):
    class Meta:
        exclude = ("page", "page_size")

    format = fields.String(required=True, validate=validate.OneOf(["csv", "xlsx", "pdf"]), metadata=_FORMAT)


class DealExportArgs(DealListArgs):
    class Meta:
        exclude = ("page", "page_size")

    format = fields.String(required=True, validate=validate.OneOf(["csv", "xlsx", "pdf"]), metadata=_FORMAT)
