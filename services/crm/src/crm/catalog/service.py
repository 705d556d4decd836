"""Use cases on the catalog replica: find products with their price and availability, resolve a quote price."""

from datetime import date
from decimal import Decimal

from servicekit.db import row_view
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, field_error
from shared_events.pricing import Candidate, resolve_price
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from .models import CategoryReplica, PriceListReplica, ProductReplica, StockReplica

ZERO = Decimal("0")

SORTABLE = {
    "name": func.lower(ProductReplica.name),
    "sku": func.lower(ProductReplica.sku),
    "sale_price": ProductReplica.sale_price,
    "available": func.coalesce(StockReplica.available, ZERO),
}


def _availability(stock: StockReplica | None) -> dict:
    if stock is None:  # the ERP has not reported stock for this product (yet, or never: services)
        return {"on_hand": ZERO, "reserved": ZERO, "available": ZERO, "warehouses": [], "as_of": None}
    return {"on_hand": stock.on_hand, "reserved": stock.reserved, "available": stock.available,
            "warehouses": stock.warehouses, "as_of": stock.erp_updated_at}


def _path(p: ProductReplica, category_path: str | None, category_updated_at) -> str | None:
    """The product's category path from whichever event is newer: the product's own (a category renamed in the
    ERP re-announces its products with the new path) or its category's, which may arrive before or after it on
    another partition."""
    if category_path is None or (category_updated_at is not None and category_updated_at < p.erp_updated_at):
        return p.category_path
    return category_path


def _view(p: ProductReplica, stock: StockReplica | None, category_path: str | None, category_updated_at,
          erp_url: str) -> dict:
    return {
        "id": p.product_id, "sku": p.sku, "name": p.name, "description": p.description, "kind": p.kind,
        "uom": p.uom, "active": p.active, "category_id": p.category_id,
        "category_path": _path(p, category_path, category_updated_at),
        "price": {"sale_price": p.sale_price, "currency": p.currency, "tax_rate": p.tax_rate},
        "warranty_months": p.warranty_months, "allow_backorder": p.allow_backorder,
        "availability": _availability(stock), "version": p.sequence, "updated_at": p.erp_updated_at,
        "replicated_at": p.replicated_at,
        "master_data": {"owner": "erp", "edit_url": f"{erp_url}/api/v1/products/{p.product_id}"},
    }


def _with_stock_and_category():
    return (select(ProductReplica, StockReplica, CategoryReplica.path.label("current_category_path"),
                   CategoryReplica.erp_updated_at.label("category_updated_at"))
            .outerjoin(StockReplica, StockReplica.product_id == ProductReplica.product_id)
            .outerjoin(CategoryReplica, CategoryReplica.category_id == ProductReplica.category_id))


def _category_and_descendants(session: Session, category_id: str):
    """The ids of a category and of every category below it, following the parent chain."""
    if session.get(CategoryReplica, category_id) is None:
        raise field_error("category_id", f"no category with id {category_id}")
    tree = (select(CategoryReplica.category_id).where(CategoryReplica.category_id == category_id)
            .cte("category_tree", recursive=True))
    below = select(CategoryReplica.category_id).where(CategoryReplica.parent_id == tree.c.category_id)
    tree = tree.union(below)  # UNION, not UNION ALL: a cycle met mid-move cannot loop forever
    return select(tree.c.category_id)


def list_products(session: Session, args: dict, erp_url: str) -> dict:
    """Products from the replica with price and availability; active ones unless asked otherwise."""
    stmt = _with_stock_and_category()
    if args.get("active", True) is not None:
        stmt = stmt.where(ProductReplica.active == args.get("active", True))
    if args.get("kind"):
        stmt = stmt.where(ProductReplica.kind == args["kind"])
    if args.get("category_id"):
        stmt = stmt.where(ProductReplica.category_id.in_(_category_and_descendants(session, str(args["category_id"]))))
    if args.get("q"):
        q = args["q"].strip().lower()
        stmt = stmt.where(or_(func.lower(ProductReplica.name).contains(q, autoescape=True),
                              func.lower(ProductReplica.sku).contains(q, autoescape=True)))
    if args.get("available_only"):
        stmt = stmt.where(StockReplica.available > 0)
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE, [func.lower(ProductReplica.name), ProductReplica.product_id])
    page = paginate(session, stmt, args["page"], args["page_size"], entities=False)
    page["items"] = [_view(r["ProductReplica"], r["StockReplica"], r["current_category_path"], r["category_updated_at"],
                           erp_url)
                     for r in page["items"]]
    return page


def get_product(session: Session, product_id: str, erp_url: str) -> dict:
    row = session.execute(_with_stock_and_category().where(ProductReplica.product_id == str(product_id))).first()
    if row is None:
        raise NotFound("product", product_id)
    return _view(row[0], row[1], row[2], row[3], erp_url)


def list_categories(session: Session, include_inactive: bool = False) -> list[dict]:
    """The category tree, flattened in path order; parent_id gives the tree back."""
    stmt = select(CategoryReplica).order_by(func.lower(CategoryReplica.path), CategoryReplica.category_id)
    if not include_inactive:
        stmt = stmt.where(CategoryReplica.active)
    return [row_view(c) for c in session.execute(stmt).scalars()]


def price_for(session: Session, product_id: str, party_id: str | None, customer_group: str | None,
              quantity: Decimal, on: date | None = None) -> dict:
    """The unit price for a customer and quantity on a date, by the ERP's own rule on the replicated price lists.

    The customer group of a party is the ERP's and is not replicated: group lists count only when the caller names
    the group.
    """
    p = session.get(ProductReplica, str(product_id))
    if p is None:
        raise NotFound("product", product_id)
    on = on or date.today()
    lists = session.execute(select(PriceListReplica).where(
        PriceListReplica.active, PriceListReplica.currency == p.currency,
        PriceListReplica.items.contains([{"product_id": p.product_id}]))).scalars().all()
    candidates = [Candidate(Decimal(i["price"]), Decimal(i["min_quantity"]), pl.party_id, pl.customer_group,
                            pl.valid_from, pl.valid_to, pl.price_list_id)
                  for pl in lists for i in pl.items if i["product_id"] == p.product_id]
    resolved = resolve_price(p.sale_price, candidates, quantity, on, str(party_id) if party_id else None,
                             customer_group)
    names = {pl.price_list_id: pl.name for pl in lists}
    return {"product_id": p.product_id, "quantity": quantity, "date": on, "currency": p.currency,
            "unit_price": resolved.unit_price, "tax_rate": p.tax_rate, "source": resolved.source,
            "price_list_id": resolved.price_list_id, "price_list_name": names.get(resolved.price_list_id),
            "party_id": str(party_id) if party_id else None, "customer_group": customer_group}
