"""Make the generated OpenAPI document true to what the API does.

flask-smorest writes what the decorators say; this adds what the app does around them, from the views themselves:
every error as application/problem+json with the status codes the operation can really answer (401 unless public,
403 when a permission is required, 404 for a record in the path, 400/413/415/422 for a body, 412/428 and the
If-Match header where a change needs it, 503 when the database is away), no catch-all `default`, decimals as
strings with a pattern, public operations marked as needing no token, and an example on every JSON request body
(from each property's name and format, so /docs' "Try it out" starts from something meaningful).
"""

import re

from flask import Flask
from marshmallow import fields

from .auth.api import PUBLIC_ENDPOINTS

DECIMAL_PATTERN = r"^-?[0-9]+(\.[0-9]+)?$"
IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"},
            "description": "The ETag of your last GET of this record; the change applies only if it still matches."}
IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "required": False,
                   "schema": {"type": "string", "maxLength": 200},
                   "description": "Send the same key to retry a create safely: the first answer is repeated."}

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "instance": {"type": ["string", "null"]},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "location": {"type": "string"}, "message": {"type": "string"}}}},
    },
    "additionalProperties": True,
}

REASONS = {
    400: "The body is not valid JSON",
    401: "No valid bearer token",
    403: "Your roles do not grant this",
    404: "No such record, or not one you may see",
    409: "The change conflicts with the record's state",
    412: "The record changed since your GET (If-Match is stale)",
    413: "The body is too large",
    414: "The query string is too long",
    415: "The body is not JSON",
    422: "A field is invalid (problem+json names it)",
    428: "If-Match is missing",
    429: "Too many requests: see Retry-After",
    503: "The database is not reachable: retry after Retry-After seconds",
}


def decimal_as_string(converter, field, ret: dict, **_) -> dict:
    """apispec attribute function: every Decimal leaves the API as a string, so the document says so."""
    if isinstance(field, fields.Decimal):
        bounds = [f"{word} {ret.pop(key)}" for key, word in (("minimum", "at least"), ("maximum", "at most"))
                  if key in ret]
        ret.pop("exclusiveMinimum", None)
        ret.pop("exclusiveMaximum", None)
        kinds = ret.get("type")
        nullable = isinstance(kinds, list) and "null" in kinds
        ret["type"] = ["string", "null"] if nullable else "string"
        ret["format"] = "decimal"
        ret["pattern"] = DECIMAL_PATTERN
        if bounds:
            description = ret.get("description", "")
            ret["description"] = (description + " " if description else "") + f"({', '.join(bounds)})"
    return ret


EXAMPLES_BY_NAME = {
    "legal_name": "Acme Industries SA", "display_name": "Acme Industries SA", "first_name": "Ada",
    "last_name": "Lovelace", "company_name": "Acme Industries SA", "name": "Main", "title": "Call back about the offer",
    "subject": "Follow-up call", "description": "Installation included.", "notes": "Delivery to the back entrance.",
    "message": "As discussed on the phone.", "reason": "Customer asked for a new date", "email": "ada@acme.example",
    "to": "buyer@acme.example", "phone": "+33 1 23 45 67 89", "website": "https://acme.example",
    "tax_id": "FR40303265045", "country": "FR", "currency": "EUR", "city": "Paris", "postal_code": "75002",
    "line1": "1 rue de la Paix", "sku": "LAPTOP-14", "code": "411000", "reference": "PO-2026-0042",
    "customer_reference": "PO-2026-0042", "password": "a-long-passphrase", "kind": "company", "type": "call",
    "iban": "FR76 3000 6000 0112 3456 7890 189", "color": "#1E88E5", "key": "site_visit", "series": "INV",
    "source": "website", "campaign": "spring-2026", "journal": "GEN", "account": "411000",
}


def example_for(schema: dict, components: dict, name: str = "", depth: int = 0):
    if "$ref" in schema:
        return example_for(components.get(schema["$ref"].rsplit("/", 1)[-1], {}), components, name, depth)
    if "example" in schema:
        return schema["example"]
    kinds = schema.get("type")
    kind = next((k for k in kinds if k != "null"), "string") if isinstance(kinds, list) else kinds
    if schema.get("enum"):
        return next(v for v in schema["enum"] if v is not None)
    if kind == "object" or "properties" in schema:
        if depth > 3:
            return {}
        props, required = schema.get("properties", {}), set(schema.get("required", []))
        shown = [p for p in props if p in required or p in EXAMPLES_BY_NAME] or list(props)[:1]
        return {p: example_for(props[p], components, p, depth + 1) for p in shown
                if not props[p].get("readOnly")}
    if kind == "array":
        return [example_for(schema.get("items", {}), components, name.rstrip("s"), depth + 1)]
    if kind in ("integer", "number"):
        low = schema.get("minimum", 1)
        return low if isinstance(low, int | float) and low > 0 else 1
    if kind == "boolean":
        return True
    fmt = schema.get("format")
    if name in EXAMPLES_BY_NAME and fmt not in ("uuid", "date", "date-time", "decimal"):
        return EXAMPLES_BY_NAME[name]
    if fmt == "uuid" or name.endswith("_id"):
        return "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    if fmt == "date" or name.endswith("_date") or name in ("valid_until", "date_from", "date_to"):
        return "2026-12-15"
    if fmt == "date-time" or name.endswith("_at"):
        return "2026-12-15T09:30:00+01:00"
    if fmt == "email" or "email" in name:
        return EXAMPLES_BY_NAME["email"]
    if fmt == "decimal":
        return "1.00" if name in ("quantity",) else "0.2" if "rate" in name else "120.00"
    if name in EXAMPLES_BY_NAME:
        return EXAMPLES_BY_NAME[name]
    return name.replace("_", " ").capitalize() or "text"


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _view_method(app: Flask, endpoint: str, method: str):
    view = app.view_functions.get(endpoint)
    view_class = getattr(view, "view_class", None)
    return getattr(view_class, method, None) if view_class else view


