"""Use cases of the catalog: each takes a session and the acting user, changes categories, products or price
lists, writes the audit trail and adds the new full state to the outbox (erp.product.v1 / erp.pricelist.v1)."""

from datetime import UTC, date, datetime
from decimal import Decimal

from servicekit import audit
from servicekit.auth.principal import Principal
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error
from shared_events.outbox import record_event
from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from ..db import audit_log, outbox
from ..parties.models import PartyAccount, PartyReplica
from . import events
from .models import Category, PriceList, PriceListItem, Product
from .pricing import Candidate, ResolvedPrice, resolve_price

PATH_SEPARATOR = " / "


# -- categories ----------------------------------------------------------------------------------

def _category(session: Session, category_id: str, field: str | None = None, lock: bool = False) -> Category:
    stmt = select(Category).where(Category.id == str(category_id))
    found = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if found is None:
        if field:
            raise field_error(field, f"no category with id {category_id}")
        raise NotFound("category", category_id)
    return found


def _publish_category(session: Session, verb: str, c: Category, actor, before: dict | None) -> None:
    session.flush()
    session.refresh(c)
    record_event(session, outbox, events.category_event(verb, c, actor), "category")
    audit.record(session, audit_log, actor, "create" if verb == "created" else "update", "category", c.id,
                 before, events.category_state(c))


def _check_sibling_name(session: Session, parent_id: str | None, name: str, exclude: str | None = None) -> None:
    stmt = select(Category.id).where(func.lower(Category.name) == name.lower(),
                                     Category.parent_id.is_(None) if parent_id is None
                                     else Category.parent_id == parent_id)
    if exclude:
        stmt = stmt.where(Category.id != exclude)
    if session.execute(stmt).first():
        raise Problem(409, "Category exists", f"A category named {name!r} exists at that place in the tree.",
                      "conflict", errors=[{"field": "name", "message": "already used under this parent"}])


def create_category(session: Session, data: dict, actor: Principal) -> dict:
    return row_view(add_category(session, data, actor))


def add_category(session: Session, data: dict, actor: Principal) -> Category:
    parent = _category(session, data["parent_id"], "parent_id") if data.get("parent_id") else None
    name = data["name"].strip()
    if PATH_SEPARATOR.strip() in name:
        raise field_error("name", "cannot contain '/'")
    _check_sibling_name(session, parent.id if parent else None, name)
    c = Category(name=name, parent_id=parent.id if parent else None,
                 path=f"{parent.path}{PATH_SEPARATOR}{name}" if parent else name, version=1)
    session.add(c)
    _publish_category(session, "created", c, actor, None)
    return c


def update_category(session: Session, category_id: str, expected_version: int, changes: dict,
                    actor: Principal) -> dict:
    """Rename, move or (de)activate; the paths of every descendant follow, each announced."""
    c = _category(session, category_id, lock=True)
    check_version(c.version, expected_version)
    before = events.category_state(c)
    if "parent_id" in changes:
        new_parent = str(changes["parent_id"]) if changes["parent_id"] else None
        if new_parent:
            parent = _category(session, new_parent, "parent_id")
            if parent.id == c.id or (parent.path + PATH_SEPARATOR).startswith(c.path + PATH_SEPARATOR):
                raise field_error("parent_id", "a category cannot move under itself or one of its descendants")
        c.parent_id = new_parent
    if "name" in changes:
        if PATH_SEPARATOR.strip() in changes["name"]:
            raise field_error("name", "cannot contain '/'")
        c.name = changes["name"].strip()
    if "active" in changes:
        c.active = changes["active"]
    _check_sibling_name(session, c.parent_id, c.name, exclude=c.id)
    old_path = c.path
    parent_path = _category(session, c.parent_id).path if c.parent_id else None
    c.path = f"{parent_path}{PATH_SEPARATOR}{c.name}" if parent_path else c.name
    if events.category_state(c) | {"version": c.version} == before:
        return row_view(c)
    c.version += 1
    c.updated_at = datetime.now(UTC)
    _publish_category(session, "updated", c, actor, before)
    if c.path != old_path:
        _repath_descendants(session, c, old_path, actor)
    return row_view(c)


def _repath_descendants(session: Session, c: Category, old_path: str, actor) -> None:
    """After a rename or move: every descendant category, and every product below, carries the new path."""
    subtree = [(c.id, old_path, c.path)]
    for d in session.execute(select(Category).where(Category.path.startswith(old_path + PATH_SEPARATOR,
                                                                              autoescape=True))
                             .with_for_update()).scalars():
        before = events.category_state(d)
        d_old = d.path
        d.path = c.path + d.path[len(old_path):]
        d.version += 1
        d.updated_at = datetime.now(UTC)
        _publish_category(session, "updated", d, actor, before)
        subtree.append((d.id, d_old, d.path))
    for category_id, was, now in subtree:
        for p in session.execute(select(Product).where(Product.category_id == category_id).with_for_update()
                                 ).scalars():
            before = events.product_state(p, was)
            p.version += 1
            p.updated_at = datetime.now(UTC)
            _publish_product(session, "updated", p, actor, before, now)


