"""What the catalog endpoints accept (strict) and return; money and quantities are decimal strings."""

from decimal import Decimal

from marshmallow import Schema, fields, validate
from servicekit.pagination import PageArgs, page_schema

KINDS = ("stockable", "consumable", "service")
DECIMAL = dict(as_string=True, places=4)


class ActiveFilter(fields.Boolean):
    """true (the default), false, or all."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, str) and value.strip().lower() == "all":
            return None
        return super()._deserialize(value, attr, data, **kwargs)


class CatalogPriceSchema(Schema):
    sale_price = fields.Decimal(**DECIMAL, metadata={"description": "Base price before any price list."})
    currency = fields.String()
    tax_rate = fields.Decimal(**DECIMAL, metadata={"description": "0.2000 = 20 %"})


class WarehouseStockSchema(Schema):
    warehouse_id = fields.UUID()
    code = fields.String()
    name = fields.String(allow_none=True)
    on_hand = fields.Decimal(**DECIMAL)
    reserved = fields.Decimal(**DECIMAL)
    available = fields.Decimal(**DECIMAL)


class AvailabilitySchema(Schema):
    on_hand = fields.Decimal(**DECIMAL)
    reserved = fields.Decimal(**DECIMAL)
    available = fields.Decimal(**DECIMAL)
    warehouses = fields.List(fields.Nested(WarehouseStockSchema))
    as_of = fields.DateTime(allow_none=True, metadata={"description": "When the ERP's stock last changed; null "
                                                                      "when the ERP never reported stock."})


class CatalogProductSchema(Schema):
    id = fields.UUID()
    sku = fields.String()
    name = fields.String()
    description = fields.String(allow_none=True)
    kind = fields.String()
    uom = fields.String()
    active = fields.Boolean()
    category_id = fields.UUID(allow_none=True)
    category_path = fields.String(allow_none=True, metadata={"description": 'e.g. "Hardware / Laptops"'})
    price = fields.Nested(CatalogPriceSchema)
    warranty_months = fields.Integer()
    allow_backorder = fields.Boolean()
    availability = fields.Nested(AvailabilitySchema)
    version = fields.Integer(metadata={"description": "The ERP version of the product this copy reflects."})
    updated_at = fields.DateTime(metadata={"description": "When the ERP last changed the product."})
    replicated_at = fields.DateTime()
    master_data = fields.Dict(metadata={"description": "Who owns the product and where to change it."})


ProductPageSchema = page_schema(CatalogProductSchema, "CatalogProductPage")


class ProductListArgs(PageArgs):
    q = fields.String(metadata={"description": "Search name and SKU (case-insensitive)."})
    category_id = fields.UUID(metadata={"description": "This category and every category below it."})
    kind = fields.String(validate=validate.OneOf(KINDS))
    active = ActiveFilter(load_default=True, allow_none=True,
                          metadata={"description": "true (default), false, or all."})
    available_only = fields.Boolean(load_default=False,
                                    metadata={"description": "Only products with stock available now."})


class CatalogCategorySchema(Schema):
    id = fields.UUID(attribute="category_id")
    name = fields.String()
    parent_id = fields.UUID(allow_none=True)
    path = fields.String()
    active = fields.Boolean()
    version = fields.Integer(attribute="sequence")
    updated_at = fields.DateTime(attribute="erp_updated_at")


class CategoryListArgs(Schema):
    include_inactive = fields.Boolean(load_default=False)


class PriceQueryArgs(Schema):
    party_id = fields.UUID(load_default=None, metadata={"description": "The customer (their own lists apply)."})
    customer_group = fields.String(load_default=None, validate=validate.Length(min=1, max=50), metadata={
        "description": "The customer's group in the ERP, if known: its lists apply too."})
    quantity = fields.Decimal(load_default=lambda: Decimal("1"), validate=validate.Range(min=0, min_inclusive=False))
    date = fields.Date(load_default=None, metadata={"description": "Default: today."})


class QuotePriceSchema(Schema):
    product_id = fields.UUID()
    quantity = fields.Decimal(as_string=True)
    date = fields.Date()
    currency = fields.String()
    unit_price = fields.Decimal(**DECIMAL)
    tax_rate = fields.Decimal(**DECIMAL)
    source = fields.String(metadata={"description": "customer, group, general (price lists) or base"})
    price_list_id = fields.UUID(allow_none=True)
    price_list_name = fields.String(allow_none=True)
    party_id = fields.UUID(allow_none=True)
    customer_group = fields.String(allow_none=True)
