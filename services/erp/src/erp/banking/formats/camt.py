"""ISO 20022 camt.053 (BankToCustomerStatement), versions .001.02 to .001.14, read as a stream with lxml's
iterparse: each entry is parsed when its end tag arrives and then dropped, so memory stays flat however long the
statement. The stream is validated as it is read against the schema of its version (camt_schema: a faithful subset
of the official XSD); a file that fails it is refused naming the line and the element.

Read per statement: Id, ElctrncSeqNb, the account (IBAN or other id) and currency, FrToDt, the balances (OPBD or
PRCD as opening, CLBD as closing); per entry: amount and CdtDbtInd, RvslInd, status (BOOK or PDNG; a text up to
.001.07, a code from .001.08), booking and value dates, AcctSvcrRef, and the transaction details: EndToEndId, the
counterparty (debtor of money in, creditor of money out) and its IBAN, remittance unstructured (Ustrd) and
structured (CdtrRefInf/Ref). A batched entry (several TxDtls) keeps every transaction in `details`.
"""

import re
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import BinaryIO

from lxml import etree

from . import camt_schema
from .model import ParsedLine, ParsedStatement, StatementError

DECLARED = re.compile(rb"urn:iso:std:iso:20022:tech:xsd:camt\.053\.001\.(\d{2})")
ELEMENT = re.compile(r"Element '(?:\{[^}]*\})?([A-Za-z0-9]+)'")
OPENING, CLOSING = ("OPBD", "PRCD"), ("CLBD",)


def looks_like(head: bytes) -> bool:
    return b"camt.053" in head


def _local(tag) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class _Reader:
    def __init__(self, ns: str):
        self.ns = {"c": ns}

    def node(self, elem, path: str):
        return elem.find("/".join(f"c:{p}" for p in path.split("/")), self.ns)

    def text(self, elem, *paths: str) -> str | None:
        for path in paths:
            found = self.node(elem, path)
            if found is not None and (found.text or "").strip():
                return found.text.strip()
        return None

    def texts(self, elem, path: str) -> list[str]:
        return [e.text.strip() for e in elem.findall("/".join(f"c:{p}" for p in path.split("/")), self.ns)
                if (e.text or "").strip()]

    def amount(self, elem, path: str, where) -> tuple[Decimal, str]:
        found = self.node(elem, path)
        if found is None:
            raise StatementError(f"<{path}> is missing", where.sourceline)
        try:
            value = Decimal(found.text.strip())
        except (InvalidOperation, AttributeError):
            raise StatementError(f"<{path}> {found.text!r} is not an amount", found.sourceline) from None
        if value < 0 or value != value.quantize(Decimal("0.01")):
            raise StatementError(f"<{path}> {found.text!r}: an amount is positive with at most 2 decimals",
                                 found.sourceline)
        currency = found.get("Ccy")
        if not currency:
            raise StatementError(f"<{path}> has no Ccy", found.sourceline)
        return value, currency

    def day(self, elem, path: str, required: bool = True) -> date | None:
        raw = self.text(elem, f"{path}/Dt", f"{path}/DtTm")
        if raw is None:
            if required:
                raise StatementError(f"<{path}> is missing", elem.sourceline)
            return None
        try:
            return date.fromisoformat(raw[:10])
        except ValueError:
            raise StatementError(f"<{path}> {raw!r} is not a date", elem.sourceline) from None

    def signed(self, elem, amount: Decimal) -> Decimal:
        indicator = self.text(elem, "CdtDbtInd")
        if indicator not in ("CRDT", "DBIT"):
            raise StatementError(f"<CdtDbtInd> {indicator!r}: CRDT or DBIT", elem.sourceline)
        return amount if indicator == "CRDT" else -amount


def _transaction(r: _Reader, tx, money_in: bool) -> dict:
    party, account = ("Dbtr", "DbtrAcct") if money_in else ("Cdtr", "CdtrAcct")
    amount = r.node(tx, "AmtDtls/TxAmt/Amt")
    if amount is None:
        amount = r.node(tx, "Amt")
    return {
        "end_to_end_id": r.text(tx, "Refs/EndToEndId"),
        "bank_reference": r.text(tx, "Refs/AcctSvcrRef"),
        "amount": (amount.text or "").strip() if amount is not None else None,
        "counterparty_name": r.text(tx, f"RltdPties/{party}/Nm", f"RltdPties/{party}/Pty/Nm"),
        "counterparty_iban": r.text(tx, f"RltdPties/{account}/Id/IBAN"),
        "remittance": " ".join(r.texts(tx, "RmtInf/Ustrd")) or None,
        "structured_reference": r.text(tx, "RmtInf/Strd/CdtrRefInf/Ref"),
    }


