"""The quote as a PDF document (fpdf2): seller and customer, number, version, dates, lines, totals and terms.

It renders the plain `document` dict that quotes/service.py builds, so it knows nothing of the database. Text is
set in DejaVu Sans, shipped with servicekit (any script); were the font files missing, in the PDF core font
Helvetica, which only has Latin-1, so other characters would be folded to their nearest Latin-1 spelling.
"""

import unicodedata
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace
from servicekit.pdf import FONTS

FONT_DIRS = (FONTS, Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
_PUNCTUATION = {"\u20ac": "EUR", "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": "'", "\u2019": "'",
                "\u2013": "-", "\u2014": "-", "\u2026": "...", "\u2022": "-", "\u00a0": " ", "\u2212": "-"}

# column widths (mm) of the lines table on A4 with 15 mm margins: 180 mm in all
COLUMNS = (("#", 7, "RIGHT"), ("SKU", 31, "LEFT"), ("Description", 51, "LEFT"), ("Quantity", 22, "RIGHT"),
           ("Unit price", 24, "RIGHT"), ("Disc.", 11, "RIGHT"), ("Tax", 10, "RIGHT"), ("Net", 24, "RIGHT"))


@cache
def unicode_font() -> tuple[Path, Path] | None:
    """DejaVu Sans regular and bold: servicekit's copy, else the system's (Debian: fonts-dejavu-core)."""
    for d in FONT_DIRS:
        regular, bold = d / "DejaVuSans.ttf", d / "DejaVuSans-Bold.ttf"
        if regular.is_file() and bold.is_file():
            return regular, bold
    return None


def fold_to_latin1(text: str) -> str:
    """The nearest Latin-1 spelling: accents kept where Latin-1 has them, dropped otherwise ("Łódź" → "Lodz")."""
    out = []
    for ch in text:
        if ch in _PUNCTUATION:
            out.append(_PUNCTUATION[ch])
        elif ord(ch) < 256:
            out.append(ch)
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch)
                           if ord(c) < 256 and not unicodedata.combining(c))
            out.append(base or {"\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d"}.get(ch, "?"))
    return "".join(out)


