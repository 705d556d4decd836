"""What every statement format is read into: statements of one account with their balances and booked lines."""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


class StatementError(Exception):
    """A file that cannot be imported: `line` is where in the file (1-based) when known."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


@dataclass
class ParsedLine:
    booking_date: date
    amount: Decimal                      # signed: money into the account > 0
    currency: str
    value_date: date | None = None
    status: str = "booked"               # booked | pending (pending lines are reported, never imported)
    reversal: bool = False
    bank_reference: str | None = None    # AcctSvcrRef, MT940 bank reference, OFX FITID
    end_to_end_id: str | None = None
    counterparty_name: str | None = None
    counterparty_iban: str | None = None
    remittance: str | None = None
    structured_reference: str | None = None
    details: list[dict] = field(default_factory=list)  # the transactions of a batched entry
    source_line: int | None = None


@dataclass
class ParsedStatement:
    format: str
    currency: str
    account: str | None                  # IBAN or the bank's account number, as the file says
    statement_id: str | None = None
    electronic_sequence: int | None = None
    from_date: date | None = None
    to_date: date | None = None
    opening_balance: Decimal | None = None
    closing_balance: Decimal | None = None
    lines: list[ParsedLine] = field(default_factory=list)
    pending: int = 0                     # pending entries seen and left out
    source_line: int | None = None

    @property
    def booked_total(self) -> Decimal:
        return sum((x.amount for x in self.lines), Decimal("0"))
