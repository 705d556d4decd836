"""The ERP worker: keeps the party replica from crm.party.v1, accepts or rejects CRM orders from crm.order.v1, marks
overdue invoices every ERP_OVERDUE_INTERVAL_MINUTES, sends the mail outbox (invoices by mail) through ERP_SMTP_*, and
publishes the ERP outbox."""

from servicekit.db import make_engine, make_session_factory
from servicekit.mail_outbox import Mailer, MailSender
from servicekit.worker import run_service_worker
from shared_events.inbox import InboxConsumer

from .config import Settings
from .db import mail_outbox, outbox, processed_events
from .fulfilment.handlers import CONSUMER as INSTALLATION_CONSUMER
from .fulfilment.handlers import HANDLERS as INSTALLATION_HANDLERS
from .fulfilment.handlers import TOPICS as INSTALLATION_TOPICS
from .invoicing.overdue import OverdueLoop
from .parties.handlers import HANDLERS as PARTY_HANDLERS
from .sales.handlers import order_handlers, placing_waiting_orders
from .warranty.handlers import CONSUMER as CLAIM_CONSUMER
from .warranty.handlers import TOPICS as CLAIM_TOPICS
from .warranty.handlers import claim_handlers

PARTY_CONSUMER = "erp.parties"
ORDER_CONSUMER = "erp.orders"


def party_handlers(warehouse_code: str = "") -> dict:
    """The replica's handlers, each placing the CRM orders that waited for the parties it applied."""
    return placing_waiting_orders(PARTY_HANDLERS, warehouse_code)


def party_consumer(settings: Settings, sessions, **kwargs) -> InboxConsumer:
    return InboxConsumer(PARTY_CONSUMER, settings.kafka_bootstrap, ["crm.party.v1"],
                         party_handlers(settings.sales_warehouse), sessions, processed_events, **kwargs)


def order_consumer(settings: Settings, sessions, **kwargs) -> InboxConsumer:
    return InboxConsumer(ORDER_CONSUMER, settings.kafka_bootstrap, ["crm.order.v1"],
                         order_handlers(settings.sales_warehouse), sessions, processed_events, **kwargs)


def installation_consumer(settings: Settings, sessions, **kwargs) -> InboxConsumer:
    """The installers' reports from the CRM: serials installed per sales order."""
    return InboxConsumer(INSTALLATION_CONSUMER, settings.kafka_bootstrap, INSTALLATION_TOPICS, INSTALLATION_HANDLERS,
                         sessions, processed_events, **kwargs)


def claim_consumer(settings: Settings, sessions, **kwargs) -> InboxConsumer:
    """Warranty claims of CRM tickets: parts issued from stock, cost booked, the answer sent back."""
    return InboxConsumer(CLAIM_CONSUMER, settings.kafka_bootstrap, CLAIM_TOPICS,
                         claim_handlers(settings.sales_warehouse), sessions, processed_events, **kwargs)


def replay_inbox(settings: Settings, topic: str) -> InboxConsumer | None:
    """The consumer of `topic`, with dead-lettering off, for `erp replay-dlq` (None if the ERP does not read it)."""
    sessions = make_session_factory(make_engine(settings.database_url))
    builders = {"crm.party.v1": party_consumer, "crm.order.v1": order_consumer,
                "crm.installation.v1": installation_consumer, "crm.ticket.v1": claim_consumer}
    return builders[topic](settings, sessions, dead_letters=False) if topic in builders else None


def main(settings: Settings | None = None) -> None:
    settings = settings or Settings.from_env()
    run_service_worker("erp", settings, outbox, lambda engine, sessions: [
        party_consumer(settings, sessions), order_consumer(settings, sessions),
        installation_consumer(settings, sessions), claim_consumer(settings, sessions),
        OverdueLoop(sessions, settings.overdue_interval_minutes),
        MailSender(engine, mail_outbox, Mailer.from_settings(settings).transport())])
