"""Use cases of invoices and credit notes: draft (directly or from what an order delivered), issue (gapless number,
legal snapshot, due date, journal entry), credit, settle by payments, mark overdue. Each takes a session and the
acting user, writes the audit trail and adds the document's state to the outbox (erp.invoice.v1); none commits.
"""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from servicekit import audit, mail_outbox
from servicekit.db import row_view
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error
from shared_events.actors import actor_label
from shared_events.outbox import record_event
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..catalog.models import Product
from ..catalog.service import price_for
from ..credit import service as credit
from ..db import audit_log, outbox
from ..db import mail_outbox as mail_table
from ..money import LineAmounts, four_places, line_amounts, number_text, totals
from ..numbering import lock_counter
from ..parties.models import PartyAccount, PartyReplica
from ..payments.models import Payment, PaymentAllocation
from ..sales import service as sales
from ..sales.models import SalesOrderLine
from ..warranty import service as warranty
from . import events, postings
from .models import Invoice, InvoiceLine
from .references import rf_reference
from .rules import document_number, invoice_status

INVOICE_SERIES = "INV"
CREDIT_NOTE_SERIES = "CN"
DEFAULT_PAYMENT_TERMS_DAYS = 30
OPEN = ("issued", "partially_paid", "overdue")
CREDITABLE = ("issued", "partially_paid", "paid", "overdue")
ZERO = Decimal("0")


def _now() -> datetime:
    return datetime.now(UTC)


def wrong_state(inv: Invoice, action: str, allowed: tuple[str, ...]) -> Problem:
    what = "Credit note" if inv.kind == "credit_note" else "Invoice"
    return Problem(409, "Wrong state", f"{what} {inv.number or '(draft)'} is {inv.status}; {action} is allowed only "
                   f"when {' or '.join(allowed)}.", "wrong-state", current_state=inv.status, action=action,
                   allowed_states=list(allowed))


# -- reading --------------------------------------------------------------------------------------

def invoice_row(session: Session, invoice_id, lock: bool = False) -> Invoice:
    stmt = select(Invoice).where(Invoice.id == str(invoice_id))
    inv = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if inv is None:
        raise NotFound("invoice", invoice_id)
    return inv


def invoice_lines(session: Session, invoice_id: str) -> list[InvoiceLine]:
    return list(session.execute(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)
                                .order_by(InvoiceLine.position)).scalars())


def invoice_view(session: Session, inv: Invoice, with_lines: bool = True) -> dict:
    view = row_view(inv)
    view["balance_due"] = events.balance_due(inv)
    if inv.status == "draft":  # not yet a legal document: show who it will go to
        party = session.get(PartyReplica, inv.party_id)
        view["customer_name"] = party.display_name if party else None
    view["allowed_actions"] = allowed_actions(inv)
    if with_lines:
        view["lines"] = [row_view(line) for line in invoice_lines(session, inv.id)]
        view["credit_notes"] = [{"id": cn.id, "number": cn.number, "gross_total": cn.gross_total,
                                 "issue_date": cn.issue_date} for cn in session.execute(
            select(Invoice).where(Invoice.credited_invoice_id == inv.id).order_by(Invoice.sequence_number)).scalars()]
        view["payments"] = [{"payment_id": a.payment_id, "number": number, "amount": a.amount,
                             "allocated_on": a.allocated_on} for a, number in session.execute(
            select(PaymentAllocation, Payment.number).join(Payment, Payment.id == PaymentAllocation.payment_id)
            .where(PaymentAllocation.invoice_id == inv.id, PaymentAllocation.reversed_at.is_(None))
            .order_by(PaymentAllocation.created_at))]
        view["mail"] = mail_outbox.mail_status(session, mail_table, "invoice", inv.id)
    return view


def allowed_actions(inv: Invoice) -> list[str]:
    if inv.status == "draft":
        return ["issue", "delete"]
    if inv.kind == "invoice" and inv.status in CREDITABLE:
        return ["credit", "pay"] if inv.status in OPEN else ["credit"]
    return []


def get_invoice(session: Session, invoice_id) -> dict:
    return invoice_view(session, invoice_row(session, invoice_id))


