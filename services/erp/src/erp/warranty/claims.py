"""Use cases of warranty claims: a CRM ticket resolved under warranty (crm.ticket.warranty_claimed) becomes a claim
booked once per claim id and revision. Its parts leave the default warehouse (a real stock move, valued against
the warranty expense - or the warranty provision when the chart maps one), its labour (hours x rate) is accrued,
and what the supplier's back-to-back term covers becomes a receivable from that supplier. A later revision books
only the difference (parts issued or returned, labour and receivable adjusted), never the whole again. The answer
(erp.warranty.claim_accepted, or _rejected with a reason such as no stock) goes back on erp.warranty.v1. None
commits."""

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal

from servicekit import audit
from servicekit.db import row_view
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem
from shared_events.actors import actor_extensions
from shared_events.envelope import new_event
from shared_events.money import money_text, number_text
from shared_events.outbox import record_event
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..catalog.models import Product
from ..db import audit_log, outbox
from ..ledger.models import AccountMapping, JournalEntry
from ..ledger.posting import PostingLine
from ..ledger.service import first_open_date, post_entry
from ..numbering import take_number
from ..sales.service import sales_warehouse
from ..stock import service as stock
from ..stock.models import Warehouse
from . import service
from .models import Entitlement, WarrantyClaim

CENT = Decimal("0.01")
SOURCE_TYPE = "warranty_claim"


def _cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, ROUND_HALF_UP)


def claim_state(c: WarrantyClaim) -> dict:
    """erp.warranty.claim.v1.json's data."""
    return {"claim_id": c.id, "revision": c.revision, "ticket_id": c.ticket_id, "number": c.number,
            "entitlement_id": c.entitlement_id, "status": c.status, "reason": c.reason,
            "parts_cost": money_text(c.parts_cost), "labour_cost": money_text(c.labour_cost),
            "total_cost": money_text(c.parts_cost + c.labour_cost),
            "supplier_receivable": money_text(c.supplier_receivable), "supplier_party_id": c.supplier_party_id,
            "currency": c.currency, "version": c.version, "updated_at": c.updated_at.isoformat()}


def expense_role(session: Session) -> str:
    """The warranty provision when the chart maps one, else the warranty expense."""
    return "warranty_provision" if session.get(AccountMapping, "warranty_provision") else "warranty_cost"


def _refusal(session: Session, data: dict, claim: WarrantyClaim | None, on: date) -> tuple[Entitlement | None,
                                                                                           str | None]:
    """The entitlement the claim is made on, or why the ERP refuses it (the CRM checked its replica; the ERP's own
    entitlements decide)."""
    e = session.get(Entitlement, data["entitlement_id"])
    if e is None:
        return None, "unknown entitlement"
    if e.party_id != data["party_id"]:
        return e, "the entitlement belongs to another customer"
    if e.product_id != data["product_id"]:
        return e, "the entitlement is for another product"
    if e.status == "void":
        return e, "the entitlement was voided by a credit note"
    if e.status == "replaced" and (claim is None or claim.entitlement_id != e.id):
        return e, "the unit of this entitlement was already replaced"
    if not e.start_date <= on <= e.end_date:
        return e, f"the entitlement is not in force on {on.isoformat()} (from {e.start_date.isoformat()} to " \
                  f"{e.end_date.isoformat()})"
    return e, None


def _valuation_of(session: Session, move) -> Decimal:
    """What the ledger booked for a stock move (0 for a consumable: expensed when bought)."""
    total = session.execute(select(JournalEntry.total).where(
        JournalEntry.source_type == "stock_move", JournalEntry.source_id == move.id,
        JournalEntry.purpose == "valuation")).scalar()
    return Decimal(total or 0)


def parts_warehouse(session: Session, warehouse_code: str = "") -> Warehouse | None:
    """Where warranty parts leave from: the warranty settings' parts warehouse while it is active, else the
    warehouse coded ERP_SALES_WAREHOUSE, else the oldest active one (None when there is none)."""
    chosen = service.settings_row(session).parts_warehouse_id
    if chosen:
        warehouse = session.get(Warehouse, chosen)
        if warehouse is not None and warehouse.active:
            return warehouse
    warehouse = sales_warehouse(session, code=warehouse_code) if warehouse_code else None
    return warehouse or sales_warehouse(session)


