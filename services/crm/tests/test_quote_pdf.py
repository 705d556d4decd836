"""The quote's PDF reads right whatever the names are written in, with or without a Unicode font installed."""

import io
from datetime import date
from decimal import Decimal as D

import pytest
from crm.quotes.pdf import fold_to_latin1, render_quote_pdf, unicode_font
from pypdf import PdfReader


def document(lines=3):
    return {
        "seller": ["Łódź Tools “Ltd”", "ul. Piotrkowska 1", "90-001 Łódź, PL"], "number": "Q-2026-00042",
        "quote_version": 2, "status": "sent", "date": date(2026, 11, 23), "valid_until": date(2026, 12, 23),
        "requested_date": None, "customer_reference": "PO – 7", "currency": "EUR",
        "customer": {"name": "Café Zürich — Ærø", "address": ["1 rue Neuve", "69001 Lyon", "FR"], "tax_id": None,
                     "contact": None},
        "lines": [{"line_no": n, "sku": f"SKU-{n}", "name": f"Widget №{n}", "description": "€ 5 off",
                   "quantity": D("1.5000"), "uom": "unit", "unit_price": D("1199.9900"), "discount_percent": D("0"),
                   "tax_rate": D("0.2000"), "net": D("1799.99")} for n in range(1, lines + 1)],
        "net_total": D("1799.99") * lines, "tax_by_rate": [(D("0.2"), D("1799.99") * lines, D("360.00") * lines)],
        "tax_total": D("360.00") * lines, "gross_total": D("2159.99") * lines, "notes": None, "terms": "Net 30 days.",
    }


def text_of(pdf: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(pdf))
    return len(reader.pages), "\n".join(p.extract_text() for p in reader.pages)


@pytest.mark.parametrize("unicode", [
    False,
    pytest.param(True, marks=pytest.mark.skipif(unicode_font() is None, reason="no DejaVu Sans on this system")),
])
def test_the_pdf_shows_number_lines_and_totals_in_any_script(unicode):
    pages, text = text_of(render_quote_pdf(document(), use_unicode_font=unicode))
    assert pages == 1
    for expected in ("Q-2026-00042", "Version: 2", "Valid until: 2026-12-23", "SKU-3", "1,199.99", "1.5 unit",
                     "5,399.97", "Tax 20% on 5,399.97", "6,479.97 EUR", "Net 30 days."):
        assert expected in text, expected
    if unicode:
        assert "Łódź Tools “Ltd”" in text and "Café Zürich — Ærø" in text and "Widget №1" in text
    else:  # Latin-1 keeps what it has and spells the rest as close as it can
        assert "Lódz Tools \"Ltd\"" in text and "Café Zürich - Ærø" in text and "Widget No1" in text


def test_a_long_quote_runs_over_pages_with_the_totals_at_the_end():
    pages, text = text_of(render_quote_pdf(document(lines=60), use_unicode_font=False))
    assert pages > 1 and "page 1/" in text
    assert text.index("SKU-60") < text.index("107,999.40 EUR")


def test_folding_to_latin1():
    assert fold_to_latin1("Łódź “€” – ok") == 'Lódz "EUR" - ok'
    assert fold_to_latin1("Ελλάδα") == "??????"
