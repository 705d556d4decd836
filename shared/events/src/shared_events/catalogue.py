"""Every event type and topic the services publish: the one place producers and consumers agree on."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class TopicSpec:
    """A Kafka topic and the settings it must be created with."""

    name: str
    partitions: int = 3
    compacted: bool = False
    description: str = ""
    config: dict = field(default_factory=dict)

    def topic_config(self) -> dict[str, str]:
        cfg = {"cleanup.policy": "compact" if self.compacted else "delete"}
        if self.compacted:
            # tombstones and superseded states stay long enough for slow subscribers to see them
            cfg["delete.retention.ms"] = str(7 * 24 * 3600 * 1000)
            cfg["min.compaction.lag.ms"] = str(3600 * 1000)
        cfg.update(self.config)
        return cfg


@dataclass(frozen=True)
class EventType:
    """One event type: the topic it travels on and the JSON Schema its data follows."""

    type: str
    topic: str
    schema: str  # file name under shared_events/schemas/
    description: str = ""

    @property
    def source(self) -> str:
        return "/" + self.type.split(".", 1)[0]

    @property
    def dataschema(self) -> str:
        return "urn:crm-erp:schema:" + self.schema.removesuffix(".json")


TOPICS: dict[str, TopicSpec] = {
    t.name: t
    for t in [
        TopicSpec(
            "crm.party.v1",
            compacted=True,
            description="Full state of every CRM party (company or person); key = party id.",
        ),
        TopicSpec(
            "erp.product.v1",
            compacted=True,
            description="Full state of every ERP product and category; key = product or category id.",
        ),
        TopicSpec(
            "erp.pricelist.v1",
            compacted=True,
            description="Full state of every ERP price list with its items; key = price list id.",
        ),
        TopicSpec(
            "crm.order.v1",
            description="Orders placed in the CRM (accepted quotes) for the ERP to accept or reject; key = order id.",
            config={"retention.ms": str(365 * 24 * 3600 * 1000)},
        ),
        TopicSpec(
            "erp.order.v1",
            compacted=True,
            description="Full state of every ERP sales order (accepted, rejected, delivered…); key = ERP order id.",
        ),
        TopicSpec(
            "erp.invoice.v1",
            compacted=True,
            description="Customer-facing state of every invoice and credit note; key = invoice id.",
        ),
        TopicSpec(
            "erp.payment.v1",
            compacted=True,
            description="Customer receipts and supplier payments with their allocations; key = payment id.",
        ),
        TopicSpec(
            "erp.credit.v1",
            compacted=True,
            description="Each customer's credit position: limit, open balance, overdue; key = party id.",
        ),
        TopicSpec(
            "erp.company.v1",
            partitions=1,
            compacted=True,
            description="The company's identity as its documents print it (one record; key = \"company\").",
        ),
        TopicSpec(
            "crm.consent.v1",
            compacted=True,
            description="Marketing consent and suppression of each email address (full state); key = address id.",
        ),
        TopicSpec(
            "erp.stock.v1",
            compacted=True,
            description="Stock availability of each product, per warehouse and in total; key = product id.",
        ),
        TopicSpec(
            "crm.installation.v1",
            compacted=True,
            description="The result of every installation done for a deal (the installer's form): serials installed, "
                        "sign-off; key = installation id.",
        ),
        TopicSpec(
            "erp.fulfilment.v1",
            compacted=True,
            description="Full state of every work order and purchase need made for a sales order (a won deal's "
                        "fulfilment); key = work order or purchase need id.",
        ),
        TopicSpec(
            "erp.warranty.v1",
            compacted=True,
            description="Full state of every warranty entitlement invoices created (key = entitlement id), and the "
                        "ERP's answer to each warranty claim (key = claim id).",
        ),
        TopicSpec(
            "crm.ticket.v1",
            description="What happens to CRM tickets that other services act on: a ticket resolved under warranty "
                        "with its claim (parts, labour, serials); key = claim id.",
        ),
    ]
}

EVENT_TYPES: dict[str, EventType] = {
    e.type: e
    for e in [
        EventType("crm.party.created", "crm.party.v1", "crm.party.v1.json", "A party was created."),
        EventType("crm.party.updated", "crm.party.v1", "crm.party.v1.json", "A party's master data changed."),
        EventType("crm.party.archived", "crm.party.v1", "crm.party.v1.json", "A party was archived."),
        EventType("crm.party.merged", "crm.party.v1", "crm.party.v1.json",
                  "A duplicate party was merged into another (key = the absorbed party; merged_into_id = survivor)."),
        EventType("erp.product.created", "erp.product.v1", "erp.product.v1.json", "A product was created."),
        EventType("erp.product.updated", "erp.product.v1", "erp.product.v1.json",
                  "A product changed (deactivation included)."),
        EventType("erp.category.created", "erp.product.v1", "erp.category.v1.json", "A category was created."),
        EventType("erp.category.updated", "erp.product.v1", "erp.category.v1.json", "A category changed."),
        EventType("erp.pricelist.created", "erp.pricelist.v1", "erp.pricelist.v1.json", "A price list was created."),
        EventType("erp.pricelist.updated", "erp.pricelist.v1", "erp.pricelist.v1.json",
                  "A price list or its items changed."),
        EventType("crm.order.placed", "crm.order.v1", "crm.order.v1.json",
                  "A customer accepted a quote: the order the ERP must accept or reject."),
        *(EventType(f"erp.order.{verb}", "erp.order.v1", "erp.order.v1.json",
                    f"A sales order was {verb.replace('_', ' ')}.")
          for verb in ("accepted", "rejected", "partially_delivered", "delivered", "cancelled", "invoiced")),
        *(EventType(f"erp.invoice.{verb}", "erp.invoice.v1", "erp.invoice.v1.json",
                    f"An invoice or credit note was {verb.replace('_', ' ')}.")
          for verb in ("issued", "partially_paid", "paid", "overdue", "credited", "sent", "dunned")),
        EventType("erp.payment.received", "erp.payment.v1", "erp.payment.v1.json",
                  "A customer payment was received and allocated."),
        EventType("erp.payment.made", "erp.payment.v1", "erp.payment.v1.json",
                  "A supplier was paid and the payment allocated."),
        EventType("erp.payment.allocated", "erp.payment.v1", "erp.payment.v1.json",
                  "A payment's allocations changed (e.g. held credit applied to a later invoice)."),
        EventType("erp.credit.changed", "erp.credit.v1", "erp.credit.v1.json",
                  "A customer's credit limit, open balance or overdue amount changed."),
        EventType("erp.company.updated", "erp.company.v1", "erp.company.v1.json",
                  "The company's identity, bank accounts or document texts changed."),
        EventType("crm.consent.changed", "crm.consent.v1", "crm.consent.v1.json",
                  "An address's marketing consent changed (subscribed, confirmation pending, unsubscribed)."),
        EventType("crm.suppression.changed", "crm.consent.v1", "crm.consent.v1.json",
                  "An address was suppressed (unsubscribed, bounced, complained, blocked) or released."),
        EventType("erp.stock.availability_changed", "erp.stock.v1", "erp.stock.v1.json",
                  "A product's on-hand, reserved or available quantity changed somewhere."),
        EventType("crm.installation.completed", "crm.installation.v1", "crm.installation.v1.json",
                  "An installer submitted the installation form: result, sign-off and serials installed."),
        EventType("erp.workorder.changed", "erp.fulfilment.v1", "erp.workorder.v1.json",
                  "A work order was planned, started, progressed or done (its whole state)."),
        EventType("erp.purchaseneed.changed", "erp.fulfilment.v1", "erp.purchaseneed.v1.json",
                  "A purchase need was drafted on a purchase order, ordered, received or cancelled (its whole state)."),
        EventType("erp.warranty.created", "erp.warranty.v1", "erp.warranty.v1.json",
                  "An issued invoice created a warranty entitlement (terms copied from the product)."),
        EventType("erp.warranty.updated", "erp.warranty.v1", "erp.warranty.v1.json",
                  "An entitlement changed (e.g. a credit note took back part of its quantity)."),
        EventType("erp.warranty.voided", "erp.warranty.v1", "erp.warranty.v1.json",
                  "An entitlement ended before its term (a credit note took back everything it covered)."),
        EventType("erp.warranty.claim_accepted", "erp.warranty.v1", "erp.warranty.claim.v1.json",
                  "The ERP accepted a warranty claim revision: parts issued, cost booked, supplier share receivable."),
        EventType("erp.warranty.claim_rejected", "erp.warranty.v1", "erp.warranty.claim.v1.json",
                  "The ERP rejected a warranty claim revision, with the reason (e.g. no stock for a part)."),
        EventType("crm.ticket.warranty_claimed", "crm.ticket.v1", "crm.ticket.v1.json",
                  "A ticket was resolved under warranty: the claim (revision) with parts, labour and serials."),
    ]
}


def dlq_topic(topic: str) -> str:
    """The dead-letter topic of a topic."""
    return f"{topic}.dlq"


def all_topics() -> list[TopicSpec]:
    """Every topic to create, dead-letter topics included."""
    specs = list(TOPICS.values())
    specs += [TopicSpec(dlq_topic(t.name), partitions=1, description=f"Dead letters of {t.name}")
              for t in TOPICS.values()]
    return specs


def event_type(name: str) -> EventType:
    try:
        return EVENT_TYPES[name]
    except KeyError:
        raise KeyError(f"unknown event type {name!r}: add it to shared_events.catalogue") from None
