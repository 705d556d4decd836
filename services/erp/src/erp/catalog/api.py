"""HTTP endpoints of the catalog: categories, products (with import) and price lists."""

import json

from flask import request
from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_required, required_version
from servicekit.problems import field_error
from servicekit.web import create_once, idempotent, sessions, with_etag

from . import importer, service
from .schemas import (
    CategoryCreateSchema,
    CategoryListArgs,
    CategorySchema,
    CategoryUpdateSchema,
    ImportArgs,
    ImportReportSchema,
    PriceListArgs,
    PriceListCreateSchema,
    PriceListPageSchema,
    PriceListSchema,
    PriceListUpdateSchema,
    PriceQueryArgs,
    PriceSchema,
    ProductCreateSchema,
    ProductListArgs,
    ProductPageSchema,
    ProductSchema,
    ProductUpdateSchema,
)

blp = Blueprint("catalog", __name__, url_prefix="/api/v1",
                description="The catalog the ERP owns (the CRM keeps a read-only copy): a category tree, products "
                            "and price lists with quantity breaks.")



@blp.route("/categories")
class Categories(MethodView):
    @requires("catalog:read")
    @blp.arguments(CategoryListArgs, location="query")
    @blp.response(200, CategorySchema(many=True))
    def get(self, args):
        """The category tree, flattened in path order ("Hardware", "Hardware / Laptops", …)."""
        with sessions().begin() as session:
            return service.list_categories(session, args["include_inactive"])

    @requires("catalog:create")
    @blp.arguments(CategoryCreateSchema)
    @blp.response(201, CategorySchema)
    def post(self, data):
        with sessions().begin() as session:
            return with_etag(service.create_category(session, data, current_principal()), 201)


@blp.route("/categories/<uuid:category_id>")
class CategoryById(MethodView):
    @requires("catalog:read")
    @blp.response(200, CategorySchema)
    def get(self, category_id):
        with sessions().begin() as session:
            return with_etag(service._category(session, category_id))

    @requires("catalog:update")
    @if_match_required
    @blp.arguments(CategoryUpdateSchema)
    @blp.response(200, CategorySchema)
    def patch(self, changes, category_id):
        """Rename, move (parent_id) or deactivate. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.update_category(session, category_id, expected, changes, current_principal()))


@blp.route("/products")
class Products(MethodView):
    @requires("catalog:read")
    @blp.arguments(ProductListArgs, location="query")
    @blp.response(200, ProductPageSchema)
    def get(self, args):
        """Products (active ones unless active is given), searchable by name and SKU, by category subtree."""
        with sessions().begin() as session:
            return service.list_products(session, args)

    @requires("catalog:create")
    @blp.arguments(ProductCreateSchema)
    @blp.response(201, ProductSchema)
    @idempotent
    def post(self, data):
        """Create a product. Send Idempotency-Key to make retries safe."""
        return create_once("POST /products", ProductSchema,
                           lambda session, me: service.create_product(session, data, me),
                           lambda body: f"/api/v1/products/{body['id']}")


@blp.route("/products/<uuid:product_id>")
class ProductById(MethodView):
    @requires("catalog:read")
    @blp.response(200, ProductSchema)
    def get(self, product_id):
        with sessions().begin() as session:
            return with_etag(service.get_product(session, product_id))

    @requires("catalog:update")
    @if_match_required
    @blp.arguments(ProductUpdateSchema)
    @blp.response(200, ProductSchema)
    def patch(self, changes, product_id):
        """Change a product (active=false withdraws it from sale). Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.update_product(session, product_id, expected, changes, current_principal()))


@blp.route("/products/<uuid:product_id>/price")
class ProductPrice(MethodView):
    @requires("catalog:read")
    @blp.arguments(PriceQueryArgs, location="query")
    @blp.response(200, PriceSchema)
    def get(self, args, product_id):
        """The unit price for a customer, quantity and date (customer list > group list > general list > base)."""
        with sessions().begin() as session:
            return service.price_for(session, product_id, args["party_id"], args["quantity"], args["date"])


@blp.route("/products/import")
class ProductImport(MethodView):
    @requires("catalog:import")
    @blp.arguments(ImportArgs, location="query")
    @blp.response(200, ImportReportSchema)
    def post(self, args):
        """Import products from a CSV or XLSX file (multipart field `file`); headers name the fields (or use
        `mapping`); `category` may name a path like "Hardware / Laptops"."""
        upload = request.files.get("file")
        if upload is None:
            raise field_error("file", "send the file as multipart/form-data field 'file'")
        mapping = None
        if args["mapping"]:
            try:
                mapping = json.loads(args["mapping"])
                assert isinstance(mapping, dict)
            except (ValueError, AssertionError):
                raise field_error("mapping", "a JSON object from column header to field") from None
        rows = importer.read_rows(upload.filename, upload.read())
        with sessions().begin() as session:
            return importer.import_products(session, rows, mapping, args["on_duplicate"], args["create_categories"],
                                            args["dry_run"], current_principal())


@blp.route("/price-lists")
class PriceLists(MethodView):
    @requires("catalog:read")
    @blp.arguments(PriceListArgs, location="query")
    @blp.response(200, PriceListPageSchema)
    def get(self, args):
        with sessions().begin() as session:
            return service.list_price_lists(session, args)

    @requires("catalog:update")
    @blp.arguments(PriceListCreateSchema)
    @blp.response(201, PriceListSchema)
    def post(self, data):
        """A price list for one customer (party_id), a customer group, or everyone; items have quantity breaks."""
        with sessions().begin() as session:
            return with_etag(service.create_price_list(session, data, current_principal()), 201)


@blp.route("/price-lists/<uuid:price_list_id>")
class PriceListById(MethodView):
    @requires("catalog:read")
    @blp.response(200, PriceListSchema)
    def get(self, price_list_id):
        with sessions().begin() as session:
            return with_etag(service.get_price_list(session, price_list_id))

    @requires("catalog:update")
    @if_match_required
    @blp.arguments(PriceListUpdateSchema)
    @blp.response(200, PriceListSchema)
    def patch(self, changes, price_list_id):
        """Change a price list; `items`, when given, replace all items. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.update_price_list(session, price_list_id, expected, changes,
                                                       current_principal()))
