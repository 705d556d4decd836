"""Use cases of audiences: segments (saved filters), static lists and their CSV import, the suppression list."""

import csv
import io
from datetime import UTC, datetime

from marshmallow import ValidationError, validate
from servicekit import audit
from servicekit.etag import check_version
from servicekit.pagination import paginate
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from ..db import audit_log
from . import audiences, consent
from .models import EmailAddress, ListMember, MailingList, Segment
from .schemas import SegmentFilterSchema

MAX_IMPORT_ROWS = 50_000
_is_email = validate.Email()


def _name_free(session: Session, model, name: str, record_id: str | None = None) -> None:
    stmt = select(model.id).where(func.lower(model.name) == name.lower())
    if record_id:
        stmt = stmt.where(model.id != record_id)
    if session.execute(stmt).first():
        raise field_error("name", "already used", status=409, title="Name taken", type_="conflict")


def _get(session: Session, model, record_id, what: str, lock: bool = False):
    record = session.get(model, str(record_id), with_for_update=lock)
    if record is None:
        raise NotFound(what, record_id)
    return record


def _stored(f: dict) -> dict:
    """A loaded filter as JSON (ids and times as text); `segment_audience` loads it back."""
    return SegmentFilterSchema().dump(f)


def segment_audience(segment: Segment, require_consent: bool = False):
    """The segment's query as it stands now (its filter read back through the schema)."""
    return audiences.segment_query(segment.subject, SegmentFilterSchema().load(segment.filter), require_consent)


# -- segments --------------------------------------------------------------------------------------------------

def segment_view(s: Segment) -> dict:
    return {"id": s.id, "name": s.name, "subject": s.subject, "filter": s.filter, "version": s.version,
            "created_at": s.created_at, "updated_at": s.updated_at}


def create_segment(session: Session, data: dict, actor) -> dict:
    _name_free(session, Segment, data["name"])
    segment = Segment(name=data["name"], subject=data["subject"], filter=_stored(data["filter"]), version=1)
    session.add(segment)
    session.flush()
    audit.record(session, audit_log, actor, "create", "segment", segment.id, None, data["filter"])
    return segment_view(segment)


def list_segments(session: Session) -> list[dict]:
    return [segment_view(s) for s in session.execute(select(Segment).order_by(Segment.name)).scalars()]


def get_segment(session: Session, segment_id) -> dict:
    return segment_view(_get(session, Segment, segment_id, "segment"))


def update_segment(session: Session, segment_id, expected: int, changes: dict, actor) -> dict:
    segment = _get(session, Segment, segment_id, "segment", lock=True)
    check_version(segment.version, expected)
    if "name" in changes:
        _name_free(session, Segment, changes["name"], segment.id)
    before = segment_view(segment)
    for key, value in changes.items():
        setattr(segment, key, _stored(value) if key == "filter" else value)
    segment.version += 1
    segment.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, audit_log, actor, "update", "segment", segment.id, before["filter"], segment.filter)
    return segment_view(segment)


def preview_segment(session: Session, segment_id) -> dict:
    """The segment evaluated now: how many it reaches (suppressed addresses out) and a sample."""
    segment = _get(session, Segment, segment_id, "segment")
    return audiences.preview(session, segment_audience(segment))


def preview_filter(session: Session, subject: str, f: dict) -> dict:
    """A filter evaluated without saving it (the segment builder's live count)."""
    return audiences.preview(session, audiences.segment_query(subject, f))


# -- lists -----------------------------------------------------------------------------------------------------

def list_view(session: Session, m: MailingList) -> dict:
    members = session.execute(select(func.count()).where(ListMember.list_id == m.id,
                                                         ListMember.unsubscribed_at.is_(None))).scalar_one()
    return {"id": m.id, "name": m.name, "description": m.description, "members": members, "version": m.version,
            "created_at": m.created_at, "updated_at": m.updated_at}


def create_list(session: Session, data: dict, actor) -> dict:
    _name_free(session, MailingList, data["name"])
    m = MailingList(name=data["name"], description=data.get("description"), version=1)
    session.add(m)
    session.flush()
    audit.record(session, audit_log, actor, "create", "mailing_list", m.id, None, {"name": m.name})
    return list_view(session, m)


def list_lists(session: Session) -> list[dict]:
    return [list_view(session, m) for m in session.execute(select(MailingList).order_by(MailingList.name)).scalars()]


def get_list(session: Session, list_id) -> dict:
    return list_view(session, _get(session, MailingList, list_id, "mailing list"))


def list_members(session: Session, list_id, page: int, page_size: int) -> dict:
    _get(session, MailingList, list_id, "mailing list")
    q = (select(ListMember.email, ListMember.name, ListMember.source, ListMember.added_at, EmailAddress.consent,
                EmailAddress.suppressed_reason, ListMember.unsubscribed_at)
         .join(EmailAddress, EmailAddress.email == ListMember.email)
         .where(ListMember.list_id == str(list_id)).order_by(ListMember.email))
    return paginate(session, q, page, page_size, entities=False)


