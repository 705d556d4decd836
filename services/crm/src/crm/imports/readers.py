"""Reading an uploaded file into rows: CSV (any common delimiter and encoding), XLSX (first sheet) and vCard.

Tables give rows of {column header: text}; vCards give rows already named by import field (see fields.py), since
RFC 6350 says what each property means. Row numbers are what a user sees: the header is row 1 of a table, the
first card is card 1.
"""

import codecs
import csv
import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

import vobject
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException
from servicekit.problems import field_error

FORMATS = {"csv": "csv", "txt": "csv", "tsv": "csv", "xlsx": "xlsx", "vcf": "vcf", "vcard": "vcf"}


@dataclass
class Table:
    format: str
    columns: list[str]
    rows: list[tuple[int, dict]]  # (row number, {column or field: value})
    warnings: list[dict] = field(default_factory=list)
    total: int = -1  # the data rows in the file; more than len(rows) when read with `keep`
    source: Callable[[], Iterator[tuple[int, dict]]] | None = None  # read_file(stream=True): the rows, read anew

    def __post_init__(self):
        if self.total < 0:
            self.total = len(self.rows)

    def each(self) -> Iterator[tuple[int, dict]]:
        """Every row: from the file again when streamed (nothing kept), else the rows kept (read once per call)."""
        return self.source() if self.source is not None else iter(self.rows)


def detect_format(file_name: str, data: bytes) -> str:
    ext = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if ext in FORMATS:
        return FORMATS[ext]
    if data[:2] == b"PK":
        return "xlsx"
    if data.lstrip()[:11].upper() == b"BEGIN:VCARD":
        return "vcf"
    return "csv"


SLICE = 1 << 20  # bytes a streamed file is read by


