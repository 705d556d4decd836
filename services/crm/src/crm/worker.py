"""The CRM worker: publishes the outbox to Kafka, sends the mail outbox and campaigns by SMTP, imports queued
files, syncs linked CalDAV calendars, keeps the catalog replica, follows the ERP's orders, invoices and
payments, and takes campaign bounces by LMTP."""

from datetime import timedelta

from servicekit.db import make_engine, make_session_factory
from servicekit.mail_outbox import Mailer, MailSender
from servicekit.secretbox import DEV_KEY, SecretBox
from servicekit.worker import run_service_worker
from shared_events.inbox import InboxConsumer

from .agenda.caldav import CalDavRunner
from .billing.handlers import CONSUMER as BILLING_CONSUMER
from .billing.handlers import HANDLERS as BILLING_HANDLERS
from .billing.handlers import TOPICS as BILLING_TOPICS
from .campaigns.inbound import InboundMail
from .campaigns.sender import CampaignSender, SenderConfig, SmtpSession
from .catalog.handlers import CONSUMER as CATALOG_CONSUMER
from .catalog.handlers import HANDLERS as CATALOG_HANDLERS
from .catalog.handlers import TOPICS as CATALOG_TOPICS
from .company.handlers import HANDLERS as COMPANY_HANDLERS
from .company.handlers import TOPICS as COMPANY_TOPICS
from .config import Settings
from .db import mail_outbox, outbox, processed_events
from .imports.runner import ImportRunner


def catalog_consumer(settings: Settings, sessions, **kwargs) -> InboxConsumer:
    """The ERP's catalog, prices and stock, and the company's identity (quotes print it)."""
    return InboxConsumer(CATALOG_CONSUMER, settings.kafka_bootstrap, CATALOG_TOPICS + COMPANY_TOPICS,
                         {**CATALOG_HANDLERS, **COMPANY_HANDLERS}, sessions, processed_events, **kwargs)


def billing_consumer(settings: Settings, sessions, **kwargs) -> InboxConsumer:
    """Orders, invoices and payments from the ERP: deal status, timeline, balances, overdue follow-ups."""
    return InboxConsumer(BILLING_CONSUMER, settings.kafka_bootstrap, BILLING_TOPICS, BILLING_HANDLERS, sessions,
                         processed_events, **kwargs)


def campaign_sender(settings: Settings, engine, **kwargs) -> CampaignSender:
    """Sends campaigns through the same SMTP server as the mail outbox, throttled (CRM_CAMPAIGN_RATE...)."""
    smtp = SmtpSession(settings.smtp_host, settings.smtp_port, settings.smtp_user, settings.smtp_password,
                       settings.smtp_starttls, settings.smtp_timeout)
    return CampaignSender(engine, SenderConfig.from_settings(settings), smtp, **kwargs)


def replay_inbox(settings: Settings, topic: str) -> InboxConsumer | None:
    """The consumer of `topic`, with dead-lettering off, for `crm replay-dlq` (None if the CRM does not read it)."""
    sessions = make_session_factory(make_engine(settings.database_url))
    for build, topics in ((catalog_consumer, CATALOG_TOPICS + COMPANY_TOPICS), (billing_consumer, BILLING_TOPICS)):
        if topic in topics:
            return build(settings, sessions, dead_letters=False)
    return None


def main(settings: Settings | None = None) -> None:
    settings = settings or Settings.from_env()

    def loops(engine, sessions) -> list:
        return [MailSender(engine, mail_outbox, Mailer.from_settings(settings).transport()),
                ImportRunner(sessions, engine), catalog_consumer(settings, sessions),
                CalDavRunner(sessions, SecretBox(settings.credentials_key or DEV_KEY),
                             timedelta(seconds=settings.caldav_interval_seconds)),
                campaign_sender(settings, engine), billing_consumer(settings, sessions),
                *([InboundMail(sessions, settings.campaign_secret, settings.lmtp_host, settings.lmtp_port)]
                  if settings.lmtp_port else [])]
    run_service_worker("crm", settings, outbox, loops)
