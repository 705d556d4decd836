"""create_app(): the ERP's Flask app with its API, error handlers and health endpoints."""

from datetime import timedelta

from flask import Flask
from servicekit import guards, health, web
from servicekit.api import create_api
from servicekit.auth import api as auth_api

from .access.roles import CATALOG
from .banking.api import blp as banking_blp
from .catalog.api import blp as catalog_blp
from .cheques.api import blp as cheques_blp
from .company.api import blp as company_blp
from .config import Settings
from .credit.api import blp as credit_blp
from .db import audit_log, auth, idempotency_keys
from .fulfilment.api import blp as fulfilment_blp
from .invoicing.api import blp as invoicing_blp
from .ledger.api import entries_blp, ledger_blp, reports_blp
from .letters.api import blp as letters_blp
from .parties.api import blp as parties_blp
from .payments.api import blp as payments_blp
from .purchasing.api import blp as purchasing_blp
from .sales.api import blp as sales_blp
from .stock.api import counts_blp, stock_blp, warehouses_blp
from .warranty.api import blp as warranty_blp

# Every API blueprint of the ERP, in the order the OpenAPI document lists them. A new module adds its own here.
BLUEPRINTS = (parties_blp, catalog_blp, purchasing_blp, warehouses_blp, stock_blp, counts_blp, ledger_blp, entries_blp,
              reports_blp, sales_blp, invoicing_blp, payments_blp, company_blp,
              credit_blp, letters_blp, banking_blp, cheques_blp, fulfilment_blp, warranty_blp)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app, db = web.service_app("erp", settings, idempotency_keys)
    app.config["CRM_PUBLIC_URL"] = settings.crm_public_url
    api = create_api(app, "ERP API", "Customers and suppliers (master data from the CRM) with the ERP's own terms; "
                     "catalog and price lists; stock, warehouses and valuation; purchasing; sales orders, invoices "
                     "and payments; the double-entry ledger and its reports. Authenticate with "
                     "POST /api/v1/auth/login, then send the header `Authorization: Bearer <token>`. "
                     "Errors are RFC 9457 problem+json; updates need If-Match.")
    auth_api.init_app(app, api, auth_api.AuthContext("erp", auth, audit_log, CATALOG, db.sessions,
                                                     timedelta(hours=settings.session_ttl_hours)))
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    guards.allow_larger_body(app, "catalog.ProductImport", 25 * 1024 * 1024)  # CSV/XLSX of products
    guards.allow_larger_body(app, "banking.AccountStatements", 50 * 1024 * 1024)  # a month of camt.053
    app.register_blueprint(health.blueprint({"database": db.ping}))
    return app
