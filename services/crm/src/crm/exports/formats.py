"""Writing an exported list: CSV, XLSX, a PDF table, and vCards (RFC 6350, version 4.0) for people.

Pure functions from (columns, rows of dicts) to bytes. Text that a spreadsheet would run as a formula (=, +, -, @
at the start, phone numbers excepted) is prefixed with an apostrophe; the importer takes it off again.
"""

import csv
import io
import re
from datetime import date, datetime
from decimal import Decimal

import vobject
from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from ..quotes.pdf import fold_to_latin1, unicode_font

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PHONE_LIKE = re.compile(r"^\+?[0-9 ().\-/]+$")


def cell(value) -> str | int | float | None:
    """A value as a cell shows it: lists joined with "; " (the importer splits on ;), times in ISO 8601."""
    if value is None:
        return None
    if isinstance(value, list):
        value = "; ".join(str(v.get("value") if isinstance(v, dict) else v) for v in value)
    elif isinstance(value, datetime | date):
        return value.isoformat()
    elif isinstance(value, Decimal):
        return str(value)
    elif isinstance(value, bool | int | float):
        return value
    value = str(value)
    if value.startswith(_FORMULA_START) and not _PHONE_LIKE.match(value):
        value = "'" + value
    return value


def to_csv(columns: list[str], rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if (v := cell(row.get(c))) is None else v for c in columns])
    return out.getvalue().encode("utf-8-sig")  # the BOM tells spreadsheets it is UTF-8


def to_xlsx(columns: list[str], rows, title: str) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])
    sheet.append(columns)
    for row in rows:
        values = [cell(row.get(c)) for c in columns]
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in values])
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


def to_pdf(title: str, columns: list[tuple[str, str, float]], rows, subtitle: str = "") -> bytes:
    """A landscape A4 table; columns are (key, heading, relative width)."""
    pdf = FPDF(orientation="L", format="A4")
    pdf.set_margins(10, 10, 10)
    pdf.set_auto_page_break(True, margin=10)
    fonts = unicode_font()
    if fonts:
        pdf.add_font("DejaVu", "", str(fonts[0]))
        pdf.add_font("DejaVu", "B", str(fonts[1]))
        family, text = "DejaVu", str
    else:
        family, text = "Helvetica", fold_to_latin1
    pdf.add_page()
    pdf.set_font(family, "B", 12)
    pdf.cell(0, 8, text(title), new_x="LMARGIN", new_y="NEXT")
    if subtitle:
        pdf.set_font(family, "", 8)
        pdf.cell(0, 5, text(subtitle), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 7)
    with pdf.table(col_widths=[w for _, _, w in columns], line_height=4, repeat_headings=1,
                   text_align="LEFT") as table:
        heading = table.row()
        for _, label, _ in columns:
            heading.cell(text(label))
        for row in rows:
            line = table.row()
            for key, _, _ in columns:
                value = cell(row.get(key))
                line.cell(text("" if value is None else str(value).lstrip("'"))[:200])
    return bytes(pdf.output())


def to_vcards(people) -> bytes:
    """One vCard 4.0 per person: name, organisation, title, emails, phones, billing address, website, UID."""
    out = []
    for p in people:
        card = vobject.vCard()
        card.add("version").value = "4.0"
        card.add("uid").value = f"urn:uuid:{p['id']}"
        card.add("fn").value = p["display_name"]
        card.add("n").value = vobject.vcard.Name(family=p.get("last_name") or "", given=p.get("first_name") or "")
        if p.get("company_name"):
            card.add("org").value = [p["company_name"]]
        if p.get("job_title"):
            card.add("title").value = p["job_title"]
        for prop, channels in (("email", p.get("emails")), ("tel", p.get("phones"))):
            for c in channels or []:
                line = card.add(prop)
                line.value = c["value"]
                if c.get("label"):
                    line.type_param = c["label"]
        address = p.get("billing_address") or {}
        if any(address.values()):
            card.add("adr").value = vobject.vcard.Address(
                street="\n".join(x for x in (address.get("line1"), address.get("line2")) if x),
                city=address.get("city") or "", region=address.get("region") or "",
                code=address.get("postal_code") or "", country=address.get("country") or "")
        if p.get("website"):
            card.add("url").value = p["website"]
        out.append(card.serialize())
    return "".join(out).encode()
