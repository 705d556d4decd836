"""The committed OpenAPI document (docs/openapi/crm.json) is the one the API serves: `make openapi` refreshes it."""

import json
from pathlib import Path

import pytest
from servicekit.cli import openapi_document
from servicekit.testing import idempotency_gaps, openapi_gaps

DOCUMENT = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "crm.json"


def test_the_published_openapi_document_matches_the_api():
    assert DOCUMENT.read_text() == openapi_document("crm"), "run `make openapi` and commit docs/openapi/"


def test_every_json_request_body_has_an_example_and_every_error_is_problem_json():
    """/docs' "Try it out" starts from a meaningful body, and clients know the shape of every error."""
    assert openapi_gaps(json.loads(DOCUMENT.read_text())) == []


@pytest.mark.db
def test_every_create_that_takes_an_idempotency_key_declares_it(app):
    """A client sees in /docs which creates it may retry safely with the same Idempotency-Key."""
    assert idempotency_gaps(app, json.loads(DOCUMENT.read_text())) == []
