"""What the company settings endpoint accepts (strict) and returns."""

from marshmallow import Schema, fields, validate
from servicekit import validators

from ..fields import CURRENCY


class CompanyAddressSchema(Schema):
    line1 = fields.String(allow_none=True, validate=validate.Length(max=200))
    line2 = fields.String(allow_none=True, validate=validate.Length(max=200))
    postal_code = fields.String(allow_none=True, validate=validate.Length(max=20))
    city = fields.String(allow_none=True, validate=validate.Length(max=100))
    region = fields.String(allow_none=True, validate=validate.Length(max=100))
    country = fields.String(allow_none=True, validate=validators.country)


class CompanyBankAccountSchema(Schema):
    bank_name = fields.String(required=True, validate=[validate.Length(min=1, max=100), validators.not_blank])
    iban = fields.String(required=True, validate=[validate.Length(max=42), validators.iban],
                         metadata={"description": "ISO 13616, spaces allowed (printed in groups of four)."})
    bic = fields.String(allow_none=True, validate=[validate.Length(max=14), validators.bic],
                        metadata={"description": "ISO 9362, 8 or 11 characters."})
    currency = fields.String(load_default="EUR", validate=CURRENCY)


class DunningTextsSchema(Schema):
    level_1 = fields.String(allow_none=True, validate=validate.Length(max=2000),
                            metadata={"description": "The friendly reminder's text."})
    level_2 = fields.String(allow_none=True, validate=validate.Length(max=2000))
    level_3 = fields.String(allow_none=True, validate=validate.Length(max=2000),
                            metadata={"description": "The final notice's text."})


class _CompanyFields(Schema):
    legal_name = fields.String(validate=[validate.Length(min=1, max=200), validators.not_blank],
                               metadata={"description": "The registered name printed on every document."})
    trade_name = fields.String(allow_none=True, validate=validate.Length(max=200))
    address = fields.Nested(CompanyAddressSchema, allow_none=True)
    vat_id = fields.String(allow_none=True, validate=validate.Regexp(
        r"^[A-Z]{2}[A-Z0-9+*]{2,13}$", error="a VAT number: the country prefix and 2 to 13 letters or digits, "
                                             "no spaces, e.g. FR40303265045 or DE136695976"))
    registration = fields.String(allow_none=True, validate=validate.Length(max=100),
                                 metadata={"description": "Company register and number, e.g. RCS Paris 303 265 045."})
    email = fields.Email(allow_none=True, validate=validate.Length(max=254))
    phone = fields.String(allow_none=True, validate=validate.Length(max=50))
    website = fields.Url(allow_none=True, validate=validate.Length(max=200))
    bank_accounts = fields.List(fields.Nested(CompanyBankAccountSchema), validate=validate.Length(max=5), metadata={
        "description": "Printed in the payment instructions; the first one in the invoice's currency is used."})
    payment_terms_text = fields.String(allow_none=True, validate=validate.Length(max=1000), metadata={
        "description": "Printed under the totals, e.g. late payment penalties."})
    document_footer = fields.String(allow_none=True, validate=validate.Length(max=1000))
    dunning_texts = fields.Nested(DunningTextsSchema)


class CompanyUpdateSchema(_CompanyFields):
    logo = fields.String(allow_none=True, metadata={
        "description": "A PNG or JPEG image, base64-encoded, 256 KB at most (null removes it)."})


class CompanySchema(_CompanyFields):
    legal_name = fields.String(metadata={"description": "The registered name printed on every document (empty until "
                                                        "the company is set up: see `ready`)."})
    has_logo = fields.Boolean(metadata={"description": "Whether a logo is set (GET /company/logo shows it)."})
    ready = fields.Boolean(metadata={"description": "Whether the company has what an invoice must show: legal name, "
                                                    "address and VAT number."})
    version = fields.Integer()
    updated_at = fields.DateTime()
