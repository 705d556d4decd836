"""The matching rules and the statement readers without a database: RF references, which rule finds what and with
which score, a batch payment found by subset sum, a user rule's conditions, and the dedup keys of lines."""

import gc
import io
import weakref
from datetime import date, timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest
from erp.banking import formats
from erp.banking.imports import dedup_keys
from erp.banking.matching import Line, OpenItem, OpenItems, Rule, propose, references_in, rf_of, rf_valid, rule_fits
from erp.banking.postings import split_gross, taxed_money_lines

from tests.support import bank_statements as bs

DAY = date(2026, 3, 2)
SAMPLES = Path(__file__).parent / "samples" / "banking"


def item(number, amount, party="p1", name="Vandelay Industries", due=DAY) -> OpenItem:
    return OpenItem(invoice_id=f"id-{number}", number=number, party_id=party, party_name=name,
                    open_amount=D(amount), due_date=due)


def test_an_rf_reference_has_valid_check_digits_and_is_built_from_the_invoice_number():
    assert rf_valid("RF18 5390 0754 7034") and rf_valid("RF565390075470")
    assert not rf_valid("RF19 5390 0754 7034") and not rf_valid("INV-2026-00001")
    assert rf_of("INV-2026-00017") == "RF32INV202600017" and rf_valid(rf_of("INV-2026-00017"))
    bodies, tokens = references_in(("Paid RF32INV202600017 and INV-2026-00018, thanks",))
    assert bodies == ["INV202600017"] and "INV202600018" in tokens
    assert references_in(("Payment RF18 5390 0754 7034 FOR march",))[0] == ["539007547034"]


def test_the_reference_rule_ranks_first_and_says_whether_the_payment_is_exact_partial_or_over():
    invoices = [item("INV-2026-00017", "120.00"), item("INV-2026-00018", "80.00")]
    exact = propose(Line(D("200.00"), DAY, texts=("INV-2026-00017 INV-2026-00018",)), invoices, [], [], {})
    assert (exact[0].rule, exact[0].score) == ("reference", 100) and len(exact[0].invoices) == 2
    partial = propose(Line(D("50.00"), DAY, texts=(rf_of("INV-2026-00017"),)), invoices, [], [], {})
    assert (partial[0].score, partial[0].invoices[0][1]) == (90, D("50.00")) and "RF reference" in \
        partial[0].explanation
    over = propose(Line(D("130.00"), DAY, texts=("INV-2026-00017",)), invoices, [], [], {})
    assert (over[0].score, over[0].difference) == (85, D("10.00"))
    cent = propose(Line(D("119.99"), DAY, texts=("INV-2026-00017",)), invoices, [], [], {}, tolerance=D("0.05"))
    assert (cent[0].score, cent[0].difference) == (95, D("-0.01"))


def test_a_known_iban_a_similar_name_and_a_subset_of_one_customers_invoices_are_proposed_with_their_rule():
    invoices = [item("A-1", "40.00", due=DAY + timedelta(days=3)), item("A-2", "60.00"),
                item("B-1", "60.00", party="p2", name="Kramerica Industries")]
    by_iban = propose(Line(D("60.00"), DAY, counterparty_iban="FR7630006000011234567890189"), invoices, [], [],
                      {"FR7630006000011234567890189": "p1"})
    assert (by_iban[0].rule, by_iban[0].score, by_iban[0].invoices[0][0].number) == ("iban", 95, "A-2")
    by_name = propose(Line(D("60.00"), DAY, counterparty_name="KRAMERICA INDUSTRIES LLC"), invoices, [], [], {})
    assert by_name[0].rule == "name" and by_name[0].invoices[0][0].number == "B-1" and 50 <= by_name[0].score < 90
    batch = propose(Line(D("100.00"), DAY, counterparty_name="Vandelay Industries"), invoices, [], [], {})
    assert batch[0].rule == "subset" and {i.number for i, _ in batch[0].invoices} == {"A-1", "A-2"}
    assert propose(Line(D("55.00"), DAY, counterparty_name="Nobody"), invoices, [], [], {}) == []


