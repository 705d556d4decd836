"""Warranty reports: what claims cost (by product, customer, supplier or month), the claims per entitlement, and
the entitlements still open with their expiry. Accepted claims only; amounts are Decimal cents."""

from datetime import date
from decimal import Decimal

from sqlalchemy import String, cast, func, literal, select
from sqlalchemy.orm import Session

from ..catalog.models import Product
from ..parties.models import PartyReplica
from .models import Entitlement, WarrantyClaim

ZERO = Decimal("0")
GROUPS = ("product", "customer", "supplier", "month")


def _period(stmt, args: dict):
    if args.get("date_from"):
        stmt = stmt.where(WarrantyClaim.claimed_on >= args["date_from"])
    if args.get("date_to"):
        stmt = stmt.where(WarrantyClaim.claimed_on <= args["date_to"])
    return stmt


def _labels(session: Session, group_by: str, keys: list[str]) -> dict[str, str]:
    keys = [k for k in keys if k and k != "none"]
    if not keys or group_by == "month":
        return {}
    if group_by == "product":
        rows = session.execute(select(Product.id, Product.sku + literal(" ") + Product.name)
                               .where(cast(Product.id, String).in_(keys)))
    else:
        rows = session.execute(select(PartyReplica.party_id, PartyReplica.display_name)
                               .where(cast(PartyReplica.party_id, String).in_(keys)))
    return {str(k): v for k, v in rows}


def cost_report(session: Session, args: dict) -> dict:
    """Warranty cost grouped by product, customer, supplier or month (YYYY-MM) between two claim dates: claims,
    parts, labour, total, the suppliers' share and the net cost, with totals."""
    group_by = args.get("group_by") or "product"
    key = {"product": cast(WarrantyClaim.product_id, String), "customer": cast(WarrantyClaim.party_id, String),
           "supplier": func.coalesce(cast(WarrantyClaim.supplier_party_id, String), literal("none")),
           "month": func.to_char(WarrantyClaim.claimed_on, "YYYY-MM")}[group_by]
    stmt = _period(select(key.label("key"), func.count().label("claims"),
                          func.sum(WarrantyClaim.parts_cost).label("parts_cost"),
                          func.sum(WarrantyClaim.labour_cost).label("labour_cost"),
                          func.sum(WarrantyClaim.supplier_receivable).label("supplier_receivable"))
                   .where(WarrantyClaim.status == "accepted"), args)
    for f, column in (("party_id", WarrantyClaim.party_id), ("product_id", WarrantyClaim.product_id),
                      ("supplier_party_id", WarrantyClaim.supplier_party_id)):
        if args.get(f):
            stmt = stmt.where(column == str(args[f]))
    rows = session.execute(stmt.group_by(key).order_by(key)).all()
    labels = _labels(session, group_by, [r.key for r in rows])
    items = []
    for r in rows:
        total = r.parts_cost + r.labour_cost
        items.append({"key": r.key, "label": labels.get(r.key), "claims": r.claims, "parts_cost": r.parts_cost,
                      "labour_cost": r.labour_cost, "total_cost": total,
                      "supplier_receivable": r.supplier_receivable, "net_cost": total - r.supplier_receivable})
    totals = {f: sum((i[f] for i in items), ZERO) for f in ("parts_cost", "labour_cost", "total_cost",
                                                             "supplier_receivable", "net_cost")}
    return {"group_by": group_by, "date_from": args.get("date_from"), "date_to": args.get("date_to"),
            "items": items, "totals": {**totals, "claims": sum(i["claims"] for i in items)}}


def claims_per_entitlement(session: Session, args: dict) -> dict:
    """Each entitlement that had claims in the period: how many, and what they cost."""
    stmt = _period(select(Entitlement, func.count(WarrantyClaim.id).label("claims"),
                          func.sum(WarrantyClaim.parts_cost + WarrantyClaim.labour_cost).label("total_cost"),
                          func.sum(WarrantyClaim.supplier_receivable).label("supplier_receivable"))
                   .join(WarrantyClaim, WarrantyClaim.entitlement_id == Entitlement.id)
                   .where(WarrantyClaim.status == "accepted"), args)
    for f in ("party_id", "product_id"):
        if args.get(f):
            stmt = stmt.where(getattr(Entitlement, f) == str(args[f]))
    rows = session.execute(stmt.group_by(Entitlement.id).order_by(func.count(WarrantyClaim.id).desc(),
                                                                  Entitlement.end_date)).all()
    items = [{"entitlement_id": e.id, "party_id": e.party_id, "product_id": e.product_id,
              "serial_number": e.serial_number, "invoice_number": e.invoice_number, "end_date": e.end_date,
              "status": e.status, "claims": claims, "total_cost": total, "supplier_receivable": share}
             for e, claims, total, share in rows]
    return {"items": items, "totals": {"claims": sum(i["claims"] for i in items),
                                       "total_cost": sum((i["total_cost"] for i in items), ZERO),
                                       "supplier_receivable": sum((i["supplier_receivable"] for i in items), ZERO)}}


def open_entitlements(session: Session, args: dict, today: date) -> dict:
    """Entitlements in force on `as_of` (default today) and when they expire, soonest first; `expiring_to` keeps
    those ending on or before that day."""
    on = args.get("as_of") or today
    stmt = select(Entitlement).where(Entitlement.status == "active", Entitlement.quantity > 0,
                                     Entitlement.start_date <= on, Entitlement.end_date >= on)
    if args.get("expiring_to"):
        stmt = stmt.where(Entitlement.end_date <= args["expiring_to"])
    for f in ("party_id", "product_id"):
        if args.get(f):
            stmt = stmt.where(getattr(Entitlement, f) == str(args[f]))
    rows = session.execute(stmt.order_by(Entitlement.end_date, Entitlement.id).limit(args.get("limit") or 1000)
                           ).scalars().all()
    items = [{"entitlement_id": e.id, "party_id": e.party_id, "product_id": e.product_id,
              "serial_number": e.serial_number, "invoice_number": e.invoice_number, "quantity": e.quantity,
              "start_date": e.start_date, "end_date": e.end_date, "days_left": (e.end_date - on).days,
              "covers_parts": e.covers_parts, "covers_labour": e.covers_labour} for e in rows]
    return {"as_of": on, "items": items, "count": len(items)}
