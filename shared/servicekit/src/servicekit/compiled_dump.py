"""A marshmallow schema's dump, derived once into plain functions, for the answers a hot endpoint gives.

schema.dump walks its fields through accessors, `missing` checks and per-field method calls on every request.
compile_dump() reads the declared fields once and builds a function that does what marshmallow would do for the
field types it knows (String and its subclasses, UUID, Integer, Boolean, Raw, DateTime, List, Nested), decided by
the field's own serialization methods, so a subclass that changes how a value is written is never mistaken for its
parent. A schema it does not know in full (dump hooks, other field types, defaults on dump, dotted attributes)
keeps the schema's own dump. A test checks with generated records that both give the same.
"""

from collections.abc import Callable

from marshmallow import Schema, fields, missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP

_Unsupported = object()


def _text(value):
    if value is None:
        return None
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _as_str(value):
    return None if value is None else str(value)


def _as_int(value):
    return None if value is None else int(value)


def _same(value):
    return value


def _converter(field: fields.Field):
    """value -> field._serialize(value) for one field, or _Unsupported."""
    cls = type(field)
    if cls.serialize is not fields.Field.serialize or not field._CHECK_ATTRIBUTE:
        return _Unsupported
    write = cls._serialize
    if write is fields.String._serialize:
        return _text
    if write is fields.UUID._serialize:
        return _as_str
    if write is fields.Field._serialize:  # Raw, Boolean: the value as it is
        return _same
    if write is fields.Number._serialize and isinstance(field, fields.Integer) and not field.as_string \
            and cls._format_num is fields.Number._format_num:
        return _as_int
    if write is fields.DateTime._serialize and isinstance(field, fields.DateTime):
        formatter = field.SERIALIZATION_FUNCS.get(field.format or field.DEFAULT_FORMAT)
        if formatter is None:
            return _Unsupported
        return lambda value: None if value is None else formatter(value)
    if write is fields.List._serialize:
        inner = _converter(field.inner)
        if inner is _Unsupported:
            return _Unsupported
        return lambda value: None if value is None else [inner(each) for each in value]
    if write is fields.Nested._serialize:
        schema = field.schema
        many = schema.many or field.many
        plan = _plan(schema)
        if plan is None:
            return lambda value: None if value is None else schema.dump(value, many=many)
        dump = _dump_with(plan)
        if many:
            return lambda value: None if value is None else [dump(each) for each in value]
        return lambda value: None if value is None else dump(value)
    return _Unsupported


def _plan(schema: Schema) -> tuple | None:
    if schema.many or schema._hooks[PRE_DUMP] or schema._hooks[POST_DUMP] \
            or type(schema).get_attribute is not Schema.get_attribute or schema.dict_class is not dict:
        return None
    plan = []
    for name, field in schema.dump_fields.items():
        key = field.attribute if field.attribute is not None else name
        convert = _converter(field)
        if convert is _Unsupported or "." in key or field.dump_default is not missing:
            return None
        plan.append((key, field.data_key if field.data_key is not None else name, convert))
    return tuple(plan)


def _dump_with(plan: tuple) -> Callable:
    def dump(obj):
        out = {}
        if isinstance(obj, dict):
            for key, data_key, convert in plan:
                if key in obj:
                    out[data_key] = convert(obj[key])
                else:  # marshmallow's accessor falls back to an attribute of the dict itself
                    value = getattr(obj, key, missing)
                    if value is not missing:
                        out[data_key] = convert(value)
            return out
        for key, data_key, convert in plan:
            try:
                value = obj[key] if hasattr(obj, "__getitem__") else getattr(obj, key, missing)
            except (KeyError, IndexError, TypeError, AttributeError):
                value = getattr(obj, key, missing)
            if value is not missing:
                out[data_key] = convert(value)
        return out
    return dump


def compile_dump(schema: Schema) -> Callable:
    """dump(obj) -> what schema.dump(obj) returns, for one record (a dict or an object); the schema's own dump
    when it uses anything this module does not reproduce."""
    plan = _plan(schema)
    return schema.dump if plan is None else _dump_with(plan)
