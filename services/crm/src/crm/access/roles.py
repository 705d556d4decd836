"""The CRM's permissions and built-in roles."""

from servicekit.auth.service import RoleCatalog

PERMISSIONS = (
    "parties:read", "parties:read_all", "parties:create", "parties:update", "parties:update_all",
    "parties:archive", "parties:assign", "parties:share", "parties:export",
    "teams:read", "teams:create", "teams:update",
    "users:read", "users:create", "users:update",
    "roles:read", "roles:create", "roles:update", "roles:delete",
    "audit:read",
    "catalog:read",
)

CATALOG = RoleCatalog("crm", PERMISSIONS, {
    "admin": ("Controls the whole CRM and its users; sees every record.", ("*",)),
    "sales_manager": ("Leads a sales team: sees and reassigns the team's records.", (
        "parties:read", "parties:create", "parties:update", "parties:archive", "parties:assign",
        "parties:share", "parties:export", "teams:read", "users:read", "audit:read", "catalog:read")),
    "sales_rep": ("Works own customers and those shared with them or their teams.", (
        "parties:read", "parties:create", "parties:update", "parties:share", "teams:read", "catalog:read")),
    "support_agent": ("Helps any customer: reads every party, edits the ones assigned or shared.", (
        "parties:read", "parties:read_all", "parties:update", "teams:read", "catalog:read")),
    "marketing": ("Reads and exports the customer base for campaigns.", (
        "parties:read", "parties:read_all", "parties:export", "teams:read", "catalog:read")),
})
