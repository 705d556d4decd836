"""What every document the ERP prints shares: the seller's letterhead (logo, legal identity, contacts), the
recipient's block, the footer, and a plain letter (statements, dunning letters, delivery notes) built from a
title, facts, a text, a table and totals."""

from dataclasses import dataclass, field
from io import BytesIO

from fpdf.enums import XPos, YPos
from servicekit.pdf import FAMILY, address_lines, new_document

NEXT_LINE = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}


def footer_text(seller: dict) -> str:
    return seller.get("document_footer") or " · ".join(
        x for x in (seller.get("legal_name"), seller.get("registration"),
                    f"VAT {seller['vat_id']}" if seller.get("vat_id") else None) if x)


def seller_block(pdf, seller: dict) -> None:
    """The logo at the left, the seller's identity at the right; leaves the cursor below both."""
    if seller.get("logo"):
        pdf.image(BytesIO(seller["logo"]), x=pdf.l_margin, y=pdf.t_margin, h=18)
    pdf.set_xy(110, pdf.t_margin)
    pdf.set_font(FAMILY, "B", 11)
    pdf.cell(0, 5, seller.get("legal_name") or "(set the company's legal name: PATCH /api/v1/company)",
             new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FAMILY, "", 8.5)
    details = [seller.get("trade_name"), *address_lines(seller.get("address")),
               f"VAT number: {seller['vat_id']}" if seller.get("vat_id") else None, seller.get("registration"),
               " · ".join(x for x in (seller.get("email"), seller.get("phone"), seller.get("website")) if x)]
    for text in details:
        if text:
            pdf.cell(0, 4, text, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_xy(pdf.l_margin, max(pdf.get_y(), pdf.t_margin + 20) + 6)


def recipient_block(pdf, label: str, name: str, address: dict | None, tax_id: str | None = None) -> None:
    pdf.set_font(FAMILY, "", 8)
    pdf.cell(0, 4, label, **NEXT_LINE)
    pdf.set_font(FAMILY, "B", 10.5)
    pdf.cell(0, 5.5, name or "", **NEXT_LINE)
    pdf.set_font(FAMILY, "", 9.5)
    for line in address_lines(address):
        pdf.cell(0, 5, line, **NEXT_LINE)
    if tax_id:
        pdf.cell(0, 5, f"VAT number: {tax_id}", **NEXT_LINE)
    pdf.ln(5)


@dataclass
class Letter:
    """A one-table document: heading and facts, an opening text, the table, totals and a closing text."""

    title: str
    recipient_name: str
    recipient_address: dict | None = None
    facts: list[tuple[str, str]] = field(default_factory=list)
    text: str = ""
    columns: list[tuple[str, float, str]] = field(default_factory=list)  # (heading, width mm, LEFT/RIGHT)
    rows: list[tuple[str, ...]] = field(default_factory=list)
    totals: list[tuple[str, str]] = field(default_factory=list)
    closing: str = ""
    recipient_label: str = "To"


def render_letter(letter: Letter, seller: dict) -> bytes:
    pdf = new_document(letter.title, seller.get("legal_name") or "ERP", footer_text(seller))
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_page()
    seller_block(pdf, seller)
    recipient_block(pdf, letter.recipient_label, letter.recipient_name, letter.recipient_address)
    pdf.set_font(FAMILY, "B", 15)
    pdf.cell(0, 9, letter.title, **NEXT_LINE)
    pdf.set_font(FAMILY, "", 9.5)
    for label, value in letter.facts:
        pdf.cell(0, 5, f"{label}: {value}", **NEXT_LINE)
    pdf.ln(3)
    if letter.text:
        pdf.multi_cell(0, 5, letter.text, **NEXT_LINE)
        pdf.ln(3)
    if letter.columns:
        pdf.set_font(FAMILY, "", 8.5)
        with pdf.table(col_widths=[w for _, w, _ in letter.columns],
                       text_align=[a for _, _, a in letter.columns], borders_layout="HORIZONTAL_LINES",
                       line_height=5) as table:
            table.row([h for h, _, _ in letter.columns])
            for row in letter.rows:
                table.row(list(row))
        pdf.ln(3)
    for i, (label, value) in enumerate(letter.totals):
        last = i == len(letter.totals) - 1
        pdf.set_font(FAMILY, "B" if last else "", 10.5 if last else 9.5)
        pdf.cell(140, 6, label, align="R")
        pdf.cell(40, 6, value, align="R", **NEXT_LINE)
    if letter.closing:
        pdf.ln(4)
        pdf.set_font(FAMILY, "", 9.5)
        pdf.multi_cell(0, 5, letter.closing, **NEXT_LINE)
    return bytes(pdf.output())