def _issue_parts(session: Session, claim_id: str, number: str, party_id: str, wanted: dict[str, Decimal],
                 issued: dict, warehouse_code: str, role: str, actor) -> tuple[dict, Decimal]:
    """Issue (or take back) the difference between the parts wanted and those issued before, from the warranty parts
    warehouse (see parts_warehouse); returns what is issued now and its booked cost. A part out of stock raises a
    409 Problem."""
    warehouse = parts_warehouse(session, warehouse_code)
    now_issued = {k: dict(v) for k, v in issued.items()}
    for product_id in sorted(set(wanted) | set(issued)):
        before = Decimal(issued.get(product_id, {}).get("quantity", "0"))
        delta = wanted.get(product_id, Decimal(0)) - before
        if delta == 0:
            continue
        product = session.get(Product, product_id)
        if product is None or product.kind == "service":
            raise Problem(422, "Not a part", f"part {product_id} is not a stock product", "not-a-part")
        if warehouse is None:
            raise Problem(409, "No warehouse", "no active warehouse to issue parts from", "no-warehouse")
        location = stock.default_location(session, warehouse.id)
        cost_before = Decimal(issued.get(product_id, {}).get("cost", "0"))
        if delta > 0:
            move = stock.post_move(session, kind="delivery", product=product, quantity=delta, source=location,
                                   destination=None, actor=actor, reference=f"{number} (warranty)"[:200],
                                   source_type=SOURCE_TYPE, source_id=claim_id, party_id=party_id,
                                   counterpart=role)
            cost = cost_before + _valuation_of(session, move)
        else:
            unit = (cost_before / before) if before else product.cost
            move = stock.post_move(session, kind="adjustment", product=product, quantity=-delta, source=None,
                                   destination=location, actor=actor, unit_cost=unit,
                                   reason=f"parts returned by a correction of warranty claim {number}",
                                   reference=f"{number} (warranty)"[:200], source_type=SOURCE_TYPE,
                                   source_id=claim_id, counterpart=role)
            cost = cost_before - _valuation_of(session, move)
        now_issued[product_id] = {"quantity": number_text(before + delta), "cost": money_text(max(cost, 0))}
    return ({k: v for k, v in now_issued.items() if Decimal(v["quantity"]) != 0},
            sum((Decimal(v["cost"]) for v in now_issued.values()), Decimal(0)))


def _book(session: Session, claim: WarrantyClaim, labour_delta: Decimal, receivable_delta: Decimal, role: str,
          on: date, actor) -> None:
    """The labour accrued and the supplier's share, for the difference with what the ledger already holds."""
    lines: list[PostingLine] = []
    note = f"warranty claim {claim.number}, ticket {claim.ticket_number}, revision {claim.revision}"
    if labour_delta:
        expense = PostingLine(role, description=f"labour, {note}")
        accrued = PostingLine("accrued_labour", description=note)
        debit, credit = (expense, accrued) if labour_delta > 0 else (accrued, expense)
        lines += [replace(debit, debit=abs(labour_delta)), replace(credit, credit=abs(labour_delta))]
    if receivable_delta:
        supplier = PostingLine("warranty_recoverable", party_id=claim.supplier_party_id,
                               description=f"supplier's back-to-back warranty, {note}")
        expense = PostingLine(role, description=f"recoverable from the supplier, {note}")
        debit, credit = (supplier, expense) if receivable_delta > 0 else (expense, supplier)
        lines += [replace(debit, debit=abs(receivable_delta)), replace(credit, credit=abs(receivable_delta))]
    if lines:
        post_entry(session, journal="GEN", entry_date=first_open_date(session, on), lines=lines,
                   reference=f"Warranty claim {claim.number}", source_type=SOURCE_TYPE, source_id=claim.id,
                   actor=actor, memo=note, purpose=f"revision:{claim.revision}")


