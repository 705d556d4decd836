"""Managers export the lists they see (with their filters) to CSV, XLSX, PDF and vCard."""

import csv
import io
import uuid

import pytest
import vobject
from crm.exports import service as exports
from openpyxl import load_workbook
from pypdf import PdfReader

pytestmark = pytest.mark.db


def tag() -> str:
    return uuid.uuid4().hex[:8]


def party(client, **body):
    body.setdefault("kind", "company")
    r = client.post("/api/v1/parties", json=body)
    assert r.status_code == 201, r.json
    return r.json


def export(client, what, expect=200, **query):
    r = client.get(f"/api/v1/{what}/export", query_string=query)
    assert r.status_code == expect, r.get_data(as_text=True)[:500]
    return r


def csv_rows(response) -> list[dict]:
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data().decode("utf-8-sig"))))


@pytest.fixture
def customers(as_user):
    """Two managers with their own parties; the first one's are what the tests export."""
    t = tag()
    me, other = as_user("sales_manager"), as_user("sales_manager")
    fr = party(me, legal_name=f"Alpha {t}", roles=["customer"], emails=[{"value": f"a@alpha-{t}.test"}],
               phones=[{"value": "+33 1 00 00 00 01"}], billing_address={"city": "Paris", "country": "FR"})
    de = party(me, legal_name=f"Beta {t}", roles=["customer"], billing_address={"city": "Köln", "country": "DE"})
    party(me, legal_name=f"Gamma {t}", roles=["supplier"])
    person = party(me, kind="person", first_name="Zoé", last_name=f"Zed{t}", company_id=fr["id"], job_title="CEO",
                   emails=[{"value": f"zoe@alpha-{t}.test", "label": "work"}], phones=[{"value": "+33 6 11 22 33 44"}],
                   billing_address={"line1": "1 rue A", "city": "Paris", "postal_code": "75001", "country": "FR"})
    party(other, legal_name=f"Hidden {t}", roles=["customer"])
    return {"t": t, "me": me, "other": other, "fr": fr, "de": de, "person": person}


def test_csv_export_has_the_list_filters_and_only_visible_parties(customers):
    t, me = customers["t"], customers["me"]
    rows = csv_rows(export(me, "parties", format="csv", q=t, role="customer", sort="display_name"))
    assert [r["display_name"] for r in rows] == [f"Alpha {t}", f"Beta {t}"]
    alpha = rows[0]
    assert alpha["email"] == f"a@alpha-{t}.test" and alpha["phone"] == "+33 1 00 00 00 01"
    assert alpha["billing_city"] == "Paris" and alpha["billing_country"] == "FR" and alpha["roles"] == "customer"
    assert alpha["owner"] == me.user["email"] and alpha["id"] == customers["fr"]["id"]
    only_de = csv_rows(export(me, "parties", format="csv", q=t, country="DE"))
    assert [r["display_name"] for r in only_de] == [f"Beta {t}"]
    assert csv_rows(export(customers["other"], "parties", format="csv", q=f"Alpha {t}")) == []


def test_xlsx_export_and_formula_like_text(customers):
    t, me = customers["t"], customers["me"]
    party(me, legal_name=f"=HYPERLINK(\"http://evil.test\") {t}", roles=["customer"])
    r = export(me, "parties", format="xlsx", q=t, role="customer", sort="display_name")
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(r.get_data()), read_only=True).worksheets[0]
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    header, data = rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert header[:3] == ["id", "kind", "display_name"]
    names = [d["display_name"] for d in data]
    assert names == [f"'=HYPERLINK(\"http://evil.test\") {t}", f"Alpha {t}", f"Beta {t}"]
    assert data[1]["phone"] == "+33 1 00 00 00 01"  # phone numbers are not formulas


def test_pdf_export_is_a_table_of_what_the_caller_sees(customers):
    t, me = customers["t"], customers["me"]
    r = export(me, "parties", format="pdf", q=t, sort="display_name")
    assert r.mimetype == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(r.get_data())).pages)
    for name in (f"Alpha {t}", f"Beta {t}", f"Gamma {t}", f"Zed{t}", "Köln"):
        assert name in text
    assert f"Hidden {t}" not in text


def test_pdf_export_refuses_more_rows_than_it_can_show(customers, monkeypatch):
    monkeypatch.setattr(exports, "MAX_PDF_ROWS", 2)
    r = export(customers["me"], "parties", expect=422, format="pdf", q=customers["t"])
    assert r.json["total"] == 4 and r.json["limit"] == 2
    assert export(customers["me"], "parties", format="csv", q=customers["t"]).status_code == 200


