"""CRM settings, read from the environment once at start-up and checked there (a bad value stops the process with a
message naming the variable); the defaults match `make run`."""

from dataclasses import dataclass

from servicekit.config import env_bool, env_float, env_int, env_port, env_smtp, env_str, env_url


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
    caldav_allow_private: bool = False  # may a CalDAV link point at a loopback or private address (tests, a LAN)?
    mailbox_interval_seconds: int = 120  # how often the worker fetches each mailbox account by IMAP
    mailbox_allow_private: bool = False  # may a mail account's servers be loopback or private addresses?
    # agenda reminders (crm.agenda.reminders): how often the worker looks, how long an alarm the worker missed may
    # still fire (marked late), and after how long past its time an alarm counts as late
    reminder_interval_seconds: float = 5.0
    reminder_lookback_hours: int = 24
    reminder_late_seconds: int = 120
    escalation_interval_minutes: int = 15  # how often the worker escalates overdue tasks to team leads
    # campaigns: the key of tracking and unsubscribe links, the sender, throttles, bounces (VERP), DKIM
    campaign_secret: str = "dev-only-campaign-secret-change-me"
    campaign_from: str = "Newsletter <news@crm.localhost>"
    campaign_rate: float = 100.0  # messages per second from one worker, all campaigns together
    campaign_domain_rate: float = 20.0  # messages per second to one recipient domain
    bounce_domain: str = "crm.localhost"  # VERP return paths: bounces+<id>-<sig>@<bounce_domain>
    lmtp_port: int = 0  # the worker's inbound LMTP endpoint for bounces and complaints (0: off)
    lmtp_host: str = "127.0.0.1"
    dkim_domain: str = ""  # empty: no DKIM signature
    dkim_selector: str = ""
    dkim_key_file: str = ""
    # tickets: where attachments are stored (content-addressed), their limits, the virus-scan hook, reopening
    ticket_storage_dir: str = ".local/ticket-files"
    ticket_attachment_max_bytes: int = 10 * 1024 * 1024
    ticket_attachment_types: tuple[str, ...] = ("application/pdf", "image/png", "image/jpeg", "image/gif",
                                                "text/plain", "text/csv", "application/zip")
    ticket_virus_scan: str = ""  # "package.module:function" called with (bytes, filename): a reason to refuse, or None
    ticket_reopen_days: int = 14  # a customer reply within this many days of resolution reopens the ticket
    ticket_warning_minutes: int = 60  # warn the assignee this long before a resolution deadline
    # ticket mail (crm/mail/inbound.py): the addresses whose mail the LMTP endpoint turns into tickets, the
    # sender of replies, the acknowledgement of a new ticket, the largest message taken
    support_addresses: tuple[str, ...] = ("support@crm.localhost",)
    support_queues: tuple[tuple[str, str], ...] = ()  # (address, team name): that address's tickets go to the team
    support_from: str = "Support <support@crm.localhost>"
    ticket_ack_mail: bool = True
    inbound_max_bytes: int = 15 * 1024 * 1024

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
            caldav_allow_private=env_bool("CRM_CALDAV_ALLOW_PRIVATE", False),
            mailbox_interval_seconds=env_int("CRM_MAILBOX_INTERVAL_SECONDS", 120, 5, 86400),
            mailbox_allow_private=env_bool("CRM_MAILBOX_ALLOW_PRIVATE", False),
            reminder_interval_seconds=env_float("CRM_REMINDER_INTERVAL_SECONDS", 5.0, 0.1),
            reminder_lookback_hours=env_int("CRM_REMINDER_LOOKBACK_HOURS", 24, 1, 24 * 28),
            reminder_late_seconds=env_int("CRM_REMINDER_LATE_SECONDS", 120, 1, 24 * 3600),
            escalation_interval_minutes=env_int("CRM_ESCALATION_INTERVAL_MINUTES", 15, 1, 24 * 60),
            campaign_secret=env_str("CRM_CAMPAIGN_SECRET", "dev-only-campaign-secret-change-me"),
            campaign_from=env_str("CRM_CAMPAIGN_FROM", "Newsletter <news@crm.localhost>"),
            campaign_rate=env_float("CRM_CAMPAIGN_RATE", 100.0, 0.1),
            campaign_domain_rate=env_float("CRM_CAMPAIGN_DOMAIN_RATE", 20.0, 0.1),
            bounce_domain=env_str("CRM_BOUNCE_DOMAIN", "crm.localhost"),
            lmtp_port=env_int("CRM_LMTP_PORT", 0, 0, 65535),
            lmtp_host=env_str("CRM_LMTP_HOST", "127.0.0.1"),
            dkim_domain=env_str("CRM_DKIM_DOMAIN", ""),
            dkim_selector=env_str("CRM_DKIM_SELECTOR", ""),
            dkim_key_file=env_str("CRM_DKIM_KEY_FILE", ""),
            ticket_storage_dir=env_str("CRM_TICKET_STORAGE_DIR", ".local/ticket-files"),
            ticket_attachment_max_bytes=env_int("CRM_TICKET_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, 1024,
                                                100 * 1024 * 1024),
            ticket_attachment_types=tuple(t.strip() for t in env_str(
                "CRM_TICKET_ATTACHMENT_TYPES", ",".join(cls.ticket_attachment_types)).split(",") if t.strip()),
            ticket_virus_scan=env_str("CRM_TICKET_VIRUS_SCAN", ""),
            ticket_reopen_days=env_int("CRM_TICKET_REOPEN_DAYS", 14, 0, 3650),
            ticket_warning_minutes=env_int("CRM_TICKET_WARNING_MINUTES", 60, 0, 7 * 24 * 60),
            **support_addresses(env_str("CRM_SUPPORT_ADDRESSES", "support@crm.localhost")),
            support_from=env_str("CRM_SUPPORT_FROM", "Support <support@crm.localhost>"),
            ticket_ack_mail=env_bool("CRM_TICKET_ACK_MAIL", True),
            inbound_max_bytes=env_int("CRM_INBOUND_MAX_BYTES", 15 * 1024 * 1024, 64 * 1024, 100 * 1024 * 1024),
        )


def support_addresses(value: str) -> dict:
    """CRM_SUPPORT_ADDRESSES: "support@example.com,billing@example.com=Billing": every address takes ticket mail;
    one with "=<team name>" puts its new tickets in that team's queue."""
    addresses, queues = [], []
    for entry in (e.strip() for e in value.split(",")):
        address, _, team = (p.strip() for p in entry.partition("="))
        if address:
            addresses.append(address.lower())
            if team:
                queues.append((address.lower(), team))
    return {"support_addresses": tuple(addresses), "support_queues": tuple(queues)}
