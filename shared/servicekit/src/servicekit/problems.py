"""RFC 9457 problem details: every error of both services leaves in this one JSON shape."""

from flask import Flask, Response, json, request
from werkzeug.exceptions import HTTPException

PROBLEM_TYPE_BASE = "https://crm-erp.dev/problems/"
MEDIA_TYPE = "application/problem+json"


class Problem(Exception):
    """Raised by use cases for an answer other than success; turned into problem+json by the app."""

    def __init__(self, status: int, title: str, detail: str | None = None, type_: str | None = None,
                 errors: list[dict] | None = None, headers: dict | None = None, **extensions):
        super().__init__(detail or title)
        self.status = status
        self.title = title
        self.detail = detail
        self.type = type_
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions


class NotFound(Problem):
    def __init__(self, what: str, ident: object):
        super().__init__(404, "Not found", f"{what} {ident} does not exist.", "not-found")


def field_error(field: str, message: str, status: int = 422, title: str = "Invalid request",
                type_: str = "validation-error") -> Problem:
    return Problem(status, title, f"{field}: {message}", type_, errors=[{"field": field, "message": message}])


def linked(fetch, record_id, field: str, noun: str):
    """The record another one points at, from `fetch(record_id)` (a use case's get_x that raises NotFound for
    records the caller may not see); a missing or hidden one is a 422 naming the field, as if it did not exist."""
    try:
        return fetch(record_id)
    except NotFound:
        raise field_error(field, f"no {noun} with id {record_id}") from None


def problem_response(status: int, title: str, detail: str | None = None, type_: str | None = None,
                     errors: list[dict] | None = None, headers: dict | None = None, **extensions) -> Response:
    body = {
        "type": PROBLEM_TYPE_BASE + type_ if type_ else "about:blank",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body["instance"] = request.path.replace("\x00", "") if request else None
    if errors:
        body["errors"] = errors
    body.update(extensions)
    resp = Response(json.dumps(body), status=status, mimetype=MEDIA_TYPE)
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


def _flatten(messages, prefix: str = "") -> list[tuple[str, str]]:
    """marshmallow's nested {field: [msg] | {subfield: ...}} as (dotted.path, message) pairs."""
    out = []
    if isinstance(messages, dict):
        for key, val in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            out += _flatten(val, path)
    elif isinstance(messages, list | tuple):
        for m in messages:
            out += _flatten(m, prefix) if isinstance(m, dict | list) else [(prefix or "(body)", str(m))]
    else:
        out.append((prefix or "(body)", str(messages)))
    return out


def handle_http_exception(err: HTTPException) -> Response:
    data = getattr(err, "data", None) or {}
    messages = data.get("messages")
    if messages:
        errors = []
        for location, fields in messages.items():
            for path, msg in _flatten(fields):
                field = "(body)" if path == "_schema" else path
                errors.append({"field": field, "location": location, "message": msg})
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
        return problem_response(err.code or 422, "Invalid request", detail, "validation-error", errors=errors)
    return problem_response(err.code or 500, err.name, err.description, None, headers=dict(data.get("headers", {})))


def handle_problem(err: Problem) -> Response:
    return problem_response(err.status, err.title, err.detail, err.type, err.errors, err.headers, **err.extensions)


def register(app: Flask) -> None:
    """Install the handlers; call after flask-smorest's Api so these replace its JSON errors."""
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Problem, handle_problem)
