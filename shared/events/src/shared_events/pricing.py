"""Which price applies: the pure rule both the ERP (which owns prices) and the CRM (which quotes from its replica)
apply to the same erp.pricelist.v1 contract data. No I/O, no dependencies."""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Candidate:
    """One price-list item that could apply: its list's target and validity, its quantity break, its price."""

    price: Decimal
    min_quantity: Decimal
    party_id: str | None
    customer_group: str | None
    valid_from: date | None
    valid_to: date | None
    price_list_id: str


@dataclass(frozen=True)
class ResolvedPrice:
    unit_price: Decimal
    source: str  # "customer", "group", "general" or "base"
    price_list_id: str | None


def resolve_price(base_price: Decimal, candidates: list[Candidate], quantity: Decimal, on: date,
                  party_id: str | None, customer_group: str | None) -> ResolvedPrice:
    """A customer's own list beats their group's, which beats a general list, which beats the base price.

    Within a level the highest quantity break not above the quantity applies; among equals the lower price wins.
    """
    def applies(c: Candidate) -> bool:
        return ((c.valid_from is None or c.valid_from <= on) and (c.valid_to is None or on <= c.valid_to)
                and c.min_quantity <= quantity)

    for source, match in (("customer", lambda c: party_id is not None and c.party_id == party_id),
                          ("group", lambda c: customer_group is not None and c.customer_group == customer_group
                           and c.party_id is None),
                          ("general", lambda c: c.party_id is None and c.customer_group is None)):
        found = [c for c in candidates if match(c) and applies(c)]
        if found:
            best = min(found, key=lambda c: (-c.min_quantity, c.price))
            return ResolvedPrice(best.price, source, best.price_list_id)
    return ResolvedPrice(base_price, "base", None)
