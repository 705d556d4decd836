"""Serial numbers: a delivery of a serial-tracked product records one serial per unit shipped (unique per product),
and each invoiced serial gets an entitlement of its own."""

from datetime import date
from decimal import Decimal

from servicekit.problems import field_error
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import SerialNumber, WarrantyTerm


def is_tracked(session: Session, product_id: str) -> bool:
    return bool(session.execute(select(WarrantyTerm.serial_tracked).where(WarrantyTerm.product_id == product_id))
                .scalar())


def check_shipped(session: Session, field: str, product_id: str, quantity: Decimal, serials: list[str] | None
                  ) -> list[str]:
    """The serials a delivery line ships, cleaned; a tracked product needs one per unit, and a serial already
    known for this product (or twice in the list) is refused, naming the line."""
    cleaned = [s.strip() for s in serials or []]
    if not serials and not is_tracked(session, product_id):
        return []
    if any(not s for s in cleaned):
        raise field_error(field, "a serial number cannot be blank")
    if quantity != quantity.to_integral_value() or len(cleaned) != quantity:
        raise field_error(field, f"this product is shipped by serial number: give one serial per unit "
                          f"({len(cleaned)} given for a quantity of {quantity.normalize():f})")
    if len(set(cleaned)) != len(cleaned):
        raise field_error(field, "the same serial number appears twice")
    known = session.execute(select(SerialNumber.serial_number).where(
        SerialNumber.product_id == product_id, SerialNumber.serial_number.in_(cleaned))).scalars().all()
    if known:
        raise field_error(field, f"serial number {sorted(known)[0]} was already shipped for this product")
    return cleaned


def record_shipped(session: Session, product_id: str, party_id: str, delivery_line_id: str, order_line_id: str,
                   serials: list[str], on: date) -> None:
    for serial in serials:
        session.add(SerialNumber(product_id=product_id, serial_number=serial, party_id=party_id, source="delivery",
                                 delivery_line_id=delivery_line_id, order_line_id=order_line_id, shipped_on=on))
    session.flush()


def serials_of_delivery_lines(session: Session, line_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    if line_ids:
        for line_id, serial in session.execute(
                select(SerialNumber.delivery_line_id, SerialNumber.serial_number)
                .where(SerialNumber.delivery_line_id.in_(line_ids)).order_by(SerialNumber.serial_number)):
            found.setdefault(line_id, []).append(serial)
    return found


def unentitled_serials(session: Session, order_line_id: str, limit: int) -> list[SerialNumber]:
    """Serials an order line shipped that no invoice has entitled yet, first shipped first."""
    return list(session.execute(
        select(SerialNumber).where(SerialNumber.order_line_id == order_line_id, SerialNumber.entitlement_id.is_(None))
        .order_by(SerialNumber.shipped_on, SerialNumber.created_at, SerialNumber.serial_number)
        .limit(limit).with_for_update()).scalars())
