"""CSV exports of banks, read with the column mapping saved for the account: which column holds the booking date
(and its format), the amount (or a debit and a credit column), the text, the counterparty, its IBAN, the bank's
reference and, when the bank gives one, the running balance (then each line is checked against it). The opening
balance is the running balance before the first line, or the previous statement's closing balance."""

import csv
import io
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from .model import ParsedLine, ParsedStatement, StatementError

DEFAULTS = {"delimiter": ";", "date_format": "%d/%m/%Y", "decimal_separator": ",", "thousands_separator": "",
            "encoding": "utf-8", "skip_rows": 0}
COLUMNS = ("date", "value_date", "amount", "debit", "credit", "description", "counterparty", "iban", "reference",
           "balance")


def check_mapping(mapping: dict) -> dict:
    """The mapping with its defaults; ValueError naming what is wrong (the API turns it into a 422)."""
    if not isinstance(mapping, dict):
        raise ValueError("an object: {columns: {...}, delimiter, date_format, ...}")
    merged = {**DEFAULTS, **mapping}
    for key in ("delimiter", "date_format", "decimal_separator", "thousands_separator", "encoding"):
        if not isinstance(merged[key], str):
            raise ValueError(f"{key}: a string")
    if not isinstance(merged["skip_rows"], int) or isinstance(merged["skip_rows"], bool) or not \
            0 <= merged["skip_rows"] <= 100:
        raise ValueError("skip_rows: a whole number from 0 to 100")
    unknown_keys = set(merged) - set(DEFAULTS) - {"columns"}
    if unknown_keys:
        raise ValueError(f"unknown setting {', '.join(sorted(unknown_keys))}")
    columns = merged.get("columns") or {}
    if not isinstance(columns, dict) or "date" not in columns:
        raise ValueError("columns.date: required (the header of the booking date column)")
    if "amount" not in columns and not ("debit" in columns and "credit" in columns):
        raise ValueError("columns: an amount column, or a debit and a credit column")
    if not all(isinstance(v, str) and v.strip() for v in columns.values()):
        raise ValueError("columns: each names a column header (a string)")
    unknown = set(columns) - set(COLUMNS)
    if unknown:
        raise ValueError(f"columns: unknown {', '.join(sorted(unknown))}; known: {', '.join(COLUMNS)}")
    if len(merged["delimiter"]) != 1 or merged["delimiter"] in "\r\n\"":
        raise ValueError("delimiter: one character (not a quote or a line break)")
    if len(merged["decimal_separator"]) != 1:
        raise ValueError("decimal_separator: one character")
    try:
        "".encode(merged["encoding"])
    except LookupError:
        raise ValueError(f"encoding: {merged['encoding']!r} is not an encoding") from None
    try:
        datetime.strftime(datetime(2026, 1, 31), merged["date_format"])
    except ValueError:
        raise ValueError("date_format: a strftime format such as %d/%m/%Y") from None
    return merged


def _amount(raw: str, m: dict, field: str, line: int) -> Decimal:
    text = (raw or "").strip().replace("\u00a0", "").replace(" ", "")
    if m["thousands_separator"]:
        text = text.replace(m["thousands_separator"], "")
    text = text.replace(m["decimal_separator"], ".")
    if not text:
        return Decimal("0")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise StatementError(f"{field} {raw!r} is not an amount for this mapping", line) from None
    if value != value.quantize(Decimal("0.01")):
        raise StatementError(f"{field} {raw!r} has more than 2 decimals", line)
    return value


def _day(raw: str, m: dict, field: str, line: int) -> date:
    try:
        return datetime.strptime((raw or "").strip(), m["date_format"]).date()
    except ValueError:
        raise StatementError(f"{field} {raw!r} does not read as {m['date_format']}", line) from None


def parse(data: bytes, mapping: dict | None, currency: str) -> list[ParsedStatement]:
    if not mapping:
        raise StatementError("no CSV column mapping is saved for this account: PUT one first")
    m = check_mapping(mapping)
    try:
        text = data.decode(m["encoding"]).lstrip("\ufeff")
    except (UnicodeDecodeError, LookupError):
        raise StatementError(f"the file is not in the mapping's encoding {m['encoding']}") from None
    rows = list(csv.reader(io.StringIO(text), delimiter=m["delimiter"]))[int(m["skip_rows"]):]
    if not rows:
        raise StatementError("the CSV file is empty")
    header = [h.strip() for h in rows[0]]
    columns = m["columns"]
    missing = [f"{key} ({name!r})" for key, name in columns.items() if name not in header]
    if missing:
        raise StatementError(f"the mapping does not fit this file: no column {', '.join(missing)}; the file has "
                             f"{', '.join(header)}", 1 + int(m["skip_rows"]))
    at = {key: header.index(name) for key, name in columns.items()}
    statement = ParsedStatement(format="csv", currency=currency, account=None)
    previous_balance = None
    for offset, row in enumerate(rows[1:], 2 + int(m["skip_rows"])):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            raise StatementError(f"{len(row)} columns, the header has {len(header)}", offset)

        def cell(key, row=row):
            return row[at[key]].strip() if key in at else None
        if "amount" in at:
            amount = _amount(cell("amount"), m, "amount", offset)
        else:
            amount = _amount(cell("credit"), m, "credit", offset) - abs(_amount(cell("debit"), m, "debit", offset))
        if amount == 0:
            continue
        line = ParsedLine(booking_date=_day(cell("date"), m, "date", offset),
                          value_date=_day(cell("value_date"), m, "value_date", offset) if cell("value_date") else None,
                          amount=amount, currency=currency, bank_reference=cell("reference") or None,
                          counterparty_name=cell("counterparty") or None,
                          counterparty_iban=(cell("iban") or "").replace(" ", "").upper() or None,
                          remittance=cell("description") or None, source_line=offset)
        if "balance" in at:
            running = _amount(cell("balance"), m, "balance", offset)
            if previous_balance is None:
                statement.opening_balance = running - amount
            elif previous_balance + amount != running:
                raise StatementError(f"balance {running}: the line before ended at {previous_balance} and this "
                                     f"line moves {amount}", offset)
            previous_balance = running
        statement.lines.append(line)
    if not statement.lines:
        raise StatementError("the CSV file has no line with an amount")
    statement.closing_balance = previous_balance
    statement.from_date = min(x.booking_date for x in statement.lines)
    statement.to_date = max(x.booking_date for x in statement.lines)
    return [statement]