def money(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def quantity(q: Decimal) -> str:
    return f"{q.normalize():,f}"


def percent(fraction_or_percent: Decimal, is_fraction: bool) -> str:
    value = fraction_or_percent * 100 if is_fraction else fraction_or_percent
    return f"{value.normalize():f}%"


def day(d: date | None) -> str:
    return d.isoformat() if d else "-"


class _QuotePDF(FPDF):
    def __init__(self, footer_text: str, unicode: bool):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        self.family = "helvetica"
        self.fold = not unicode
        if unicode:
            regular, bold = unicode_font()
            self.add_font("dejavu", "", str(regular))
            self.add_font("dejavu", "B", str(bold))
            self.family = "dejavu"
        self.set_margins(15, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)

    def text_of(self, s) -> str:
        s = "" if s is None else str(s)
        return fold_to_latin1(s) if self.fold else s

    def use(self, size: float, bold: bool = False) -> None:
        self.set_font(self.family, "B" if bold else "", size)

    def line_of_text(self, s: str, size: float = 10, bold: bool = False, h: float = 5, align: str = "L") -> None:
        self.use(size, bold)
        self.multi_cell(0, h, self.text_of(s), align=align, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def footer(self):
        self.set_y(-12)
        self.use(8)
        self.cell(0, 5, self.text_of(f"{self.footer_text} - page {self.page_no()}/{{nb}}"), align="C")


def render_quote_pdf(doc: dict, use_unicode_font: bool | None = None) -> bytes:
    """The PDF of a quote from its document dict (see quotes.service.quote_document)."""
    unicode = unicode_font() is not None if use_unicode_font is None else use_unicode_font
    title = f"Quote {doc['number']}" + (f" (version {doc['quote_version']})" if doc["quote_version"] > 1 else "")
    pdf = _QuotePDF(f"{doc['number']} v{doc['quote_version']}", unicode)
    pdf.set_title(pdf.text_of(title))
    pdf.set_author(pdf.text_of(doc["seller"][0] if doc["seller"] else ""))
    pdf.add_page()
    _seller_and_identity(pdf, doc)
    _customer(pdf, doc["customer"])
    _lines(pdf, doc["lines"])
    _totals(pdf, doc)
    _notes_and_terms(pdf, doc)
    return bytes(pdf.output())


def _seller_and_identity(pdf: _QuotePDF, doc: dict) -> None:
    """The seller (left) and the quote's number, version, dates and references (right)."""
    top = pdf.get_y()
    pdf.line_of_text(doc["seller"][0] if doc["seller"] else "", 13, bold=True, h=6)
    for s in doc["seller"][1:]:
        pdf.line_of_text(s, 9, h=4.5)
    seller_bottom = pdf.get_y()
    pdf.set_xy(120, top)
    pdf.use(16, bold=True)
    pdf.multi_cell(75, 8, pdf.text_of("DRAFT QUOTE" if doc["status"] == "draft" else "QUOTE"), align="R",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    facts = [("Number", doc["number"]), ("Version", str(doc["quote_version"])), ("Date", day(doc["date"])),
             ("Valid until", day(doc["valid_until"]))]
    if doc.get("requested_date"):
        facts.append(("Requested delivery", day(doc["requested_date"])))
    if doc.get("customer_reference"):
        facts.append(("Your reference", doc["customer_reference"]))
    for label, value in facts:
        pdf.set_x(120)
        pdf.use(9)
        pdf.cell(35, 5, pdf.text_of(label + ":"), align="R")
        pdf.use(9, bold=True)
        pdf.cell(40, 5, pdf.text_of(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(max(seller_bottom, pdf.get_y()) + 6)


def _customer(pdf: _QuotePDF, customer: dict) -> None:
    """Who the quote is for: name, address, tax id, contact."""
    pdf.line_of_text("Quote for", 8, h=4)
    pdf.line_of_text(customer["name"], 11, bold=True, h=5.5)
    for s in customer["address"]:
        pdf.line_of_text(s, 9, h=4.5)
    if customer.get("tax_id"):
        pdf.line_of_text(f"Tax id: {customer['tax_id']}", 9, h=4.5)
    if customer.get("contact"):
        pdf.line_of_text(f"Attention: {customer['contact']}", 9, h=4.5)
    pdf.ln(5)


def _lines(pdf: _QuotePDF, lines: list[dict]) -> None:
    """The lines: number, SKU, name and description, quantity, unit price, discount, tax rate, net."""
    pdf.use(8.5)
    with pdf.table(col_widths=tuple(c[1] for c in COLUMNS), text_align=tuple(c[2] for c in COLUMNS),
                   line_height=4.6, padding=1, first_row_as_headings=True, borders_layout="HORIZONTAL_LINES",
                   headings_style=FontFace(emphasis="BOLD")) as table:
        head = table.row()
        for label, _, _ in COLUMNS:
            head.cell(pdf.text_of(label))
        for line in lines:
            text = line["name"] + (f"\n{line['description']}" if line.get("description") else "")
            row = table.row()
            for value in (str(line["line_no"]), line["sku"], text, f"{quantity(line['quantity'])} {line['uom']}",
                          money(line["unit_price"]), percent(line["discount_percent"], False) if
                          line["discount_percent"] else "", percent(line["tax_rate"], True), money(line["net"])):
                row.cell(pdf.text_of(value))
    pdf.ln(3)


def _totals(pdf: _QuotePDF, doc: dict) -> None:
    """The net total, the tax per rate and the total, right-aligned."""
    rows = [("Net total", doc["net_total"], False)]
    rows += [(f"Tax {percent(rate, True)} on {money(base)}", tax, False) for rate, base, tax in doc["tax_by_rate"]]
    rows.append((f"Total {doc['currency']}", doc["gross_total"], True))
    for label, amount, bold in rows:
        pdf.set_x(95)
        pdf.use(10 if bold else 9, bold)
        pdf.cell(70, 6 if bold else 5, pdf.text_of(label), align="R")
        pdf.cell(30, 6 if bold else 5, pdf.text_of(f"{money(amount)} {doc['currency']}"), align="R",
                 new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)


def _notes_and_terms(pdf: _QuotePDF, doc: dict) -> None:
    """Notes, terms and conditions, and how the amounts were computed."""
    for heading, body in (("Notes", doc.get("notes")), ("Terms and conditions", doc.get("terms"))):
        if body:
            pdf.line_of_text(heading, 10, bold=True, h=5.5)
            pdf.line_of_text(body, 9, h=4.5)
            pdf.ln(3)
    pdf.line_of_text(f"This quote is valid until {day(doc['valid_until'])}. Amounts in {doc['currency']}; "
                     "line amounts are rounded half up to the cent and totals are their sums.", 8, h=4)