def _response(status: int) -> dict:
    return {"description": REASONS.get(status, "Error"),
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}


def finish(app: Flask, doc: dict) -> dict:
    """The document flask-smorest generated, made true (see the module's docstring)."""
    doc.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    doc["components"].get("responses", {}).pop("DEFAULT_ERROR", None)
    doc["components"].get("responses", {}).pop("UNPROCESSABLE_ENTITY", None)
    for rule in app.url_map.iter_rules():
        path = doc.get("paths", {}).get(_openapi_path(rule.rule))
        if path is None:
            continue
        for method in sorted(rule.methods - {"HEAD"}):
            op = path.get(method.lower())
            if op is None:
                continue
            fn = _view_method(app, rule.endpoint, method.lower())
            _finish_operation(op, fn, public=rule.endpoint in PUBLIC_ENDPOINTS, has_path_args=bool(rule.arguments),
                              method=method, components=doc["components"]["schemas"])
    return doc


def _finish_operation(op: dict, fn, public: bool, has_path_args: bool, method: str, components: dict) -> None:
    responses = op.setdefault("responses", {})
    responses.pop("default", None)
    codes = {503} if method != "OPTIONS" else set()
    if public:
        op["security"] = []
    else:
        codes.add(401)
    if getattr(fn, "_required_permission", None):
        codes.add(403)
    names_a_record = has_path_args or "requestBody" in op or any(
        (p.get("schema") or {}).get("format") == "uuid" for p in op.get("parameters", []))
    if names_a_record and not public:
        codes.add(404)  # a record named in the path, the query or the body is not there (or not yours)
    if "requestBody" in op:
        codes |= {400, 413, 415, 422}
    if op.get("parameters"):
        codes.add(422)
    if any(p.get("in") == "query" for p in op.get("parameters", [])):
        codes.add(414)
    if method not in ("GET", "OPTIONS") and not public:
        codes |= {409, 422}  # a value another record holds, a state that forbids it, a business rule it breaks
    _document_formats(op)
    required = getattr(fn, "_requires_if_match", False)
    if required or getattr(fn, "_optional_if_match", False):
        codes |= {412, 428} if required else {412}
        params = [p for p in op.setdefault("parameters", []) if p.get("name") != "If-Match"]
        params.append({**IF_MATCH, "required": bool(required)})
        op["parameters"] = params
    if getattr(fn, "_idempotent_create", False):
        params = op.setdefault("parameters", [])
        if not any(p.get("name") == "Idempotency-Key" for p in params):
            params.append(IDEMPOTENCY_KEY)
    body = op.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None and "example" not in body and "examples" not in body:
        body["example"] = example_for(body.get("schema", {}), components)
    for status in codes:
        responses.setdefault(str(status), {})
    for status, response in list(responses.items()):
        if status.isdigit() and int(status) >= 400:
            documented = _response(int(status))
            if response.get("description") and "$ref" not in response:
                documented["description"] = response["description"]
            responses[status] = documented


FORMATS = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "pdf": "application/pdf", "vcf": "text/vcard", "json": "application/json"}


def _document_formats(op: dict) -> None:
    """A `format` query parameter chooses the media type of the 200: each one it offers is documented."""
    offered = [p for p in op.get("parameters", []) if p.get("name") == "format" and p.get("in") == "query"]
    enum = (offered[0].get("schema") or {}).get("enum") if offered else None
    ok = op.get("responses", {}).get("200")
    if not enum or not ok:
        return
    content = ok.setdefault("content", {})
    for fmt in enum:
        media = FORMATS.get(fmt)
        if media and media not in content:
            content[media] = {"schema": {"type": "string", "format": "binary"}}


def install(app: Flask, api) -> None:
    """Every document the app serves (and `openapi` writes) goes through finish()."""
    api.ma_plugin.converter.add_attribute_function(decimal_as_string)
    generate = api.spec.to_dict
    api.spec.to_dict = lambda: finish(app, generate())