def apply_claim(session: Session, data: dict, actor, warehouse_code: str = "") -> bool:
    """Book one claim revision (see the module's docstring); False, and nothing changes, for a revision already
    applied or older than the one held."""
    claim = session.execute(select(WarrantyClaim).where(WarrantyClaim.id == data["claim_id"])
                            .with_for_update()).scalar()
    if claim is not None and claim.revision >= data["revision"]:
        return False
    on = datetime.fromisoformat(data["resolved_at"]).astimezone(UTC).date()
    entitlement, reason = _refusal(session, data, claim, on)
    before = claim_state(claim) if claim is not None else None
    if claim is None:
        claim = WarrantyClaim(id=data["claim_id"], number=take_number(session, "#WC", "WC", on), version=0,
                              issued={}, parts_cost=Decimal(0), labour_cost=Decimal(0),
                              supplier_receivable=Decimal(0), labour_hours=Decimal(0), labour_rate=Decimal(0),
                              claimed_on=on)
    wanted: dict[str, Decimal] = {}
    for p in data["parts"]:
        wanted[p["product_id"]] = wanted.get(p["product_id"], Decimal(0)) + Decimal(p["quantity"])
    role = expense_role(session)
    issued, parts_cost, replacement = claim.issued or {}, claim.parts_cost, None
    if reason is None:
        try:
            with session.begin_nested():
                issued, parts_cost = _issue_parts(session, claim.id, claim.number, data["party_id"], wanted,
                                                  claim.issued or {}, warehouse_code, role, actor)
                if data.get("replacement_serial") and not claim.replacement_entitlement_id:
                    replacement = service.replace_unit(session, entitlement, data["replacement_serial"], on, actor)
        except Problem as refused:
            reason, issued, parts_cost, replacement = refused.detail, claim.issued or {}, claim.parts_cost, None
    claim.ticket_id, claim.ticket_number = data["ticket_id"], data["ticket_number"]
    claim.party_id, claim.product_id, claim.entitlement_id = data["party_id"], data["product_id"], \
        data["entitlement_id"]
    claim.faulty_serial, claim.replacement_serial = data.get("faulty_serial"), data.get("replacement_serial")
    claim.revision, claim.parts, claim.currency = data["revision"], data["parts"], data["currency"]
    claim.updated_at, claim.version = datetime.now(UTC), claim.version + 1
    if reason is not None:
        claim.status, claim.reason = "rejected", reason
    else:
        labour = _cents(Decimal(data["labour_hours"]) * Decimal(data["labour_rate"]))
        share, supplier = Decimal(0), entitlement.supplier_party_id
        if supplier and entitlement.supplier_end_date and on <= entitlement.supplier_end_date:
            share = (parts_cost if entitlement.covers_parts else 0) + (labour if entitlement.covers_labour else 0)
        claim.status, claim.reason = "accepted", None
        claim.issued, claim.parts_cost = issued, parts_cost
        claim.labour_hours, claim.labour_rate = Decimal(data["labour_hours"]), Decimal(data["labour_rate"])
        if replacement is not None:
            claim.replacement_entitlement_id = replacement.id
        labour_delta, share_delta = labour - claim.labour_cost, share - claim.supplier_receivable
        if supplier and claim.supplier_party_id and supplier != claim.supplier_party_id:
            share_delta = share
        claim.supplier_party_id = supplier or claim.supplier_party_id
        claim.labour_cost, claim.supplier_receivable = labour, share
        session.add(claim)
        session.flush()
        _book(session, claim, labour_delta, share_delta, role, on, actor)
    session.add(claim)
    session.flush()
    audit.record(session, audit_log, actor, "create" if before is None else "update", "warranty_claim", claim.id,
                 before, claim_state(claim))
    record_event(session, outbox, new_event(f"erp.warranty.claim_{claim.status}", claim.id, claim_state(claim),
                                            claim.version, **actor_extensions(actor)), "warranty_claim")
    return True


def claim_view(c: WarrantyClaim) -> dict:
    return row_view(c)


def get_claim(session: Session, claim_id) -> dict:
    c = session.get(WarrantyClaim, str(claim_id))
    if c is None:
        raise NotFound("warranty claim", claim_id)
    return claim_view(c)


def list_claims(session: Session, args: dict) -> dict:
    """Warranty claims, newest first (filter by customer, product, entitlement, ticket, status)."""
    stmt = select(WarrantyClaim)
    for f in ("party_id", "product_id", "entitlement_id", "ticket_id"):
        if args.get(f):
            stmt = stmt.where(getattr(WarrantyClaim, f) == str(args[f]))
    if args.get("status"):
        stmt = stmt.where(WarrantyClaim.status == args["status"])
    stmt = apply_sort(stmt, args.get("sort"), {"claimed_on": WarrantyClaim.claimed_on,
                                               "number": WarrantyClaim.number},
                      [WarrantyClaim.claimed_on.desc(), WarrantyClaim.number.desc()])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [claim_view(c) for c in page["items"]]
    return page
