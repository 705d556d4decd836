"""What the catalog endpoints accept (strict) and return."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from servicekit.pagination import PageArgs, page_schema
from servicekit.validators import not_blank

from ..fields import CURRENCY
from .models import KINDS, VALUATION_METHODS

MONEY = dict(as_string=True, places=4, validate=validate.Range(min=0))


class CategorySchema(Schema):
    id = fields.UUID()
    name = fields.String()
    parent_id = fields.UUID(allow_none=True)
    path = fields.String()
    active = fields.Boolean()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class CategoryCreateSchema(Schema):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), not_blank])
    parent_id = fields.UUID(load_default=None, allow_none=True)


class CategoryUpdateSchema(Schema):
    name = fields.String(validate=[validate.Length(min=1, max=100), not_blank])
    parent_id = fields.UUID(allow_none=True)
    active = fields.Boolean()


class CategoryListArgs(Schema):
    include_inactive = fields.Boolean(load_default=False)


class _ProductFields(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    description = fields.String(allow_none=True, validate=validate.Length(max=5000))
    category_id = fields.UUID(allow_none=True)
    uom = fields.String(validate=validate.Length(min=1, max=20), metadata={"description": "Unit: unit, kg, h, m…"})
    kind = fields.String(validate=validate.OneOf(KINDS))
    currency = fields.String(validate=CURRENCY)
    sale_price = fields.Decimal(**MONEY)
    cost = fields.Decimal(**MONEY)
    tax_rate = fields.Decimal(as_string=True, places=4, validate=validate.Range(min=0, max=1, max_inclusive=False),
                              metadata={"description": "0.2 = 20 %"})
    warranty_months = fields.Integer(validate=validate.Range(min=0, max=240))
    allow_backorder = fields.Boolean()
    valuation_method = fields.String(validate=validate.OneOf(VALUATION_METHODS))
    active = fields.Boolean()


class ProductCreateSchema(_ProductFields):
    sku = fields.String(required=True, validate=[validate.Length(min=1, max=64), validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$", error="letters, digits and . _ - / only")])
    name = fields.String(required=True, validate=[validate.Length(min=1, max=200), not_blank])


class ProductUpdateSchema(_ProductFields):
    sku = fields.String(validate=[validate.Length(min=1, max=64), validate.Regexp(
        r"^[A-Za-z0-9][A-Za-z0-9._\-/]*$", error="letters, digits and . _ - / only")])


class ProductSchema(ProductCreateSchema):
    id = fields.UUID()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class ProductListArgs(PageArgs):
    q = fields.String(metadata={"description": "Search name and SKU."})
    category_id = fields.UUID(metadata={"description": "This category and everything below it."})
    kind = fields.String(validate=validate.OneOf(KINDS))
    active = fields.Boolean(load_default=True, allow_none=True)


class PriceListItemSchema(Schema):
    product_id = fields.UUID(required=True)
    min_quantity = fields.Decimal(as_string=True, places=4, load_default=1, validate=validate.Range(min=0))
    price = fields.Decimal(required=True, **MONEY)


class _PriceListFields(Schema):
    name = fields.String(validate=[validate.Length(min=1, max=100), not_blank])
    currency = fields.String(validate=CURRENCY)
    customer_group = fields.String(allow_none=True, validate=validate.Length(max=50))
    party_id = fields.UUID(allow_none=True, metadata={"description": "A customer (CRM party id)."})
    valid_from = fields.Date(allow_none=True)
    valid_to = fields.Date(allow_none=True)
    active = fields.Boolean()
    items = fields.List(fields.Nested(PriceListItemSchema), validate=validate.Length(max=10000))

    @validates_schema
    def one_target_and_valid_dates(self, data, **_):
        if data.get("customer_group") and data.get("party_id"):
            raise ValidationError("a price list targets a customer or a customer group, not both", "party_id")
        if data.get("valid_from") and data.get("valid_to") and data["valid_to"] < data["valid_from"]:
            raise ValidationError("must not be before valid_from", "valid_to")


class PriceListCreateSchema(_PriceListFields):
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100), not_blank])


class PriceListUpdateSchema(_PriceListFields):
    """Fields to change; `items`, when given, replace all items."""


class PriceListSchema(_PriceListFields):
    id = fields.UUID()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class PriceListArgs(PageArgs):
    party_id = fields.UUID()
    customer_group = fields.String()


class PriceQueryArgs(Schema):
    party_id = fields.UUID(load_default=None)
    quantity = fields.Decimal(load_default=1, validate=validate.Range(min=0, min_inclusive=False))
    date = fields.Date(load_default=None)


class PriceSchema(Schema):
    product_id = fields.UUID()
    quantity = fields.Decimal(as_string=True)
    currency = fields.String()
    unit_price = fields.Decimal(as_string=True)
    tax_rate = fields.Decimal(as_string=True)
    source = fields.String(metadata={"description": "customer, group, general (price lists) or base"})
    price_list_id = fields.UUID(allow_none=True)


class ImportArgs(Schema):
    dry_run = fields.Boolean(load_default=False, metadata={"description": "Check and report, change nothing."})
    on_duplicate = fields.String(load_default="skip", validate=validate.OneOf(["skip", "update", "error"]),
                                 metadata={"description": "What to do with a SKU that exists already."})
    create_categories = fields.Boolean(load_default=False,
                                       metadata={"description": "Create categories named by path that are missing."})
    mapping = fields.String(load_default=None, metadata={
        "description": 'JSON object from column header to field, e.g. {"Article": "sku", "Price": "sale_price"}.'})


class ImportReportSchema(Schema):
    dry_run = fields.Boolean()
    rows = fields.Integer()
    created = fields.Integer()
    updated = fields.Integer()
    skipped = fields.Integer()
    errors = fields.List(fields.Dict(), metadata={"description": "[{row, field, message}] (row 2 = first data row)"})


ProductPageSchema = page_schema(ProductSchema, "ProductPage")
PriceListPageSchema = page_schema(PriceListSchema, "PriceListPage")
