"""An accountant imports the bank's statements in the format the bank sends (camt.053, MT940, OFX 1.x and 2.x, CSV
with a saved mapping): booked lines are kept with their references, counterparties and remittance, pending ones
are left out; a file that does not add up, does not continue the last statement or skips one is refused whole,
naming the line; the same or an overlapping file imported again creates nothing twice."""

import io
from datetime import date
from pathlib import Path

import pytest
from servicekit.testing import assert_problem
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.support import bank_statements as bs
from tests.support import erp_sales as t

pytestmark = pytest.mark.db

SAMPLES = Path(__file__).parent / "samples" / "banking"
ACCOUNTS = "/api/v1/banking/accounts"
IBAN = "DE89370400440532013000"
CSV_MAPPING = {"delimiter": ";", "date_format": "%d/%m/%Y", "decimal_separator": ",", "thousands_separator": ".",
               "columns": {"date": "Buchungstag", "value_date": "Valuta", "counterparty": "Auftraggeber/Empfaenger",
                           "iban": "IBAN", "description": "Verwendungszweck", "amount": "Betrag", "balance": "Saldo"}}


@pytest.fixture
def accountant(as_user):
    return as_user("accountant")


@pytest.fixture
def account(accountant):
    r = accountant.post(ACCOUNTS, json={"name": f"Commerzbank {t.tag()}", "iban": IBAN, "bic": "COBADEFFXXX",
                                        "opening_balance": "1000.00", "opening_date": "2026-03-01"})
    assert r.status_code == 201, r.json
    return r.json


def upload(client, account, content: bytes, name: str, expect=200, **query):
    # encoded here, in memory: the test client would spool a large body to a temporary file it never closes
    boundary, body = encode_multipart({"file": FileStorage(io.BytesIO(content), name)})
    r = client.post(f"{ACCOUNTS}/{account['id']}/statements", query_string=query, data=body,
                    content_type=f"multipart/form-data; boundary={boundary}")
    assert r.status_code == expect, r.get_data(as_text=True)[:500]
    return r


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def lines(client, account, **query) -> list[dict]:
    r = client.get(f"{ACCOUNTS}/{account['id']}/statement-lines", query_string=query)
    assert r.status_code == 200, r.json
    return r.json


def test_a_camt053_statement_keeps_booked_lines_with_references_and_leaves_pending_ones_out(accountant, account):
    report = upload(accountant, account, sample("camt053_001_02_march.xml"), "0041.xml").json
    assert (report["format"], report["status"], report["lines_imported"], report["pending_left_out"]) == (
        "camt053", "imported", 4, 1)
    (statement,) = report["statements"]
    assert (statement["electronic_sequence"], statement["opening_balance"], statement["closing_balance"]) == (
        41, "1000.00", "2495.10")
    got = lines(accountant, account)
    assert [x["amount"] for x in got] == ["250.00", "1500.00", "-4.90", "-250.00"]
    first, batch, fee, reversal = got
    assert (first["counterparty_name"], first["counterparty_iban"], first["structured_reference"],
            first["end_to_end_id"]) == ("Initech SARL", "FR7630006000011234567890189", "RF565390075470",
                                        "E2E-INITECH-0301")
    assert [d["remittance"] for d in batch["details"]] == ["Payment of invoice GX-1001", "Deposit order 5531"]
    assert [d["amount"] for d in batch["details"]] == ["1000.00", "500.00"]
    assert "maintenance fee" in fee["remittance"]
    assert reversal["reversal"] is True and reversal["counterparty_name"] == "Hooli GmbH"

    nxt = upload(accountant, account, sample("camt053_001_08_next_day.xml"), "0042.xml").json
    assert nxt["lines_imported"] == 1
    rent = lines(accountant, account)[-1]
    assert (rent["amount"], rent["counterparty_name"], rent["counterparty_iban"]) == (
        "-800.00", "Immobilien Schmidt KG", "DE02120300000000202051")


def test_the_same_file_or_the_same_lines_in_another_format_are_not_imported_twice(accountant, account):
    upload(accountant, account, sample("camt053_001_02_march.xml"), "0041.xml")
    again = upload(accountant, account, sample("camt053_001_02_march.xml"), "0041.xml").json
    assert (again["status"], again["lines_imported"], again["lines_already_imported"]) == ("already_imported", 0, 4)
    # the MT940 export of both days overlaps the first: only the second day's line is new
    mt = upload(accountant, account, sample("mt940_march.sta"), "march.sta").json
    assert (mt["lines_imported"], mt["lines_already_imported"]) == (1, 4)
    # and the OFX of both days brings nothing new
    for name in ("ofx_1x_march.ofx", "ofx_2x_march.ofx"):
        ofx = upload(accountant, account, sample(name), name).json
        assert (ofx["status"], ofx["lines_imported"]) == ("already_imported", 0)
    assert len(lines(accountant, account)) == 5
    statements = accountant.get(f"{ACCOUNTS}/{account['id']}/statements").json
    assert statements[0]["closing_balance"] == "1695.10" and statements[0]["opening_balance"] == "2495.10"


