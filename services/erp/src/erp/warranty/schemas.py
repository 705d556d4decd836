"""What the warranty endpoints accept (strict) and return."""

from marshmallow import Schema, fields, validate
from servicekit.pagination import PageArgs, page_schema

from .models import REPLACEMENT_POLICIES, STARTS, STATUSES
from .reports import GROUPS


class TermsSetSchema(Schema):
    months = fields.Integer(required=True, validate=validate.Range(min=1, max=240))
    starts_from = fields.String(load_default="invoice", validate=validate.OneOf(STARTS), metadata={
        "description": "invoice: the term runs from the invoice date; delivery: from delivery (recorded as the "
                       "invoice date until deliveries record serials)."})
    covers_parts = fields.Boolean(load_default=True)
    covers_labour = fields.Boolean(load_default=True)
    supplier_party_id = fields.UUID(allow_none=True, load_default=None, metadata={
        "description": "The supplier whose back-to-back warranty covers us in turn."})
    supplier_months = fields.Integer(allow_none=True, load_default=None, validate=validate.Range(min=1, max=240))
    serial_tracked = fields.Boolean(load_default=False, metadata={
        "description": "Deliveries record one serial number per unit; each invoiced serial gets its own entitlement."})


class TermsSchema(Schema):
    product_id = fields.UUID()
    months = fields.Integer()
    starts_from = fields.String()
    covers_parts = fields.Boolean()
    covers_labour = fields.Boolean()
    supplier_party_id = fields.UUID(allow_none=True)
    supplier_months = fields.Integer(allow_none=True)
    serial_tracked = fields.Boolean()
    version = fields.Integer()
    explicit = fields.Boolean(metadata={"description": "false: the product's plain warranty_months apply."})


class EntitlementSchema(Schema):
    id = fields.UUID()
    party_id = fields.UUID()
    product_id = fields.UUID()
    invoice_id = fields.UUID()
    invoice_number = fields.String()
    invoice_line_id = fields.UUID()
    quantity = fields.Decimal(as_string=True)
    serial_number = fields.String(allow_none=True)
    start_date = fields.Date()
    end_date = fields.Date()
    covers_parts = fields.Boolean()
    covers_labour = fields.Boolean()
    supplier_party_id = fields.UUID(allow_none=True)
    supplier_end_date = fields.Date(allow_none=True)
    terms = fields.Dict(metadata={"description": "The terms as they were when the invoice was issued."})
    status = fields.String(metadata={"description": "active, void (credited) or replaced (a replacement unit took "
                                                    "over under warranty)"})
    replaces_entitlement_id = fields.UUID(allow_none=True, metadata={
        "description": "For a replacement unit: the faulty unit's entitlement."})
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class EntitlementListArgs(PageArgs):
    party_id = fields.UUID()
    product_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(STATUSES))
    serial_number = fields.String(validate=validate.Length(min=1, max=100))
    active_on = fields.Date(metadata={"description": "Active entitlements covering this day."})
    ending_before = fields.Date(metadata={"description": "Ending before this day (expiry follow-up)."})


EntitlementPageSchema = page_schema(EntitlementSchema, "EntitlementPage")


class SettingsSchema(Schema):
    replacement_policy = fields.String(metadata={"description": "keep | renew"})
    parts_warehouse_id = fields.String(allow_none=True, metadata={
        "description": "the warehouse parts sent under warranty leave from; null: ERP_SALES_WAREHOUSE, else the "
                       "oldest active warehouse"})
    version = fields.Integer()
    updated_at = fields.DateTime()


class SettingsSetSchema(Schema):
    replacement_policy = fields.String(required=True, validate=validate.OneOf(REPLACEMENT_POLICIES), metadata={
        "description": "keep: a unit replaced under warranty keeps what remained of the faulty unit's term; renew: "
                       "its term starts again on the replacement day."})
    parts_warehouse_id = fields.UUID(load_default=None, allow_none=True, metadata={
        "description": "the active warehouse parts sent under warranty leave from (a claim's parts are issued from "
                       "it); null or absent: ERP_SALES_WAREHOUSE, else the oldest active warehouse."})


class ClaimListArgs(PageArgs):
    party_id = fields.UUID()
    product_id = fields.UUID()
    entitlement_id = fields.UUID()
    ticket_id = fields.UUID()
    status = fields.String(validate=validate.OneOf(("accepted", "rejected")))


class ClaimPartSchema(Schema):
    product_id = fields.UUID()
    sku = fields.String(allow_none=True)
    quantity = fields.String()


