"""Use cases of warranties: set a product's terms; create entitlements when an invoice is issued (the terms in force
then are copied onto them, so a later change of terms never changes what a customer bought); shorten or void them
when a credit note takes the goods back. Each change of an entitlement adds its full state to the outbox
(erp.warranty.v1); none commits."""

from datetime import UTC, date, datetime
from decimal import Decimal

from servicekit import audit
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, field_error
from shared_events.outbox import record_event
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from ..catalog.models import Product
from ..db import audit_log, outbox
from ..stock.service import warehouse_for_stock
from . import events, serials
from .models import Entitlement, SerialNumber, WarrantySettings, WarrantyTerm

_TERMS = ("months", "starts_from", "covers_parts", "covers_labour", "supplier_party_id", "supplier_months",
          "serial_tracked")


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day when it has none (31 Jan + 1 month = 28/29 Feb)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def terms_view(product_id: str, t: WarrantyTerm | None, product: Product) -> dict:
    if t is None:  # the product's plain warranty_months, parts and labour, from the invoice
        return {"product_id": product_id, "months": product.warranty_months, "starts_from": "invoice",
                "covers_parts": True, "covers_labour": True, "supplier_party_id": None, "supplier_months": None,
                "serial_tracked": False, "version": 0, "explicit": False}
    return {"product_id": product_id, **{f: getattr(t, f) for f in _TERMS}, "version": t.version, "explicit": True}


def _product(session: Session, product_id) -> Product:
    product = session.get(Product, str(product_id))
    if product is None:
        raise NotFound("product", product_id)
    return product


def get_terms(session: Session, product_id) -> dict:
    product = _product(session, product_id)
    return terms_view(product.id, session.get(WarrantyTerm, product.id), product)


def set_terms(session: Session, product_id, expected_version: int, data: dict, actor) -> dict:
    """Replace a product's warranty terms (they apply to invoices issued from now on)."""
    product = _product(session, product_id)
    if bool(data.get("supplier_party_id")) != bool(data.get("supplier_months")):
        raise field_error("supplier_months", "give supplier_party_id and supplier_months together")
    if not (data.get("covers_parts", True) or data.get("covers_labour", True)):
        raise field_error("covers_labour", "a warranty covers parts, labour or both")
    values = {"starts_from": "invoice", "covers_parts": True, "covers_labour": True, "supplier_party_id": None,
              "supplier_months": None, "serial_tracked": False, **data}
    if values["supplier_party_id"]:
        values["supplier_party_id"] = str(values["supplier_party_id"])
    terms = session.execute(select(WarrantyTerm).where(WarrantyTerm.product_id == product.id)
                            .with_for_update()).scalar()
    check_version(terms.version if terms else 0, expected_version)
    before = {f: getattr(terms, f) for f in _TERMS} if terms else None
    if terms is None:
        terms = WarrantyTerm(product_id=product.id, version=0)
        session.add(terms)
    for f in _TERMS:
        setattr(terms, f, values[f])
    terms.version += 1
    terms.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, audit_log, actor, "update" if before else "create", "warranty_terms", product.id, before,
                 {f: getattr(terms, f) for f in _TERMS})
    return terms_view(product.id, terms, product)


def _publish(session: Session, verb: str, e: Entitlement, actor) -> None:
    record_event(session, outbox, events.entitlement_event(verb, e, actor), "warranty")


def _entitle(session: Session, inv, line, view: dict, start: date, quantity: Decimal, serial: str | None,
             actor) -> Entitlement:
    e = Entitlement(party_id=inv.party_id, product_id=line.product_id, invoice_id=inv.id, invoice_number=inv.number,
                    invoice_line_id=line.id, quantity=quantity, serial_number=serial, start_date=start,
                    end_date=add_months(start, view["months"]), covers_parts=view["covers_parts"],
                    covers_labour=view["covers_labour"], supplier_party_id=view["supplier_party_id"],
                    supplier_end_date=add_months(start, view["supplier_months"]) if view["supplier_months"] else None,
                    terms={k: view[k] for k in _TERMS}, status="active", version=1, updated_at=datetime.now(UTC))
    session.add(e)
    session.flush()
    _publish(session, "created", e, actor)
    return e