def _encoding(slices: Callable[[], Iterable[bytes]]) -> str:
    """The first of UTF-8, Windows-1252 and Latin-1 that decodes the whole file (checked slice by slice: `slices()`
    gives the file anew for each encoding tried)."""
    for encoding in ("utf-8-sig", "cp1252"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            for part in slices():
                decoder.decode(part)
            decoder.decode(b"", final=True)
            return encoding
        except UnicodeDecodeError:
            continue
    return "latin-1"


def _decode(data: bytes) -> str:
    return data.decode(_encoding(lambda: [data]))


_EOL = re.compile(r"\r\n|\r|\n")


def _lines(slices: Iterable[bytes], encoding: str) -> Iterator[str]:
    """The file's lines with their ends (CR LF, LF or a lone CR, as spreadsheets write them), decoded one slice at a
    time; csv.reader joins quoted multi-line cells. A CR at the end of a slice waits for the next one (its LF)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    pending = ""
    for part in slices:
        text = pending + decoder.decode(part)
        start = 0
        for end in _EOL.finditer(text):
            if end.group() == "\r" and end.end() == len(text):
                break
            yield text[start:end.end()]
            start = end.end()
        pending = text[start:]
    pending += decoder.decode(b"", final=True)
    start = 0
    for end in _EOL.finditer(pending):
        yield pending[start:end.end()]
        start = end.end()
    if pending[start:]:
        yield pending[start:]


def byte_slices(data: bytes) -> Callable[[], Iterator[bytes]]:
    """A file in memory as the slice source read_file streams from."""
    return lambda: (data[i:i + SLICE] for i in range(0, len(data), SLICE))


def _headers(raw: list) -> list[str]:
    """Trimmed header names; a repeated one gets " #2", " #3"... so every column can be mapped."""
    out, seen = [], {}
    for i, h in enumerate(raw):
        name = str(h).strip() if h is not None and str(h).strip() else f"column {i + 1}"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return out


def _unescaped(value: str) -> str:
    """Exports put an apostrophe before text a spreadsheet would run as a formula; it is not part of the value."""
    return value[1:] if value[:1] == "'" and value[1:2] in ("=", "+", "-", "@") else value


def _too_many(max_rows: int, what: str = "rows"):
    return field_error("file", f"more than {max_rows} {what}: split the file (one import per part)", status=413,
                       title="File too large", type_="import-too-large")


def _rows(records, max_rows: int, keep: int) -> tuple[list[str], list[tuple[int, dict]], int]:
    """The header, the first `keep` data rows, and how many data rows there are (refused above max_rows)."""
    columns: list[str] | None = None
    rows, total = [], 0
    for number, record in enumerate(records, start=1):
        cells = ["" if v is None else v for v in record]
        if not any(str(c).strip() for c in cells):
            continue
        if columns is None:
            columns = _headers(cells)
            continue
        if total >= max_rows:
            raise _too_many(max_rows)
        total += 1
        if total <= keep:
            rows.append((number, {c: _unescaped(str(v).strip()) for c, v in zip(columns, cells, strict=False)
                                  if str(v).strip()}))
    if columns is None:
        raise field_error("file", "the file is empty: the first row must name the columns")
    return columns, rows, total


def _stream(records: Iterator) -> Iterator[tuple[int, dict]]:
    """The data rows of records (the header skipped), as _rows keeps them, one at a time."""
    columns = None
    for number, record in enumerate(records, start=1):
        if columns is None:
            cells = ["" if v is None else v for v in record]
            if any(str(c).strip() for c in cells):
                columns = _headers(cells)
            continue
        row = {}
        for c, v in zip(columns, record, strict=False):
            text = v.strip() if type(v) is str else "" if v is None else str(v).strip()
            if text:
                row[c] = _unescaped(text) if text[0] == "'" else text
        if row or any(str(v).strip() for v in record[len(columns):] if v is not None):
            yield number, row


def read_csv(slices: Callable[[], Iterator[bytes]], max_rows: int, keep: int, stream: bool = False) -> Table:
    """`slices()` gives the file's bytes anew at each call: the file is read once for its encoding, once to count
    its rows (keeping `keep`), and, with `stream`, again at each Table.each()."""
    encoding = _encoding(slices)
    head = "".join(line for line, _ in zip(_lines(slices(), encoding), range(200), strict=False))[:8192]
    try:
        dialect = csv.Sniffer().sniff(head, delimiters=",;\t|")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    try:
        columns, rows, total = _rows(csv.reader(_lines(slices(), encoding), delimiter=delimiter), max_rows,
                                     0 if stream else keep)
    except csv.Error as exc:
        raise field_error("file", f"not a readable CSV file: {exc}") from None
    source = (lambda: _stream(csv.reader(_lines(slices(), encoding), delimiter=delimiter))) if stream else None
    return Table("csv", columns, rows, total=total, source=source)


def _cell(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # phone numbers and postal codes typed as numbers
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _workbook(data: bytes):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl's notes on styles it does not know say nothing about data
            return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise field_error("file", f"not a readable XLSX workbook ({type(exc).__name__})") from None


def _sheet_rows(data: bytes) -> Iterator[tuple[int, dict]]:
    workbook = _workbook(data)
    try:
        yield from _stream([_cell(v) for v in r] for r in workbook.worksheets[0].iter_rows(values_only=True))
    finally:
        workbook.close()


def read_xlsx(data: bytes, max_rows: int, keep: int, stream: bool = False) -> Table:
    workbook = _workbook(data)
    try:
        sheet = workbook.worksheets[0]
        columns, rows, total = _rows(([_cell(v) for v in r] for r in sheet.iter_rows(values_only=True)), max_rows,
                                     0 if stream else keep)
    finally:
        workbook.close()
    return Table("xlsx", columns, rows, total=total, source=(lambda: _sheet_rows(data)) if stream else None)


# -- vCard (RFC 6350; versions 3.0 and 4.0 read the same here) -------------------------------------------------

_IGNORED_TYPES = {"internet", "pref", "voice", "x400"}


def _label(prop) -> str | None:
    types = [t.lower() for t in prop.params.get("TYPE", []) for t in t.split(",")]
    useful = [t for t in types if t not in _IGNORED_TYPES]
    return useful[0][:50] if useful else None


def _text(value) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return str(value or "").strip()


def _card_fields(card, number: int, notes: list[dict]) -> dict:
    c = card.contents
    out: dict = {}
    kind = _text(c["kind"][0].value).lower() if "kind" in c else "individual"
    out["kind"] = "company" if kind == "org" else "person"
    if "n" in c:
        name = c["n"][0].value
        given = " ".join(x for x in (_text(name.given), _text(name.additional)) if x)
        if given:
            out["first_name"] = given
        if _text(name.family):
            out["last_name"] = _text(name.family)
    if "fn" in c and _text(c["fn"][0].value):
        out["full_name"] = _text(c["fn"][0].value)
    if "org" in c and _text(c["org"][0].value):
        out["company_name"] = _text(c["org"][0].value)
    if out["kind"] == "company":
        out["legal_name"] = out.pop("company_name", None) or out.get("full_name")
    if "title" in c and _text(c["title"][0].value):
        out["job_title"] = _text(c["title"][0].value)
    for prop, name in (("email", "email"), ("tel", "phone")):
        values = [{"value": _text(p.value), "label": _label(p)} for p in c.get(prop, []) if _text(p.value)]
        if values:
            out[name] = values
    if "url" in c and _text(c["url"][0].value):
        out["website"] = _text(c["url"][0].value)
    addresses = c.get("adr", [])
    if addresses:
        adr = next((a for a in addresses if _label(a) == "work"), addresses[0]).value
        street = [s.strip() for s in _text(adr.street).splitlines() if s.strip()]
        parts = {"billing_line1": street[0] if street else "", "billing_line2": " ".join(street[1:]),
                 "billing_city": _text(adr.city), "billing_region": _text(adr.region),
                 "billing_postal_code": _text(adr.code)}
        country = _text(adr.country)
        if len(country) == 2 and country.isalpha():
            parts["billing_country"] = country.upper()
        elif country:
            notes.append({"row": number, "field": "billing_country", "column": None,
                          "message": f"country {country!r} is not an ISO code (e.g. FR): left out"})
        out.update({k: v for k, v in parts.items() if v})
    return out


def read_vcards(data: bytes, max_rows: int, keep: int) -> Table:
    text = _decode(data)
    rows, notes, total = [], [], 0
    try:
        for number, card in enumerate(vobject.readComponents(text), start=1):
            if card.name.upper() != "VCARD":
                continue
            if total >= max_rows:
                raise _too_many(max_rows, "cards")
            total += 1
            if total <= keep:
                rows.append((number, _card_fields(card, number, notes)))
    except vobject.base.ParseError as exc:
        raise field_error("file", f"not a readable vCard file: {exc}") from None
    if not total:
        raise field_error("file", "no vCard (BEGIN:VCARD ... END:VCARD) in the file")
    return Table("vcf", [], rows, notes, total)


def read_file(file_name: str, data: bytes | Callable[[], Iterator[bytes]], max_rows: int, keep: int | None = None,
              stream: bool = False) -> Table:
    """The file's rows, refused (413) above max_rows; with `keep`, only the first `keep` rows are kept (the others
    are counted: Table.total). With `stream`, no row is kept: Table.each() reads them from the file again, one at a
    time. `data`: the bytes, or a function giving them in slices (a CSV is then never whole in memory; an XLSX or
    vCard file is joined: a zip is read from its end, and cards are few and small)."""
    keep = max_rows if keep is None else keep
    slices = byte_slices(data) if isinstance(data, bytes) else data
    head = next(iter(slices()), b"")
    fmt = detect_format(file_name, head)
    if fmt == "csv":
        return read_csv(slices, max_rows, keep, stream)
    whole = data if isinstance(data, bytes) else b"".join(slices())
    if fmt == "xlsx":
        return read_xlsx(whole, max_rows, keep, stream)
    return read_vcards(whole, max_rows, keep)
