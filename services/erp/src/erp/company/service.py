"""The company's identity: one row that every document prints (seller block, payment instructions, footer).

`company_view` answers the API; `seller` gives the documents a plain dict (never the ORM row)."""

import base64
import binascii
from datetime import UTC, datetime

from cloudevents.core.v1.event import CloudEvent
from servicekit import audit
from servicekit.etag import check_version
from servicekit.problems import field_error
from servicekit.validators import normalize_iban
from shared_events.actors import actor_extensions
from shared_events.envelope import new_event
from shared_events.outbox import record_event
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ..db import audit_log, outbox
from .models import CompanySettings

SUBJECT = "company"  # the one record's key on erp.company.v1
LOGO_MAX_BYTES = 256 * 1024
LOGO_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
FIELDS = ("legal_name", "trade_name", "address", "vat_id", "registration", "email", "phone", "website",
          "bank_accounts", "payment_terms_text", "document_footer", "dunning_texts")


def _row(session: Session, lock: bool = False) -> CompanySettings:
    """The single row, created empty the first time it is asked for."""
    session.execute(insert(CompanySettings).values(id=1, legal_name="", bank_accounts=[], dunning_texts={},
                                                   version=1).on_conflict_do_nothing())
    return session.get(CompanySettings, 1, with_for_update=lock, populate_existing=lock)


def _state(row: CompanySettings) -> dict:
    return {**{f: getattr(row, f) for f in FIELDS}, "has_logo": row.logo is not None}


def company_view(session: Session) -> dict:
    row = _row(session)
    return {**_state(row), "ready": bool(row.legal_name and row.address and row.vat_id), "version": row.version,
            "updated_at": row.updated_at}


def seller(session: Session) -> dict:
    """What a document prints about the seller, logo included (bytes and type)."""
    row = _row(session)
    return {**_state(row), "logo": row.logo, "logo_type": row.logo_type}


def logo(session: Session) -> tuple[bytes, str] | None:
    row = _row(session)
    return (row.logo, row.logo_type) if row.logo is not None else None


def _decode_logo(text: str) -> tuple[bytes, str]:
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise field_error("logo", "not base64: send the image file's bytes base64-encoded") from None
    if len(data) > LOGO_MAX_BYTES:
        raise field_error("logo", f"{len(data)} bytes: a logo may have {LOGO_MAX_BYTES} bytes at most")
    kind = next((t for magic, t in LOGO_TYPES.items() if data.startswith(magic)), None)
    if kind is None:
        raise field_error("logo", "not a PNG or JPEG image")
    return data, kind


def update_company(session: Session, expected_version: int, changes: dict, actor) -> dict:
    """Change some of the company's settings if the caller saw this version (If-Match)."""
    row = _row(session, lock=True)
    check_version(row.version, expected_version)
    before = _state(row)
    if "logo" in changes:
        logo_text = changes.pop("logo")
        row.logo, row.logo_type = _decode_logo(logo_text) if logo_text else (None, None)
    for account in changes.get("bank_accounts") or []:
        account["iban"] = normalize_iban(account["iban"])
        if account.get("bic"):
            account["bic"] = account["bic"].replace(" ", "").upper()
    if "dunning_texts" in changes:
        changes["dunning_texts"] = {**(row.dunning_texts or {}), **changes["dunning_texts"]}
    for field, value in changes.items():
        setattr(row, field, value)
    after = _state(row)
    if after != before:
        row.version += 1
        row.updated_at = datetime.now(UTC)
        session.flush()
        audit.record(session, audit_log, actor, "update", "company", "1", before, after)
        record_event(session, outbox, company_event(row, actor), "company")
    return company_view(session)


def company_state(row: CompanySettings) -> dict:
    """erp.company.v1: what the CRM's quotes print of the seller (the logo base64-encoded)."""
    return {**{f: getattr(row, f) for f in FIELDS if f != "dunning_texts"},
            "logo": base64.b64encode(row.logo).decode() if row.logo is not None else None,
            "logo_type": row.logo_type, "version": row.version, "updated_at": row.updated_at.isoformat()}


def company_event(row: CompanySettings, actor=None) -> CloudEvent:
    return new_event("erp.company.updated", SUBJECT, company_state(row), row.version, **actor_extensions(actor))