def list_categories(session: Session, include_inactive: bool = False) -> list[dict]:
    stmt = select(Category).order_by(Category.path)
    if not include_inactive:
        stmt = stmt.where(Category.active)
    return [row_view(c) for c in session.execute(stmt).scalars()]


# -- products ------------------------------------------------------------------------------------

def _category_path(session: Session, category_id: str | None) -> str | None:
    if not category_id:
        return None
    return session.execute(select(Category.path).where(Category.id == category_id)).scalar_one_or_none()


def _publish_product(session: Session, verb: str, p: Product, actor, before: dict | None,
                     path: str | None = None) -> None:
    session.flush()
    session.refresh(p)
    path = path if path is not None else _category_path(session, p.category_id)
    record_event(session, outbox, events.product_event(verb, p, path, actor), "product")
    audit.record(session, audit_log, actor, "create" if verb == "created" else "update", "product", p.id,
                 before, events.product_state(p, path))


def _check_sku(session: Session, sku: str, exclude: str | None = None) -> None:
    stmt = select(Product.id).where(func.lower(Product.sku) == sku.lower())
    if exclude:
        stmt = stmt.where(Product.id != exclude)
    if session.execute(stmt).first():
        raise Problem(409, "SKU already used", f"Another product has SKU {sku}.", "conflict",
                      errors=[{"field": "sku", "message": "already used"}])


def _check_category(session: Session, category_id) -> str | None:
    if category_id is None:
        return None
    c = _category(session, category_id, "category_id")
    if not c.active:
        raise field_error("category_id", f"category {c.path!r} is inactive")
    return c.id


def create_product(session: Session, data: dict, actor: Principal) -> dict:
    data = dict(data)
    data["sku"] = data["sku"].strip()
    _check_sku(session, data["sku"])
    data["category_id"] = _check_category(session, data.get("category_id"))
    p = Product(**data, version=1)
    session.add(p)
    _publish_product(session, "created", p, actor, None)
    return row_view(p)


def get_product(session: Session, product_id: str) -> dict:
    return row_view(find_product(session, product_id))


def find_product(session: Session, product_id: str) -> Product:
    p = session.get(Product, str(product_id))
    if p is None:
        raise NotFound("product", product_id)
    return p


def update_product(session: Session, product_id: str, expected_version: int, changes: dict,
                   actor: Principal) -> dict:
    p = session.execute(select(Product).where(Product.id == str(product_id)).with_for_update()).scalar_one_or_none()
    if p is None:
        raise NotFound("product", product_id)
    check_version(p.version, expected_version)
    changes = dict(changes)
    if "sku" in changes:
        changes["sku"] = changes["sku"].strip()
        _check_sku(session, changes["sku"], exclude=p.id)
    if "category_id" in changes:
        changes["category_id"] = _check_category(session, changes["category_id"])
    changed = {k: v for k, v in changes.items() if getattr(p, k) != v}
    if not changed:
        return row_view(p)
    before = events.product_state(p, _category_path(session, p.category_id))
    for k, v in changed.items():
        setattr(p, k, v)
    p.version += 1
    p.updated_at = datetime.now(UTC)
    _publish_product(session, "updated", p, actor, before)
    return row_view(p)


SORTABLE = {"name": func.lower(Product.name), "sku": func.lower(Product.sku), "sale_price": Product.sale_price,
            "created_at": Product.created_at, "updated_at": Product.updated_at}


def list_products(session: Session, args: dict) -> dict:
    stmt = select(Product)
    if args.get("active", True) is not None:
        stmt = stmt.where(Product.active == args.get("active", True))
    if args.get("kind"):
        stmt = stmt.where(Product.kind == args["kind"])
    if args.get("category_id"):
        root = _category(session, args["category_id"], "category_id")
        inside = select(Category.id).where(or_(Category.id == root.id,
                                               Category.path.startswith(root.path + PATH_SEPARATOR, autoescape=True)))
        stmt = stmt.where(Product.category_id.in_(inside))
    if args.get("q"):
        like = f"%{args['q'].lower()}%"
        stmt = stmt.where(or_(func.lower(Product.name).like(like), func.lower(Product.sku).like(like)))
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE, [func.lower(Product.name), Product.id])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [row_view(p) for p in page["items"]]
    return page


# -- price lists ---------------------------------------------------------------------------------

def _items(session: Session, price_list_id: str) -> list[PriceListItem]:
    return list(session.execute(select(PriceListItem).where(PriceListItem.price_list_id == price_list_id)).scalars())


def price_list_view(session: Session, pl: PriceList) -> dict:
    return {**row_view(pl), "items": [row_view(i) for i in _items(session, pl.id)]}