@pytest.mark.parametrize("name", ["mt940_march.sta", "ofx_1x_march.ofx", "ofx_2x_march.ofx"])
def test_mt940_and_ofx_files_import_their_lines_with_their_balances(accountant, account, name):
    report = upload(accountant, account, sample(name), name).json
    assert report["lines_imported"] == 5
    assert report["statements"][-1]["closing_balance"] == "1695.10"
    got = lines(accountant, account)
    assert [x["amount"] for x in got] == ["250.00", "1500.00", "-4.90", "-250.00", "-800.00"]
    assert got[0]["counterparty_name"] == "Initech SARL"
    assert "Miete" in got[-1]["remittance"]
    if name.startswith("mt940"):
        assert got[3]["reversal"] is True and got[0]["counterparty_iban"] == "FR7630006000011234567890189"
        assert [s["electronic_sequence"] for s in report["statements"]] == [41, 42]


def test_a_csv_export_reads_with_the_mapping_saved_for_the_bank(accountant, account):
    url = f"{ACCOUNTS}/{account['id']}/csv-mapping"
    assert_problem(accountant.put(url, json={"mapping": {"columns": {"amount": "Betrag"}}}), 422, "mapping")
    assert_problem(upload(accountant, account, sample("csv_sparkasse_march.csv"), "m.csv", expect=422,
                          format="csv"), 422, "file")
    r = accountant.put(url, json={"mapping": CSV_MAPPING})
    assert r.status_code == 200 and r.json["version"] == 1
    report = upload(accountant, account, sample("csv_sparkasse_march.csv"), "m.csv", format="csv").json
    assert report["lines_imported"] == 5 and report["statements"][0]["closing_balance"] == "1695.10"
    got = lines(accountant, account)
    assert (got[1]["amount"], got[1]["counterparty_iban"]) == ("1500.00", "GB29NWBK60161331926819")


def test_a_csv_whose_mapping_does_not_fit_is_refused_naming_the_missing_column(accountant, account):
    accountant.put(f"{ACCOUNTS}/{account['id']}/csv-mapping", json={"mapping": {
        **CSV_MAPPING, "columns": {**CSV_MAPPING["columns"], "amount": "Umsatz"}}})
    problem = assert_problem(upload(accountant, account, sample("csv_sparkasse_march.csv"), "m.csv", expect=422,
                                    format="csv"), 422, "file")
    assert "Umsatz" in problem["detail"] and problem["errors"][0]["location"] == "line 1"
    assert lines(accountant, account) == []


def test_a_statement_whose_balances_do_not_add_up_is_refused_naming_its_line_and_nothing_is_imported(
        accountant, account):
    bad = sample("camt053_001_02_march.xml").replace(b"<Amt Ccy=\"EUR\">2495.10</Amt>",
                                                     b"<Amt Ccy=\"EUR\">2495.01</Amt>")
    problem = assert_problem(upload(accountant, account, bad, "bad.xml", expect=422), 422, "closing_balance")
    assert "2495.01" in problem["detail"] and "2495.10" in problem["detail"]
    assert lines(accountant, account) == []


def test_a_statement_that_skips_one_or_does_not_chain_is_refused(accountant, account):
    upload(accountant, account, sample("camt053_001_02_march.xml"), "0041.xml")
    gap = sample("camt053_001_08_next_day.xml").replace(b"<ElctrncSeqNb>42<", b"<ElctrncSeqNb>44<")
    problem = assert_problem(upload(accountant, account, gap, "0044.xml", expect=422), 422, "electronic_sequence")
    assert "42, 43 is missing" in problem["detail"]
    broken = sample("camt053_001_08_next_day.xml").replace(b"2495.10", b"2400.10").replace(b"1695.10", b"1600.10")
    problem = assert_problem(upload(accountant, account, broken, "0042.xml", expect=422), 422, "opening_balance")
    assert "2400.10" in problem["detail"] and "2495.10" in problem["detail"]
    assert len(lines(accountant, account)) == 4


def test_a_file_of_another_account_malformed_or_of_no_known_format_is_refused(accountant, account):
    other = sample("camt053_001_02_march.xml").replace(IBAN.encode(), b"FR7630006000011234567890189")
    assert_problem(upload(accountant, account, other, "x.xml", expect=422), 422, "account")
    truncated = sample("camt053_001_02_march.xml")[:3000]
    problem = assert_problem(upload(accountant, account, truncated, "x.xml", expect=422), 422, "file")
    assert problem["errors"][0]["location"].startswith("line ")
    assert_problem(upload(accountant, account, b"%PDF-1.4 not a statement", "x.pdf", expect=422), 422, "file")
    bad_amount = sample("mt940_march.sta").replace(b":61:2603020302C250,00", b":61:2603020302C2X0,00")
    assert_problem(upload(accountant, account, bad_amount, "x.sta", expect=422), 422, "file")
    assert lines(accountant, account) == []


