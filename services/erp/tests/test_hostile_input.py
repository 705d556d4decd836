"""Hostile input to the ERP gets a clear 4xx naming the field, never a 500, and changes nothing."""

import uuid

from servicekit.testing import assert_problem


def test_an_iban_longer_than_34_characters_or_with_wrong_check_digits_is_422(client):
    name = f"Bank {uuid.uuid4().hex[:8]}"
    for iban in ("FR76" + "1" * 36, "FR7630006000011234567890189" + "12345678", "FR7730006000011234567890189"):
        assert_problem(client.post("/api/v1/bank-accounts", json={"name": name, "iban": iban}), 422, "iban")
    ok = client.post("/api/v1/bank-accounts", json={"name": name, "iban": "fr76 3000 6000 0112 3456 7890 189"})
    assert ok.status_code == 201 and ok.json["iban"] == "FR7630006000011234567890189"


def test_a_category_named_only_with_spaces_is_refused_before_anything_is_written(client):
    before = len(client.get("/api/v1/categories").json)
    assert_problem(client.post("/api/v1/categories", json={"name": "   "}), 422, "name")
    assert len(client.get("/api/v1/categories").json) == before


def test_nul_deep_json_big_numbers_and_unknown_sorts_are_4xx(client):
    assert_problem(client.get("/api/v1/products", query_string={"q": "\u0000"}), 422)
    assert_problem(client.post("/api/v1/categories", json={"name": "a\u0000"}), 422, "name")
    assert_problem(client.post("/api/v1/categories", data='{"name": ' + "[" * 3000 + "]" * 3000 + "}",
                         content_type="application/json"), 422)
    assert_problem(client.get("/api/v1/invoices", query_string={"page": "99999999999999999999"}), 422, "page")
    assert_problem(client.get("/api/v1/price-lists", query_string={"sort": "nope"}), 422, "sort")
    assert_problem(client.post("/api/v1/categories", data="name=x", content_type="application/x-www-form-urlencoded"),
             415)


def test_an_amount_too_large_for_decimal_arithmetic_is_422_not_500(client):
    """Found by schemathesis: a 34-digit credit overflowed the cents check of a journal line."""
    huge = "84044086934027013839824983364505.91"
    line = {"account": "411000", "credit": huge}
    assert_problem(client.post("/api/v1/journal-entries", json={
        "entry_date": "2026-12-01", "reference": "Too much", "lines": [line]}), 422, "lines.0.credit")
    assert_problem(client.patch(f"/api/v1/journal-entries/{uuid.uuid4()}", json={"lines": [line]},
                                headers={"If-Match": '"1"'}), 422)
