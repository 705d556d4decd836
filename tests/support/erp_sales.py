"""Test helpers for the ERP's quote-to-cash tests (not shipped with the service): a CRM order as the CRM places it,
the ERP's order inbox fed without a broker, and the setup rows tests need (customers, products, a stocked
warehouse)."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

from erp.catalog.models import Product
from erp.db import outbox, processed_events
from erp.money import line_amounts, money_text
from erp.parties.models import PartyAccount
from erp.sales.handlers import order_handlers
from erp.stock.models import Location, Warehouse
from erp.stock.service import receive_goods
from shared_events import contracts, envelope
from shared_events.inbox import InboxConsumer
from shared_events.testing import Record, RecordingProducer, party_state
from sqlalchemy import select


def web_settings(app):
    return app.extensions["servicekit.web"].settings


def ship_from(app, monkeypatch, code: str) -> None:
    """Make the app (and the OrderInboxes made after this) ship orders from the warehouse with this code, as the
    ERP_SALES_WAREHOUSE setting does."""
    monkeypatch.setattr(app.extensions["servicekit.web"], "settings", replace(web_settings(app), sales_warehouse=code))


def tag() -> str:
    return uuid.uuid4().hex[:8]


def order_placed(party_id: str, lines: list[dict], **over) -> dict:
    """A valid crm.order.placed payload; lines are {product_id, quantity, unit_price[, tax_rate, discount_percent]}."""
    built, amounts = [], []
    for i, line in enumerate(lines):
        tax_rate, discount = line.get("tax_rate", "0.2"), line.get("discount_percent", "0")
        a = line_amounts(Decimal(line["quantity"]), Decimal(line["unit_price"]), Decimal(discount), Decimal(tax_rate))
        amounts.append(a)
        built.append({"line_no": i + 1, "product_id": line["product_id"], "quantity": str(line["quantity"]),
                      "unit_price": str(line["unit_price"]), "discount_percent": str(discount),
                      "tax_rate": str(tax_rate), "line_total": money_text(a.net),
                      "description": line.get("description")})
    data = {"order_id": str(uuid.uuid4()), "quote_id": str(uuid.uuid4()), "quote_number": f"Q-{tag()}",
            "quote_version": 1, "deal_id": str(uuid.uuid4()), "party_id": party_id, "currency": "EUR",
            "lines": built, "net_total": money_text(sum((a.net for a in amounts), Decimal("0"))),
            "tax_total": money_text(sum((a.tax for a in amounts), Decimal("0"))),
            "gross_total": money_text(sum((a.gross for a in amounts), Decimal("0"))),
            "placed_at": datetime.now(UTC).isoformat(), "placed_by": "ada@crm.test", "version": 1, **over}
    contracts.validate("crm.order.placed", data)
    return data


class OrderInbox:
    """The erp.orders consumer of the worker, fed records directly (the broker is not what these tests are about);
    orders ship from the warehouse the app's settings name (ERP_SALES_WAREHOUSE), as in the worker."""

    def __init__(self, sessions, app):
        self.inbox = InboxConsumer("erp.orders", "unused:1", ["crm.order.v1"],
                                   order_handlers(web_settings(app).sales_warehouse), sessions, processed_events,
                                   producer_factory=RecordingProducer)
        self.offsets = iter(range(10**9))

    def redeliver(self, event) -> str:
        _, key, value, headers = envelope.to_kafka(event)
        return self.inbox.handle_message(Record("crm.order.v1", 0, next(self.offsets), key, value, headers))

    def place(self, data: dict):
        """Deliver a new crm.order.placed event; returns (outcome, event)."""
        event = envelope.new_event("crm.order.placed", data["order_id"], data, data["version"])
        return self.redeliver(event), event


def customer(deliver, roles=("customer",), **over) -> dict:
    """A party created in the CRM and replicated (deliver is the conftest fixture)."""
    name = f"Initech {tag()}"
    state = party_state(display_name=name, legal_name=f"{name} SARL", version=1, roles=list(roles),
                        tax_id=f"FR{tag()}", billing_address={"line1": "1 rue de la Paix", "postal_code": "75002",
                                                              "city": "Paris", "country": "FR"}, **over)
    assert deliver("created", state)[0] == "applied"
    return state


def set_terms(sessions, party_id: str, **terms) -> None:
    with sessions.begin() as s:
        account = s.get(PartyAccount, party_id) or PartyAccount(party_id=party_id, currency="EUR", version=1,
                                                                 payment_terms_days=30)
        for k, v in terms.items():
            setattr(account, k, v)
        s.add(account)


def product(sessions, kind="stockable", price="10.00", tax_rate="0.2", cost="4.00", active=True,
            allow_backorder=False) -> str:
    with sessions.begin() as s:
        p = Product(sku=f"S-{tag()}", name=f"Gadget {tag()}", kind=kind, sale_price=Decimal(price),
                    cost=Decimal(cost), tax_rate=Decimal(tax_rate), active=active, currency="EUR",
                    allow_backorder=allow_backorder, version=1)
        s.add(p)
        s.flush()
        return p.id


def warehouse(sessions) -> dict:
    with sessions.begin() as s:
        w = Warehouse(code=f"S{tag()}".upper(), name="Sales", active=True, version=1)
        s.add(w)
        s.flush()
        s.add(Location(warehouse_id=w.id, code="STOCK", name="Stock", path="STOCK", is_default=True, active=True))
        return {"id": w.id, "code": w.code}


def stock_up(sessions, product_id: str, warehouse_id: str, quantity, unit_cost="4.00") -> None:
    with sessions.begin() as s:
        receive_goods(s, product_id=product_id, warehouse_id=warehouse_id, quantity=Decimal(str(quantity)),
                      unit_cost=Decimal(unit_cost), reference="test stock", source_type="test", source_id=tag(),
                      party_id=None, actor="test")


def outbox_events(sessions, aggregate_id: str) -> list[tuple[str, dict]]:
    """(type, data) of the events an aggregate put in the outbox, oldest first, each checked against its schema."""
    with sessions.begin() as s:
        rows = s.execute(select(outbox.c.type, outbox.c.payload).where(outbox.c.aggregateid == str(aggregate_id))
                         .order_by(outbox.c.id)).all()
    for type_, payload in rows:
        contracts.validate(type_, payload["data"])
    return [(type_, payload["data"]) for type_, payload in rows]