def _csv_rows(text: str) -> list[tuple[int, str, str | None]]:
    """(line, email, name) of each row; 422 naming every bad line, so a file imports whole or not at all."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip().lower() for h in reader.fieldnames or []]
    except csv.Error as exc:
        raise field_error("csv", f"the header is not CSV ({exc})") from None
    if "email" not in header:
        raise field_error("csv", "the first line must name the columns, one of them `email`")
    reader.fieldnames = header
    rows, errors = [], []
    try:
        _read(reader, rows, errors)
    except csv.Error as exc:
        raise field_error("csv", f"line {reader.line_num}: not CSV ({exc})") from None
    if errors:
        raise Problem(422, "Invalid request", f"{len(errors)} line(s) are not valid; nothing was imported.",
                      "validation-error", errors=errors[:100])
    if not rows:
        raise field_error("csv", "no rows after the header")
    return rows


def _read(reader: csv.DictReader, rows: list, errors: list) -> None:
    for row in reader:
        line = reader.line_num
        if len(rows) >= MAX_IMPORT_ROWS:
            raise field_error("csv", f"at most {MAX_IMPORT_ROWS} rows per import", status=413,
                              title="Content too large", type_="content-too-large")
        email = consent.normalize(row.get("email") or "")
        try:
            _is_email(email)
            if len(email) > 254:
                raise ValidationError("too long")
        except ValidationError:
            errors.append({"field": f"csv[{line}].email", "message": f"line {line}: not an email address"})
            continue
        rows.append((line, email, ((row.get("name") or "").strip()[:300] or None)))


def import_members(session: Session, list_id, text: str, already_confirmed: bool, source: str, actor) -> dict:
    """Add a CSV's addresses to the list; with already_confirmed, record their consent as given (method import,
    with the source named), for subscribers who confirmed elsewhere before. An address that left the list stays
    out (only its own new subscription brings it back)."""
    m = _get(session, MailingList, list_id, "mailing list", lock=True)
    rows = _csv_rows(text)
    added = confirmed = 0
    for _, email, name in rows:
        if already_confirmed:
            before = consent.address(session, email).consent
            consent.set_consent(session, email, "subscribed", method="import", source=source, actor=actor)
            confirmed += before != "subscribed"
        else:
            consent.address(session, email)
        result = session.execute(insert(ListMember).values(list_id=m.id, email=email, name=name, source=source)
                                 .on_conflict_do_nothing(index_elements=["list_id", "email"]))
        added += result.rowcount
    suppressed = session.execute(select(func.count()).select_from(ListMember).join(
        EmailAddress, EmailAddress.email == ListMember.email).where(
        ListMember.list_id == m.id, EmailAddress.email.in_([e for _, e, _ in rows]),
        EmailAddress.suppressed_reason.is_not(None))).scalar_one()
    audit.record(session, audit_log, actor, "import", "mailing_list", m.id,
                 changes={"rows": len(rows), "added": added, "source": source, "already_confirmed": already_confirmed})
    return {"rows": len(rows), "added": added, "already_members": len(rows) - added, "confirmed": confirmed,
            "suppressed": suppressed}


# -- addresses and the suppression list --------------------------------------------------------------------------

def address_view(a: EmailAddress, changes=None) -> dict:
    view = {"email": a.email, "consent": a.consent, "consent_at": a.consent_at, "consent_method": a.consent_method,
            "consent_source": a.consent_source, "consent_ip": a.consent_ip, "suppressed_reason": a.suppressed_reason,
            "suppressed_at": a.suppressed_at, "suppressed_note": a.suppressed_note, "version": a.version}
    if changes is not None:
        view["history"] = [{"change": c.change, "method": c.method, "source": c.source, "ip": c.ip,
                            "actor": c.actor, "at": c.at} for c in changes]
    return view


def show_address(session: Session, email: str) -> dict:
    a = session.get(EmailAddress, consent.normalize(email))
    if a is None:
        raise NotFound("address", email)
    return address_view(a, consent.history(session, a.email))


def set_consent(session: Session, data: dict, actor) -> dict:
    """Consent recorded by a user (e.g. given on paper or by phone), with its source."""
    a = consent.set_consent(session, data["email"], data["consent"], method="api", source=data.get("source"),
                            actor=actor)
    return address_view(a, consent.history(session, a.email))


def list_suppressions(session: Session, reason: str | None, page: int, page_size: int) -> dict:
    q = select(EmailAddress).where(EmailAddress.suppressed_reason.is_not(None))
    if reason:
        q = q.where(EmailAddress.suppressed_reason == reason)
    page_ = paginate(session, q.order_by(EmailAddress.suppressed_at.desc(), EmailAddress.email), page, page_size)
    return {**page_, "items": [address_view(a) for a in page_["items"]]}


def block(session: Session, data: dict, actor) -> dict:
    return address_view(consent.suppress(session, data["email"], "manual", note=data.get("note"), actor=actor))


def unblock(session: Session, email: str, actor) -> None:
    consent.release(session, email, actor)