def _check_target(session: Session, party_id) -> None:
    if party_id and session.get(PartyReplica, str(party_id)) is None:
        raise field_error("party_id", f"no customer with id {party_id}")


def _replace_items(session: Session, pl: PriceList, items: list[dict]) -> None:
    seen = set()
    for i, item in enumerate(items):
        if session.get(Product, str(item["product_id"])) is None:
            raise field_error(f"items.{i}.product_id", f"no product with id {item['product_id']}")
        key = (str(item["product_id"]), item["min_quantity"])
        if key in seen:
            raise field_error(f"items.{i}.min_quantity", "two prices for the same product and quantity break")
        seen.add(key)
    session.execute(delete(PriceListItem).where(PriceListItem.price_list_id == pl.id))
    for item in items:
        session.add(PriceListItem(price_list_id=pl.id, product_id=str(item["product_id"]),
                                  min_quantity=item["min_quantity"], price=item["price"]))


def _publish_price_list(session: Session, verb: str, pl: PriceList, actor, before: dict | None) -> dict:
    session.flush()
    session.refresh(pl)
    items = _items(session, pl.id)
    record_event(session, outbox, events.price_list_event(verb, pl, items, actor), "pricelist")
    state = events.price_list_state(pl, items)
    audit.record(session, audit_log, actor, "create" if verb == "created" else "update", "price_list", pl.id,
                 before, state)
    return price_list_view(session, pl)


def create_price_list(session: Session, data: dict, actor: Principal) -> dict:
    data = dict(data)
    items = data.pop("items", [])
    if data.get("party_id"):
        data["party_id"] = str(data["party_id"])
    _check_target(session, data.get("party_id"))
    pl = PriceList(**data, version=1)
    session.add(pl)
    session.flush()
    _replace_items(session, pl, items)
    return _publish_price_list(session, "created", pl, actor, None)


def update_price_list(session: Session, price_list_id: str, expected_version: int, changes: dict,
                      actor: Principal) -> dict:
    pl = session.execute(select(PriceList).where(PriceList.id == str(price_list_id)).with_for_update()
                         ).scalar_one_or_none()
    if pl is None:
        raise NotFound("price list", price_list_id)
    check_version(pl.version, expected_version)
    before = events.price_list_state(pl, _items(session, pl.id))
    changes = dict(changes)
    items = changes.pop("items", None)
    if changes.get("party_id"):
        changes["party_id"] = str(changes["party_id"])
        _check_target(session, changes["party_id"])
    for k, v in changes.items():
        setattr(pl, k, v)
    if pl.customer_group and pl.party_id:
        raise field_error("party_id", "a price list targets a customer or a customer group, not both")
    if items is not None:
        _replace_items(session, pl, items)
    pl.version += 1
    pl.updated_at = datetime.now(UTC)
    return _publish_price_list(session, "updated", pl, actor, before)


def get_price_list(session: Session, price_list_id: str) -> dict:
    pl = session.get(PriceList, str(price_list_id))
    if pl is None:
        raise NotFound("price list", price_list_id)
    return price_list_view(session, pl)


def list_price_lists(session: Session, args: dict) -> dict:
    stmt = apply_sort(select(PriceList), args.get("sort"), {
        "name": PriceList.name, "currency": PriceList.currency, "valid_from": PriceList.valid_from,
    }, [PriceList.name, PriceList.id])
    if args.get("party_id"):
        stmt = stmt.where(PriceList.party_id == str(args["party_id"]))
    if args.get("customer_group"):
        stmt = stmt.where(PriceList.customer_group == args["customer_group"])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [price_list_view(session, pl) for pl in page["items"]]
    return page


def price_for(session: Session, product_id: str, party_id: str | None, quantity: Decimal,
              on: date | None = None) -> dict:
    """The unit price a customer pays for a quantity on a date, and which list it comes from."""
    p = find_product(session, product_id)
    group = None
    if party_id:
        group = session.execute(select(PartyAccount.customer_group).where(PartyAccount.party_id == str(party_id))
                                ).scalar_one_or_none()
    rows = session.execute(
        select(PriceListItem, PriceList).join(PriceList, PriceList.id == PriceListItem.price_list_id)
        .where(PriceListItem.product_id == p.id, PriceList.active, PriceList.currency == p.currency)).all()
    candidates = [Candidate(i.price, i.min_quantity, pl.party_id, pl.customer_group, pl.valid_from, pl.valid_to,
                            pl.id) for i, pl in rows]
    resolved: ResolvedPrice = resolve_price(p.sale_price, candidates, quantity, on or date.today(),
                                            str(party_id) if party_id else None, group)
    return {"product_id": p.id, "quantity": quantity, "currency": p.currency, "unit_price": resolved.unit_price,
            "source": resolved.source, "price_list_id": resolved.price_list_id, "tax_rate": p.tax_rate}
