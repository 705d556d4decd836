"""CRM settings, read from the environment once at start-up and checked there (a bad value stops the process with a
message naming the variable); the defaults match `make run`."""

from dataclasses import dataclass

from servicekit.config import env_int, env_port, env_smtp, env_str, env_url


@dataclass(frozen=True)
class Settings:
    database_url: str
    kafka_bootstrap: str
    worker_health_host: str
    worker_health_port: int
    session_ttl_hours: int
    outbox_retention_hours: int
    trusted_proxies: int
    max_body_bytes: int = 1024 * 1024  # JSON bodies; file imports have their own limit
    erp_public_url: str = "http://127.0.0.1:8020"  # where clients change the catalog the CRM only mirrors
    crm_public_url: str = "http://127.0.0.1:8010"  # where websites reach the CRM (lead forms' submit_url)
    # the SMTP server quotes are sent through (the defaults suit a local catcher such as `aiosmtpd -n`)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_user: str = ""  # empty: no login
    smtp_password: str = ""
    smtp_from: str = "CRM <quotes@crm.localhost>"
    smtp_starttls: bool = False
    smtp_timeout: float = 10.0
    quote_seller: str = "Your Company"  # the seller block printed on quotes; lines separated by "|"
    credentials_key: str = ""  # encrypts stored passwords (CalDAV links); servicekit.secretbox.DEV_KEY if unset
    caldav_interval_seconds: int = 300  # how often the worker syncs each linked CalDAV calendar
    # tickets: where attachments are stored (content-addressed), their limits, the virus-scan hook, reopening
    ticket_storage_dir: str = ".local/ticket-files"
    ticket_attachment_max_bytes: int = 10 * 1024 * 1024
    ticket_attachment_types: tuple[str, ...] = ("application/pdf", "image/png", "image/jpeg", "image/gif",
                                                "text/plain", "text/csv", "application/zip")
    ticket_virus_scan: str = ""  # "package.module:function" called with (bytes, filename): a reason to refuse, or None
    ticket_reopen_days: int = 14  # a customer reply within this many days of resolution reopens the ticket
    ticket_warning_minutes: int = 60  # warn the assignee this long before a resolution deadline

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            database_url=env_str("CRM_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:54329/crm"),
            kafka_bootstrap=env_str("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"),
            worker_health_host=env_str("CRM_WORKER_HEALTH_HOST", "127.0.0.1"),
            worker_health_port=env_port("CRM_WORKER_HEALTH_PORT", 8011),
            session_ttl_hours=env_int("CRM_SESSION_TTL_HOURS", 12, 1, 24 * 366),
            outbox_retention_hours=env_int("CRM_OUTBOX_RETENTION_HOURS", 168, 1),
            trusted_proxies=env_int("CRM_TRUSTED_PROXIES", 0, 0, 10),
            max_body_bytes=env_int("CRM_MAX_BODY_BYTES", 1024 * 1024, 1024),
            erp_public_url=env_url("ERP_PUBLIC_URL", "http://127.0.0.1:8020"),
            crm_public_url=env_url("CRM_PUBLIC_URL", "http://127.0.0.1:8010"),
            **env_smtp("CRM", "CRM <quotes@crm.localhost>"),
            quote_seller=env_str("CRM_QUOTE_SELLER", "Your Company"),
            credentials_key=env_str("CRM_CREDENTIALS_KEY", ""),
            caldav_interval_seconds=env_int("CRM_CALDAV_INTERVAL_SECONDS", 300, 5, 86400),
            ticket_storage_dir=env_str("CRM_TICKET_STORAGE_DIR", ".local/ticket-files"),
            ticket_attachment_max_bytes=env_int("CRM_TICKET_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, 1024,
                                                100 * 1024 * 1024),
            ticket_attachment_types=tuple(t.strip() for t in env_str(
                "CRM_TICKET_ATTACHMENT_TYPES", ",".join(cls.ticket_attachment_types)).split(",") if t.strip()),
            ticket_virus_scan=env_str("CRM_TICKET_VIRUS_SCAN", ""),
            ticket_reopen_days=env_int("CRM_TICKET_REOPEN_DAYS", 14, 0, 3650),
            ticket_warning_minutes=env_int("CRM_TICKET_WARNING_MINUTES", 60, 0, 7 * 24 * 60),
        )