SORTABLE = {"number": Invoice.number, "issue_date": Invoice.issue_date, "due_date": Invoice.due_date,
            "gross_total": Invoice.gross_total, "status": Invoice.status, "created_at": Invoice.created_at}


def list_invoices(session: Session, args: dict) -> dict:
    stmt = select(Invoice)
    for key in ("party_id", "order_id"):
        if args.get(key):
            stmt = stmt.where(getattr(Invoice, key) == str(args[key]))
    if args.get("kind"):
        stmt = stmt.where(Invoice.kind == args["kind"])
    if args.get("status"):
        stmt = stmt.where(Invoice.status.in_(args["status"]))
    if args.get("series"):
        stmt = stmt.where(Invoice.series == args["series"])
    if args.get("date_from"):
        stmt = stmt.where(Invoice.issue_date >= args["date_from"])
    if args.get("date_to"):
        stmt = stmt.where(Invoice.issue_date <= args["date_to"])
    if args.get("q"):
        q = args["q"].strip().lower()
        stmt = stmt.where(or_(func.lower(Invoice.number).contains(q, autoescape=True),
                              func.lower(Invoice.customer_name).contains(q, autoescape=True)))
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE, [Invoice.created_at.desc(), Invoice.id])
    page = paginate(session, stmt, args["page"], args["page_size"])
    page["items"] = [invoice_view(session, inv, with_lines=False) for inv in page["items"]]
    return page


def _audit_state(inv: Invoice, lines: list[InvoiceLine]) -> dict:
    state = {k: getattr(inv, k) for k in ("kind", "number", "status", "party_id", "order_id", "credited_invoice_id",
                                          "currency", "issue_date", "due_date", "customer_name",
                                          "customer_legal_name", "customer_tax_id", "billing_address", "net_total",
                                          "tax_total", "gross_total", "amount_paid", "amount_credited", "reason")}
    state["lines"] = [{k: getattr(line, k) for k in ("product_id", "order_line_id", "credited_line_id",
                                                      "description", "revenue_kind", "quantity", "unit_price",
                                                      "discount_percent", "tax_rate", "net", "tax", "gross")}
                      for line in lines]
    return state


def publish(session: Session, verb: str, inv: Invoice, actor) -> None:
    """The invoice's state to the outbox; the customer's credit position follows (erp.credit.v1)."""
    session.flush()
    record_event(session, outbox, events.invoice_event(verb, inv, actor), "invoice")
    if verb not in ("sent", "dunned"):  # mailings move no money
        credit.refresh(session, inv.party_id, actor)


def _touch(inv: Invoice) -> None:
    inv.version += 1
    inv.updated_at = _now()


# -- drafts ---------------------------------------------------------------------------------------

def _customer(session: Session, party_id, field: str = "party_id") -> PartyReplica:
    party = session.get(PartyReplica, str(party_id))
    if party is None:
        raise field_error(field, f"no party with id {party_id} (customers are created in the CRM)")
    if party.status != "active":
        raise field_error(field, f"{party.display_name} is {party.status} in the CRM: invoice an active party")
    return party


def _totals(inv: Invoice, lines: list[InvoiceLine]) -> None:
    """The document's totals: the sums of its lines as stored (credit-note lines may carry a final cent, see
    _credit_line)."""
    doc = totals(LineAmounts(x.net, x.tax) for x in lines)
    inv.net_total, inv.tax_total, inv.gross_total = doc.net, doc.tax, doc.gross


def _line(position: int, *, description: str, revenue_kind: str, quantity: Decimal, unit_price: Decimal,
          discount_percent: Decimal, tax_rate: Decimal, **refs) -> InvoiceLine:
    amounts = line_amounts(quantity, unit_price, discount_percent, tax_rate)
    return InvoiceLine(position=position, description=description, revenue_kind=revenue_kind, quantity=quantity,
                       unit_price=unit_price, discount_percent=discount_percent, tax_rate=tax_rate, net=amounts.net,
                       tax=amounts.tax, gross=amounts.gross, **refs)