class ClaimSchema(Schema):
    id = fields.UUID(metadata={"description": "The CRM's claim id."})
    number = fields.String(metadata={"description": "WC-<year>-<n>"})
    ticket_id = fields.UUID()
    ticket_number = fields.String()
    party_id = fields.UUID()
    product_id = fields.UUID()
    entitlement_id = fields.UUID(allow_none=True)
    faulty_serial = fields.String(allow_none=True)
    replacement_serial = fields.String(allow_none=True)
    replacement_entitlement_id = fields.UUID(allow_none=True)
    revision = fields.Integer()
    status = fields.String(metadata={"description": "accepted or rejected (see reason)"})
    reason = fields.String(allow_none=True)
    parts = fields.List(fields.Nested(ClaimPartSchema))
    issued = fields.Dict(metadata={"description": "Parts issued from stock so far: {product_id: {quantity, cost}}"})
    labour_hours = fields.Decimal(as_string=True)
    labour_rate = fields.Decimal(as_string=True)
    parts_cost = fields.Decimal(as_string=True)
    labour_cost = fields.Decimal(as_string=True)
    supplier_party_id = fields.UUID(allow_none=True)
    supplier_receivable = fields.Decimal(as_string=True)
    currency = fields.String()
    claimed_on = fields.Date()
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


ClaimPageSchema = page_schema(ClaimSchema, "WarrantyClaimPage")


class PeriodArgs(Schema):
    date_from = fields.Date()
    date_to = fields.Date()
    party_id = fields.UUID()
    product_id = fields.UUID()


class CostReportArgs(PeriodArgs):
    group_by = fields.String(load_default="product", validate=validate.OneOf(GROUPS))
    supplier_party_id = fields.UUID()


class CostRowSchema(Schema):
    key = fields.String(metadata={"description": "Product, customer or supplier id ('none': no supplier), or "
                                                 "YYYY-MM."})
    label = fields.String(allow_none=True)
    claims = fields.Integer()
    parts_cost = fields.Decimal(as_string=True)
    labour_cost = fields.Decimal(as_string=True)
    total_cost = fields.Decimal(as_string=True)
    supplier_receivable = fields.Decimal(as_string=True)
    net_cost = fields.Decimal(as_string=True, metadata={"description": "total_cost - supplier_receivable"})


class CostTotalsSchema(Schema):
    claims = fields.Integer()
    parts_cost = fields.Decimal(as_string=True)
    labour_cost = fields.Decimal(as_string=True)
    total_cost = fields.Decimal(as_string=True)
    supplier_receivable = fields.Decimal(as_string=True)
    net_cost = fields.Decimal(as_string=True)


class CostReportSchema(Schema):
    group_by = fields.String()
    date_from = fields.Date(allow_none=True)
    date_to = fields.Date(allow_none=True)
    items = fields.List(fields.Nested(CostRowSchema))
    totals = fields.Nested(CostTotalsSchema)


class EntitlementClaimsRowSchema(Schema):
    entitlement_id = fields.UUID()
    party_id = fields.UUID()
    product_id = fields.UUID()
    serial_number = fields.String(allow_none=True)
    invoice_number = fields.String()
    end_date = fields.Date()
    status = fields.String()
    claims = fields.Integer()
    total_cost = fields.Decimal(as_string=True)
    supplier_receivable = fields.Decimal(as_string=True)


class EntitlementClaimsTotalsSchema(Schema):
    claims = fields.Integer()
    total_cost = fields.Decimal(as_string=True)
    supplier_receivable = fields.Decimal(as_string=True)


class EntitlementClaimsSchema(Schema):
    items = fields.List(fields.Nested(EntitlementClaimsRowSchema))
    totals = fields.Nested(EntitlementClaimsTotalsSchema)


class OpenEntitlementsArgs(Schema):
    as_of = fields.Date(metadata={"description": "Default today."})
    expiring_to = fields.Date(metadata={"description": "Only those ending on or before this day."})
    party_id = fields.UUID()
    product_id = fields.UUID()
    limit = fields.Integer(load_default=1000, validate=validate.Range(min=1, max=10000))


class OpenEntitlementRowSchema(Schema):
    entitlement_id = fields.UUID()
    party_id = fields.UUID()
    product_id = fields.UUID()
    serial_number = fields.String(allow_none=True)
    invoice_number = fields.String()
    quantity = fields.Decimal(as_string=True)
    start_date = fields.Date()
    end_date = fields.Date()
    days_left = fields.Integer()
    covers_parts = fields.Boolean()
    covers_labour = fields.Boolean()


class OpenEntitlementsSchema(Schema):
    as_of = fields.Date()
    count = fields.Integer()
    items = fields.List(fields.Nested(OpenEntitlementRowSchema))
