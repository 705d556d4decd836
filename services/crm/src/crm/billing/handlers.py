"""Applies the ERP's order, invoice and payment events: newer states only; each applied change is put on the
customer's (and deal's) timeline once, and an overdue invoice gives the customer's owner a follow-up task.

The ERP's facts act on the CRM's records: a rejected order reopens its won deal and gives the deal's owner a task;
the first accepted order or issued invoice makes a prospect a customer (published as crm.party.updated)."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from cloudevents.core.v1.event import CloudEvent
from shared_events.actors import actor_of
from shared_events.envelope import sequence_of
from shared_events.replica import upsert_if_newer
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..deals.models import Deal
from ..deals.service import reopen_won_deal
from ..fulfilment.installation import start_installation_when_ready
from ..parties.models import Party
from ..parties.service import make_customer
from ..tasks.service import add_task
from ..timeline.entries import add_entry
from .models import CreditReplica, InvoiceReplica, OrderReplica, PaymentReplica

CONSUMER = "crm.sales"
TOPICS = ["erp.order.v1", "erp.invoice.v1", "erp.payment.v1", "erp.credit.v1"]

ORDER_TITLES = {"accepted": "accepted", "rejected": "rejected", "partially_delivered": "partially delivered",
                "delivered": "delivered", "cancelled": "cancelled", "invoiced": "invoiced"}


def _actor(event: CloudEvent) -> dict | str:
    """The timeline's actor: the ERP user who did it (their id, so clients can link them), else "ERP"."""
    who = actor_of(event)
    return {"id": who.id, "name": f"ERP: {who.name}"} if who.id else "ERP"


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _d(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _survivor(session: Session, party_id: str) -> str:
    """The party a document belongs to now: a party merged into another one hands its documents on."""
    for _ in range(10):  # merges chain rarely; never loop forever on bad data
        merged_into = session.execute(select(Party.merged_into_id).where(Party.id == party_id)).scalar_one_or_none()
        if not merged_into:
            return party_id
        party_id = merged_into
    return party_id


def _known(session: Session, party_id: str, deal_id: str | None) -> tuple[str | None, str | None]:
    """The party and deal ids that exist here (a timeline entry may only point at real records)."""
    party = session.get(Party, party_id)
    deal = session.get(Deal, deal_id) if deal_id else None
    return (party.id if party else None), (deal.id if deal else None)


def _money(amount: str, currency: str) -> str:
    return f"{Decimal(amount):,.2f} {currency}"


def _delivered(lines: list | None) -> list:
    return sorted((x.get("product_id"), x.get("delivered_quantity")) for x in lines or [])


def apply_order(session: Session, event: CloudEvent) -> bool:
    s = {**event.get_data()}
    s["party_id"] = _survivor(session, s["party_id"])
    held = session.execute(select(OrderReplica.status, OrderReplica.lines).where(OrderReplica.id == s["id"])).first()
    # one entry per fact: an order invoiced while partially delivered is republished with the same status and
    # deliveries, which is no news for the timeline
    news = held is None or held.status != s["status"] or _delivered(held.lines) != _delivered(s["lines"])
    applied = upsert_if_newer(session, OrderReplica.__table__, {"id": s["id"]}, sequence_of(event), {
        "number": s["number"], "crm_order_id": s.get("crm_order_id"), "deal_id": s.get("deal_id"),
        "party_id": s["party_id"], "status": s["status"], "reason": s.get("reason"), "currency": s["currency"],
        "gross_total": Decimal(s["gross_total"]), "lines": s["lines"],
        "last_delivery_at": _dt(s.get("last_delivery_at")), "erp_updated_at": _dt(s["updated_at"]),
        "replicated_at": datetime.now(UTC)})
    party_id, deal_id = _known(session, s["party_id"], s.get("deal_id"))
    if applied and news and (party_id or deal_id):
        status = s["status"]
        title = f"Order {s['number']} {ORDER_TITLES.get(status, status)}"
        if status == "rejected" and s.get("reason"):
            title += f": {s['reason']}"
        add_entry(session, kind="delivery" if "delivered" in status else "order_status", title=title,
                  occurred_at=event.get_time(), party_id=party_id, deal_id=deal_id, ref_type="erp_order",
                  ref_id=s["id"], actor=_actor(event),
                  data={"status": status, "number": s["number"], "gross_total": s["gross_total"],
                        "currency": s["currency"]})
    if applied and event.get_type() == "erp.order.rejected" and deal_id:
        _follow_rejection(session, deal_id, s, _who(event))
    if applied and event.get_type() == "erp.order.accepted" and party_id:
        make_customer(session, party_id, _who(event), f"the ERP accepted order {s['number']}")
    if applied and s["status"] in ("delivered", "invoiced") and deal_id:  # its installation may start now
        start_installation_when_ready(session, deal_id, _who(event))
    return applied


def _who(event: CloudEvent) -> str:
    """The audit's and the outbox's name for what the ERP did: its user, else "erp"."""
    return actor_of(event).label("erp", "erp")


def _follow_rejection(session: Session, deal_id: str, s: dict, actor: str) -> None:
    """A rejected order reopens its won deal; the deal's owner gets a task to sort it out."""
    why = f"Order {s['number']} rejected by the ERP" + (f": {s['reason']}" if s.get("reason") else "")
    deal = reopen_won_deal(session, deal_id, why, actor)
    if deal is not None and deal.owner_id:
        add_task(session, title=f"{why} (deal {deal.name})", assignee_id=deal.owner_id, priority="high",
                 due_date=datetime.now(UTC).date() + timedelta(days=1), record_type="deal", record_id=deal.id,
                 description="The ERP did not accept the order placed for this deal"
                 + (", so the deal is open again" if deal.status == "open" else "")
                 + ". Talk to the customer, then revise the quote or close the deal.")


def _invoice_title(session: Session, s: dict, verb: str, held) -> str:
    """What happened to the invoice or credit note, with the amounts of that fact (not just the total)."""
    money = lambda k: _money(s[k], s["currency"])  # noqa: E731
    if verb == "sent":
        doc = "Credit note" if s["kind"] == "credit_note" else "Invoice"
        return f"{doc} {s['number']} mailed to {', '.join(s.get('sent_to') or []) or 'the customer'}"
    if verb == "dunned":
        return (f"Invoice {s['number']}: reminder {s.get('dunning_level')} sent ({money('balance_due')} due since "
                f"{s.get('due_date')})")
    if s["kind"] == "credit_note":
        credited = s.get("credited_invoice_id") and session.execute(
            select(InvoiceReplica.number).where(InvoiceReplica.id == s["credited_invoice_id"])).scalar()
        return f"Credit note {s['number']} {verb.replace('_', ' ')} ({money('gross_total')})" + (
            f" for invoice {credited}" if credited else "")
    head = f"Invoice {s['number']}"
    if held is not None and Decimal(s["amount_paid"]) < held.amount_paid:
        taken = _money(str(held.amount_paid - Decimal(s["amount_paid"])), s["currency"])
        return f"{head}: payment of {taken} taken back, {money('balance_due')} due again"
    if verb == "credited":
        credited = (f"{_money(str(held.balance_due - Decimal(s['balance_due'])), s['currency'])} credited, "
                    if held is not None else "")
        if s["status"] == "credited":
            return f"{head} credited in full ({credited}nothing left due)"
        return f"{head} credited in part ({credited}{money('balance_due')} still due)"
    if verb == "partially_paid":
        return f"{head} partially paid ({money('amount_paid')} of {money('gross_total')}, {money('balance_due')} due)"
    if verb == "overdue":
        return f"{head} overdue ({money('balance_due')} due since {s.get('due_date')})"
    if verb == "issued":
        return f"{head} issued ({money('gross_total')}" + (f", due {s['due_date']})" if s.get("due_date") else ")")
    return f"{head} {verb.replace('_', ' ')} ({money('gross_total')})"


def apply_invoice(session: Session, event: CloudEvent) -> bool:
    s = {**event.get_data()}
    s["party_id"] = _survivor(session, s["party_id"])
    held = session.execute(select(InvoiceReplica.amount_paid, InvoiceReplica.balance_due)
                           .where(InvoiceReplica.id == s["id"])).first()
    applied = upsert_if_newer(session, InvoiceReplica.__table__, {"id": s["id"]}, sequence_of(event), {
        "number": s["number"], "kind": s["kind"], "party_id": s["party_id"], "order_id": s.get("order_id"),
        "deal_id": s.get("deal_id"), "status": s["status"], "issue_date": _d(s["issue_date"]),
        "due_date": _d(s.get("due_date")), "currency": s["currency"], "gross_total": Decimal(s["gross_total"]),
        "amount_paid": Decimal(s["amount_paid"]), "balance_due": Decimal(s["balance_due"]),
        "erp_updated_at": _dt(s["updated_at"]), "replicated_at": datetime.now(UTC)})
    party_id, deal_id = _known(session, s["party_id"], s.get("deal_id"))
    if not applied or not (party_id or deal_id):
        return applied
    if event.get_type() == "erp.invoice.issued" and s["kind"] == "invoice" and party_id:
        make_customer(session, party_id, _who(event), f"the ERP issued invoice {s['number']}")
    verb = event.get_type().rsplit(".", 1)[1]
    add_entry(session, kind="credit_note" if s["kind"] == "credit_note" else "invoice",
              title=_invoice_title(session, s, verb, held),
              occurred_at=event.get_time(), party_id=party_id, deal_id=deal_id, ref_type="erp_invoice",
              ref_id=s["id"], actor=_actor(event),
              data={"status": s["status"], "gross_total": s["gross_total"], "amount_paid": s["amount_paid"],
                    "balance_due": s["balance_due"], "due_date": s.get("due_date")})
    if event.get_type() == "erp.invoice.overdue" and party_id:
        owner = session.execute(select(Party.owner_id).where(Party.id == party_id)).scalar_one_or_none()
        if owner:
            add_task(session, title=f"Follow up overdue invoice {s['number']} "
                                    f"({_money(s['balance_due'], s['currency'])} due {s.get('due_date')})",
                     assignee_id=owner, priority="high", due_date=datetime.now(UTC).date() + timedelta(days=1),
                     record_type="party", record_id=party_id,
                     description="The ERP reports this invoice past its due date. Contact the customer.")
    return applied


def apply_payment(session: Session, event: CloudEvent) -> bool:
    s = {**event.get_data()}
    s["party_id"] = _survivor(session, s["party_id"])
    status = s.get("status") or "posted"  # events published before the field existed are posted payments
    held = session.execute(select(PaymentReplica.status).where(PaymentReplica.id == s["id"])).scalar()
    applied = upsert_if_newer(session, PaymentReplica.__table__, {"id": s["id"]}, sequence_of(event), {
        "number": s["number"], "direction": s["direction"], "party_id": s["party_id"],
        "amount": Decimal(s["amount"]), "currency": s["currency"], "payment_date": _d(s["payment_date"]),
        "allocations": s["allocations"], "unallocated": Decimal(s["unallocated"]), "status": status,
        "party_balance": Decimal(s["party_balance"]) if s.get("party_balance") is not None else None,
        "erp_updated_at": _dt(s["updated_at"]), "replicated_at": datetime.now(UTC)})
    party_id, _ = _known(session, s["party_id"], None)
    if not applied or not party_id:
        return applied
    amount = _money(s["amount"], s["currency"])
    if status == "bounced" and held != "bounced":
        title = f"Payment {s['number']} bounced ({amount}): the bank returned the cheque"
    elif event.get_type() != "erp.payment.allocated":
        title = f"Payment {s['number']} {'received' if s['direction'] == 'in' else 'paid'} ({amount})"
    else:
        return applied  # allocations moved (held credit applied later): the invoices' entries tell it
    add_entry(session, kind="payment", title=title, occurred_at=event.get_time(), party_id=party_id,
              ref_type="erp_payment", ref_id=s["id"], actor=_actor(event),
              data={"status": status, "amount": s["amount"], "allocations": s["allocations"],
                    "unallocated": s["unallocated"]})
    return applied


def _amount(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def apply_credit(session: Session, event: CloudEvent) -> bool:
    """The customer's credit position (quotes warn with it); no timeline entry: the documents behind it have one."""
    s = event.get_data()
    return upsert_if_newer(session, CreditReplica.__table__, {"party_id": s["party_id"]},
                           sequence_of(event), {
        "currency": s["currency"], "credit_limit": _amount(s["credit_limit"]),
        "open_balance": Decimal(s["open_balance"]), "overdue_amount": Decimal(s["overdue_amount"]),
        "available_credit": _amount(s["available_credit"]), "erp_updated_at": _dt(s["updated_at"]),
        "cheques_bounced": s.get("cheques_bounced", 0), "bounced_total": Decimal(s.get("bounced_total", "0")),
        "last_bounced_at": _dt(s["last_bounced_at"]) if s.get("last_bounced_at") else None,
        "replicated_at": datetime.now(UTC)})


HANDLERS = {
    "erp.credit.changed": apply_credit,
    **{f"erp.order.{v}": apply_order for v in ORDER_TITLES},
    **{f"erp.invoice.{v}": apply_invoice for v in ("issued", "partially_paid", "paid", "overdue", "credited",
                                                   "sent", "dunned")},
    **{f"erp.payment.{v}": apply_payment for v in ("received", "made", "allocated")},
}