def _entry(r: _Reader, ntry) -> ParsedLine:
    value, currency = r.amount(ntry, "Amt", ntry)
    amount = r.signed(ntry, value)
    status = r.text(ntry, "Sts/Cd", "Sts") or ""
    if status not in ("BOOK", "PDNG", "INFO"):
        raise StatementError(f"<Sts> {status!r}: BOOK, PDNG or INFO", ntry.sourceline)
    details = [_transaction(r, tx, amount > 0) for tx in ntry.iterfind("c:NtryDtls/c:TxDtls", r.ns)]
    first = details[0] if len(details) == 1 else {}
    remittance = first.get("remittance") or r.text(ntry, "AddtlNtryInf")
    return ParsedLine(
        booking_date=r.day(ntry, "BookgDt", required=status == "BOOK") or r.day(ntry, "ValDt"),
        value_date=r.day(ntry, "ValDt", required=False), amount=amount, currency=currency,
        status="booked" if status == "BOOK" else "pending", reversal=r.text(ntry, "RvslInd") in ("true", "1"),
        bank_reference=r.text(ntry, "AcctSvcrRef") or first.get("bank_reference"),
        end_to_end_id=first.get("end_to_end_id"), counterparty_name=first.get("counterparty_name"),
        counterparty_iban=first.get("counterparty_iban"), remittance=remittance,
        structured_reference=first.get("structured_reference"), details=details if len(details) > 1 else [],
        source_line=ntry.sourceline)


def _balance(r: _Reader, bal, statement: ParsedStatement) -> None:
    code = r.text(bal, "Tp/CdOrPrtry/Cd")
    if code not in OPENING + CLOSING:
        return
    value, currency = r.amount(bal, "Amt", bal)
    signed = r.signed(bal, value)
    if code in OPENING:
        statement.opening_balance = signed
    else:
        statement.closing_balance = signed
        statement.to_date = statement.to_date or r.day(bal, "Dt", required=False)
    statement.currency = statement.currency or currency


def _version(head: bytes) -> int:
    declared = DECLARED.search(head)
    if declared is None:
        raise StatementError("not a camt.053.001.02 (or later) document")
    version = int(declared.group(1))
    if version not in camt_schema.VERSIONS:
        raise StatementError(f"camt.053.001.{version:02d} is not a version this import reads (.02 to .14)")
    return version


def _invalid(schema: etree.XMLSchema, elem, version: int) -> StatementError | None:
    """The first way `elem` (a child of a statement, or the group header) breaks the version's schema, named
    after the element and its line; None when it fits."""
    if schema.validate(elem):
        return None
    error = schema.error_log[0]
    message = re.sub(r"\{[^}]*\}", "", error.message).strip().rstrip(".")
    named = ELEMENT.search(error.message)
    element = named.group(1) if named else _local(elem.tag)
    return StatementError(f"<{element}> does not fit the camt.053.001.{version:02d} schema: {message}",
                          error.line or elem.sourceline)


