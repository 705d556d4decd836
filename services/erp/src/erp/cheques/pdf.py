"""The printable deposit slip (fpdf2, built-in Helvetica): the bank account, the day, each cheque and the total."""

from decimal import Decimal

from fpdf import FPDF
from fpdf.enums import XPos, YPos

NEXT_LINE = {"new_x": XPos.LMARGIN, "new_y": YPos.NEXT}
COLUMNS = (("Cheque", 28), ("Drawer", 52), ("Bank / branch", 52), ("Dated", 24), ("Amount", 34))


def _text(value) -> str:
    """The built-in fonts speak Latin-1: anything else prints as '?' rather than failing the document."""
    return ("" if value is None else str(value)).encode("latin-1", "replace").decode("latin-1")


def render_deposit_slip(slip: dict, company: str = "ERP") -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(_text(f"Deposit slip {slip['id']}"))
    pdf.set_author(_text(company))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "CHEQUE DEPOSIT SLIP", **NEXT_LINE)
    pdf.set_font("Helvetica", "", 10)
    for label, value in (("Account", slip["bank_account_name"]), ("IBAN", slip.get("iban") or "-"),
                         ("Deposited on", slip["on_date"]), ("Slip", slip["id"]),
                         ("Cheques", slip["count"])):
        pdf.cell(0, 6, _text(f"{label}: {value}"), **NEXT_LINE)
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 10)
    for title, width in COLUMNS:
        pdf.cell(width, 7, title, border=1, align="R" if title == "Amount" else "L")
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    for c in slip["cheques"]:
        cells = (c["number"], c["drawer"], " / ".join(x for x in (c["drawer_bank"], c.get("drawer_branch")) if x),
                 c["cheque_date"], f"{Decimal(c['amount']):,.2f} {slip['currency']}")
        for (title, width), value in zip(COLUMNS, cells, strict=True):
            pdf.cell(width, 6, _text(value)[:40], border=1, align="R" if title == "Amount" else "L")
        pdf.ln()
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(sum(w for _, w in COLUMNS[:-1]), 7, "Total", border=1)
    pdf.cell(COLUMNS[-1][1], 7, _text(f"{Decimal(slip['total']):,.2f} {slip['currency']}"), border=1, align="R")
    return bytes(pdf.output())
