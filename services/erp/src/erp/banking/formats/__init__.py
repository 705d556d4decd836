"""Statement formats: camt.053, MT940, OFX and CSV, each read into ParsedStatement (pure: no database)."""

from . import camt, csv_format, ofx, swift_mt940
from .model import ParsedLine, ParsedStatement, StatementError

__all__ = ["ParsedLine", "ParsedStatement", "StatementError", "detect", "parse"]

FORMATS = ("camt053", "mt940", "ofx", "csv")


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


def parse(data: bytes, fmt: str | None, csv_mapping: dict | None, currency: str) -> list[ParsedStatement]:
    """The statements in a file of the given format (or the one detected); StatementError when it does not read."""
    fmt = fmt or detect(data)
    if fmt is None:
        raise StatementError("not a statement in a known format (camt.053, MT940, OFX; CSV needs format=csv)")
    readers = {"camt053": camt.parse, "mt940": swift_mt940.parse, "ofx": ofx.parse,
               "csv": lambda d: csv_format.parse(d, csv_mapping, currency)}
    try:
        return readers[fmt](data)
    except StatementError:
        raise
    except (ArithmeticError, AttributeError, KeyError, LookupError, TypeError, ValueError) as e:
        # a file that fits its format's grammar but not its meaning (a missing date, a field of the wrong kind)
        raise StatementError(f"not a readable {fmt} statement: {type(e).__name__}: {e}") from None