def test_money_out_is_matched_to_supplier_bills_by_their_number_iban_name_and_a_batch_of_one_suppliers_bills():
    bills = OpenItems([item("BILL-7", "300.00", party="s1", name="Zorblax Hydraulics GmbH"),
                       OpenItem("id-BILL-8", "BILL-8", "s1", "Zorblax Hydraulics GmbH", D("120.00"), DAY,
                                alt_number="ZH-4471"),
                       item("BILL-9", "80.00", party="s1", name="Zorblax Hydraulics GmbH"),
                       item("BILL-10", "120.00", party="s2", name="Quuxco Logistics")])

    def best(line, ibans=None):
        return propose(line, [], [], [], ibans or {}, bills=bills)[0]

    theirs = best(Line(D("-120.00"), DAY, texts=("Invoice ZH-4471",)))
    assert (theirs.rule, theirs.score, [i.number for i, _ in theirs.bills]) == ("reference", 100, ["BILL-8"])
    assert theirs.invoices == [] and theirs.party_id == "s1"
    by_iban = best(Line(D("-80.00"), DAY, counterparty_iban="DE02120300000000202051", texts=("run 12",)),
                   {"DE02120300000000202051": "s1"})
    assert (by_iban.rule, by_iban.score, by_iban.bills[0][0].number) == ("iban", 95, "BILL-9")
    assert "bill BILL-9" in by_iban.explanation
    by_name = best(Line(D("-120.00"), DAY, counterparty_name="QUUXCO LOGISTICS LTD"))
    assert (by_name.rule, by_name.bills[0][0].number) == ("name", "BILL-10") and 50 <= by_name.score < 90
    batch = best(Line(D("-380.00"), DAY, counterparty_name="Zorblax Hydraulics"))
    assert batch.rule == "subset" and {i.number for i, _ in batch.bills} == {"BILL-7", "BILL-9"}
    assert propose(Line(D("380.00"), DAY, counterparty_name="Zorblax Hydraulics"), [], [], [], {}, bills=bills) == []


@pytest.mark.parametrize(("gross", "rate", "net", "tax"), [
    ("120.00", "0.2", "100.00", "20.00"), ("89.99", "0.2", "74.99", "15.00"), ("0.05", "0.2", "0.04", "0.01"),
    ("10.00", "0.055", "9.48", "0.52"), ("-12.00", "0.2", "-10.00", "-2.00")])
def test_a_gross_amount_splits_into_net_and_tax_to_the_cent_and_the_entry_balances(gross, rate, net, tax):
    assert split_gross(D(gross), D(rate)) == (D(net), D(tax))
    if D(gross) < 0:
        return
    for direction in ("in", "out"):
        lines = taxed_money_lines("512000", "607000", "445660", direction, D(gross), D(tax), "Telco")
        assert sum(p.debit for p in lines) == sum(p.credit for p in lines) == D(gross)
        taxed = next(p for p in lines if p.account == "445660")
        assert (taxed.debit if direction == "out" else taxed.credit) == D(tax)


def test_a_user_rule_fits_on_text_counterparty_direction_and_amount_range():
    rule = Rule(id="r", name="Fees", account="bank_fees", text_contains="fee", direction="out",
                amount_min=D("1.00"), amount_max=D("20.00"))
    assert rule_fits(rule, Line(D("-4.90"), DAY, texts=("Account maintenance FEE",)))
    assert not rule_fits(rule, Line(D("4.90"), DAY, texts=("fee refund",)))
    assert not rule_fits(rule, Line(D("-45.00"), DAY, texts=("fee",)))
    assert not rule_fits(rule, Line(D("-4.90"), DAY, texts=("interest",)))
    (found,) = propose(Line(D("-4.90"), DAY, texts=("fee",)), [], [], [rule], {})
    assert (found.rule, found.account) == ("rule", "bank_fees")


