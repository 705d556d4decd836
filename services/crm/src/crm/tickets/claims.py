"""Warranty claims of tickets: resolving a ticket under warranty records what the repair took (parts from the
catalog, labour hours x rate, the faulty and the replacement serial) against the customer's entitlement, and
announces it on crm.ticket.v1 (crm.ticket.warranty_claimed, key = claim id, sequence = revision). A correction is
a new revision of the same claim. The ERP's answer (accepted / rejected with a reason) comes back on
erp.warranty.v1 and is shown on the ticket and its timeline. None of these commits."""

import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from cloudevents.core.v1.event import CloudEvent
from servicekit import audit
from servicekit.auth.principal import Principal
from servicekit.db import row_view
from servicekit.problems import Problem, field_error
from shared_events.actors import actor_extensions
from shared_events.envelope import new_event
from shared_events.money import decimal_text, money_text
from shared_events.outbox import record_event
from sqlalchemy import case, select, update
from sqlalchemy.orm import Session

from ..catalog.models import ProductReplica
from ..db import audit_log, outbox
from ..timeline import entries as timeline
from ..warranty.models import WarrantyReplica
from . import service
from .claim_models import WarrantyClaim
from .models import Ticket

CENT = Decimal("0.01")


def claim_view(c: WarrantyClaim | None) -> dict | None:
    if c is None:
        return None
    return row_view(c)


def claim_data(c: WarrantyClaim, ticket: Ticket, resolved_at: datetime) -> dict:
    """crm.ticket.v1.json's data for the claim's current revision."""
    return {"claim_id": c.id, "revision": c.revision, "ticket_id": ticket.id, "ticket_number": ticket.number,
            "party_id": c.party_id, "product_id": c.product_id, "entitlement_id": c.entitlement_id,
            "faulty_serial": c.faulty_serial, "replacement_serial": c.replacement_serial,
            "parts": [{"product_id": p["product_id"], "sku": p.get("sku"), "quantity": p["quantity"]}
                      for p in c.parts],
            "labour_hours": decimal_text(c.labour_hours), "labour_rate": decimal_text(c.labour_rate),
            "labour_cost": money_text(c.labour_cost), "currency": c.currency, "resolution": c.resolution,
            "resolved_at": resolved_at.isoformat(), "claimed_by": c.claimed_by}


def claimed_event(c: WarrantyClaim, ticket: Ticket, resolved_at: datetime, actor) -> CloudEvent:
    return new_event("crm.ticket.warranty_claimed", c.id, claim_data(c, ticket, resolved_at), c.revision,
                     **actor_extensions(actor))


def _entitlement(session: Session, ticket: Ticket, data: dict, today, claim: WarrantyClaim | None
                 ) -> WarrantyReplica:
    """The entitlement the claim is made on: this ticket's customer's, for its product, in force today (a
    correction may stay on the entitlement the claim was first made on, even once its unit was replaced)."""
    e = session.get(WarrantyReplica, str(data["entitlement_id"]))
    if e is None:
        raise field_error("entitlement_id", "no such warranty entitlement is known")
    if e.party_id != ticket.party_id:
        raise field_error("entitlement_id", "this entitlement belongs to another customer")
    if ticket.product_id and e.product_id != ticket.product_id:
        raise field_error("entitlement_id", "this entitlement is for another product than the ticket's")
    if claim is not None and claim.entitlement_id == e.entitlement_id:
        return e
    if e.status != "active" or e.quantity <= 0:
        why = "was replaced under warranty" if e.status == "replaced" else "was voided by a credit note"
        raise field_error("entitlement_id", f"this entitlement {why}")
    if not e.start_date <= today <= e.end_date:
        raise field_error("entitlement_id", f"this entitlement expired on {e.end_date.isoformat()}"
                          if today > e.end_date else f"this entitlement starts on {e.start_date.isoformat()}")
    return e


def _parts(session: Session, parts: list[dict]) -> list[dict]:
    out, seen = [], set()
    for i, p in enumerate(parts):
        product = session.get(ProductReplica, str(p["product_id"]))
        if product is None:
            raise field_error(f"parts.{i}.product_id", "not a product of the catalog")
        if product.product_id in seen:
            raise field_error(f"parts.{i}.product_id", "this part appears twice: give its total quantity once")
        seen.add(product.product_id)
        out.append({"product_id": product.product_id, "sku": product.sku, "name": product.name,
                    "quantity": decimal_text(Decimal(p["quantity"]).normalize())})
    return out


