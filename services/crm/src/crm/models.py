"""Imports every model module so the metadata knows all CRM tables (for Alembic)."""

from .access.models import RecordShare, Team, TeamMember  # noqa: F401
from .activities.models import Activity, ActivityType  # noqa: F401
from .agenda.models import (  # noqa: F401
    AgendaAttendee,
    AgendaEvent,
    AgendaOverride,
    AgendaReminder,
    CalDavItem,
    CalDavLink,
    DayNote,
    FeedHit,
    FeedToken,
    FiredReminder,
    HeldMeeting,
)
from .billing.models import CreditReplica, InvoiceReplica, OrderReplica, PaymentReplica  # noqa: F401
from .campaigns.models import (  # noqa: F401
    Bounce,
    Campaign,
    CampaignAttachment,
    CampaignClick,
    CampaignRecipient,
    ConsentChange,
    EmailAddress,
    ListMember,
    MailingList,
    Newsletter,
    PendingSubscription,
    Segment,
    SubscriptionForm,
    SubscriptionHit,
)
from .catalog.models import CategoryReplica, PriceListReplica, ProductReplica, StockReplica  # noqa: F401
from .company.models import CompanyReplica  # noqa: F401
from .db import audit_log, auth, idempotency_keys, outbox, processed_events  # noqa: F401
from .deals.models import Deal, DealStageChange, Pipeline, Stage  # noqa: F401
from .fulfilment.models import FulfilmentReplica  # noqa: F401
from .imports.models import ImportBatch, ImportChange  # noqa: F401
from .leads.models import Lead, LeadCaptureHit, LeadForm  # noqa: F401
from .mailbox.models import ImapPosition, MailAccount, MailFolder, MailLink, MailMessage, MailTemplate  # noqa: F401
from .notifications.models import Notification  # noqa: F401
from .parties.models import Party  # noqa: F401
from .quotes.models import Quote, QuoteLine  # noqa: F401
from .stagetasks.models import DealEstimate, StageTaskTemplate  # noqa: F401
from .tasks.escalation import TaskEscalation  # noqa: F401
from .tasks.models import Task  # noqa: F401
from .tickets.claim_models import WarrantyClaim  # noqa: F401
from .tickets.mail_models import TicketMail  # noqa: F401
from .tickets.models import (  # noqa: F401
    SlaCalendar,
    SlaPolicy,
    SlaRecompute,
    Ticket,
    TicketAttachment,
    TicketCounter,
    TicketFact,
    TicketMessage,
)
from .timeline.models import TimelineEntry  # noqa: F401
from .warranty.models import WarrantyReplica  # noqa: F401