def _new_invoice(session: Session, lines: list[InvoiceLine], actor, **values) -> Invoice:
    now = _now()
    inv = Invoice(status="draft", amount_paid=ZERO, amount_credited=ZERO, created_by=actor_label(actor), version=1,
                  created_at=now, updated_at=now, **values)
    _totals(inv, lines)
    session.add(inv)
    session.flush()
    for line in lines:
        line.invoice_id = inv.id
    session.add_all(lines)
    session.flush()
    return inv


def _direct_lines(session: Session, party_id: str, currency: str, items: list[dict]) -> list[InvoiceLine]:
    built = []
    for i, item in enumerate(items):
        product = None
        if item.get("product_id"):
            product = session.get(Product, str(item["product_id"]))
            if product is None:
                raise field_error(f"lines.{i}.product_id", f"no product with id {item['product_id']}")
        description = (item.get("description") or "").strip() or (product.name if product else "")
        if not description:
            raise field_error(f"lines.{i}.description", "required on a line without a product")
        unit_price = item.get("unit_price")
        if unit_price is None:
            if product is None:
                raise field_error(f"lines.{i}.unit_price", "required on a line without a product")
            quoted = price_for(session, product.id, party_id, item["quantity"])
            if quoted["currency"] != currency:
                raise field_error(f"lines.{i}.unit_price", f"{product.sku} is priced in {quoted['currency']}, the "
                                  f"invoice is in {currency}: give the unit price")
            unit_price = quoted["unit_price"]
        tax_rate = item.get("tax_rate")
        if tax_rate is None:
            tax_rate = product.tax_rate if product else ZERO
        revenue_kind = item.get("revenue_kind") or ("services" if product is None or product.kind == "service"
                                                    else "goods")
        built.append(_line(i + 1, description=description, revenue_kind=revenue_kind,
                           quantity=four_places(item["quantity"]), unit_price=four_places(unit_price),
                           discount_percent=four_places(item.get("discount_percent") or ZERO),
                           tax_rate=four_places(tax_rate), product_id=product.id if product else None))
    return built


def create_invoice(session: Session, data: dict, actor) -> dict:
    """A draft invoice with free or product lines (no number yet); issued at once when data['issue']."""
    party = _customer(session, data["party_id"])
    account = session.get(PartyAccount, party.party_id)
    currency = data.get("currency") or (account.currency if account else "EUR")
    lines = _direct_lines(session, party.party_id, currency, data["lines"])
    inv = _new_invoice(session, lines, actor, kind="invoice", series=data.get("series") or INVOICE_SERIES,
                       party_id=party.party_id, currency=currency, notes=data.get("notes"),
                       customer_reference=data.get("customer_reference"))
    audit.record(session, audit_log, actor, "create", "invoice", inv.id, None, _audit_state(inv, lines))
    if data.get("issue"):
        _issue(session, inv, data.get("issue_date"), actor)
    return invoice_view(session, inv)


def invoice_order(session: Session, order_id, data: dict, actor) -> dict:
    """Invoice what the order delivered and no invoice holds yet; issued at once unless data['issue'] is false."""
    order = sales.get_order_row(session, order_id, lock=True)
    if order.status not in sales.ALLOWED_FROM["invoice"]:
        raise sales.wrong_state(order, "invoice")
    order_lines = sales.order_lines(session, order.id)
    lines = []
    for ol in order_lines:
        quantity = ol.delivered_quantity - ol.invoiced_quantity
        if quantity <= 0:
            continue
        lines.append(_line(len(lines) + 1, description=ol.description or ol.sku or "",
                           revenue_kind="services" if ol.product_kind == "service" else "goods", quantity=quantity,
                           unit_price=ol.unit_price, discount_percent=ol.discount_percent, tax_rate=ol.tax_rate,
                           product_id=ol.product_id, order_line_id=ol.id))
        ol.invoiced_quantity += quantity
    if not lines:
        raise Problem(409, "Nothing to invoice", f"Everything {order.number} delivered is already invoiced "
                      "(drafts included).", "nothing-to-invoice")
    inv = _new_invoice(session, lines, actor, kind="invoice", series=data.get("series") or INVOICE_SERIES,
                       party_id=order.party_id, order_id=order.id, crm_order_id=order.crm_order_id,
                       deal_id=order.deal_id, currency=order.currency, notes=data.get("notes"),
                       customer_reference=data.get("customer_reference") or order.customer_reference)
    audit.record(session, audit_log, actor, "create", "invoice", inv.id, None, _audit_state(inv, lines))
    if data.get("issue", True):
        _issue(session, inv, data.get("issue_date"), actor)
    return invoice_view(session, inv)


