"""Hostile input stops at the door: body size, JSON depth and number size, characters PostgreSQL refuses,
time-zone offsets it cannot store, non-JSON bodies on JSON endpoints, and a lost database answered with 503.

Everything here answers a problem+json 4xx (or 503) naming the field, before any use case runs, so a request
that would have failed half-way in the database changes nothing.
"""

import decimal
import json
import math
import re
from datetime import datetime, time, timedelta

from flask import Flask, Request, current_app, request
from sqlalchemy import exc as sa_exc
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from .problems import Problem, field_error, problem_response

DEFAULT_MAX_BODY = 1024 * 1024  # bytes; endpoints that take files raise their own limit
MAX_DEPTH = 32  # nesting of a JSON body: the deepest real payload is 4
MAX_INT = 2**63 - 1  # PostgreSQL's bigint
MAX_NUMBER_CHARS = 40  # longer number literals are never a real value and cost time to convert
MAX_OFFSET = timedelta(hours=15, minutes=59)  # PostgreSQL refuses time-zone offsets beyond ±15:59
RETRY_AFTER_SECONDS = 5
# NUL and UTF-16 surrogates: PostgreSQL text cannot hold them (psycopg2 raises before the query is sent)
_REFUSED_CHARS = re.compile("[\x00\ud800-\udfff]")


class _BigNumber:
    """A number literal too long to be real: kept aside so the walk can name its field."""

    def __init__(self, text: str):
        self.text = text


def _parse_int(text: str):
    return _BigNumber(text) if len(text) > MAX_NUMBER_CHARS else int(text)


def _parse_float(text: str):
    return _BigNumber(text) if len(text) > MAX_NUMBER_CHARS else float(text)


def _refuse_constant(name: str):
    return _BigNumber(name)  # NaN, Infinity: not JSON, and no column holds them


def _invalid(field: str, message: str, location: str = "json", status: int = 422) -> Problem:
    return Problem(status, "Invalid request", f"{field}: {message}", "validation-error",
                   errors=[{"field": field, "location": location, "message": message}])


def refused_characters(text: str) -> str | None:
    """Why PostgreSQL would refuse this text, or None."""
    found = _REFUSED_CHARS.search(text)
    if not found:
        return None
    if found.group() == "\x00":
        return "must not contain NUL characters"
    return "must be valid Unicode (no lone surrogates)"


def check_value(value, location: str = "json", path: str = "") -> None:
    """Walk a parsed body or argument set (iteratively): depth, numbers, characters, time-zone offsets."""
    stack = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        field = where or "(body)"
        if depth > MAX_DEPTH:
            raise _invalid(field, f"nested deeper than {MAX_DEPTH} levels", location)
        if isinstance(item, str):
            why = refused_characters(item)
            if why:
                raise _invalid(field, why, location)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, _BigNumber):
            raise _invalid(field, "is not a number this API can store", location)
        elif isinstance(item, int):
            if not -MAX_INT <= item <= MAX_INT:
                raise _invalid(field, "is out of range", location)
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise _invalid(field, "must be a finite number", location)
        elif isinstance(item, datetime | time):
            offset = item.utcoffset()
            if offset is not None and abs(offset) > MAX_OFFSET:
                raise _invalid(field, "time-zone offset must be within ±15:59", location)
        elif isinstance(item, dict):
            for key, val in item.items():
                key_text = str(key)
                sub = f"{where}.{key_text}" if where else key_text
                if isinstance(key, str) and refused_characters(key):
                    raise _invalid(sub, refused_characters(key), location)
                stack.append((val, sub, depth + 1))
        elif isinstance(item, list | tuple | set | frozenset):
            for i, val in enumerate(item):
                stack.append((val, f"{where}.{i}" if where else str(i), depth + 1))


