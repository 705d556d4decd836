"""The printable invoice or credit note (fpdf2, built-in Helvetica): what the document says, as issued."""

from decimal import Decimal

from fpdf import FPDF
from fpdf.enums import XPos, YPos

NEXT_LINE = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}


def _text(value) -> str:
    """The built-in fonts speak Latin-1: anything else prints as '?' rather than failing the document."""
    return ("" if value is None else str(value)).encode("latin-1", "replace").decode("latin-1")


def _money(amount, currency: str) -> str:
    return f"{Decimal(amount):,.2f} {currency}"


def _address_lines(address: dict | None) -> list[str]:
    if not address:
        return []
    city = " ".join(x for x in (address.get("postal_code"), address.get("city")) if x)
    parts = [address.get("line1") or address.get("street"), address.get("line2"), city, address.get("region"),
             address.get("country")]
    return [p for p in parts if p]


def render_invoice(view: dict, company: str = "ERP") -> bytes:
    """A one-column A4 document: header, customer snapshot, lines, totals, due date and balance."""
    credit_note = view["kind"] == "credit_note"
    pdf = FPDF(format="A4")
    pdf.set_title(_text(view.get("number") or "Draft"))
    pdf.set_author(_text(company))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    title = "CREDIT NOTE" if credit_note else "INVOICE"
    pdf.cell(0, 10, _text(f"{title} {view.get('number') or '(draft)'}"), **NEXT_LINE)
    pdf.set_font("Helvetica", "", 10)
    for label, value in (("Issue date", view.get("issue_date")), ("Due date", view.get("due_date")),
                         ("Currency", view["currency"])):
        if value:
            pdf.cell(0, 5, _text(f"{label}: {value}"), **NEXT_LINE)
    if credit_note and view.get("reason"):
        pdf.cell(0, 5, _text(f"Reason: {view['reason']}"), **NEXT_LINE)
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 6, _text(view.get("customer_legal_name") or view.get("customer_name")), **NEXT_LINE)
    pdf.set_font("Helvetica", "", 10)
    for line in _address_lines(view.get("billing_address")):
        pdf.cell(0, 5, _text(line), **NEXT_LINE)
    if view.get("customer_tax_id"):
        pdf.cell(0, 5, _text(f"Tax id: {view['customer_tax_id']}"), **NEXT_LINE)
    pdf.ln(6)
    widths = (80, 20, 25, 15, 15, 30)
    pdf.set_font("Helvetica", "B", 9)
    for w, head in zip(widths, ("Description", "Qty", "Unit price", "Disc %", "Tax %", "Net"), strict=True):
        pdf.cell(w, 6, head, border="B")
    pdf.ln(6)
    pdf.set_font("Helvetica", "", 9)
    for line in view.get("lines", []):
        values = (_text(line["description"])[:60], f"{Decimal(line['quantity']).normalize():f}",
                  f"{Decimal(line['unit_price']):,.2f}", f"{Decimal(line['discount_percent']).normalize():f}",
                  f"{Decimal(line['tax_rate']) * 100:.2f}", f"{Decimal(line['net']):,.2f}")
        for w, value in zip(widths, values, strict=True):
            pdf.cell(w, 6, value)
        pdf.ln(6)
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 10)
    for label, amount in (("Net total", view["net_total"]), ("Tax", view["tax_total"])):
        pdf.cell(155, 6, label, align="R")
        pdf.cell(30, 6, _money(amount, view["currency"]), align="R", **NEXT_LINE)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(155, 7, "Total", align="R")
    pdf.cell(30, 7, _money(view["gross_total"], view["currency"]), align="R", **NEXT_LINE)
    if not credit_note and view.get("number"):
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(155, 6, "Balance due", align="R")
        pdf.cell(30, 6, _money(view["balance_due"], view["currency"]), align="R", **NEXT_LINE)
    return bytes(pdf.output())
