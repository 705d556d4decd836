"""HTTP endpoints of the catalog replica: read-only; a write is answered with where to make it in the ERP."""

import flask
from flask import current_app
from flask.views import MethodView
from flask_smorest import Api
from servicekit.auth.principal import requires
from servicekit.blueprint import Blueprint
from servicekit.problems import NotFound, Problem
from servicekit.web import sessions

from . import service
from .schemas import (
    CatalogCategorySchema,
    CatalogProductSchema,
    CategoryListArgs,
    PriceQueryArgs,
    ProductListArgs,
    ProductPageSchema,
    QuotePriceSchema,
)

PREFIX = "/api/v1/catalog"
WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]

blp = Blueprint("catalog", __name__, url_prefix=PREFIX,
                description="The ERP's catalog as the CRM sees it for quotes: products with prices and stock "
                            "availability, categories, and the price a customer would pay. Read-only: the ERP "
                            "owns the catalog, and a write here answers 405 with where to make it in the ERP.")
writes = flask.Blueprint("catalog_writes", __name__, url_prefix=PREFIX)


def _erp_url() -> str:
    return current_app.config["ERP_PUBLIC_URL"]


@blp.route("/products")
class Products(MethodView):
    @requires("catalog:read")
    @blp.arguments(ProductListArgs, location="query")
    @blp.response(200, ProductPageSchema)
    def get(self, args):
        """Find products (search q in name and SKU; filter by category with its subcategories, kind, active,
        available stock; sort by name, sku, sale_price or available)."""
        with sessions().begin() as session:
            return service.list_products(session, args, _erp_url())


@blp.route("/products/<uuid:product_id>")
class ProductById(MethodView):
    @requires("catalog:read")
    @blp.response(200, CatalogProductSchema)
    def get(self, product_id):
        """One product with its price, category and availability per warehouse."""
        with sessions().begin() as session:
            return service.get_product(session, product_id, _erp_url())


@blp.route("/products/<uuid:product_id>/price")
class ProductPrice(MethodView):
    @requires("catalog:read")
    @blp.arguments(PriceQueryArgs, location="query")
    @blp.response(200, QuotePriceSchema)
    def get(self, args, product_id):
        """The unit price for a customer, quantity and date, by the ERP's rule (customer list > group list >
        general list > base price). Group lists count only when `customer_group` is given: the ERP owns it."""
        with sessions().begin() as session:
            return service.price_for(session, product_id, args["party_id"], args["customer_group"],
                                     args["quantity"], args["date"])


@blp.route("/categories")
class Categories(MethodView):
    @requires("catalog:read")
    @blp.arguments(CategoryListArgs, location="query")
    @blp.response(200, CatalogCategorySchema(many=True))
    def get(self, args):
        """The category tree, flattened in path order ("Hardware", "Hardware / Laptops", …)."""
        with sessions().begin() as session:
            return service.list_categories(session, args["include_inactive"])


def where_to_change(method: str, rest: str, erp_url: str) -> tuple[str, str]:
    """The ERP request that makes the change a client tried to make on the CRM's copy."""
    parts = [p for p in rest.split("/") if p]
    resource, ident = (parts + [None, None])[:2]
    if resource in ("products", "categories") and len(parts) <= 2:
        return ("PATCH", f"{erp_url}/api/v1/{resource}/{ident}") if ident else ("POST", f"{erp_url}/api/v1/{resource}")
    if resource in ("products", "prices", "price-lists", "pricelists"):  # prices change in the ERP's price lists
        return ("PATCH" if method != "POST" else "POST",
                f"{erp_url}/api/v1/price-lists" + ("/<price_list_id>" if method != "POST" else ""))
    return method, f"{erp_url}/docs"


@writes.route("", defaults={"rest": ""}, methods=["GET", *WRITE_METHODS])
@writes.route("/<path:rest>", methods=["GET", *WRITE_METHODS])
def refuse_write(rest: str):
    """Every write under /catalog: the catalog is the ERP's (authentication still applies, as everywhere)."""
    if flask.request.method == "GET":  # a path no catalog endpoint has: a plain 404, not a 405
        raise NotFound("catalog resource", flask.request.path)
    method, url = where_to_change(flask.request.method, rest, _erp_url())
    hint = ' To withdraw a product, set "active": false there.' if flask.request.method == "DELETE" else ""
    raise Problem(405, "The catalog is owned by the ERP",
                  f"The CRM keeps a read-only copy of the ERP's products, categories, prices and stock, fed by the "
                  f"ERP's events. Make this change in the ERP: {method} {url}.{hint}", "catalog-owned-by-erp",
                  headers={"Allow": "GET, HEAD, OPTIONS"}, owner="erp", change_in_erp={"method": method, "url": url})


def init_app(app: flask.Flask, api: Api, erp_public_url: str) -> None:
    """Keep the ERP's address (links to the catalog's owner) and register the write refusals: plain Flask routes,
    not API operations (app.py registers the documented read endpoints)."""
    app.config["ERP_PUBLIC_URL"] = erp_public_url.rstrip("/")
    app.register_blueprint(writes)
