"""Small marshmallow validators both services share."""

import re

from marshmallow import ValidationError

_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")


def not_blank(value: str) -> None:
    """A name of only spaces is no name (and the event contracts refuse it)."""
    if not value.strip():
        raise ValidationError("must not be blank")


def normalize_iban(value: str) -> str:
    return value.replace(" ", "").upper()


def iban(value: str) -> None:
    """ISO 13616: country, check digits and at most 30 more characters (34 in all), mod 97 == 1."""
    compact = normalize_iban(value)
    if not _IBAN.match(compact):
        raise ValidationError("an IBAN: 2 letters, 2 check digits, up to 30 letters or digits (34 in all), "
                              "e.g. FR76 3000 6000 0112 3456 7890 189")
    digits = "".join(str(int(c, 36)) for c in compact[4:] + compact[:4])
    if int(digits) % 97 != 1:
        raise ValidationError("this IBAN's check digits are wrong (a typo?)")
