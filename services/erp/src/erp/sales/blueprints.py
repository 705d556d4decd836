"""Registers the quote-to-cash APIs (sales orders, invoices, payments) on the app's Api."""

from ..invoicing.api import blp as invoicing_blp
from ..payments.api import blp as payments_blp
from .api import blp as sales_blp


def register(api) -> None:
    api.register_blueprint(sales_blp)
    api.register_blueprint(invoicing_blp)
    api.register_blueprint(payments_blp)
