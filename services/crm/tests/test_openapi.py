"""The committed OpenAPI document (docs/openapi/crm.json) is the one the API serves: `make openapi` refreshes it."""

from pathlib import Path

from servicekit.cli import openapi_document

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "crm.json"


def test_the_published_openapi_document_matches_the_api():
    assert DOCUMENT.read_text() == openapi_document("crm"), "run `make openapi` and commit docs/openapi/"
