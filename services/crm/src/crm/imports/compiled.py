"""A marshmallow schema's load, derived once into plain functions for the shapes an import row takes.

An import checks every row with the rules of POST /parties (PartyCreateSchema). Loading 100,000 rows through
marshmallow costs seconds of its machinery for work that is mostly "is this a string, is it short enough". compile()
walks the schema's declared fields once and builds a loader that runs the SAME validator objects the schema holds
(lengths, OneOf, Email, URL, the country check...) and the schema's own @validates_schema methods, and fills the
same load_default values, so the rules stay written in one place: the schema.

The loader only says yes when it is sure: any shape it does not know (a field type other than String, List,
Nested; a value of another type; an unknown key; a validator refusing) makes it answer None, and the caller loads
the row with the schema itself, which then names the error. tests/test_import_compiled.py checks with hypothesis
that on generated rows it never accepts what the schema refuses and gives exactly what the schema gives.
"""

from collections.abc import Callable

from marshmallow import RAISE, Schema, ValidationError, fields, missing

_FAIL = object()


def _never(_value):
    return _FAIL


def _field(field: fields.Field) -> Callable:
    allow_none = field.allow_none
    validators = tuple(field.validators)

    def checked(value):
        for validator in validators:
            try:
                if validator(value) is False:
                    return _FAIL
            except ValidationError:
                return _FAIL
        return value

    if type(field) in (fields.String, fields.Email, fields.Url):
        def load_str(value):
            if value is None:
                return None if allow_none else _FAIL
            return checked(value) if isinstance(value, str) else _FAIL
        return load_str
    if type(field) is fields.List:
        inner = _field(field.inner)

        def load_list(value):
            if value is None:
                return None if allow_none else _FAIL
            if not isinstance(value, list):
                return _FAIL
            out = []
            for item in value:
                loaded = inner(item)
                if loaded is _FAIL:
                    return _FAIL
                out.append(loaded)
            return checked(out)
        return load_list
    if isinstance(field, fields.Nested) and not field.many and isinstance(field.schema, Schema):
        nested = compile_schema(field.schema)  # a subclass (e.g. a string shorthand) is followed for dicts only

        def load_nested(value):
            if value is None:
                return None if allow_none else _FAIL
            if not isinstance(value, dict):
                return _FAIL
            loaded = nested(value)
            return _FAIL if loaded is None else checked(loaded)
        return load_nested
    return _never


def compile_schema(schema: Schema) -> Callable[[dict], dict | None]:
    """load(data) -> what schema.load(data) returns, or None when not sure (then use the schema)."""
    hooks = []
    for tag, entries in schema._hooks.items():
        for name, many, options in entries:
            if tag != "validates_schema" or many or options.get("pass_original"):
                return lambda data: None
            hooks.append(getattr(schema, name))
    if schema.unknown != RAISE:
        return lambda data: None
    loaders = []  # (data key, attribute, loader), in the schema's field order (the order load gives)
    for name, field in schema.load_fields.items():
        loaders.append((field.data_key or name, field.attribute or name, _field(field)))
    known = {key for key, _, _ in loaders}
    required = tuple(field.data_key or name for name, field in schema.load_fields.items() if field.required)
    defaults = tuple((field.attribute or name, field.load_default) for name, field in schema.load_fields.items()
                     if field.load_default is not missing)

    def load(data: dict) -> dict | None:
        if not isinstance(data, dict) or not known.issuperset(data) or any(k not in data for k in required):
            return None
        out = {}
        for key, attribute, loader in loaders:
            if key in data:
                value = loader(data[key])
                if value is _FAIL:
                    return None
                out[attribute] = value
        for attribute, default in defaults:
            if attribute not in out:
                out[attribute] = default() if callable(default) else default
        for hook in hooks:
            try:
                hook(out)
            except ValidationError:
                return None
        return out
    return load