def events(stream: BinaryIO) -> Iterator[tuple[str, ParsedStatement | ParsedLine]]:
    """A camt.053 stream as it is read and validated: ("statement", its header) once its balances are read,
    ("line", line) for each booked entry, ("end", the statement) with its pending entries counted and its dates;
    StatementError naming the line for anything that does not fit, its version's schema first. The tree is pruned
    as each part is read, so memory stays flat however long the statement."""
    start = stream.tell()
    version = _version(stream.read(4096))
    stream.seek(start)
    schema, namespace = camt_schema.schema(version), f"urn:iso:std:iso:20022:tech:xsd:camt.053.001.{version:02d}"
    reader = _Reader(namespace)
    checks: dict[int, camt_schema.SequenceCheck] = {}
    depth, current, announced, days = 0, None, False, []
    try:
        for event, elem in etree.iterparse(stream, events=("start", "end"), resolve_entities=False,
                                           no_network=True, load_dtd=False, huge_tree=False):
            name = _local(elem.tag)
            if event == "start":
                depth += 1
                if not elem.tag.startswith("{" + namespace + "}") or (depth == 1 and name != "Document"):
                    raise StatementError(f"<{name}> is not an element of camt.053.001.{version:02d} here",
                                         elem.sourceline)
                problem = checks[depth - 1].child(name) if depth - 1 in checks else None
                if problem:
                    raise StatementError(f"{problem} in the camt.053.001.{version:02d} schema", elem.sourceline)
                if (depth, name) in ((1, "Document"), (2, "BkToCstmrStmt"), (3, "Stmt")):
                    checks[depth] = camt_schema.SequenceCheck(name, camt_schema.sequence(version, name))
                if (depth, name) == (3, "Stmt"):
                    current, announced, days = ParsedStatement(format="camt053", currency="", account=None,
                                                               source_line=elem.sourceline), False, []
                continue
            depth -= 1
            if depth == 3 and 3 in checks:  # a child of a statement, whole: validated, read, then forgotten
                invalid = _invalid(schema, elem, version)
                if invalid:
                    raise invalid
                if name == "Ntry":
                    if not announced:
                        _check_header(current)
                        announced = True
                        yield "statement", current
                    line = _entry(reader, elem)
                    if line.currency != current.currency:
                        raise StatementError(f"an entry in {line.currency} on a statement in {current.currency}",
                                             line.source_line)
                    if line.status == "booked":
                        days = [min(days[0], line.booking_date), max(days[1], line.booking_date)] if days else \
                            [line.booking_date, line.booking_date]
                        yield "line", line
                    else:
                        current.pending += 1
                else:
                    _header_part(reader, elem, name, current)
                _drop(elem)
            elif depth == 2 and name == "GrpHdr":
                invalid = _invalid(schema, elem, version)
                if invalid:
                    raise invalid
                _drop(elem)
            elif depth in (0, 1, 2) and depth + 1 in checks:  # Document, BkToCstmrStmt or Stmt ends
                problem = checks.pop(depth + 1).finish()
                if problem:
                    raise StatementError(f"{problem} in the camt.053.001.{version:02d} schema", elem.sourceline)
                if name == "Stmt":
                    if not announced:
                        _check_header(current)
                        yield "statement", current
                    if days:
                        current.from_date = current.from_date or days[0]
                        current.to_date = current.to_date or days[1]
                    yield "end", current
                    current = None
                    _drop(elem)
    except etree.XMLSyntaxError as e:
        raise StatementError(f"not well-formed XML: {e.msg}", e.lineno or None) from None


def _header_part(reader: _Reader, elem, name: str, current: ParsedStatement) -> None:
    """What a statement says of itself before its entries: its id, sequence number, period, account, balances."""
    if name == "Bal":
        _balance(reader, elem, current)
    elif name == "Id":
        current.statement_id = (elem.text or "").strip() or None
    elif name == "ElctrncSeqNb":
        current.electronic_sequence = int(Decimal((elem.text or "").strip()))
    elif name == "FrToDt":
        current.from_date, current.to_date = _from_to(reader, elem)
    elif name == "Acct":
        current.account = reader.text(elem, "Id/IBAN", "Id/Othr/Id")
        current.currency = reader.text(elem, "Ccy") or current.currency


def parse(data: bytes) -> list[ParsedStatement]:
    """The statements of a camt.053 file, each with its booked lines; StatementError naming the line."""
    statements: list[ParsedStatement] = []
    for kind, item in events(BytesIO(data)):
        if kind == "line":
            statements[-1].lines.append(item)
        elif kind == "statement":
            statements.append(item)
    if not statements:
        raise StatementError("the camt.053 document holds no <Stmt>")
    return statements


def _drop(elem) -> None:
    """Forget a parsed element and the siblings before it (all parsed already): memory stays flat."""
    elem.clear(keep_tail=False)
    while elem.getprevious() is not None:
        del elem.getparent()[0]


def _from_to(r: _Reader, elem) -> tuple[date | None, date | None]:
    def day(path):
        raw = r.text(elem, path)
        try:
            return date.fromisoformat(raw[:10]) if raw else None
        except ValueError:
            raise StatementError(f"<{path}> {raw!r} is not a date", elem.sourceline) from None
    return day("FrDtTm"), day("ToDtTm")


def _check_header(statement: ParsedStatement) -> None:
    where = statement.source_line
    if statement.opening_balance is None:
        raise StatementError("the statement has no opening balance (<Bal> of type OPBD or PRCD)", where)
    if statement.closing_balance is None:
        raise StatementError("the statement has no closing balance (<Bal> of type CLBD)", where)
    if not statement.currency:
        raise StatementError("the statement names no currency", where)
