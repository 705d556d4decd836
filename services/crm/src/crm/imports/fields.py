"""What a row of an import becomes: the column mapping, and each row as the party or lead the API would accept.

Rows are checked with the same marshmallow schemas as POST /parties and POST /leads, so an import never stores
what the API would refuse; each problem is reported with the row, the import field and the column it came from.
"""

import re

from marshmallow import ValidationError
from servicekit.problems import field_error

from ..leads.schemas import LeadCreateSchema
from ..parties.models import KINDS
from ..parties.schemas import PartyCreateSchema
from .compiled import compile_schema

ADDRESS_PARTS = ("line1", "line2", "city", "postal_code", "region", "country")
ADDRESS_FIELDS = tuple(f"{a}_{p}" for a in ("billing", "shipping") for p in ADDRESS_PARTS)
PARTY_FIELDS = ("kind", "legal_name", "first_name", "last_name", "full_name", "company_name", "job_title", "roles",
                "tax_id", "email", "phone", "website", *ADDRESS_FIELDS)
LEAD_FIELDS = ("first_name", "last_name", "full_name", "company_name", "email", "phone", "job_title", "message",
               "source", "campaign", "utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "score")
TARGET_FIELDS = {"parties": PARTY_FIELDS, "leads": LEAD_FIELDS}
MULTI = {"email", "phone"}  # several columns may map to them, and a cell may hold several values separated by ;
ALIASES = {
    "name": "full_name", "fn": "full_name", "contact": "full_name", "given_name": "first_name",
    "firstname": "first_name", "lastname": "last_name", "surname": "last_name", "family_name": "last_name",
    "company": "company_name", "organization": "company_name", "organisation": "company_name", "org": "company_name",
    "e_mail": "email", "mail": "email", "email_address": "email", "emails": "email",
    "telephone": "phone", "tel": "phone", "mobile": "phone", "phone_number": "phone", "phones": "phone",
    "vat": "tax_id", "vat_number": "tax_id", "vat_id": "tax_id", "title": "job_title", "position": "job_title",
    "url": "website", "web": "website", "street": "billing_line1", "address": "billing_line1",
    "city": "billing_city", "zip": "billing_postal_code", "postcode": "billing_postal_code",
    "postal_code": "billing_postal_code", "region": "billing_region", "state": "billing_region",
    "country": "billing_country", "role": "roles", "type": "kind",
}
KIND_WORDS = {"company": "company", "organization": "company", "organisation": "company", "org": "company",
              "business": "company", "person": "person", "individual": "person", "contact": "person",
              "people": "person"}
_KEY = re.compile(r"[^a-z0-9]+")
# one instance each: building a schema costs more than loading a row with it
_PARTY = PartyCreateSchema()
_LEAD = LeadCreateSchema()
_PARTY_FAST = compile_schema(_PARTY)  # the same rules, without marshmallow's machinery for the rows that pass


def _key(header: str) -> str:
    return _KEY.sub("_", re.sub(r" #\d+$", "", header).lower()).strip("_")


def resolve_mapping(columns: list[str], mapping: dict | None, target: str) -> dict[str, str]:
    """{column: import field}: the caller's mapping checked against the file, or headers matched by name."""
    fields = TARGET_FIELDS[target]
    out: dict[str, str] = {}
    if mapping:
        for column, name in mapping.items():
            if not name:
                continue  # mapped to nothing: ignored
            if column not in columns:
                raise field_error(f"mapping.{column}", f"the file has no column {column!r}; it has "
                                                       f"{', '.join(columns)}")
            if name not in fields:
                raise field_error(f"mapping.{column}", f"{name!r} is not a field of {target}: use one of "
                                                       f"{', '.join(fields)}")
            if name not in MULTI and name in out.values():
                raise field_error(f"mapping.{column}", f"{name!r} is mapped from two columns")
            out[column] = name
    else:
        for column in columns:
            key = _key(column)
            name = key if key in fields else ALIASES.get(key)
            if name in fields and (name in MULTI or name not in out.values()):
                out[column] = name
    if not out:
        raise field_error("mapping", f"no column maps to a field of {target}: send a mapping "
                                     f"{{column: field}} (fields: {', '.join(fields)})")
    return out


def row_fields(values: dict, mapping: dict[str, str] | None) -> tuple[dict, dict]:
    """A row as {field: value} (channels as lists of {value, label}) and {field: column it came from}."""
    out: dict = {}
    columns: dict = {}
    if mapping is None:  # vCard rows are named by field already
        return dict(values), {}
    for column, raw in values.items():
        name = mapping.get(column)
        if not name:
            continue
        if name in MULTI:
            parts = [p.strip() for p in raw.split(";") if p.strip()]
            out.setdefault(name, []).extend({"value": p, "label": None} for p in parts)
            columns.setdefault(name, []).extend([column] * len(parts))
        else:
            out[name] = raw
            columns[name] = column
    return out, columns


def _split_name(full: str) -> tuple[str | None, str | None]:
    words = full.split()
    if len(words) < 2:
        return None, full or None
    return " ".join(words[:-1]), words[-1]


def _channels(items) -> list[dict]:
    return [{k: v for k, v in c.items() if v is not None} for c in items or []]


def _flatten(messages, prefix: str = "") -> list[tuple[str, str]]:
    out = []
    if isinstance(messages, dict):
        for key, value in messages.items():
            out += _flatten(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(messages, list):
        for m in messages:
            out += _flatten(m, prefix) if isinstance(m, dict | list) else [(prefix, str(m))]
    else:
        out.append((prefix, str(messages)))
    return out


def _errors(exc: ValidationError, row: int, columns: dict) -> list[dict]:
    """Schema messages named by import field and column: emails.1.value -> email (its column)."""
    out = []
    for path, message in _flatten(exc.messages):
        parts = path.split(".")
        name, column = parts[0], None
        if name in ("emails", "phones", "email", "phone"):
            name = name.rstrip("s")
            cols = columns.get(name)
            index = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0
            column = cols[index] if isinstance(cols, list) and index < len(cols) else cols
        elif name in ("billing_address", "shipping_address") and len(parts) > 1:
            name = f"{name.split('_')[0]}_{parts[1]}"
            column = columns.get(name)
        elif name == "_schema":
            name = "(row)"
        else:
            column = columns.get(name)
        out.append({"row": row, "field": name, "column": column if isinstance(column, str) else None,
                    "message": message})
    return out


def party_payload(f: dict, columns: dict, row: int, default_kind: str | None) -> tuple[dict | None, str | None,
                                                                                       list[dict]]:
    """(what POST /parties would accept, the person's company name, errors) for one row."""
    data, company_name, errors = party_data(f, columns, row, default_kind)
    if data is None:
        return None, None, errors
    loaded = _PARTY_FAST(data)
    if loaded is not None:
        return loaded, company_name, []
    try:
        return _PARTY.load(data), company_name, []
    except ValidationError as exc:
        return None, None, _errors(exc, row, columns)


def party_data(f: dict, columns: dict, row: int, default_kind: str | None) -> tuple[dict | None, str | None,
                                                                                    list[dict]]:
    """The row as a POST /parties body (not checked yet), the person's company name, and an unknown kind's error."""
    raw_kind = (f.get("kind") or default_kind or "").strip().lower()
    if raw_kind:
        kind = KIND_WORDS.get(raw_kind)
        if kind is None:
            return None, None, [{"row": row, "field": "kind", "column": columns.get("kind"),
                                 "message": f"{raw_kind!r} is not one of {', '.join(KINDS)}"}]
    elif f.get("first_name") or f.get("last_name"):
        kind = "person"
    elif f.get("legal_name") or (f.get("company_name") and not f.get("full_name")):
        kind = "company"
    else:
        kind = "person"
    data: dict = {"kind": kind}
    company_name = None
    if kind == "company":
        data["legal_name"] = f.get("legal_name") or f.get("company_name") or f.get("full_name")
    else:
        first, last = f.get("first_name"), f.get("last_name")
        if not first and not last and f.get("full_name"):
            first, last = _split_name(f["full_name"])
        data.update({k: v for k, v in (("first_name", first), ("last_name", last), ("job_title", f.get("job_title")))
                     if v})
        company_name = f.get("company_name")
    for name in ("tax_id", "website"):
        if f.get(name):
            data[name] = f[name]
    if f.get("roles"):
        data["roles"] = sorted({r.strip().lower() for r in re.split(r"[,;|]", f["roles"]) if r.strip()})
    if f.get("email"):
        data["emails"] = _channels(f["email"])
    if f.get("phone"):
        data["phones"] = _channels(f["phone"])
    for address in ("billing", "shipping"):
        parts = {p: f[f"{address}_{p}"] for p in ADDRESS_PARTS if f.get(f"{address}_{p}")}
        if parts.get("country"):
            parts["country"] = parts["country"].upper()
        if parts:
            data[f"{address}_address"] = parts
    return data, company_name, []


def lead_payload(f: dict, columns: dict, row: int) -> tuple[dict | None, list[dict], list[dict]]:
    """(what POST /leads would accept, errors, notes) for one row; a lead keeps one email and one phone."""
    data = {k: f[k] for k in LEAD_FIELDS if k not in ("full_name", "email", "phone") and f.get(k)}
    if f.get("full_name") and not (f.get("first_name") or f.get("last_name")):
        first, last = _split_name(f["full_name"])
        data.update({k: v for k, v in (("first_name", first), ("last_name", last)) if v})
    notes = []
    for name in ("email", "phone"):
        values = f.get(name) or []
        if values:
            data[name] = values[0]["value"]
        if len(values) > 1:
            notes.append({"row": row, "field": name, "column": columns.get(name, [None])[0],
                          "message": f"a lead keeps one {name}: {values[0]['value']}"})
    data.setdefault("source", "import")
    try:
        return _LEAD.load(data), [], notes
    except ValidationError as exc:
        return None, _errors(exc, row, columns), notes