def delete_draft(session: Session, invoice_id, actor) -> None:
    """Throw a draft away; the order quantities it held can be invoiced again."""
    inv = invoice_row(session, invoice_id, lock=True)
    if inv.status != "draft":
        raise wrong_state(inv, "delete", ("draft",))
    lines = invoice_lines(session, inv.id)
    before = _audit_state(inv, lines)
    for line in lines:
        if line.order_line_id:
            ol = session.execute(select(SalesOrderLine).where(SalesOrderLine.id == line.order_line_id)
                                 .with_for_update()).scalar_one()
            ol.invoiced_quantity -= line.quantity
    session.delete(inv)
    session.flush()
    audit.record(session, audit_log, actor, "delete", "invoice", invoice_id, before, None)


# -- issuing --------------------------------------------------------------------------------------

def _issue(session: Session, inv: Invoice, issue_date: date | None, actor) -> None:
    issue_date = issue_date or _now().date()
    party = session.get(PartyReplica, inv.party_id)
    if party is None:
        raise Problem(409, "Unknown customer", f"party {inv.party_id} is not in the ERP's replica",
                      "unknown-customer")
    counter = lock_counter(session, inv.series, issue_date.year)
    if counter.last_issue_date and issue_date < counter.last_issue_date:
        raise field_error("issue_date", f"{inv.series} {issue_date.year} already has documents issued on "
                          f"{counter.last_issue_date.isoformat()}: numbers follow dates, issue on or after it")
    counter.last_number += 1
    counter.last_issue_date = issue_date
    inv.fiscal_year, inv.sequence_number = issue_date.year, counter.last_number
    inv.number = document_number(inv.series, issue_date.year, counter.last_number)
    inv.status = "issued"  # with its number (a numbered draft cannot exist)
    inv.issue_date = issue_date
    if inv.kind == "invoice":
        terms = session.execute(select(PartyAccount.payment_terms_days).where(PartyAccount.party_id == inv.party_id)
                                ).scalar_one_or_none()
        inv.payment_terms_days = DEFAULT_PAYMENT_TERMS_DAYS if terms is None else terms
        inv.due_date = issue_date + timedelta(days=inv.payment_terms_days)
    else:
        inv.due_date = issue_date
    # the legal snapshot: what the invoice says stays as it was issued, whatever the CRM changes later
    inv.customer_name = party.display_name
    inv.customer_legal_name = party.legal_name or party.display_name
    inv.customer_tax_id = party.tax_id
    inv.billing_address = party.billing_address
    if inv.kind == "invoice":
        inv.payment_reference = rf_reference(inv.number)
    inv.issued_at = _now()
    inv.issued_by = actor_label(actor)
    _touch(inv)
    session.flush()
    lines = invoice_lines(session, inv.id)
    inv.journal_entry_id = postings.post_invoice(session, inv, lines, actor)
    session.flush()
    if inv.kind == "invoice":  # what it sold with a warranty is covered; a credit note takes that back
        warranty.entitle_invoice(session, inv, lines, actor)
    else:
        warranty.credit_entitlements(session, lines, actor)
    audit.record(session, audit_log, actor, "issue", "invoice", inv.id, {"status": "draft", "number": None},
                 {"status": inv.status, "number": inv.number, "issue_date": inv.issue_date,
                  "due_date": inv.due_date, "customer_name": inv.customer_name, "billing_address": inv.billing_address,
                  "customer_tax_id": inv.customer_tax_id})
    publish(session, "issued", inv, actor)
    if inv.order_id and inv.kind == "invoice":
        sales.note_invoiced(session, sales.get_order_row(session, inv.order_id, lock=True), actor)


