"""Paginated, sorted list responses: {items, total, page, page_size, pages}."""

import math

from marshmallow import Schema, fields, validate
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from .problems import field_error

MAX_PAGE = 1_000_000  # page * page_size stays far inside bigint; deeper pages mean a narrower filter


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    page_size = fields.Integer(load_default=25, validate=validate.Range(min=1, max=200))
    sort = fields.String(load_default=None, metadata={
        "description": "Field to sort by; prefix with - for descending. Comma-separated for several."})


def page_schema(item_schema: type[Schema], name: str) -> type[Schema]:
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema)),
            "total": fields.Integer(),
            "page": fields.Integer(),
            "page_size": fields.Integer(),
            "pages": fields.Integer(),
        },
        name=name,
    )


def fixed_order(args: dict, order: str) -> None:
    """Lists whose order is their meaning (most overdue first, most certain first) refuse `sort` instead of
    ignoring it."""
    if args.get("sort"):
        raise field_error("sort", f"this list has a fixed order ({order}); leave sort out")


def apply_sort(stmt: Select, sort: str | None, columns: dict, default) -> Select:
    """Order by whitelisted columns; an unknown sort key is a 422 naming the field."""
    if not sort:
        return stmt.order_by(*default)
    order = []
    for part in sort.split(","):
        part = part.strip()
        desc = part.startswith("-")
        key = part.lstrip("-+")
        if key not in columns:
            raise field_error("sort", f"cannot sort by {key!r}; use one of {', '.join(sorted(columns))}")
        order.append(columns[key].desc() if desc else columns[key].asc())
    return stmt.order_by(*order, *default)


def paginate(session: Session, stmt: Select, page: int, page_size: int, entities: bool = True) -> dict:
    """One page of an ORM select (entities) or of a Core select (rows as dicts)."""
    total = session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    result = session.execute(stmt.limit(page_size).offset((page - 1) * page_size))
    items = result.scalars().all() if entities else [dict(r._mapping) for r in result]
    return {"items": items, "total": total, "page": page, "page_size": page_size,
            "pages": math.ceil(total / page_size) if total else 0}
