"""Statement formats: camt.053, MT940, OFX and CSV, each read into ParsedStatement (pure: no database).

`events` reads a file as a stream of ("statement", header), ("line", booked line) and ("end", statement): camt.053
is read, validated and forgotten part by part (its memory does not grow with the file); the other formats are read
whole, then told the same way. `parse` collects the same events into statements with their lines."""

from collections.abc import Iterator
from io import BytesIO
from typing import BinaryIO

from . import camt, csv_format, ofx, swift_mt940
from .model import ParsedLine, ParsedStatement, StatementError

__all__ = ["ParsedLine", "ParsedStatement", "StatementError", "detect", "events", "parse"]

FORMATS = ("camt053", "mt940", "ofx", "csv")
Event = tuple[str, ParsedStatement | ParsedLine]


def detect(data: bytes) -> str | None:
    """The format of a file from its first bytes; None when none fits (CSV is never guessed: it needs a mapping)."""
    head = data[:4096]
    if camt.looks_like(head):
        return "camt053"
    if ofx.looks_like(head):
        return "ofx"
    if swift_mt940.looks_like(head):
        return "mt940"
    return None


def _told(statements: list[ParsedStatement]) -> Iterator[Event]:
    for statement in statements:
        lines, statement.lines = statement.lines, []
        yield "statement", statement
        for line in lines:
            yield "line", line
        yield "end", statement


def events(stream: BinaryIO, fmt: str | None, csv_mapping: dict | None, currency: str) -> Iterator[Event]:
    """The statements of a file (a seekable binary stream) of the given format, or the one detected, as they are
    read; StatementError when it does not read."""
    start = stream.tell()
    head = stream.read(4096)
    stream.seek(start)
    fmt = fmt or detect(head)
    if fmt is None:
        raise StatementError("not a statement in a known format (camt.053, MT940, OFX; CSV needs format=csv)")
    readers = {"mt940": swift_mt940.parse, "ofx": ofx.parse,
               "csv": lambda d: csv_format.parse(d, csv_mapping, currency)}
    try:
        if fmt == "camt053":
            yield from camt.events(stream)
        else:
            yield from _told(readers[fmt](stream.read()))
    except StatementError:
        raise
    except (ArithmeticError, AttributeError, KeyError, LookupError, TypeError, ValueError) as e:
        # a file that fits its format's grammar but not its meaning (a missing date, a field of the wrong kind)
        raise StatementError(f"not a readable {fmt} statement: {type(e).__name__}: {e}") from None


def parse(data: bytes, fmt: str | None, csv_mapping: dict | None, currency: str) -> list[ParsedStatement]:
    """The statements in a file, each with its booked lines; StatementError when it does not read."""
    statements: list[ParsedStatement] = []
    for kind, item in events(BytesIO(data), fmt, csv_mapping, currency):
        if kind == "statement":
            statements.append(item)
        elif kind == "line":
            statements[-1].lines.append(item)
    if not statements and (fmt or detect(data)) == "camt053":
        raise StatementError("the camt.053 document holds no <Stmt>")
    return statements