def issue_invoice(session: Session, invoice_id, issue_date: date | None, actor) -> dict:
    """Issue a draft: its number (next in its series and year), the customer's legal snapshot, the due date by the
    customer's payment terms, the journal entry. From then on it is immutable: corrections are credit notes."""
    inv = invoice_row(session, invoice_id, lock=True)
    if inv.status != "draft":
        raise wrong_state(inv, "issue", ("draft",))
    _issue(session, inv, issue_date, actor)
    return invoice_view(session, inv)


# -- credit notes ---------------------------------------------------------------------------------

def _credited_so_far(session: Session, line_ids: list[str]) -> dict[str, tuple[Decimal, Decimal, Decimal, Decimal]]:
    """Per invoice line: (quantity, net, tax, gross) already taken off by issued credit notes."""
    if not line_ids:
        return {}
    rows = session.execute(
        select(InvoiceLine.credited_line_id, func.sum(InvoiceLine.quantity), func.sum(InvoiceLine.net),
               func.sum(InvoiceLine.tax), func.sum(InvoiceLine.gross))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.credited_line_id.in_(line_ids), Invoice.status != "draft")
        .group_by(InvoiceLine.credited_line_id)).all()
    return {r[0]: (r[1], r[2], r[3], r[4]) for r in rows}


def _credit_line(position: int, line: InvoiceLine, quantity: Decimal, before) -> InvoiceLine:
    """A credit-note line for part of an invoice line; the one that completes the line takes exactly what is left,
    so crediting in parts never differs from the invoice by a rounding cent."""
    cn_line = _line(position, description=line.description, revenue_kind=line.revenue_kind, quantity=quantity,
                    unit_price=line.unit_price, discount_percent=line.discount_percent, tax_rate=line.tax_rate,
                    product_id=line.product_id, credited_line_id=line.id)
    if before[0] + quantity == line.quantity:
        cn_line.net, cn_line.tax, cn_line.gross = line.net - before[1], line.tax - before[2], line.gross - before[3]
    return cn_line


def credit_invoice(session: Session, invoice_id, data: dict, actor) -> dict:
    """Issue a credit note against an issued invoice, for all of it or for some quantities of some lines. It is
    taken off the invoice's balance; what the invoice no longer owes stays as credit on the customer's account."""
    inv = invoice_row(session, invoice_id, lock=True)
    if inv.kind != "invoice" or inv.status not in CREDITABLE:
        raise wrong_state(inv, "credit", CREDITABLE)
    lines = {line.id: line for line in invoice_lines(session, inv.id)}
    so_far = _credited_so_far(session, list(lines))
    nothing = (ZERO, ZERO, ZERO, ZERO)
    items = data.get("lines")
    if not items:
        items = [{"invoice_line_id": line.id, "quantity": line.quantity - so_far.get(line.id, nothing)[0]}
                 for line in lines.values() if line.quantity > so_far.get(line.id, nothing)[0]]
        if not items:
            raise Problem(409, "Nothing to credit", f"Invoice {inv.number} is already fully credited.",
                          "nothing-to-credit")
    built, seen = [], set()
    for i, item in enumerate(items):
        line = lines.get(str(item["invoice_line_id"]))
        if line is None:
            raise field_error(f"lines.{i}.invoice_line_id", f"not a line of {inv.number}")
        if line.id in seen:
            raise field_error(f"lines.{i}.invoice_line_id", "this invoice line appears twice")
        seen.add(line.id)
        before = so_far.get(line.id, nothing)
        left = line.quantity - before[0]
        quantity = four_places(item.get("quantity") or left)
        if quantity > left or left <= 0:
            raise field_error(f"lines.{i}.quantity", f"at most {number_text(left)} of line {line.position} "
                              "can still be credited")
        built.append(_credit_line(len(built) + 1, line, quantity, before))
    cn = _new_invoice(session, built, actor, kind="credit_note", series=data.get("series") or CREDIT_NOTE_SERIES,
                      party_id=inv.party_id, order_id=inv.order_id, crm_order_id=inv.crm_order_id,
                      deal_id=inv.deal_id, credited_invoice_id=inv.id, currency=inv.currency,
                      customer_reference=inv.customer_reference,
                      reason=(data.get("reason") or "").strip() or None, notes=data.get("notes"))
    # taken off the invoice: no more than the invoice still owes
    applied = min(cn.gross_total, max(events.balance_due(inv), ZERO))
    cn.amount_credited = applied
    audit.record(session, audit_log, actor, "create", "invoice", cn.id, None, _audit_state(cn, built))
    _issue(session, cn, data.get("issue_date"), actor)
    before = _audit_state(inv, list(lines.values()))
    inv.amount_credited += applied
    settle_status(inv)
    _touch(inv)
    session.flush()
    audit.record(session, audit_log, actor, "credit", "invoice", inv.id, before,
                 _audit_state(inv, list(lines.values())))
    publish(session, "credited", inv, actor)
    return invoice_view(session, cn)


