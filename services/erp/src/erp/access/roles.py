"""The ERP's permissions and built-in roles."""

from servicekit.auth.service import RoleCatalog

PERMISSIONS = (
    "partners:read", "partners:update",
    "catalog:read", "catalog:create", "catalog:update", "catalog:import",
    "stock:read", "stock:move", "stock:adjust", "stock:count", "stock:report",
    "purchasing:read", "purchasing:create", "purchasing:update", "purchasing:receive", "purchasing:bill",
    "sales:read", "sales:create", "sales:deliver", "sales:cancel",
    "invoices:read", "invoices:issue", "invoices:credit", "invoices:send",
    "payments:read", "payments:record", "payments:allocate",
    "ledger:read", "ledger:post", "ledger:close", "ledger:report", "accounts:manage",
    "users:read", "users:create", "users:update",
    "roles:read", "roles:create", "roles:update", "roles:delete",
    "audit:read",
    "company:read", "company:update",
    "production:read", "production:update",
)

CATALOG = RoleCatalog("erp", PERMISSIONS, {
    "admin": ("Controls the whole ERP and its users.", ("*",)),
    "accountant": ("Keeps the books: terms, stock valuation, supplier bills, the audit trail.", (
        "partners:read", "partners:update", "catalog:read", "stock:read", "stock:report",
        "purchasing:read", "purchasing:bill", "audit:read",
        "invoices:*", "payments:*", "sales:read",
        "ledger:read", "ledger:post", "ledger:close", "ledger:report", "accounts:manage", "company:read")),
    "warehouse_clerk": ("Receives, moves, counts and ships goods.", (
        "partners:read", "catalog:read", "stock:read", "stock:move", "stock:adjust", "stock:count",
        "stock:report", "purchasing:read", "purchasing:receive",
        "sales:read", "sales:deliver")),
    "purchaser": ("Buys from suppliers, keeps the catalog and negotiates terms.", (
        "partners:read", "partners:update", "catalog:read", "catalog:create", "catalog:update", "catalog:import",
        "stock:read", "purchasing:read", "purchasing:create", "purchasing:update",
        "payments:read", "production:read")),
    "production": ("Makes products to order: work orders, their operations and materials.", (
        "partners:read", "catalog:read", "stock:read", "sales:read", "purchasing:read", "production:read",
        "production:update")),
    "auditor": ("Reads everything, changes nothing.", ("*:read", "stock:report", "ledger:report")),
})