def loads_guarded(data: str | bytes):
    """json.loads that refuses, as 400/422 problems, what would later be a 500: bad UTF-8, deep nesting,
    numbers no column holds, NaN/Infinity, NUL characters."""
    if isinstance(data, bytes | bytearray):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as err:
            raise Problem(400, "Malformed JSON", f"The body is not UTF-8 (byte {err.start}).", "malformed-json") \
                from None
    try:
        value = json.loads(data, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_refuse_constant)
    except RecursionError:
        raise _invalid("(body)", f"nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as err:
        raise Problem(400, "Malformed JSON", f"The body is not valid JSON: {err.msg} at line {err.lineno} "
                      f"column {err.colno}.", "malformed-json") from None
    check_value(value)
    return value


class _GuardedJSONModule:
    """What request.get_json() parses with: the same guard as the API's arguments."""

    loads = staticmethod(loads_guarded)
    dumps = staticmethod(json.dumps)


class GuardedRequest(Request):
    """Flask sets each request's json_module to the app's provider; this one keeps the guarded parser."""

    @property
    def json_module(self):
        return _GuardedJSONModule

    @json_module.setter
    def json_module(self, _provider):
        pass


class GuardedParser(FlaskParser):
    """webargs parser of every flask-smorest endpoint: guarded JSON, 415 for non-JSON bodies, empty PATCH 422,
    and a walk of the loaded arguments (query strings included) for what PostgreSQL refuses."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            if req.content_length or req.mimetype:
                raise Problem(415, "Unsupported media type",
                              f"Send the body as application/json (got {req.mimetype or 'no type'}).",
                              "unsupported-media-type")
            return core.missing
        body = req.get_data(cache=True)
        if not body:
            return core.missing
        value = loads_guarded(body)
        if req.method == "PATCH" and value == {}:
            raise _invalid("(body)", "send at least one field to change")
        return value

    def parse(self, argmap, req=None, *, location=None, **kwargs):
        parsed = super().parse(argmap, req, location=location, **kwargs)
        check_value(parsed, location or self.location)
        return parsed


MAX_QUERY = 4096  # bytes of query string; the web server (gunicorn) refuses request lines beyond 8190


def _check_query_and_path() -> None:
    """Raw query strings and path segments: a query string over MAX_QUERY bytes is a 414, a NUL in an unknown
    parameter or a path is refused, not sent on."""
    if len(request.query_string) > MAX_QUERY:
        raise Problem(414, "URI too long", f"The query string has {len(request.query_string)} bytes; at most "
                      f"{MAX_QUERY} are read.", "uri-too-long")
    for key, values in request.args.lists():
        for text in (key, *values):
            why = refused_characters(text)
            if why:
                raise _invalid(key if text is not key else "(query)", why, "query")
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and refused_characters(value):
            raise Problem(404, "Not found", f"No {name} like that exists.", "not-found")


def _database_error(err: sa_exc.DBAPIError):
    """A database that went away is a 503 to retry; a value it refuses is the client's 4xx; the rest is a bug."""
    if isinstance(err, sa_exc.OperationalError | sa_exc.InterfaceError) or err.connection_invalidated:
        return problem_response(503, "Service unavailable", "The database is not reachable right now; retry.",
                                "database-unavailable", headers={"Retry-After": str(RETRY_AFTER_SECONDS)})
    code = getattr(getattr(err, "orig", None), "pgcode", None) or ""
    diag = getattr(getattr(err, "orig", None), "diag", None)
    if code == "23505":  # unique violation: name the field from "Key (email)=(...) already exists."
        detail = getattr(diag, "message_detail", "") or ""
        found = re.match(r"Key \((.*?)\)=", detail)
        names = [n for n in re.findall(r"[a-z_][a-z0-9_]*", found.group(1) if found else "")
                 if n not in ("lower", "upper", "text", "coalesce", "varchar")]
        field = names[-1] if names else "(body)"
        return problem_response(409, "Conflict", f"{field}: another record already has this value.", "conflict",
                                errors=[{"field": field, "message": "already taken"}])
    if code.startswith("23"):  # other integrity rules (references, checks, not null)
        field = getattr(diag, "column_name", None) or "(body)"
        return problem_response(422, "Invalid request", f"{field}: the value breaks a rule of the data "
                                f"({getattr(diag, 'constraint_name', None) or code}).", "validation-error",
                                errors=[{"field": field, "message": "breaks a rule of the data"}])
    if code.startswith("22"):  # data exceptions: out of range, too long, bad format
        return problem_response(422, "Invalid request", "A value is out of range or too long for its field.",
                                "validation-error", errors=[{"field": "(body)", "message": "out of range"}])
    raise err


def _decimal_out_of_range(_err: decimal.InvalidOperation):
    """A number too large for the arithmetic of a validator or a use case is the client's 422, not a 500."""
    return problem_response(422, "Invalid request", "A number is out of range.", "validation-error",
                            errors=[{"field": "(body)", "message": "out of range"}])


def allow_larger_body(app: Flask, endpoint: str, limit: int) -> None:
    """An endpoint that takes files (imports) gets its own body limit instead of MAX_CONTENT_LENGTH."""
    app.config.setdefault("BODY_LIMITS", {})[endpoint] = limit


def _body_limit() -> None:
    limit = current_app.config.get("BODY_LIMITS", {}).get(request.endpoint)
    if limit:
        request.max_content_length = limit


def install(app: Flask) -> None:
    """Body limit, guarded JSON for request.get_json(), NUL in raw queries and paths, 503 on a lost database.

    (The API's arguments go through GuardedParser: servicekit.blueprint.Blueprint binds it.)"""
    app.config.setdefault("MAX_CONTENT_LENGTH", DEFAULT_MAX_BODY)
    app.request_class = GuardedRequest
    app.before_request(_body_limit)
    app.before_request(_check_query_and_path)
    app.register_error_handler(sa_exc.DBAPIError, _database_error)
    app.register_error_handler(decimal.InvalidOperation, _decimal_out_of_range)


def public_fields(max_body: int) -> dict:
    """A public form's body as a flat dict, from JSON or a form post (what websites send): 413 beyond `max_body`
    bytes (with or without Content-Length), 415 for other types, and form values checked like JSON ones."""
    if request.content_length is not None and request.content_length > max_body:
        raise Problem(413, "Content too large", f"A submission is at most {max_body} bytes.", "content-too-large")
    request.max_content_length = max_body
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise field_error("(body)", "send a JSON object")
        return body
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields = request.form.to_dict()
        check_value(fields, "form")
        return fields
    raise Problem(415, "Unsupported media type", "Send application/json or application/x-www-form-urlencoded.",
                  "unsupported-media-type")