def resolve_under_warranty(session: Session, ticket_id, expected_version: int, data: dict,
                           actor: Principal) -> dict:
    """Resolve the ticket with its warranty claim (or correct the claim of a resolved ticket: a new revision), and
    announce the claim. A claim on an expired, voided, foreign or unknown entitlement is a 422 naming
    entitlement_id, and nothing changes."""
    ticket = service.ticket_for_change(session, ticket_id, actor, expected_version)
    now = datetime.now(UTC)
    if ticket.status == "closed":
        raise Problem(409, "Ticket is closed", f"Ticket {ticket.number} is closed: its claim cannot change.",
                      "ticket-closed")
    claim = session.execute(select(WarrantyClaim).where(WarrantyClaim.ticket_id == ticket.id)
                            .with_for_update()).scalar()
    if ticket.status == "resolved" and claim is None:
        raise Problem(409, "Ticket is resolved", f"Ticket {ticket.number} was resolved without a warranty claim: "
                      "reopen it first.", "ticket-status")
    entitlement = _entitlement(session, ticket, data, now.date(), claim)
    faulty = (data.get("faulty_serial") or ticket.serial_number or entitlement.serial_number or "").strip() or None
    if entitlement.serial_number and faulty != entitlement.serial_number:
        raise field_error("faulty_serial", f"the entitlement covers serial {entitlement.serial_number}")
    replacement = (data.get("replacement_serial") or "").strip() or None
    if replacement and replacement == faulty:
        raise field_error("replacement_serial", "the replacement serial is the faulty unit's")
    parts = _parts(session, data.get("parts") or [])
    hours, rate = Decimal(data.get("labour_hours") or 0), Decimal(data.get("labour_rate") or 0)
    if not parts and hours == 0 and not replacement:
        raise field_error("parts", "a warranty claim needs parts, labour or a replacement")
    values = {"party_id": ticket.party_id, "product_id": entitlement.product_id, "entitlement_id":
              entitlement.entitlement_id, "faulty_serial": faulty, "replacement_serial": replacement,
              "parts": parts, "labour_hours": hours, "labour_rate": rate,
              "labour_cost": (hours * rate).quantize(CENT, ROUND_HALF_UP), "currency": data.get("currency") or "EUR",
              "resolution": data.get("resolution"),
              "claimed_by": actor.name or actor.email if actor else None}
    before = service._state(ticket)
    if claim is None:
        claim = WarrantyClaim(id=str(uuid.uuid4()), ticket_id=ticket.id, revision=1, status="submitted",
                              erp_version=0, created_at=now, updated_at=now, **values)
        session.add(claim)
    else:
        for k, v in values.items():
            setattr(claim, k, v)
        claim.revision += 1
        claim.status, claim.status_reason, claim.updated_at = "submitted", None, now
    session.flush()
    if ticket.status != "resolved":
        service._move(session, ticket, "resolved", actor, now)
    service.record_fact(session, ticket, "warranty_claim", {"claim_id": claim.id, "revision": claim.revision,
                                                             "labour_cost": money_text(claim.labour_cost),
                                                             "parts": len(parts)}, actor, now)
    timeline.add_entry(session, kind="ticket_warranty_claim",
                       title=f"Ticket {ticket.number}: warranty claim"
                             f"{'' if claim.revision == 1 else f' (revision {claim.revision})'} sent to finance",
                       occurred_at=now, party_id=ticket.party_id, ref_type=service.RECORD, ref_id=ticket.id,
                       actor=actor, data={"claim_id": claim.id, "revision": claim.revision})
    record_event(session, outbox, claimed_event(claim, ticket, ticket.resolved_at or now, actor), "ticket")
    service._save(session, ticket, before, "warranty_claim", actor)
    audit.record(session, audit_log, actor, "create" if claim.revision == 1 else "update", "warranty_claim",
                 claim.id, None, {**values, "revision": claim.revision})
    return {**claim_view(claim), "ticket_version": ticket.version}


def ticket_claim(session: Session, ticket_id, actor: Principal) -> dict:
    ticket = service.find_ticket(session, ticket_id, actor)
    claim = claim_of(session, ticket.id)
    if claim is None:
        raise Problem(404, "Not found", f"Ticket {ticket.number} has no warranty claim.", "not-found")
    return claim


def claim_of(session: Session, ticket_id: str) -> dict | None:
    return claim_view(session.execute(select(WarrantyClaim).where(WarrantyClaim.ticket_id == ticket_id)).scalar())


def apply_answer(session: Session, answer: dict, status: str, version: int) -> bool:
    """The ERP's answer to a claim revision: kept when newer than the one held (an older or replayed one changes
    nothing), and put on the ticket's history and the customer's timeline."""
    claim_id = answer["claim_id"]
    done = session.execute(
        update(WarrantyClaim).where(WarrantyClaim.id == claim_id, WarrantyClaim.erp_version < version)
        .values(erp_version=version, answered_revision=answer["revision"], erp_number=answer["number"],
                erp_total_cost=Decimal(answer["total_cost"]), updated_at=datetime.now(UTC),
                status=case((WarrantyClaim.revision == answer["revision"], status), else_=WarrantyClaim.status),
                status_reason=case((WarrantyClaim.revision == answer["revision"], answer.get("reason")),
                                   else_=WarrantyClaim.status_reason))
        .returning(WarrantyClaim.ticket_id)).scalar()
    if done is None:
        return False
    ticket = session.get(Ticket, done)
    word = {"accepted": "accepted by finance", "rejected": "rejected by finance"}[status]
    reason = f": {answer['reason']}" if answer.get("reason") else ""
    service.record_fact(session, ticket, f"warranty_claim_{status}",
                        {"claim_id": claim_id, "revision": answer["revision"], "number": answer["number"],
                         "reason": answer.get("reason"), "total_cost": answer["total_cost"]})
    timeline.add_entry(session, kind=f"ticket_warranty_claim_{status}",
                       title=f"Ticket {ticket.number}: warranty claim {answer['number']} {word}{reason}",
                       party_id=ticket.party_id, ref_type=service.RECORD, ref_id=ticket.id,
                       data={"claim_id": claim_id, "revision": answer["revision"], "status": status,
                             "total_cost": answer["total_cost"], "currency": answer["currency"]})
    return True
