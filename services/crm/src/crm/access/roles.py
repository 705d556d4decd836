"""The CRM's permissions and built-in roles."""

from servicekit.auth.service import RoleCatalog

_RECORDS = ("read", "read_all", "create", "update", "update_all", "assign", "share")

PERMISSIONS = (
    "parties:read", "parties:read_all", "parties:create", "parties:update", "parties:update_all",
    "parties:archive", "parties:assign", "parties:share", "parties:export", "parties:merge", "parties:import",
    *(f"leads:{a}" for a in _RECORDS), "leads:convert", "leads:export",
    *(f"deals:{a}" for a in _RECORDS), "deals:export",
    "pipelines:read", "pipelines:manage",
    "quotes:read", "quotes:create", "quotes:update", "quotes:send", "quotes:accept",
    *(f"activities:{a}" for a in _RECORDS), "activity_types:manage",
    *(f"tasks:{a}" for a in _RECORDS),
    *(f"agenda:{a}" for a in _RECORDS),
    *(f"tickets:{a}" for a in _RECORDS), "sla:manage",
    "statistics:read",
    "lead_forms:manage",
    "teams:read", "teams:create", "teams:update",
    "users:read", "users:create", "users:update",
    "roles:read", "roles:create", "roles:update", "roles:delete",
    "audit:read",
    "catalog:read",
    "campaigns:read", "campaigns:manage",
    "mailbox:use",
)

_SALES_WORK = ("leads:read", "leads:create", "leads:update", "leads:share", "leads:convert",
               "deals:read", "deals:create", "deals:update", "deals:share", "pipelines:read",
               "quotes:read", "quotes:create", "quotes:update", "quotes:send", "quotes:accept",
               "activities:read", "activities:create", "activities:update", "activities:share",
               "tasks:read", "tasks:create", "tasks:update", "tasks:share", "catalog:read", "teams:read",
               "agenda:read", "agenda:create", "agenda:update", "agenda:share",
               "tickets:read", "tickets:create", "mailbox:use")

CATALOG = RoleCatalog("crm", PERMISSIONS, {
    "admin": ("Controls the whole CRM and its users; sees every record.", ("*",)),
    "sales_manager": ("Leads a sales team: sees and reassigns the team's records, runs the funnels.", (
        "parties:read", "parties:create", "parties:update", "parties:archive", "parties:assign",
        "parties:share", "parties:export", "parties:merge", "parties:import", *_SALES_WORK,
        "leads:assign", "leads:export", "deals:assign", "deals:export", "pipelines:manage", "tasks:assign",
        "activities:assign", "agenda:assign", "activity_types:manage", "statistics:read", "users:read", "audit:read")),
    "sales_rep": ("Works own customers, leads and deals and those shared with them or their teams.", (
        "parties:read", "parties:create", "parties:update", "parties:share", "statistics:read", *_SALES_WORK)),
    "support_agent": ("Helps any customer: reads every party, logs activities and tasks, works every ticket.", (
        "parties:read", "parties:read_all", "parties:update", "activities:read", "activities:create",
        "activities:update", "tasks:read", "tasks:create", "tasks:update", "deals:read", "quotes:read",
        "agenda:read", "agenda:create", "agenda:update",
        "catalog:read", "teams:read", "mailbox:use", *(f"tickets:{a}" for a in _RECORDS))),
    "marketing": ("Captures and qualifies leads, reads and exports the customer base for campaigns.", (
        "parties:read", "parties:read_all", "parties:export", "leads:read", "leads:read_all", "leads:create",
        "leads:update", "leads:export", "lead_forms:manage", "activities:read", "activities:create",
        "statistics:read", "catalog:read", "teams:read", "campaigns:read", "campaigns:manage", "mailbox:use")),
})