def entitle_invoice(session: Session, inv, lines, actor) -> list[Entitlement]:
    """An issued invoice's entitlements: one per line of a product sold with a warranty, with its terms copied; for
    a serial-tracked product, one per serial its delivery shipped (from the delivery day when the terms say so)."""
    created = []
    for line in lines:
        if not line.product_id:
            continue
        product = session.get(Product, line.product_id)
        view = terms_view(product.id, session.get(WarrantyTerm, product.id), product)
        if not view["months"]:
            continue
        remaining = line.quantity
        if view["serial_tracked"] and line.order_line_id:
            for unit in serials.unentitled_serials(session, line.order_line_id, int(line.quantity)):
                start = unit.shipped_on if view["starts_from"] == "delivery" else inv.issue_date
                e = _entitle(session, inv, line, view, start, Decimal(1), unit.serial_number, actor)
                unit.entitlement_id = e.id
                created.append(e)
                remaining -= 1
        if remaining > 0:
            created.append(_entitle(session, inv, line, view, inv.issue_date, remaining, None, actor))
    return created


def credit_entitlements(session: Session, credit_lines, actor) -> None:
    """A credit note takes goods back: each credited line's entitlements lose that quantity (the last serials
    first), void at zero."""
    for line in credit_lines:
        if not line.credited_line_id:
            continue
        left = line.quantity
        found = session.execute(select(Entitlement).where(Entitlement.invoice_line_id == line.credited_line_id,
                                                          Entitlement.status == "active")
                                .order_by(Entitlement.serial_number.desc().nulls_first(), Entitlement.id)
                                .with_for_update()).scalars().all()
        for e in found:
            if left <= 0:
                break
            taken = min(e.quantity, left)
            left -= taken
            e.quantity -= taken
            e.status = "void" if e.quantity == 0 else "active"
            e.version += 1
            e.updated_at = datetime.now(UTC)
            session.flush()
            _publish(session, "voided" if e.status == "void" else "updated", e, actor)


# -- the replacement policy -----------------------------------------------------------------------

def settings_row(session: Session, lock: bool = False) -> WarrantySettings:
    stmt = select(WarrantySettings).where(WarrantySettings.id == 1)
    row = session.execute(stmt.with_for_update() if lock else stmt).scalar()
    if row is None:
        session.execute(pg_insert(WarrantySettings).values(id=1, replacement_policy="keep", version=1)
                        .on_conflict_do_nothing())
        row = session.execute(stmt.with_for_update() if lock else stmt).scalar_one()
    return row


def settings_view(row: WarrantySettings) -> dict:
    return {"replacement_policy": row.replacement_policy, "parts_warehouse_id": row.parts_warehouse_id,
            "version": row.version, "updated_at": row.updated_at}


def get_settings(session: Session) -> dict:
    return settings_view(settings_row(session))


def set_settings(session: Session, expected_version: int, data: dict, actor) -> dict:
    """Set the replacement policy: keep (the replacement unit keeps what remained of the term) or renew (a new
    term from the replacement day); and the warehouse warranty parts leave from (an active one; None: the default)."""
    row = settings_row(session, lock=True)
    check_version(row.version, expected_version)
    warehouse_id = data.get("parts_warehouse_id")
    if warehouse_id is not None:
        warehouse_id = warehouse_for_stock(session, warehouse_id, field="parts_warehouse_id").id
    before = settings_view(row)
    row.replacement_policy = data["replacement_policy"]
    row.parts_warehouse_id = warehouse_id
    row.version += 1
    row.updated_at = datetime.now(UTC)
    session.flush()
    keys = ("replacement_policy", "parts_warehouse_id")
    audit.record(session, audit_log, actor, "update", "warranty_settings", "1", {k: before[k] for k in keys},
                 {k: getattr(row, k) for k in keys})
    return settings_view(row)