def test_a_mapping_of_the_wrong_shape_is_refused_naming_it_and_the_saved_one_stays(accountant, account):
    url = f"{ACCOUNTS}/{account['id']}/csv-mapping"
    assert accountant.put(url, json={"mapping": CSV_MAPPING}).status_code == 200
    for bad in ({**CSV_MAPPING, "skip_rows": "two"}, {**CSV_MAPPING, "delimiter": 7},
                {**CSV_MAPPING, "encoding": "klingon"}, {**CSV_MAPPING, "columns": {"date": 3, "amount": "x"}},
                {**CSV_MAPPING, "colour": "blue"}):
        assert_problem(accountant.put(url, json={"mapping": bad}), 422, "mapping")
    saved = accountant.get(url)
    assert saved.json["mapping"] == CSV_MAPPING and saved.headers["ETag"] == '"1"'


def test_amounts_or_sequence_numbers_beyond_what_the_books_hold_are_refused_not_a_server_error(accountant, account):
    huge = sample("camt053_001_02_march.xml").replace(b"<Amt Ccy=\"EUR\">4.90</Amt>",
                                                      b"<Amt Ccy=\"EUR\">99999999999999999999.00</Amt>")
    assert_problem(upload(accountant, account, huge, "x.xml", expect=422), 422, "file")
    far = sample("camt053_001_02_march.xml").replace(b"<ElctrncSeqNb>41<", b"<ElctrncSeqNb>99999999999999999999<")
    refused = assert_problem(upload(accountant, account, far, "x.xml", expect=422), 422, "file")
    assert refused["errors"][0]["location"] == "line 13" and "ElctrncSeqNb" in refused["detail"]
    assert "more digits than are allowed" in refused["detail"] and ".." not in refused["detail"]
    assert lines(accountant, account) == []


def test_a_long_statement_is_written_in_chunks_an_overlap_across_chunks_is_skipped_and_a_late_refusal_keeps_nothing(
        accountant, account):
    tag, day = t.tag(), date(2026, 3, 2)
    entries = [{"amount": "1.00", "text": f"pos {n}", "ref": f"L{tag}{n:05d}"} for n in range(2500)]
    first = upload(accountant, account, bs.camt053(IBAN, 1, "1000.00", entries[:1500], day), "1.xml").json
    assert (first["lines_imported"], first["statements"][0]["closing_balance"]) == (1500, "2500.00")
    # the next file repeats 1,200 lines (over a chunk's end) before 1,000 new ones: only the new ones are kept
    nxt = upload(accountant, account, bs.camt053(IBAN, 2, "1300.00", entries[300:], day), "2.xml").json
    assert (nxt["lines_imported"], nxt["lines_already_imported"]) == (1000, 1200)
    assert (nxt["statements"][0]["opening_balance"], nxt["statements"][0]["closing_balance"]) == ("2500.00",
                                                                                                  "3500.00")

    def kept() -> int:
        return sum(x["line_count"] for x in accountant.get(f"{ACCOUNTS}/{account['id']}/statements").json)
    assert kept() == 2500
    # a reference repeated 1,300 lines later (another chunk) is refused at the repeated line, after a thousand
    # lines were written: nothing of the file stays
    more = [{"amount": "1.00", "text": f"more {n}", "ref": f"M{tag}{n:05d}"} for n in range(1500)]
    more[1400]["ref"] = more[100]["ref"]
    data = bs.camt053(IBAN, 3, "3500.00", more, day)
    repeated = data.rfind(f"<AcctSvcrRef>{more[100]['ref']}<".encode())
    where = data[:data.rfind(b"<Ntry>", 0, repeated)].count(b"\n") + 1
    refused = assert_problem(upload(accountant, account, data, "3.xml", expect=422), 422, "file")
    assert refused["errors"][0]["location"] == f"line {where}" and "same bank reference" in refused["detail"]
    # balances that do not add up are seen at the statement's end, when its lines are written: nothing stays
    wrong = bs.camt053(IBAN, 3, "3500.00", more[:1200], day).replace(b"4700.00</Amt>", b"4700.01</Amt>")
    refused = assert_problem(upload(accountant, account, wrong, "4.xml", expect=422), 422, "closing_balance")
    assert "do not add up" in refused["detail"]
    assert kept() == 2500 and len(accountant.get(f"{ACCOUNTS}/{account['id']}/statements").json) == 2
