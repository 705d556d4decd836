"""The rules that say two contacts are probably the same: normalized email, phone, person name and company name.

Pure functions, no I/O. Leads store the keys these produce (indexed), so leads compare with leads by equality;
parties are narrowed in SQL and confirmed with the same functions (see service.find_duplicates).
"""

import re
import unicodedata

# legal forms dropped from the end of a company name: "ACME S.A.S." and "Acme" are the same company
LEGAL_SUFFIXES = frozenset({
    "sa", "sas", "sasu", "sarl", "eurl", "sci", "snc", "scop",
    "gmbh", "ag", "kg", "ohg", "ug", "ev", "mbh",
    "ltd", "limited", "plc", "llp", "lp",
    "inc", "incorporated", "corp", "corporation", "co", "company", "llc", "pllc",
    "bv", "nv", "vof", "srl", "spa", "sl", "slu", "oy", "ab", "as", "aps", "asa", "kk", "pty", "pte",
})

PHONE_KEY_DIGITS = 9  # the national number without its trunk or country prefix (+33 6…, 06…, 0033 6… agree)
PHONE_MIN_DIGITS = 6  # shorter is an extension or a typo, not a number to match on

_SPACES = re.compile(r"\s+")


def _fold(text: str) -> str:
    """Casefold and strip accents until stable (NFKD can reveal capitals, casefold can add marks)."""
    for _ in range(4):
        decomposed = unicodedata.normalize("NFKD", text.casefold())
        folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
        if folded == text:
            break
        text = folded
    return text


def normalize_text(value: str | None) -> str:
    """Casefolded, accent-free words of letters and digits, single-spaced: " Élodie  D'Arc " -> "elodie d arc"."""
    if not value:
        return ""
    folded = _fold(value).replace(".", "")  # "S.A." is "sa", not "s a"
    words = "".join(ch if ch.isalnum() else " " for ch in folded)
    return _SPACES.sub(" ", words).strip()


def normalize_company(value: str | None) -> str:
    """A company name without its legal form: "Société Générale S.A." -> "societe generale"."""
    words = normalize_text(value).split()
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    return " ".join(words)


def normalize_email(value: str | None) -> str | None:
    """Emails compare without case or surrounding spaces."""
    value = (value or "").strip().casefold()
    return value if "@" in value else None


def phone_digits(value: str | None) -> str:
    return "".join(ch for ch in (value or "") if ch.isascii() and ch.isdigit())


def normalize_phone(value: str | None) -> str | None:
    """The last 9 digits of a phone number, or None when it has too few digits to mean anything."""
    digits = phone_digits(value)
    if len(digits) < PHONE_MIN_DIGITS:
        return None
    return digits[-PHONE_KEY_DIGITS:]


def person_key(first_name: str | None, last_name: str | None) -> str | None:
    """A person's full name, normalized; None when the person has no name."""
    key = normalize_text(" ".join(x for x in (first_name, last_name) if x))
    return key or None


def company_key(name: str | None) -> str | None:
    return normalize_company(name) or None


def compact(key: str | None) -> str:
    """The key without spaces: what the coarse SQL filter on parties compares (see service._party_candidates)."""
    return (key or "").replace(" ", "")
