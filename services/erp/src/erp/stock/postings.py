"""The journal entries of stock moves (journal STK), written in the move's transaction: the pure lines of a move's
valuation and the use case that posts them."""

from dataclasses import replace
from datetime import UTC
from decimal import Decimal

from sqlalchemy.orm import Session

from ..ledger.models import JournalEntry
from ..ledger.posting import PostingLine
from ..ledger.service import first_open_date, post_entry
from ..money import cents


def stock_move_lines(kind: str, incoming: bool, value: Decimal, party_id: str | None = None,
                     description: str | None = None, counterpart: str | None = None) -> list[PostingLine]:
    """The valuation entry of a stock move, at its value rounded to the cent (nothing for transfers and zero values).

    receipt: stock / GRNI; delivery: COGS / stock; adjustment in: stock / stock variation; out: the reverse.
    `counterpart` books the other side to another role (parts issued for a warranty repair: warranty cost / stock).
    """
    amount = cents(abs(Decimal(value)))
    if kind == "transfer" or amount == 0:
        return []
    counterpart = counterpart or {"receipt": "grni", "delivery": "cogs", "adjustment": "stock_variation"}[kind]
    stock = PostingLine("stock", description=description)
    other = PostingLine(counterpart, party_id=party_id if counterpart == "grni" else None, description=description)
    if incoming:
        return [replace(stock, debit=amount), replace(other, credit=amount)]
    return [replace(other, debit=amount), replace(stock, credit=amount)]


def post_stock_move(session: Session, move, actor, booked: Decimal | None = None,
                    counterpart: str | None = None) -> JournalEntry | None:
    """The valuation of a stockable product's move: receipt stock/GRNI, delivery COGS/stock, adjustment
    stock/stock variation (either way), at `booked` (the change of the product's value in cents, so the stock
    account never drifts from the valuation) or else the move's value rounded to the cent; nothing for
    transfers or a zero value. One entry per move (purpose "valuation"), dated the move's day (UTC), or the
    first open day when that day is in a closed period: a stock move is never refused by the ledger's lock
    date."""
    incoming = move.from_location_id is None
    lines = stock_move_lines(move.kind, incoming, move.value if booked is None else booked, move.party_id,
                             f"{move.kind} {move.quantity.normalize():f} x {move.product_id}"[:300], counterpart)
    if not lines:
        return None
    moved_on = move.done_at.astimezone(UTC).date()
    booked_on = first_open_date(session, moved_on)
    memo = move.reason if booked_on == moved_on else f"moved on {moved_on.isoformat()}, in a closed period"
    return post_entry(session, journal="STK", entry_date=booked_on, lines=lines,
                      reference=(move.reference or f"Stock {move.kind}")[:200], source_type="stock_move",
                      source_id=move.id, actor=actor, memo=memo, purpose="valuation")
