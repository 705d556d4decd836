"""ISO 11649 structured creditor references ("RF" references): what a customer writes in the transfer's
remittance field so the bank statement line names the invoice it pays, letter for letter."""

import re

_BODY = re.compile(r"[^0-9A-Z]")


def _digits(text: str) -> int:
    return int("".join(str(int(c, 36)) for c in text))


def rf_reference(document_number: str) -> str:
    """RF, two check digits, then the document number's letters and digits (21 at most): INV-2026-000040 ->
    RF<cc>INV2026000040. The check digits make 98 - (body + "RF00" as digits) mod 97."""
    body = _BODY.sub("", document_number.upper())[-21:]
    return f"RF{98 - _digits(body + 'RF00') % 97:02d}{body}"


def is_rf_reference(text: str) -> bool:
    """Whether `text` (spaces allowed) is a well-formed RF reference with correct check digits."""
    compact = text.replace(" ", "").upper()
    if not re.fullmatch(r"RF[0-9]{2}[0-9A-Z]{1,21}", compact):
        return False
    return _digits(compact[4:] + compact[:4]) % 97 == 1


def grouped(reference: str) -> str:
    """Printed in groups of four, as banks show it: RF18 INV2 0260 0004 0."""
    return " ".join(reference[i:i + 4] for i in range(0, len(reference), 4))
