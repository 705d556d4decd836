"""The printable invoice or credit note (fpdf2, a Unicode font): what the document says, as issued.

It prints what the law and the customer's accounts payable expect of a seller's document: the seller's identity
(legal name, address, VAT number, registration, logo), the customer's legal snapshot, the customer's PO number,
the lines with their descriptions, tax per rate, totals, what is already paid, and how to pay (bank account and
the invoice's ISO 11649 reference); a credit note names the invoice it credits and why."""

from collections import defaultdict
from decimal import Decimal

from fpdf.enums import XPos, YPos
from servicekit.pdf import FAMILY, new_document

from ..company.letterhead import footer_text, recipient_block, seller_block
from .references import grouped

NEXT_LINE = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}


def _money(amount, currency: str) -> str:
    return f"{Decimal(amount):,.2f} {currency}"


def _number(value) -> str:
    return f"{Decimal(value).normalize():f}"


def _iban(iban: str) -> str:
    return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))


def bank_account_for(seller: dict, currency: str) -> dict | None:
    """The account a customer pays an invoice in `currency` to: the first in that currency, else the first."""
    accounts = seller.get("bank_accounts") or []
    return next((a for a in accounts if a.get("currency") == currency), accounts[0] if accounts else None)


def tax_by_rate(lines: list[dict]) -> list[tuple[Decimal, Decimal, Decimal]]:
    """(rate, taxable net, tax) per tax rate, lowest rate first."""
    sums: dict[Decimal, list[Decimal]] = defaultdict(lambda: [Decimal("0"), Decimal("0")])
    for line in lines:
        rate = Decimal(line["tax_rate"])
        sums[rate][0] += Decimal(line["net"])
        sums[rate][1] += Decimal(line["tax"])
    return [(rate, net, tax) for rate, (net, tax) in sorted(sums.items())]


def _heading(pdf, view: dict, credited_number: str | None) -> None:
    credit_note = view["kind"] == "credit_note"
    pdf.set_font(FAMILY, "B", 16)
    title = "CREDIT NOTE" if credit_note else "INVOICE"
    pdf.cell(0, 9, f"{title} {view.get('number') or '(draft)'}", **NEXT_LINE)
    pdf.set_font(FAMILY, "", 9.5)
    facts = [("Issue date", view.get("issue_date")), ("Due date", None if credit_note else view.get("due_date")),
             ("Your reference", view.get("customer_reference")),
             ("Credits invoice", credited_number if credit_note else None),
             ("Reason", view.get("reason") if credit_note else None)]
    for label, value in facts:
        if value:
            pdf.cell(0, 5, f"{label}: {value}", **NEXT_LINE)
    pdf.ln(3)


def _customer_block(pdf, view: dict) -> None:
    recipient_block(pdf, "Bill to", view.get("customer_legal_name") or view.get("customer_name") or "",
                    view.get("billing_address"), view.get("customer_tax_id"))


def _lines(pdf, view: dict) -> None:
    pdf.set_font(FAMILY, "", 8.5)
    with pdf.table(col_widths=(78, 16, 24, 14, 14, 30), text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT",
                                                                   "RIGHT"),
                   borders_layout="HORIZONTAL_LINES", line_height=5) as table:
        table.row(("Description", "Qty", "Unit price", "Disc %", "Tax %", "Net"))
        for line in view.get("lines", []):
            table.row((line["description"] or "", _number(line["quantity"]), f"{Decimal(line['unit_price']):,.2f}",
                       _number(line["discount_percent"]), f"{Decimal(line['tax_rate']) * 100:.2f}",
                       f"{Decimal(line['net']):,.2f}"))
    pdf.ln(3)


def _total_row(pdf, label: str, amount: str, bold: bool = False) -> None:
    pdf.set_font(FAMILY, "B" if bold else "", 10.5 if bold else 9.5)
    pdf.cell(140, 6, label, align="R")
    pdf.cell(40, 6, amount, align="R", **NEXT_LINE)


def _totals(pdf, view: dict) -> None:
    currency = view["currency"]
    _total_row(pdf, "Net total", _money(view["net_total"], currency))
    for rate, net, tax in tax_by_rate(view.get("lines", [])):
        _total_row(pdf, f"Tax {rate * 100:.2f} % on {_money(net, currency)}", _money(tax, currency))
    _total_row(pdf, "Total", _money(view["gross_total"], currency), bold=True)
    if view["kind"] == "invoice" and view.get("number"):
        paid = Decimal(view.get("amount_paid") or 0) + Decimal(view.get("amount_credited") or 0)
        if paid:
            _total_row(pdf, "Already paid or credited", _money(-paid, currency))
        _total_row(pdf, "Balance due", _money(view["balance_due"], currency), bold=True)
    pdf.ln(4)


def _payment_instructions(pdf, view: dict, seller: dict) -> None:
    if view["kind"] != "invoice" or not view.get("number") or Decimal(view["balance_due"]) <= 0:
        return
    account = bank_account_for(seller, view["currency"])
    pdf.set_font(FAMILY, "B", 9.5)
    pdf.cell(0, 5, "How to pay", **NEXT_LINE)
    pdf.set_font(FAMILY, "", 9.5)
    pdf.multi_cell(0, 5, f"Please pay {_money(view['balance_due'], view['currency'])} by {view.get('due_date')}"
                   + (f" to {account['bank_name']}, IBAN {_iban(account['iban'])}"
                      + (f", BIC {account['bic']}" if account.get("bic") else "") if account else "")
                   + ".", **NEXT_LINE)
    if view.get("payment_reference"):
        pdf.cell(0, 5, f"Payment reference: {grouped(view['payment_reference'])}", **NEXT_LINE)
    pdf.ln(2)


def _notes(pdf, view: dict, seller: dict) -> None:
    pdf.set_font(FAMILY, "", 9)
    for text in (view.get("notes"), seller.get("payment_terms_text") if view["kind"] == "invoice" else None):
        if text:
            pdf.multi_cell(0, 4.5, text, **NEXT_LINE)
            pdf.ln(1)


def render_invoice(view: dict, seller: dict, credited_number: str | None = None) -> bytes:
    """An A4 invoice or credit note from the invoice's view (lines included) and the company's settings."""
    pdf = new_document(view.get("number") or "Draft", seller.get("legal_name") or "ERP", footer_text(seller))
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_page()
    seller_block(pdf, seller)
    _heading(pdf, view, credited_number)
    _customer_block(pdf, view)
    _lines(pdf, view)
    _totals(pdf, view)
    _payment_instructions(pdf, view, seller)
    _notes(pdf, view, seller)
    return bytes(pdf.output())
