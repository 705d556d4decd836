"""Import products from CSV or XLSX: column mapping, dry run, per-row errors, duplicate handling."""

import csv
import io

from marshmallow import ValidationError
from servicekit.auth.principal import Principal
from servicekit.problems import Problem, field_error
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from . import service
from .models import Category, Product
from .schemas import ProductCreateSchema

FIELDS = set(ProductCreateSchema().fields) | {"category"}
MAX_ROWS = 50_000


def read_rows(filename: str, content: bytes) -> list[dict]:
    """Rows as {header: text}; CSV (comma or semicolon, UTF-8) or XLSX (first sheet, first row = headers)."""
    name = (filename or "").lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook  # imported when an XLSX comes: it takes ~0.2 s and 20 MB per process
        try:
            sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
        except Exception as exc:  # noqa: BLE001 - any unreadable workbook is the user's file problem
            raise field_error("file", f"not a readable XLSX file ({type(exc).__name__})") from None
        values = list(sheet.iter_rows(values_only=True))
        if not values:
            return []
        headers = [str(h).strip() if h is not None else "" for h in values[0]]
        return [{h: ("" if v is None else str(v)) for h, v in zip(headers, row, strict=False) if h}
                for row in values[1:] if any(v not in (None, "") for v in row)]
    if name.endswith(".csv") or name.endswith(".txt"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise field_error("file", "CSV files must be UTF-8") from None
        header = text.splitlines()[0] if text.strip() else ""
        delimiter = max((",", ";", "\t"), key=header.count)  # the separator the header line uses most
        rows = csv.DictReader(io.StringIO(text), delimiter=delimiter)
        return [{(k or "").strip(): (v or "").strip() for k, v in row.items() if isinstance(v, str | None)}
                for row in rows if any((v or "").strip() for v in row.values() if isinstance(v, str | None))]
    raise field_error("file", "send a .csv or .xlsx file")


def _category_by_path(session: Session, path: str, create: bool, actor: Principal) -> str:
    parts = [p.strip() for p in path.split("/") if p.strip()]
    parent_id = None
    for depth in range(len(parts)):
        full = service.PATH_SEPARATOR.join(parts[:depth + 1])
        found = session.execute(select(Category).where(func.lower(Category.path) == full.lower())).scalar_one_or_none()
        if found is None:
            if not create:
                raise field_error("category", f"no category {full!r} (import with create_categories=true to add it)")
            found = service.add_category(session, {"name": parts[depth], "parent_id": parent_id}, actor)
        parent_id = found.id
    return parent_id


def import_products(session: Session, rows: list[dict], mapping: dict | None, on_duplicate: str,
                    create_categories: bool, dry_run: bool, actor: Principal) -> dict:
    """Apply every valid row (each in its own savepoint), report the others; a dry run applies nothing."""
    if len(rows) > MAX_ROWS:
        raise field_error("file", f"at most {MAX_ROWS} rows per import")
    mapping = mapping or {}
    unknown = sorted(set(mapping.values()) - FIELDS)
    if unknown:
        raise field_error("mapping", f"unknown target field(s): {', '.join(unknown)}")
    report = {"dry_run": dry_run, "rows": len(rows), "created": 0, "updated": 0, "skipped": 0, "errors": []}
    everything = session.begin_nested()
    for number, raw in enumerate(rows, start=2):
        record = {mapping.get(k, k): v for k, v in raw.items()}
        record = {k: v for k, v in record.items() if k in FIELDS and v != ""}
        try:
            with session.begin_nested():
                outcome = _import_row(session, record, on_duplicate, create_categories, actor)
            report[outcome] += 1
        except ValidationError as exc:
            for field, messages in exc.messages.items():
                for m in messages if isinstance(messages, list) else [messages]:
                    report["errors"].append({"row": number, "field": field, "message": str(m)})
        except Problem as exc:
            for e in exc.errors or [{"field": None, "message": exc.detail}]:
                report["errors"].append({"row": number, "field": e.get("field"), "message": e["message"]})
    if dry_run:
        everything.rollback()
    else:
        everything.commit()
    return report


def _import_row(session: Session, record: dict, on_duplicate: str, create_categories: bool,
                actor: Principal) -> str:
    category = record.pop("category", None)
    for f in ("sale_price", "cost", "tax_rate"):
        if f in record and "," in record[f] and "." not in record[f]:
            record[f] = record[f].replace(",", ".")  # a decimal comma, as European spreadsheets write it
    data = ProductCreateSchema().load(record)
    if category:
        data["category_id"] = _category_by_path(session, category, create_categories, actor)
    existing = session.execute(select(Product).where(func.lower(Product.sku) == data["sku"].strip().lower())
                               ).scalar_one_or_none()
    if existing is None:
        service.create_product(session, data, actor)
        return "created"
    if on_duplicate == "skip":
        return "skipped"
    if on_duplicate == "error":
        raise field_error("sku", f"SKU {data['sku']} exists already")
    data.pop("sku")
    service.update_product(session, existing.id, existing.version, data, actor)
    return "updated"
