"""Whether a ticket's product (and serial) is under warranty for its customer, from the replica: covered (an
active entitlement whose term includes the day), expired (only ended or voided ones), or not found."""

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from .models import WarrantyReplica


def _view(e: WarrantyReplica) -> dict:
    return {"entitlement_id": e.entitlement_id, "invoice_number": e.invoice_number, "start_date": e.start_date,
            "end_date": e.end_date, "covers_parts": e.covers_parts, "covers_labour": e.covers_labour,
            "serial_number": e.serial_number, "quantity": e.quantity, "status": e.status}


def coverage(session: Session, party_id: str, product_id: str | None, serial_number: str | None,
             on: date) -> dict:
    """The best entitlement for this customer and product on a day: an active one covering the day (latest end
    first), else the most recently ended. A serial narrows to entitlements of that serial or without one, the
    serial's own first."""
    if not product_id:
        return {"state": "not_found", "on": on, "entitlement": None,
                "reason": "the ticket names no product"}
    stmt = select(WarrantyReplica).where(WarrantyReplica.party_id == party_id,
                                         WarrantyReplica.product_id == product_id)
    if serial_number:
        stmt = stmt.where(or_(WarrantyReplica.serial_number == serial_number,
                              WarrantyReplica.serial_number.is_(None)))
    rows = list(session.execute(stmt.order_by(WarrantyReplica.end_date.desc())).scalars())
    if serial_number:  # the unit's own entitlement wins over one sold without serials
        rows.sort(key=lambda e: e.serial_number != serial_number)
    active = [e for e in rows if e.status == "active" and e.start_date <= on <= e.end_date and e.quantity > 0]
    if active:
        return {"state": "covered", "on": on, "entitlement": _view(active[0]),
                "reason": f"invoice {active[0].invoice_number}, covered until {active[0].end_date.isoformat()}"}
    if rows:
        e = rows[0]
        why = {"void": "voided by a credit note", "replaced": "the unit was replaced under warranty"}.get(
            e.status, f"ended on {e.end_date.isoformat()}")
        return {"state": "expired", "on": on, "entitlement": _view(e), "reason": f"invoice {e.invoice_number}: {why}"}
    return {"state": "not_found", "on": on, "entitlement": None,
            "reason": "no warranty for this customer and product"}