def test_people_export_as_vcards_and_import_back_as_duplicates(customers):
    t, me = customers["t"], customers["me"]
    r = export(me, "parties", format="vcf", q=t)
    assert r.mimetype == "text/vcard"
    (card,) = list(vobject.readComponents(r.get_data(as_text=True)))
    assert card.version.value == "4.0" and card.fn.value == f"Zoé Zed{t}"
    assert card.n.value.family == f"Zed{t}" and card.org.value == [f"Alpha {t}"] and card.title.value == "CEO"
    assert card.email.value == f"zoe@alpha-{t}.test" and card.email.params["TYPE"] == ["work"]
    assert card.adr.value.city == "Paris" and card.uid.value == f"urn:uuid:{customers['person']['id']}"
    assert export(me, "parties", expect=422, format="vcf", kind="company").json["errors"][0]["field"] == "kind"
    back = me.post("/api/v1/imports", data={"file": (io.BytesIO(r.get_data()), "people.vcf"), "target": "parties",
                                            "dry_run": "true"}, content_type="multipart/form-data").json
    assert (back["skipped"], back["to_create"]) == (1, 0)
    assert back["preview"][0]["match_id"] == customers["person"]["id"]


def test_a_csv_export_imports_back_unchanged(customers):
    t, me = customers["t"], customers["me"]
    exported = export(me, "parties", format="csv", q=t).get_data()
    back = me.post("/api/v1/imports", data={"file": (io.BytesIO(exported), "parties.csv"), "target": "parties",
                                            "on_duplicate": "update", "dry_run": "true"},
                   content_type="multipart/form-data").json
    assert back["errors"] == [] and back["to_create"] == 2  # Beta and Gamma have no email, phone or tax id
    assert (back["to_update"], back["unchanged"]) == (0, 2)


def test_lead_and_deal_exports(as_user):
    t = tag()
    manager = as_user("sales_manager")
    for i, status in enumerate(["new", "new", "contacted"]):
        lead = manager.post("/api/v1/leads", json={"last_name": f"Lead{i} {t}", "campaign": f"c-{t}",
                                                   "email": f"l{i}-{t}@x.test"}).json
        if status == "contacted":
            manager.patch(f"/api/v1/leads/{lead['id']}", json={"status": "contacted"}, headers={"If-Match": '"1"'})
    rows = csv_rows(export(manager, "leads", format="csv", campaign=f"c-{t}", status="new"))
    assert sorted(r["last_name"] for r in rows) == [f"Lead0 {t}", f"Lead1 {t}"]
    assert rows[0]["owner"] == manager.user["email"]

    customer = party(manager, legal_name=f"Deal Co {t}")
    manager.post("/api/v1/deals", json={"name": f"Big {t}", "party_id": customer["id"], "amount": "1234.50",
                                        "currency": "EUR"})
    sheet = load_workbook(io.BytesIO(export(manager, "deals", format="xlsx", party_id=customer["id"]).get_data()),
                          read_only=True).worksheets[0]
    header, *data = [list(r) for r in sheet.iter_rows(values_only=True)]
    (deal,) = [dict(zip(header, row, strict=False)) for row in data]  # read-only sheets drop trailing blanks
    assert deal["name"] == f"Big {t}" and deal["party"] == f"Deal Co {t}" and deal["amount"] == "1234.50"
    assert deal["stage"] and deal["status"] == "open" and deal["pipeline"]
    text = PdfReader(io.BytesIO(export(manager, "deals", format="pdf", q=t).get_data())).pages[0].extract_text()
    assert f"Big {t}" in text and f"Deal Co {t}" in text


def test_exports_need_their_permission(as_user):
    rep, marketing = as_user("sales_rep"), as_user("marketing")
    assert export(rep, "parties", expect=403, format="csv").json["missing_permission"] == "parties:export"
    assert export(rep, "leads", expect=403, format="csv").json["missing_permission"] == "leads:export"
    assert export(marketing, "deals", expect=403, format="csv").json["missing_permission"] == "deals:export"
    assert export(marketing, "leads", format="csv", q=tag()).status_code == 200
    assert export(marketing, "leads", expect=422, format="vcf").json["errors"][0]["field"] == "format"
