"""What the API accepts fits where it is stored: every string field of an input schema that writes a bounded
column says so with validate.Length(max=...) no longer than the column (otherwise the database refuses the value
after the request was accepted).

Input schemas are paired with their model by name: `BankAccountCreateSchema` writes `BankAccount`,
`QuoteLineInputSchema` writes `QuoteLine` (the longest model name the schema's name starts with).
"""

import importlib
import inspect
import pkgutil
import re._parser as regex_parser

import pytest
from marshmallow import Schema, fields, validate
from sqlalchemy import String

SERVICES = {"crm": "crm.models", "erp": "erp.models"}
INPUT_SUFFIXES = ("CreateSchema", "UpdateSchema", "InputSchema", "InSchema")
# (schema, field) -> why its limit differs from the column's
STORED_OTHERWISE = {
    ("BankAccountCreateSchema", "iban"): "spaces are removed before storing; validators.iban bounds the rest to 34",
}


def _modules(package: str):
    pkg = importlib.import_module(package)
    for info in pkgutil.walk_packages(pkg.__path__, package + "."):
        if ".migrations" in info.name or info.name.endswith((".cli", ".worker", ".app")):
            continue
        yield importlib.import_module(info.name)


def _models(service: str) -> dict[str, type]:
    importlib.import_module(SERVICES[service])  # every model module, on one MetaData
    base = importlib.import_module(f"{service}.db").Base
    return {mapper.class_.__name__: mapper.class_ for mapper in base.registry.mappers}


def _input_schemas(service: str):
    seen = set()
    for module in _modules(service):
        for name, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Schema) and name.endswith(INPUT_SUFFIXES) and cls not in seen:
                seen.add(cls)
                yield name, cls


def _max_length(field: fields.Field) -> int | None:
    """The longest value the field's validators let through: Length(max), a pattern's widest match, a choice."""
    limits = []
    for v in _validators(field):
        if isinstance(v, validate.Length) and v.max is not None:
            limits.append(v.max)
        elif isinstance(v, validate.Regexp):
            widest = regex_parser.parse(v.regex.pattern).getwidth()[1]
            if widest < regex_parser.MAXREPEAT and v.regex.pattern.endswith("$"):
                limits.append(widest)
        elif isinstance(v, validate.OneOf):
            limits.append(max(len(str(c)) for c in v.choices))
    return min(limits) if limits else None


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_input_string_fits_its_column(service):
    models = _models(service)
    problems, checked = [], 0
    for schema_name, schema in _input_schemas(service):
        model_name = max((m for m in models if schema_name.startswith(m)), key=len, default=None)
        if model_name is None:
            continue
        table = models[model_name].__table__
        for name, field in schema().fields.items():
            column = table.columns.get(field.attribute or name)
            if column is None or not isinstance(column.type, String) or not column.type.length:
                continue
            if not isinstance(field, fields.String):
                continue  # enums, emails and UUIDs validate their own shape
            checked += 1
            if (schema_name, name) in STORED_OTHERWISE:
                continue
            limit = _max_length(field)
            if limit is None:
                problems.append(f"{schema_name}.{name}: no max length, column {table.name}.{column.name} "
                                f"holds {column.type.length}")
            elif limit is not None and limit > column.type.length:
                problems.append(f"{schema_name}.{name}: max {limit} > {table.name}.{column.name} "
                                f"({column.type.length})")
    assert checked > 20, f"{service}: the pairing found too few fields to check ({checked})"
    assert not problems, "\n".join(problems)


def _validators(field):
    return field.validators if isinstance(field.validators, list | tuple) else [field.validators]