def test_lines_are_told_apart_by_bank_reference_then_end_to_end_id_then_a_counted_fingerprint():
    same = formats.ParsedLine(booking_date=DAY, amount=D("-3.50"), currency="EUR", remittance="Coffee")
    keys = dedup_keys([same, same, formats.ParsedLine(booking_date=DAY, amount=D("1"), currency="EUR",
                                                      bank_reference="B1", end_to_end_id="E1"),
                       formats.ParsedLine(booking_date=DAY, amount=D("1"), currency="EUR", end_to_end_id="E1"),
                       formats.ParsedLine(booking_date=DAY, amount=D("1"), currency="EUR",
                                          end_to_end_id="NOTPROVIDED")])
    assert keys[0] != keys[1] and keys[0].startswith("fp:")
    assert keys[2] == "ref:B1" and keys[3].startswith("e2e:E1") and keys[4].startswith("fp:")


@pytest.mark.parametrize("name", ["camt053_001_02_march.xml", "mt940_march.sta", "ofx_1x_march.ofx",
                                  "ofx_2x_march.ofx"])
def test_every_sample_statement_adds_up_from_its_opening_to_its_closing_balance(name):
    statements = formats.parse((SAMPLES / name).read_bytes(), None, None, "EUR")
    for st in statements:
        assert st.opening_balance + st.booked_total == st.closing_balance
    assert statements[-1].closing_balance in (D("2495.10"), D("1695.10"))


def test_a_camt_file_of_10000_entries_is_read_whole_and_adds_up():
    """10,000 entries are read and validated as a stream (the XML tree is pruned entry by entry) and the statement
    still adds up."""
    entry = ("<Ntry><Amt Ccy=\"EUR\">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-03-02"
             "</Dt></BookgDt><AcctSvcrRef>R{n}</AcctSvcrRef><BkTxCd><Prtry><Cd>TRF</Cd></Prtry></BkTxCd></Ntry>")
    body = "".join(entry.format(n=n) for n in range(10_000))
    data = (f"<?xml version=\"1.0\"?><Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\">"
            f"<BkToCstmrStmt><GrpHdr><MsgId>M</MsgId><CreDtTm>2026-03-02T06:00:00Z</CreDtTm></GrpHdr><Stmt><Id>S</Id>"
            f"<CreDtTm>2026-03-02T06:00:00Z</CreDtTm><Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>EUR</Ccy>"
            f"</Acct><Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy=\"EUR\">0.00</Amt><CdtDbtInd>CRDT"
            f"</CdtDbtInd><Dt><Dt>2026-03-01</Dt></Dt></Bal><Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp>"
            f"<Amt Ccy=\"EUR\">10000.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-02</Dt></Dt></Bal>{body}"
            f"</Stmt></BkToCstmrStmt></Document>").encode()
    (st,) = formats.parse(data, None, None, "EUR")
    assert len(st.lines) == 10_000 and st.opening_balance + st.booked_total == st.closing_balance


def test_a_camt_stream_keeps_no_line_it_has_told_so_its_memory_does_not_grow_with_the_file():
    entries = [{"amount": "1.00", "name": "A", "text": f"t{n}", "ref": f"R{n}"} for n in range(3000)]
    data = bs.camt053("DE89370400440532013000", 1, "0.00", entries, DAY)
    told, alive, total = 0, [], D("0")
    for kind, item in formats.events(io.BytesIO(data), None, None, "EUR"):
        if kind == "line":
            told, total = told + 1, total + item.amount
            alive.append(weakref.ref(item))
        del item
    gc.collect()
    assert (told, total) == (3000, D("3000.00")) and sum(1 for ref in alive if ref() is not None) == 0


