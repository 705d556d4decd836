"""A quote's lines: products from the catalog replica, priced by its price lists, with amounts by
shared_events.money."""

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from servicekit.auth.principal import Principal, forbidden
from servicekit.problems import field_error
from shared_events import money
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..catalog import service as catalog
from ..catalog.models import ProductReplica, StockReplica
from .models import Quote, QuoteLine

FOUR = Decimal("0.0001")


def _scale(value: Decimal, places: str = "0.0001") -> Decimal:
    return Decimal(value).quantize(Decimal(places), rounding=ROUND_HALF_UP)


def _check_override(data: dict, actor: Principal) -> None:
    if data.get("unit_price") is not None and not actor.can("quotes:update"):
        raise forbidden("quotes:update")


def _list_price(session: Session, quote: Quote, product_id: str, quantity: Decimal, field: str) -> dict:
    """What the replicated price lists give this customer for this quantity today."""
    if session.get(ProductReplica, product_id) is None:
        raise field_error(field, f"product {product_id} is no longer in the catalog: remove the line")
    return catalog.price_for(session, product_id, quote.party_id, None, quantity, date.today())


def _amounts(line: QuoteLine) -> None:
    amounts = money.line_amounts(line.quantity, line.unit_price, line.discount_percent, line.tax_rate)
    line.net_amount, line.tax_amount, line.gross_amount = amounts.net, amounts.tax, amounts.gross


def new_line(session: Session, quote: Quote, data: dict, actor: Principal, prefix: str = "") -> QuoteLine:
    """A line for an active product of the catalog in the quote's currency; the product is copied onto it."""
    _check_override(data, actor)
    product_id = str(data["product_id"])
    product = session.get(ProductReplica, product_id)
    if product is None or not product.active:
        raise field_error(f"{prefix}product_id", f"no active product with id {product_id} in the catalog")
    if product.currency != quote.currency:
        raise field_error(f"{prefix}product_id", f"{product.sku} is priced in {product.currency}; the quote is in "
                                                 f"{quote.currency}")
    quantity = _scale(data["quantity"])
    price = catalog.price_for(session, product_id, quote.party_id, None, quantity, date.today())
    list_price = _scale(price["unit_price"])
    overridden = data.get("unit_price") is not None
    line = QuoteLine(
        product_id=product_id, sku=product.sku, name=product.name,
        description=data["description"] if "description" in data else product.description, uom=product.uom,
        kind=product.kind, quantity=quantity, list_price=list_price, price_source=price["source"],
        price_list_id=price["price_list_id"], unit_price=_scale(data["unit_price"]) if overridden else list_price,
        price_overridden=overridden, discount_percent=_scale(data.get("discount_percent") or 0, "0.01"),
        tax_rate=_scale(product.tax_rate if data.get("tax_rate") is None else data["tax_rate"]))
    _amounts(line)
    return line


def change_line(session: Session, quote: Quote, line: QuoteLine, changes: dict, actor: Principal) -> None:
    """Apply changes to a line; a new quantity re-prices it from the lists (the agreed price only if not
    overridden); unit_price or tax_rate null goes back to the list price or the product's rate."""
    _check_override(changes, actor)
    if "quantity" in changes:
        line.quantity = _scale(changes["quantity"])
        price = _list_price(session, quote, line.product_id, line.quantity, "quantity")
        line.list_price, line.price_source, line.price_list_id = (_scale(price["unit_price"]), price["source"],
                                                                  price["price_list_id"])
        if not line.price_overridden:
            line.unit_price = line.list_price
    if "unit_price" in changes:
        if changes["unit_price"] is None:
            line.unit_price, line.price_overridden = line.list_price, False
        else:
            line.unit_price, line.price_overridden = _scale(changes["unit_price"]), True
    if "discount_percent" in changes:
        line.discount_percent = _scale(changes["discount_percent"], "0.01")
    if "tax_rate" in changes:
        if changes["tax_rate"] is None:
            product = session.get(ProductReplica, line.product_id)
            if product is None:
                raise field_error("tax_rate", "the product is no longer in the catalog: give the rate")
            line.tax_rate = _scale(product.tax_rate)
        else:
            line.tax_rate = _scale(changes["tax_rate"])
    if "description" in changes:
        line.description = changes["description"]
    _amounts(line)


def renumber(quote: Quote) -> None:
    for n, line in enumerate(quote.lines, start=1):
        line.line_no = n


def recompute_totals(quote: Quote) -> None:
    """The quote's totals: sums of its rounded lines (shared_events.money)."""
    t = money.totals(money.LineAmounts(line.net_amount, line.tax_amount) for line in quote.lines)
    quote.net_total, quote.tax_total, quote.gross_total = t.net, t.tax, t.gross


def tax_by_rate(quote: Quote) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(rate, net base, tax) per tax rate, in rate order; the taxes add up to the quote's tax total."""
    groups: dict[Decimal, list[Decimal]] = {}
    for line in quote.lines:
        g = groups.setdefault(line.tax_rate.normalize(), [Decimal("0.00"), Decimal("0.00")])
        g[0] += line.net_amount
        g[1] += line.tax_amount
    return [(rate, base, tax) for rate, (base, tax) in sorted(groups.items())]


def availability(session: Session, quote: Quote) -> tuple[dict[str, dict | None], list[str]]:
    """Stock now for each stockable line (by line id), and warnings for quantities not available: a warning only,
    the ERP decides on acceptance (it may backorder)."""
    ids = {line.product_id for line in quote.lines if line.kind == "stockable"}
    stock = {s.product_id: s for s in session.execute(
        select(StockReplica).where(StockReplica.product_id.in_(ids))).scalars()} if ids else {}
    out: dict[str, dict | None] = {}
    warnings = []
    for line in quote.lines:
        if line.kind != "stockable":
            out[line.id] = None
            continue
        s = stock.get(line.product_id)
        available = s.available if s else Decimal("0")
        sufficient = line.quantity <= available
        out[line.id] = {"available": available, "sufficient": sufficient, "as_of": s.erp_updated_at if s else None}
        if not sufficient and quote.status in ("draft", "sent"):
            warnings.append(f"line {line.line_no} ({line.sku}): {money.decimal_text(line.quantity.normalize())} "
                            f"{line.uom} quoted, {money.decimal_text(available.normalize())} available now")
    return out, warnings
