"""SWIFT MT940 customer statements, read with the `mt-940` library: one statement per :20: block (a file may hold
several, with or without the {1:..}{4: envelope). :25: names the account, :28C: the statement and sequence number
(the statement number is the electronic sequence), :60F:/:60M: and :62F:/:62M: the balances, each :61: a line
and the :86: after it its details. Structured :86: fields in the /CODE/value form (EREF, NAME, IBAN, REMI, CRF)
give the EndToEndId, the counterparty, the remittance text and a creditor reference; otherwise the whole :86:
is the remittance text. RC and RD mark reversals (of a credit: money out; of a debit: money in)."""

import re
from datetime import date
from decimal import Decimal

import mt940

from .model import ParsedLine, ParsedStatement, StatementError

FIELD = re.compile(r"/(EREF|NAME|IBAN|REMI|CRF|BENM|ORDP|ADDR)/")


def looks_like(head: bytes) -> bool:
    return b":20:" in head and (b":60F:" in head or b":60M:" in head or b":25:" in head)


def _structured(details: str) -> dict:
    """/EREF/x/NAME/y/IBAN/z/REMI/text as a dict; {} when the :86: is free text."""
    parts = FIELD.split(details)
    if len(parts) < 3:
        return {}
    return {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}


def _blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, text) of each statement: a new one starts at every :20:."""
    blocks, current, start = [], [], 1
    for number, line in enumerate(text.splitlines(), 1):
        if line.startswith(":20:") and current:
            blocks.append((start, "\n".join(current) + "\n"))
            current, start = [], number
        if line.startswith(":20:") and not current:
            start = number
        if line.strip() in ("-}", "-") or line.startswith("{1:"):
            continue
        current.append(line)
    if current:
        blocks.append((start, "\n".join(current) + "\n"))
    return [(s, b) for s, b in blocks if ":20:" in b]


def _line_numbers(block: str, first: int) -> list[int]:
    return [first + i for i, line in enumerate(block.splitlines()) if line.startswith(":61:")]


def parse(data: bytes) -> list[ParsedStatement]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    statements = []
    for first, block in _blocks(text.replace("\r\n", "\n")):
        if ":60F:" not in block and ":60M:" not in block:
            raise StatementError("the statement has no opening balance (:60F: or :60M:)", first)
        if ":62F:" not in block and ":62M:" not in block:
            raise StatementError("the statement has no closing balance (:62F: or :62M:)", first)
        parsed = mt940.models.Transactions()
        try:
            parsed.parse(block)
        except Exception as e:  # noqa: BLE001 - the library raises bare exceptions of many kinds on bad input
            raise StatementError(f"not a valid MT940 statement: {e}", first) from None
        head = parsed.data
        opening, closing = head.get("final_opening_balance"), head.get("final_closing_balance")
        if opening is None or closing is None:
            raise StatementError("the statement's balances cannot be read (:60F:/:62F:)", first)
        numbers = _line_numbers(block, first)
        if len(numbers) != len(parsed.transactions):
            raise StatementError(f"{len(numbers)} :61: lines but {len(parsed.transactions)} could be read", first)
        statement = ParsedStatement(
            format="mt940", currency=opening.amount.currency, account=(head.get("account_identification") or
                                                                        "").replace(" ", "") or None,
            statement_id=head.get("transaction_reference"), opening_balance=opening.amount.amount,
            closing_balance=closing.amount.amount, from_date=_day(opening.date), to_date=_day(closing.date),
            source_line=first)
        number = (head.get("statement_number") or "").lstrip("0")
        statement.electronic_sequence = int(number) if number.isdigit() else None
        for tx, line_number in zip(parsed.transactions, numbers, strict=True):
            statement.lines.append(_line(tx.data, statement.currency, line_number))
        statements.append(statement)
    if not statements:
        raise StatementError("no :20: statement found in the MT940 file", 1)
    return statements


def _day(value) -> date | None:
    """The library's Date as a plain date."""
    return None if value is None else date(value.year, value.month, value.day)


def _line(tx: dict, currency: str, line_number: int) -> ParsedLine:
    status = tx.get("status") or ""
    if status not in ("C", "D", "RC", "RD"):
        raise StatementError(f":61: mark {status!r}: C, D, RC or RD", line_number)
    size = abs(Decimal(tx["amount"].amount))
    amount = size if status in ("C", "RD") else -size
    if amount == 0:
        raise StatementError(":61: an amount of zero", line_number)
    details = (tx.get("transaction_details") or "").replace("\n", "")
    fields = _structured(details)
    reference = tx.get("bank_reference") or None
    customer = tx.get("customer_reference")
    return ParsedLine(
        booking_date=_day(tx.get("entry_date") or tx.get("date")), value_date=_day(tx.get("date")), amount=amount,
        currency=tx["amount"].currency or currency, reversal=status.startswith("R"), bank_reference=reference,
        end_to_end_id=fields.get("EREF") or (customer if customer and customer != "NONREF" else None),
        counterparty_name=fields.get("NAME") or fields.get("BENM") or fields.get("ORDP"),
        counterparty_iban=(fields.get("IBAN") or "").replace(" ", "") or None,
        remittance=fields.get("REMI") or (details if not fields else None) or None,
        structured_reference=fields.get("CRF"), source_line=line_number)