@pytest.mark.parametrize(("change", "line", "element", "why"), [
    (("<CdtDbtInd>DBIT</CdtDbtInd>\n        <RvslInd>", "<CdtDbtInd>DEBIT</CdtDbtInd>\n        <RvslInd>"), 103,
     "CdtDbtInd", "'DEBIT' is not an element of the set"),
    (("<Sts>BOOK</Sts>\n        <BookgDt><Dt>2026-03-02</Dt></BookgDt>\n        <ValDt><Dt>2026-03-02</Dt></ValDt>\n"
      "        <AcctSvcrRef>2026030200012347", "<Status>BOOK</Status>\n        <BookgDt><Dt>2026-03-02</Dt></BookgDt>"
      "\n        <ValDt><Dt>2026-03-02</Dt></ValDt>\n        <AcctSvcrRef>2026030200012347"), 94, "Status",
     "not expected"),
    (('<BkTxCd><Domn><Cd>ACMT</Cd><Fmly><Cd>MDOP</Cd><SubFmlyCd>CHRG</SubFmlyCd></Fmly></Domn></BkTxCd>\n', ""), 98,
     "AddtlNtryInf", "This element is not expected. Expected is one of ( Avlbty, BkTxCd )"),
    (("<Amt Ccy=\"EUR\">4.90</Amt>", "<Amt Ccy=\"eur\">4.90</Amt>"), 92, "Amt", "Ccy"),
    (("<Id>2026-03-03-0041</Id>", "<Id>2026-03-03-0041-an-identifier-longer-than-35-characters</Id>"), 12, "Id",
     "maxLength"),
    (("<CreDtTm>2026-03-03T06:12:45+01:00</CreDtTm>\n      <FrToDt>", "<FrToDt>"), 14, "FrToDt",
     "<FrToDt> is not expected in <Stmt>: <CreDtTm> comes first"),
    (("    </Stmt>", '<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1.00</Amt>'
      "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-03-02</Dt></Dt></Bal></Stmt>"), 126, "Bal",
     "<Bal> is not expected in <Stmt> there"),
])
def test_a_camt_file_that_fails_its_version_schema_is_refused_naming_the_line_and_the_element(
        change, line, element, why):
    data = (SAMPLES / "camt053_001_02_march.xml").read_bytes()
    assert data.count(change[0].encode()) == 1
    with pytest.raises(formats.StatementError) as refused:
        formats.parse(data.replace(change[0].encode(), change[1].encode()), None, None, "EUR")
    assert (refused.value.line, f"<{element}>") == (line, refused.value.message[:len(element) + 2])
    assert why in refused.value.message and "camt.053.001.02 schema" in refused.value.message


def test_every_camt_version_from_02_to_14_has_a_schema_that_takes_a_statement_of_that_version():
    for version in range(2, 15):
        data = bs.camt053("DE89370400440532013000", 1, "10.00", [{"amount": "5.00", "name": "A", "text": "x"}],
                          DAY).replace(b"camt.053.001.02", f"camt.053.001.{version:02d}".encode())
        if version >= 7:  # the status is a code and the party a choice from .07 on
            data = data.replace(b"<Sts>BOOK</Sts>", b"<Sts><Cd>BOOK</Cd></Sts>").replace(
                b"<Dbtr><Nm>A</Nm></Dbtr>", b"<Dbtr><Pty><Nm>A</Nm></Pty></Dbtr>")
        if 3 <= version <= 6:  # a transaction states its amount from .03 to .06
            data = data.replace(b"<RltdPties>", b'<Amt Ccy="EUR">5.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><RltdPties>')
        (st,) = formats.parse(data, None, None, "EUR")
        assert (st.closing_balance, st.lines[0].counterparty_name) == (D("15.00"), "A"), version
    with pytest.raises(formats.StatementError, match="camt.053.001.15 is not a version"):
        formats.parse(data.replace(b"camt.053.001.14", b"camt.053.001.15"), None, None, "EUR")
