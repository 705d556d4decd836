"""Optimistic concurrency: ETag is the record's version; updates must send If-Match."""

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