# -- what payments call ---------------------------------------------------------------------------

def settle_status(inv: Invoice) -> None:
    inv.status = invoice_status(inv.gross_total, inv.amount_paid, inv.amount_credited, inv.overdue_at is not None)


def lock_invoices(session: Session, invoice_ids: list[str]) -> dict[str, Invoice]:
    """Lock invoices in id order (so concurrent payments cannot deadlock)."""
    if not invoice_ids:
        return {}
    found = session.execute(select(Invoice).where(Invoice.id.in_(sorted(set(invoice_ids)))).order_by(Invoice.id)
                            .with_for_update().execution_options(populate_existing=True)).scalars()
    return {inv.id: inv for inv in found}


def open_invoices(session: Session, party_id: str, currency: str) -> list[Invoice]:
    """The customer's invoices with something left to pay, oldest due first (the automatic allocation order)."""
    ids = session.execute(select(Invoice.id).where(Invoice.party_id == str(party_id), Invoice.kind == "invoice",
                                                   Invoice.currency == currency, Invoice.status.in_(OPEN))).scalars()
    locked = lock_invoices(session, list(ids))
    return sorted(locked.values(), key=lambda i: (i.due_date, i.issue_date, i.series, i.sequence_number))


def record_payment(session: Session, inv: Invoice, amount: Decimal, actor) -> None:
    """A receipt allocated `amount` to the invoice (negative when a bounced cheque takes it back): its paid amount,
    status and event follow. The invoice must be locked (lock_invoices)."""
    before = {"amount_paid": inv.amount_paid, "status": inv.status}
    inv.amount_paid += amount
    settle_status(inv)
    _touch(inv)
    session.flush()
    audit.record(session, audit_log, actor, "payment", "invoice", inv.id, before,
                 {"amount_paid": inv.amount_paid, "status": inv.status})
    if inv.status == "paid":
        verb = "paid"
    elif inv.amount_paid > 0:
        verb = "partially_paid"
    else:
        verb = "issued"  # a bounced cheque took the only payment back: the invoice is open again as issued
    publish(session, verb, inv, actor)


# -- collections ----------------------------------------------------------------------------------

def mark_overdue(session: Session, today: date | None = None, actor="system:overdue", limit: int = 500) -> list[str]:
    """Mark issued and partially paid invoices past their due date as overdue and publish erp.invoice.overdue,
    once per invoice (overdue_at stays set). Rows another run is marking are skipped; returns the numbers."""
    today = today or _now().date()
    found = session.execute(
        select(Invoice).where(Invoice.kind == "invoice", Invoice.status.in_(("issued", "partially_paid")),
                              Invoice.due_date < today, Invoice.overdue_at.is_(None))
        .order_by(Invoice.due_date, Invoice.id).limit(limit).with_for_update(skip_locked=True)).scalars().all()
    for inv in found:
        before = inv.status
        inv.overdue_at = _now()
        settle_status(inv)
        _touch(inv)
        session.flush()
        audit.record(session, audit_log, actor, "overdue", "invoice", inv.id, {"status": before},
                     {"status": inv.status, "due_date": inv.due_date})
        publish(session, "overdue", inv, actor)
    return [inv.number for inv in found]
