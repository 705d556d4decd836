"""Optimistic concurrency: ETag is the record's version; updates must send If-Match."""

import functools
import hashlib
import json

from flask import request

from .problems import Problem


def etag_of(version: int) -> str:
    return f'"{version}"'


def required_version() -> int:
    """The version named by If-Match; 428 when missing, 412 when unparseable."""
    raw = request.headers.get("If-Match")
    if not raw:
        raise Problem(428, "Precondition required",
                      "Send If-Match with the ETag from your last GET, so concurrent edits are not lost.",
                      "if-match-required")
    try:
        return int(raw.strip().removeprefix("W/").strip('"'))
    except ValueError:
        raise Problem(412, "Precondition failed", f"If-Match {raw!r} is not an ETag of this API.",
                      "precondition-failed") from None


def check_version(current: int, expected: int) -> None:
    if current != expected:
        raise Problem(412, "Precondition failed",
                      f"The record changed since you read it (now version {current}, you sent {expected}). "
                      "GET it again and reapply your change.", "precondition-failed",
                      headers={"ETag": etag_of(current)})


def content_etag(view: dict) -> str:
    """A strong ETag from a record's representation, for records that keep no version (users, roles)."""
    digest = hashlib.sha256(json.dumps(view, sort_keys=True, default=str).encode()).hexdigest()[:20]
    return f'"{digest}"'


def required_etag() -> str:
    """The raw If-Match of a request; 428 when missing."""
    raw = (request.headers.get("If-Match") or "").strip()
    if not raw:
        raise Problem(428, "Precondition required",
                      "Send If-Match with the ETag from your last GET, so concurrent edits are not lost.",
                      "if-match-required")
    return raw


def check_etag(current: str, expected: str) -> None:
    if expected.removeprefix("W/") != current:
        raise Problem(412, "Precondition failed", "The record changed since you read it. GET it again and "
                      "reapply your change.", "precondition-failed", headers={"ETag": current})


def if_match_required(fn):
    """Decorate a view method that changes a record: 428 before anything else runs when If-Match is missing
    (the OpenAPI document declares the header, 412 and 428 from the mark this leaves)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        required_etag()
        return fn(*args, **kwargs)
    wrapper._requires_if_match = True
    return wrapper


def if_match_optional(fn):
    """Mark a state change that checks the record's state itself and takes If-Match only to guard a concurrent
    edit (documented as an optional header)."""
    fn._optional_if_match = True
    return fn
