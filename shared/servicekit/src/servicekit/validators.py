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


# ISO 3166-1 alpha-2, the officially assigned codes (plus XK, used by banks and the EU for Kosovo)
COUNTRIES = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO
JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR
MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO
RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV
TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW XK
""".split())

_BIC = re.compile(r"^[A-Z]{4}([A-Z]{2})[A-Z0-9]{2}([A-Z0-9]{3})?$")


def country(value: str) -> None:
    """An ISO 3166-1 alpha-2 country code in capitals."""
    if value not in COUNTRIES:
        raise ValidationError("an ISO 3166-1 alpha-2 country code in capitals, e.g. FR, DE, GB, US")


def bic(value: str) -> None:
    """ISO 9362: 4 letters (bank), the country (ISO 3166), 2 letters or digits (place), optionally 3 (branch)."""
    match = _BIC.match(value.replace(" ", "").upper())
    if not match or match.group(1) not in COUNTRIES:
        raise ValidationError("a BIC (ISO 9362): 8 or 11 characters, bank, country, location and branch, "
                              "e.g. DEUTDEFF or DEUTDEFF500")
