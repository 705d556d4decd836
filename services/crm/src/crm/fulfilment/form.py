"""The installer's public form: rate limit per address, the fields checked (photos by their bytes, not their names),
and the pages a phone shows. No login: the signed link is the only key (installation.py)."""

import html
import re
from datetime import timedelta

from marshmallow import Schema, ValidationError, fields, validate
from servicekit import ratelimit
from servicekit.problems import field_error
from sqlalchemy.orm import Session

from .models import InstallationFormHit

LIMITS = ((timedelta(minutes=1), 20), (timedelta(hours=1), 200))  # requests per address, valid links or not
MAX_PHOTOS = 6
MAX_PHOTO_BYTES = 5 * 1024 * 1024
MAX_BODY = MAX_PHOTOS * MAX_PHOTO_BYTES + 256 * 1024
MAX_SERIALS = 100
SERIAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/\-]{0,99}$")


class InstallationReportSchema(Schema):
    """What the installer fills in (a multipart/form-data post; photos come as files named `photos`)."""

    result = fields.String(required=True, validate=validate.OneOf(("done", "problem")),
                           metadata={"description": "done: installed and working; problem: see notes."})
    notes = fields.String(load_default=None, validate=validate.Length(max=5000))
    signed_by = fields.String(required=True, validate=validate.Length(min=1, max=200),
                              metadata={"description": "The customer's name as they signed off."})
    serials = fields.String(load_default="", validate=validate.Length(max=12000), metadata={
        "description": "Serial numbers installed, separated by commas, spaces or new lines."})
    photos = fields.Raw(metadata={"type": "string", "format": "binary",
                                  "description": f"Up to {MAX_PHOTOS} JPEG, PNG or WebP images of at most "
                                                 f"{MAX_PHOTO_BYTES // (1024 * 1024)} MiB each."})


def admit(session: Session, address: str) -> None:
    """Count this request against the address's limits, or answer 429 (whatever the link)."""
    ratelimit.admit(session, InstallationFormHit, {"address": address}, LIMITS, name="installation-form")


def image_type(data: bytes) -> str | None:
    """The image type the bytes are (whatever the file is called), or None."""
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def checked_report(form: dict, files: list) -> tuple[dict, list[tuple[str, bytes]]]:
    """The report's fields and its photos as (type, bytes), or 422 naming the field at fault."""
    unknown = sorted(set(form) - {"result", "notes", "signed_by", "serials"})
    if unknown:
        raise field_error(unknown[0], "unknown field")
    try:
        data = InstallationReportSchema().load(form)
    except ValidationError as err:
        field, messages = next(iter(err.normalized_messages().items()))
        raise field_error(field, messages[0] if isinstance(messages, list) else str(messages)) from None
    data["signed_by"] = data["signed_by"].strip()
    if not data["signed_by"]:
        raise field_error("signed_by", "the customer's name as they signed off")
    serials = [s for s in re.split(r"[\s,;]+", data.pop("serials") or "") if s]
    for s in serials:
        if not SERIAL.match(s):
            raise field_error("serials", f"{s[:40]!r} is not a serial number (letters, digits, . _ / - only, at most "
                              "100 characters)")
    if len(serials) > MAX_SERIALS:
        raise field_error("serials", f"at most {MAX_SERIALS} serial numbers")
    data["serials"] = list(dict.fromkeys(serials))
    if data.get("notes") is not None:
        data["notes"] = data["notes"].strip() or None
    if len(files) > MAX_PHOTOS:
        raise field_error("photos", f"at most {MAX_PHOTOS} photos")
    photos = []
    for i, f in enumerate(files):
        content = f.read(MAX_PHOTO_BYTES + 1)
        if len(content) > MAX_PHOTO_BYTES:
            raise field_error(f"photos.{i}", f"a photo is at most {MAX_PHOTO_BYTES // (1024 * 1024)} MiB")
        kind = image_type(content)
        if kind is None:
            raise field_error(f"photos.{i}", "not a JPEG, PNG or WebP image")
        photos.append((kind, content))
    return data, photos


# -- pages ----------------------------------------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head><body style="font-family: sans-serif; max-width: 36em; margin: 1em auto; padding: 0 1em">
<h1>{title}</h1>{body}</body></html>"""

INVALID_LINK = ("This link cannot be used",
                "<p>This installation form link is not valid: it may have expired, already been used, or been "
                "withdrawn by the office. Nothing was recorded. Ask the office for a new link.</p>")
THANKS = ("Thank you", "<p>The installation report was recorded. You can close this page.</p>")


def page(title: str, body: str) -> str:
    return _PAGE.format(title=html.escape(title), body=body)


def form_page(context: dict) -> str:
    products = "".join(f"<li>{html.escape(p)}</li>" for p in context["products"]) or "<li>(see the order)</li>"
    return page(f"Installation of order {context['order']}", f"""
<ul>{products}</ul>
<form method="post" enctype="multipart/form-data">
<p>Result: <label><input type="radio" name="result" value="done" required> installed</label>
<label><input type="radio" name="result" value="problem"> problem</label></p>
<p><label>Serial numbers installed<br><textarea name="serials" rows="3" cols="30"></textarea></label></p>
<p><label>Notes<br><textarea name="notes" rows="4" cols="30" maxlength="5000"></textarea></label></p>
<p><label>Photos (JPEG, PNG or WebP, up to {MAX_PHOTOS})<br>
<input type="file" name="photos" accept="image/jpeg,image/png,image/webp" multiple></label></p>
<p><label>Customer's name (sign-off)<br><input name="signed_by" required maxlength="200"></label></p>
<p><button type="submit">Send the report</button></p>
</form>
<p><small>This link works once and until {html.escape(context['expires_at'].isoformat())}.</small></p>""")
