"""The CRM worker: publishes the outbox to Kafka, sends the mail outbox and campaigns by SMTP, imports queued
files, announces the agenda's reminders, syncs linked CalDAV calendars, keeps the catalog and warranty replicas,
follows the ERP's orders, invoices, payments, work orders and purchases, escalates overdue tasks to their team
leads, warns and escalates tickets near or past their SLA, recomputes deadlines after a calendar or policy
change, and takes inbound mail by LMTP (campaign bounces, ticket mail)."""

from datetime import timedelta

from servicekit.db import make_engine, make_session_factory
from servicekit.mail_outbox import Mailer, MailSender
from servicekit.secretbox import DEV_KEY, SecretBox
from servicekit.worker import run_service_worker
from shared_events.inbox import InboxConsumer

from .agenda.caldav import CalDavRunner
from .agenda.reminders import ReminderRunner
from .billing.handlers import CONSUMER as BILLING_CONSUMER
from .billing.handlers import HANDLERS as BILLING_HANDLERS
from .billing.handlers import TOPICS as BILLING_TOPICS
from .campaigns.sender import CampaignSender, SenderConfig, SmtpSession
from .catalog.handlers import CONSUMER as CATALOG_CONSUMER
from .catalog.handlers import HANDLERS as CATALOG_HANDLERS
from .catalog.handlers import TOPICS as CATALOG_TOPICS
from .company.handlers import HANDLERS as COMPANY_HANDLERS
from .company.handlers import TOPICS as COMPANY_TOPICS
from .config import Settings
from .db import mail_outbox, outbox, processed_events
from .fulfilment.handlers import CONSUMER as FULFILMENT_CONSUMER
from .fulfilment.handlers import HANDLERS as FULFILMENT_HANDLERS
from .fulfilment.handlers import TOPICS as FULFILMENT_TOPICS
from .imports.runner import ImportRunner
from .mail.inbound import InboundMail
from .mailbox.runner import MailboxRunner
from .tasks.escalation import EscalationLoop
from .tickets.escalation import EscalationRunner
from .tickets.sla import SlaRecomputeRunner
from .warranty.handlers import CONSUMER as WARRANTY_CONSUMER
from .warranty.handlers import HANDLERS as WARRANTY_HANDLERS
from .warranty.handlers import TOPICS as WARRANTY_TOPICS


def catalog_consumer(settings: Settings, sessions, **kwargs) -> InboxConsumer:
    """The ERP's catalog, prices and stock, and the company's identity (quotes print it)."""
    return InboxConsumer(CATALOG_CONSUMER, settings.kafka_bootstrap, CATALOG_TOPICS + COMPANY_TOPICS,
                         {**CATALOG_HANDLERS, **COMPANY_HANDLERS}, sessions, processed_events, **kwargs)


def billing_consumer(settings: Settings, sessions, **kwargs) -> InboxConsumer:
    """Orders, invoices and payments from the ERP: deal status, timeline, balances, overdue follow-ups."""
    return InboxConsumer(BILLING_CONSUMER, settings.kafka_bootstrap, BILLING_TOPICS, BILLING_HANDLERS, sessions,
                         processed_events, **kwargs)


def fulfilment_consumer(settings: Settings, sessions, **kwargs) -> InboxConsumer:
    """Work orders and purchases from the ERP: the deal's fulfilment panel and timeline."""
    return InboxConsumer(FULFILMENT_CONSUMER, settings.kafka_bootstrap, FULFILMENT_TOPICS, FULFILMENT_HANDLERS,
                         sessions, processed_events, **kwargs)


def campaign_sender(settings: Settings, engine, **kwargs) -> CampaignSender:
    """Sends campaigns through the same SMTP server as the mail outbox, throttled (CRM_CAMPAIGN_RATE...)."""
    smtp = SmtpSession(settings.smtp_host, settings.smtp_port, settings.smtp_user, settings.smtp_password,
                       settings.smtp_starttls, settings.smtp_timeout)
    return CampaignSender(engine, SenderConfig.from_settings(settings), smtp, **kwargs)


def warranty_consumer(settings: Settings, sessions, **kwargs) -> InboxConsumer:
    """The ERP's warranty entitlements: the replica tickets show coverage from."""
    return InboxConsumer(WARRANTY_CONSUMER, settings.kafka_bootstrap, WARRANTY_TOPICS, WARRANTY_HANDLERS, sessions,
                         processed_events, **kwargs)


def replay_inbox(settings: Settings, topic: str) -> InboxConsumer | None:
    """The consumer of `topic`, with dead-lettering off, for `crm replay-dlq` (None if the CRM does not read it)."""
    sessions = make_session_factory(make_engine(settings.database_url))
    for build, topics in ((catalog_consumer, CATALOG_TOPICS + COMPANY_TOPICS), (billing_consumer, BILLING_TOPICS),
                          (fulfilment_consumer, FULFILMENT_TOPICS),
                          (warranty_consumer, WARRANTY_TOPICS)):
        if topic in topics:
            return build(settings, sessions, dead_letters=False)
    return None


def reminder_runner(settings: Settings, sessions) -> ReminderRunner:
    """Agenda reminders, by mail (through the mail outbox) and as in-app notifications."""
    return ReminderRunner(sessions, settings.smtp_from, settings.crm_public_url,
                          settings.reminder_interval_seconds, timedelta(hours=settings.reminder_lookback_hours),
                          timedelta(seconds=settings.reminder_late_seconds))


def main(settings: Settings | None = None) -> None:
    settings = settings or Settings.from_env()

    def loops(engine, sessions) -> list:
        return [MailSender(engine, mail_outbox, Mailer.from_settings(settings).transport()),
                ImportRunner(sessions, engine), reminder_runner(settings, sessions),
                catalog_consumer(settings, sessions),
                CalDavRunner(sessions, SecretBox(settings.credentials_key or DEV_KEY),
                             timedelta(seconds=settings.caldav_interval_seconds),
                             allow_private=settings.caldav_allow_private),
                campaign_sender(settings, engine), billing_consumer(settings, sessions),
                MailboxRunner(sessions, SecretBox(settings.credentials_key or DEV_KEY),
                              timedelta(seconds=settings.mailbox_interval_seconds),
                              allow_private=settings.mailbox_allow_private),
                fulfilment_consumer(settings, sessions), warranty_consumer(settings, sessions),
                EscalationLoop(sessions, settings.escalation_interval_minutes),
                EscalationRunner(sessions, settings.ticket_warning_minutes), SlaRecomputeRunner(sessions),
                *([InboundMail(sessions, settings, settings.lmtp_host, settings.lmtp_port)]
                  if settings.lmtp_port else [])]
    run_service_worker("crm", settings, outbox, loops)
