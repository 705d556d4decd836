"""Use cases of warranties: set a product's terms; create entitlements when an invoice is issued (the terms in force
then are copied onto them, so a later change of terms never changes what a customer bought); shorten or void them
when a credit note takes the goods back. Each change of an entitlement adds its full state to the outbox
(erp.warranty.v1); none commits."""

from datetime import UTC, date, datetime
from decimal import Decimal

from servicekit import audit
from servicekit.etag import check_version
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, field_error
from shared_events.outbox import record_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..catalog.models import Product
from ..db import audit_log, outbox
from . import events
from .models import Entitlement, WarrantyTerm

_TERMS = ("months", "starts_from", "covers_parts", "covers_labour", "supplier_party_id", "supplier_months")


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
                "version": 0, "explicit": False}
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
              "supplier_months": None, **data}
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


def entitle_invoice(session: Session, inv, lines, actor) -> list[Entitlement]:
    """An issued invoice's entitlements: one per line of a product sold with a warranty, with its terms copied."""
    created = []
    for line in lines:
        if not line.product_id:
            continue
        product = session.get(Product, line.product_id)
        view = terms_view(product.id, session.get(WarrantyTerm, product.id), product)
        if not view["months"]:
            continue
        start = inv.issue_date
        e = Entitlement(party_id=inv.party_id, product_id=product.id, invoice_id=inv.id, invoice_number=inv.number,
                        invoice_line_id=line.id, quantity=line.quantity, start_date=start,
                        end_date=add_months(start, view["months"]), covers_parts=view["covers_parts"],
                        covers_labour=view["covers_labour"], supplier_party_id=view["supplier_party_id"],
                        supplier_end_date=add_months(start, view["supplier_months"])
                        if view["supplier_months"] else None,
                        terms={k: view[k] for k in _TERMS}, status="active", version=1,
                        updated_at=datetime.now(UTC))
        session.add(e)
        session.flush()
        _publish(session, "created", e, actor)
        created.append(e)
    return created


def credit_entitlements(session: Session, credit_lines, actor) -> None:
    """A credit note takes goods back: each credited line's entitlement loses that quantity, void at zero."""
    for line in credit_lines:
        if not line.credited_line_id:
            continue
        e = session.execute(select(Entitlement).where(Entitlement.invoice_line_id == line.credited_line_id,
                                                      Entitlement.status == "active")
                            .with_for_update()).scalar()
        if e is None:
            continue
        e.quantity = max(e.quantity - line.quantity, Decimal(0))
        e.status = "void" if e.quantity == 0 else "active"
        e.version += 1
        e.updated_at = datetime.now(UTC)
        session.flush()
        _publish(session, "voided" if e.status == "void" else "updated", e, actor)


def entitlement_view(e: Entitlement) -> dict:
    return {c.key: getattr(e, c.key) for c in Entitlement.__table__.columns}


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