def replace_unit(session: Session, faulty: Entitlement, serial: str, on: date, actor) -> Entitlement:
    """A unit replaced under warranty: the faulty unit's entitlement is marked replaced and the replacement serial
    gets one of its own, keeping the remaining term or renewing it from `on` by the company's policy. The
    replacement serial must be new for the product (field replacement_serial otherwise)."""
    known = session.execute(select(SerialNumber.id).where(SerialNumber.product_id == faulty.product_id,
                                                          SerialNumber.serial_number == serial)).scalar()
    if known or serial == faulty.serial_number:
        raise field_error("replacement_serial", f"serial number {serial} is already known for this product")
    renew = settings_row(session).replacement_policy == "renew"
    terms = faulty.terms or {}
    start = on if renew else faulty.start_date
    end = add_months(on, int(terms.get("months") or 0)) if renew and terms.get("months") else faulty.end_date
    supplier_end = faulty.supplier_end_date
    if renew and faulty.supplier_end_date and terms.get("supplier_months"):
        supplier_end = max(faulty.supplier_end_date, add_months(on, int(terms["supplier_months"])))
    e = Entitlement(party_id=faulty.party_id, product_id=faulty.product_id, invoice_id=faulty.invoice_id,
                    invoice_number=faulty.invoice_number, invoice_line_id=faulty.invoice_line_id,
                    quantity=Decimal(1), serial_number=serial, start_date=start, end_date=end,
                    covers_parts=faulty.covers_parts, covers_labour=faulty.covers_labour,
                    supplier_party_id=faulty.supplier_party_id, supplier_end_date=supplier_end,
                    terms={**terms, "replacement_policy": "renew" if renew else "keep"}, status="active", version=1,
                    replaces_entitlement_id=faulty.id, updated_at=datetime.now(UTC))
    session.add(e)
    session.flush()
    session.add(SerialNumber(product_id=faulty.product_id, serial_number=serial, party_id=faulty.party_id,
                             source="replacement", shipped_on=on, entitlement_id=e.id))
    faulty.status = "replaced"
    faulty.version += 1
    faulty.updated_at = datetime.now(UTC)
    session.flush()
    _publish(session, "updated", faulty, actor)
    _publish(session, "created", e, actor)
    return e


def entitlement_view(e: Entitlement) -> dict:
    return row_view(e)


def get_entitlement(session: Session, entitlement_id) -> dict:
    e = session.get(Entitlement, str(entitlement_id))
    if e is None:
        raise NotFound("entitlement", entitlement_id)
    return entitlement_view(e)


def list_entitlements(session: Session, args: dict) -> dict:
    """Entitlements, filtered (customer, product, status, active on a day, ending before a day), soonest end first."""
    stmt = select(Entitlement)
    for f in ("party_id", "product_id"):
        if args.get(f):
            stmt = stmt.where(getattr(Entitlement, f) == str(args[f]))
    if args.get("status"):
        stmt = stmt.where(Entitlement.status == args["status"])
    if args.get("serial_number"):
        stmt = stmt.where(Entitlement.serial_number == args["serial_number"])
    if args.get("active_on"):
        stmt = stmt.where(Entitlement.status == "active", Entitlement.start_date <= args["active_on"],
                          Entitlement.end_date >= args["active_on"])
    if args.get("ending_before"):
        stmt = stmt.where(Entitlement.end_date < args["ending_before"])
    sortable = {"end_date": Entitlement.end_date, "start_date": Entitlement.start_date,
                "created_at": Entitlement.created_at}
    stmt = apply_sort(stmt, args.get("sort"), sortable, [Entitlement.end_date, Entitlement.id])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [entitlement_view(e) for e in page["items"]]
    return page
