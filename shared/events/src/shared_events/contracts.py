"""JSON Schema contracts of event data, checked before an event enters the outbox."""

import json
from functools import cache
from importlib import resources

from jsonschema import Draft202012Validator, FormatChecker

from .catalogue import event_type


class ContractViolation(ValueError):
    """Event data that does not match its type's schema."""

    def __init__(self, type_: str, errors: list[str]):
        self.type = type_
        self.errors = errors
        super().__init__(f"{type_}: " + "; ".join(errors))


@cache
def load_schema(filename: str) -> dict:
    return json.loads(resources.files("shared_events").joinpath("schemas", filename).read_text())


@cache
def _validator(filename: str) -> Draft202012Validator:
    schema = load_schema(filename)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


def validate(type_: str, data: dict) -> None:
    """Raise ContractViolation unless data is valid for the event type."""
    validator = _validator(event_type(type_).schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.absolute_path))
    if errors:
        raise ContractViolation(
            type_, [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]
        )
