"""Documents both services print (fpdf2) in a Unicode font shipped with the package (DejaVu Sans, its licence in
fonts/LICENSE-DejaVu.txt), so names such as Łódź, Ærøskøbing or Šiauliai print as written, never as '?'."""

from pathlib import Path

from fpdf import FPDF

FONTS = Path(__file__).parent / "fonts"
FAMILY = "DejaVu"


class Document(FPDF):
    """An A4 page with a footer on every page: `footer_text` (e.g. the company's legal line) and "Page n of N"."""

    footer_text = ""

    def footer(self) -> None:
        self.set_y(-16)
        self.set_font(FAMILY, "", 7.5)
        text = f"{self.footer_text}\nPage {self.page_no()} of {{nb}}" if self.footer_text else \
            f"Page {self.page_no()} of {{nb}}"
        self.multi_cell(0, 3.5, text, align="C")


def new_document(title: str, author: str, footer: str = "", landscape: bool = False) -> Document:
    """An A4 document with the Unicode family registered (regular and bold) and selected at 10 pt."""
    pdf = Document(format="A4", orientation="L" if landscape else "P")
    pdf.footer_text = footer
    pdf.add_font(FAMILY, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FAMILY, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_title(title)
    pdf.set_author(author)
    pdf.set_font(FAMILY, "", 10)
    return pdf


def address_lines(address: dict | None) -> list[str]:
    """An address as printed: street lines, postal code and city, region, country."""
    if not address:
        return []
    city = " ".join(x for x in (address.get("postal_code"), address.get("city")) if x)
    parts = [address.get("line1") or address.get("street"), address.get("line2"), city, address.get("region"),
             address.get("country")]
    return [p for p in parts if p]
