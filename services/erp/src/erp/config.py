"""ERP settings, read from the environment once at start-up and checked there (a bad value stops the process with a
message naming the variable); the defaults match `make run`."""

from dataclasses import dataclass
from decimal import Decimal

from servicekit.config import env_decimal, env_int, env_port, env_smtp, env_str, env_url


@dataclass(frozen=True)
class Settings:
    database_url: str
    kafka_bootstrap: str
    crm_public_url: str
    worker_health_host: str
    worker_health_port: int
    session_ttl_hours: int
    outbox_retention_hours: int
    trusted_proxies: int
    overdue_interval_minutes: int
    max_body_bytes: int = 1024 * 1024  # JSON bodies; file imports have their own limit
    sales_warehouse: str = ""  # the code of the warehouse orders ship from when they name none ("" = choose)
    price_tolerance: Decimal = Decimal("0.01")  # per unit: a billed price this close to the order's still matches
    price_tolerance_percent: Decimal = Decimal("0")  # the same as a percentage; the larger limit applies
    # the SMTP server invoices, credit notes and statements are mailed through (defaults: a local catcher)
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    smtp_user: str = ""  # empty: no login
    smtp_password: str = ""
    smtp_from: str = "Accounts <accounts@erp.localhost>"
    smtp_starttls: bool = False
    smtp_timeout: float = 10.0

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            database_url=env_str("ERP_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:54329/erp"),
            kafka_bootstrap=env_str("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"),
            crm_public_url=env_url("CRM_PUBLIC_URL", "http://127.0.0.1:8010"),
            worker_health_host=env_str("ERP_WORKER_HEALTH_HOST", "127.0.0.1"),
            worker_health_port=env_port("ERP_WORKER_HEALTH_PORT", 8021),
            session_ttl_hours=env_int("ERP_SESSION_TTL_HOURS", 12, 1, 24 * 366),
            outbox_retention_hours=env_int("ERP_OUTBOX_RETENTION_HOURS", 168, 1),
            trusted_proxies=env_int("ERP_TRUSTED_PROXIES", 0, 0, 10),
            max_body_bytes=env_int("ERP_MAX_BODY_BYTES", 1024 * 1024, 1024),
            overdue_interval_minutes=env_int("ERP_OVERDUE_INTERVAL_MINUTES", 60, 1),
            sales_warehouse=env_str("ERP_SALES_WAREHOUSE", "").strip(),
            price_tolerance=env_decimal("PURCHASING_PRICE_TOLERANCE", "0.01"),
            price_tolerance_percent=env_decimal("PURCHASING_PRICE_TOLERANCE_PERCENT", "0"),
            **env_smtp("ERP", "Accounts <accounts@erp.localhost>"),
        )
