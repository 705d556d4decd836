"""The reports as tables for download: CSV (text/csv), XLSX (an openpyxl workbook, one sheet) and PDF (a printable
table, landscape when it is wide)."""

import csv
import io
from datetime import date
from decimal import Decimal

from flask import Response

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _lines(lines: list[dict], columns: tuple[str, ...]) -> list[list]:
    return [[line.get(c) for c in columns] for line in lines]


def trial_balance(report: dict) -> tuple[list[str], list[list]]:
    columns = ("account", "name", "type", "debit", "credit", "debit_balance", "credit_balance")
    t = report["totals"]
    return list(columns), [*_lines(report["lines"], columns),
                           ["TOTAL", "", "", t["debit"], t["credit"], t["debit_balance"], t["credit_balance"]]]


def profit_and_loss(report: dict) -> tuple[list[str], list[list]]:
    rows = [["income", i["account"], i["name"], i["amount"]] for i in report["income"]]
    rows.append(["income", "", "Total income", report["total_income"]])
    rows += [["expense", e["account"], e["name"], e["amount"]] for e in report["expense"]]
    rows.append(["expense", "", "Total expense", report["total_expense"]])
    rows.append(["result", "", "Result", report["result"]])
    return ["section", "account", "name", "amount"], rows


def balance_sheet(report: dict) -> tuple[list[str], list[list]]:
    rows = []
    for section, total in (("assets", "total_assets"), ("liabilities", "total_liabilities"),
                           ("equity", "total_equity")):
        rows += [[section, line["account"] or "", line["name"], line["amount"]] for line in report[section]]
        rows.append([section, "", f"Total {section}", report[total]])
    rows.append(["", "", "Total liabilities and equity", report["total_liabilities_and_equity"]])
    return ["section", "account", "name", "amount"], rows


LINE_COLUMNS = ("entry_date", "number", "journal", "reference", "account", "description", "party_id", "due_date",
                "debit", "credit", "balance")


def ledger_lines(report: dict, key: str = "items") -> tuple[list[str], list[list]]:
    opening = [report["date_from"] or "", "", "", "Opening balance", report["account"], "", "", "", "", "",
               report["opening_balance"]]
    closing = [report["as_of"], "", "", "Closing balance", report["account"], "", "", "", report["total_debit"],
               report["total_credit"], report["closing_balance"]]
    return list(LINE_COLUMNS), [opening, *_lines(report[key], LINE_COLUMNS), closing]


def aging(report: dict) -> tuple[list[str], list[list]]:
    columns = ("party_id", "name", "current", "days_1_30", "days_31_60", "days_61_90", "over_90", "unapplied",
               "balance")
    t = report["totals"]
    return list(columns), [*_lines(report["lines"], columns), ["TOTAL", "", *[t[c] for c in columns[2:]]]]


def _cell(value):
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else value


def csv_response(columns: list[str], rows: list[list], name: str) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(columns)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return Response(out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


def xlsx_response(columns: list[str], rows: list[list], name: str) -> Response:
    # openpyxl is imported when an XLSX is asked for: it takes ~0.2 s and 20 MB per process
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    sheet = book.create_sheet(name[:31])
    bold = Font(bold=True)
    header = []
    for c in columns:
        cell = WriteOnlyCell(sheet, value=c)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for row in rows:
        cells = []
        for value in row:
            plain = value is None or isinstance(value, Decimal | date | int | float | str)
            cell = WriteOnlyCell(sheet, value=value if plain else str(value))
            if isinstance(value, Decimal):
                cell.number_format = "#,##0.00"
            elif isinstance(value, date):
                cell.number_format = "yyyy-mm-dd"
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


def pdf_response(columns: list[str], rows: list[list], name: str, company: str = "") -> Response:
    from servicekit.pdf import FAMILY, new_document

    wide = len(columns) > 6
    pdf = new_document(name, company or "ERP", company, landscape=wide)
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 13)
    pdf.cell(0, 8, (company + " · " if company else "") + name.replace("-", " ", 2).capitalize(),
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, "", 7 if wide else 8.5)
    numeric = [any(isinstance(r[i], Decimal) for r in rows) for i in range(len(columns))]
    with pdf.table(text_align=["RIGHT" if n else "LEFT" for n in numeric], borders_layout="HORIZONTAL_LINES",
                   line_height=4.5, first_row_as_headings=True) as table:
        table.row([c.replace("_", " ") for c in columns])
        for row in rows:
            table.row([f"{v:,.2f}" if isinstance(v, Decimal) else str(_cell(v)) for v in row])
    return Response(bytes(pdf.output()), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{name}.pdf"'})


def download(fmt: str, table: tuple[list[str], list[list]], name: str, company: str = "") -> Response:
    columns, rows = table
    if fmt == "pdf":
        return pdf_response(columns, rows, name, company)
    return csv_response(columns, rows, name) if fmt == "csv" else xlsx_response(columns, rows, name)
