"""ERP settings from the environment; the defaults match `make run`."""

from dataclasses import dataclass

from servicekit.config import env_int, env_str


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

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            database_url=env_str("ERP_DATABASE_URL", "postgresql+psycopg2://postgres@127.0.0.1:54329/erp"),
            kafka_bootstrap=env_str("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:19092"),
            crm_public_url=env_str("CRM_PUBLIC_URL", "http://127.0.0.1:8010").rstrip("/"),
            worker_health_host=env_str("ERP_WORKER_HEALTH_HOST", "127.0.0.1"),
            worker_health_port=env_int("ERP_WORKER_HEALTH_PORT", 8021),
            session_ttl_hours=env_int("ERP_SESSION_TTL_HOURS", 12),
            outbox_retention_hours=env_int("ERP_OUTBOX_RETENTION_HOURS", 168),
            trusted_proxies=env_int("ERP_TRUSTED_PROXIES", 0),
            max_body_bytes=env_int("ERP_MAX_BODY_BYTES", 1024 * 1024),
            overdue_interval_minutes=env_int("ERP_OVERDUE_INTERVAL_MINUTES", 60),
        )
