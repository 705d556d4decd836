"""The ERP's permissions and built-in roles."""

from servicekit.auth.service import RoleCatalog

PERMISSIONS = (
    "partners:read", "partners:update",
    "users:read", "users:create", "users:update",
    "roles:read", "roles:create", "roles:update", "roles:delete",
    "audit:read",
)

CATALOG = RoleCatalog("erp", PERMISSIONS, {
    "admin": ("Controls the whole ERP and its users.", ("*",)),
    "accountant": ("Keeps the books: customers' and suppliers' terms, the audit trail.", (
        "partners:read", "partners:update", "audit:read")),
    "warehouse_clerk": ("Receives and ships goods; reads who they are for.", ("partners:read",)),
    "purchaser": ("Buys from suppliers and negotiates their terms.", ("partners:read", "partners:update")),
    "auditor": ("Reads everything, changes nothing.", ("*:read",)),
})
