"""Website lead capture: the lead forms, and the public endpoint's use case (the CRM's one unauthenticated write).

A submission goes through, in order: the form key (unknown or inactive: 404), the Origin (when the form names
its websites: 403), the rate limit per form and client address (10 a minute, 100 an hour: 429 with Retry-After;
counted in lead_capture_hits so every web worker sees the same count), the honeypot (filled in: answered like a
success, nothing stored), then validation (422). Body size is checked by the endpoint before any of this (413).

Duplicates: a submission to the same form with the same email within DUPLICATE_WINDOW of the previous one does
not make a second lead. It is merged into that lead: empty fields are filled in, a new message is appended, and
`submissions` counts how many came in. The audit trail keeps each merge.
"""

import secrets
from datetime import UTC, datetime, timedelta

from marshmallow import ValidationError
from servicekit import audit, ratelimit
from servicekit.auth.principal import Principal
from servicekit.etag import check_version
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from ..access import service as access
from ..db import audit_log
from . import dedupe
from .models import Lead, LeadCaptureHit, LeadForm
from .schemas import LeadSubmissionSchema
from .service import add_lead, changed, clean, lead_state, refresh_keys

MAX_BODY = 16 * 1024
MAX_FIELDS = 50
LIMITS = ((timedelta(minutes=1), 10), (timedelta(hours=1), 100))
DUPLICATE_WINDOW = timedelta(minutes=10)
MAX_MERGED_MESSAGE = 20_000
HONEYPOT = "website_url"
SUBMIT_PATH = "/api/v1/public/lead-forms/{}/submissions"


def new_form_key() -> str:
    return secrets.token_urlsafe(18)


def form_view(form: LeadForm) -> dict:
    return {"id": form.id, "name": form.name, "form_key": form.form_key,
            "submit_url": SUBMIT_PATH.format(form.form_key), "source": form.source, "campaign": form.campaign,
            "owner_id": form.owner_id,
            "allowed_origins": list(form.allowed_origins or []), "redirect_url": form.redirect_url,
            "active": form.active, "version": form.version,
            "created_at": form.created_at, "updated_at": form.updated_at, "key_rotated_at": form.key_rotated_at}


def _form_state(form: LeadForm) -> dict:
    state = form_view(form)
    for private in ("form_key", "submit_url", "created_at", "updated_at", "key_rotated_at"):
        state.pop(private)
    return state


def _origins(values) -> list[str]:
    return sorted({v.strip().lower().rstrip("/") for v in values or []})


def _name_free(session: Session, name: str, form_id: str | None = None) -> None:
    stmt = select(LeadForm.id).where(func.lower(LeadForm.name) == name.lower())
    if form_id:
        stmt = stmt.where(LeadForm.id != form_id)
    if session.execute(stmt).first():
        raise Problem(409, "Lead form exists", f"A lead form named {name} exists.", "conflict",
                      errors=[{"field": "name", "message": "already used"}])


def list_forms(session: Session) -> list[dict]:
    return [form_view(f) for f in session.execute(select(LeadForm).order_by(LeadForm.name)).scalars()]


def get_form(session: Session, form_id, lock: bool = False) -> LeadForm:
    stmt = select(LeadForm).where(LeadForm.id == str(form_id))
    form = session.execute(stmt.with_for_update() if lock else stmt).scalar_one_or_none()
    if form is None:
        raise NotFound("lead form", form_id)
    return form


def show_form(session: Session, form_id) -> dict:
    return form_view(get_form(session, form_id))


def create_form(session: Session, data: dict, actor: Principal) -> dict:
    """A form whose captured leads go to `owner_id` (default: the caller) with its source and campaign."""
    name = data["name"].strip()
    _name_free(session, name)
    owner = str(data.get("owner_id") or actor.user_id)
    access.check_assignee(session, owner)
    now = datetime.now(UTC)
    form = LeadForm(name=name, form_key=new_form_key(), source=data.get("source", "web_form"),
                    campaign=(data.get("campaign") or "").strip() or None, owner_id=owner,
                    allowed_origins=_origins(data.get("allowed_origins")), active=data.get("active", True),
                    redirect_url=data.get("redirect_url"),
                    version=1, created_at=now, updated_at=now)
    session.add(form)
    session.flush()
    audit.record(session, audit_log, actor, "create", "lead_form", form.id, None, _form_state(form))
    return form_view(form)


def update_form(session: Session, form_id, expected_version: int, changes: dict, actor: Principal) -> dict:
    form = get_form(session, form_id, lock=True)
    check_version(form.version, expected_version)
    if "name" in changes:
        changes["name"] = changes["name"].strip()
        _name_free(session, changes["name"], form.id)
    if "owner_id" in changes:
        changes["owner_id"] = str(changes["owner_id"])
        access.check_assignee(session, changes["owner_id"])
    if "allowed_origins" in changes:
        changes["allowed_origins"] = _origins(changes["allowed_origins"])
    if "campaign" in changes:
        changes["campaign"] = (changes["campaign"] or "").strip() or None
    diff = {k: v for k, v in changes.items() if getattr(form, k) != v}
    if not diff:
        return form_view(form)
    before = _form_state(form)
    for k, v in diff.items():
        setattr(form, k, v)
    form.version += 1
    form.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, audit_log, actor, "update", "lead_form", form.id, before, _form_state(form))
    return form_view(form)


def rotate_key(session: Session, form_id, actor: Principal) -> dict:
    """A new public key; the old one stops working at once (answered 404 like any unknown key)."""
    form = get_form(session, form_id, lock=True)
    form.form_key = new_form_key()
    form.key_rotated_at = form.updated_at = datetime.now(UTC)
    form.version += 1
    session.flush()
    audit.record(session, audit_log, actor, "rotate_key", "lead_form", form.id, changes={"form_key": "rotated"})
    return form_view(form)


# -- the public endpoint ---------------------------------------------------------------------------

def redirect_for(sessions: sessionmaker, form_key: str) -> str | None:
    """Where a browser that posted this active form goes next (None: answer in JSON)."""
    with sessions.begin() as session:
        return session.execute(select(LeadForm.redirect_url).where(LeadForm.form_key == form_key[:64],
                                                                   LeadForm.active)).scalar()


def _active_form(session: Session, form_key: str) -> LeadForm:
    form = session.execute(select(LeadForm).where(LeadForm.form_key == form_key[:64], LeadForm.active)
                           ).scalar_one_or_none()
    if form is None:
        raise Problem(404, "Not found", "No active lead form has this key.", "not-found")
    return form


def _check_origin(form: LeadForm, origin: str | None) -> str | None:
    """The origin to allow in the answer's CORS header; 403 for a website the form does not name."""
    if not form.allowed_origins:
        return "*"
    if origin is None:
        return None  # not a browser's cross-site post (a server relaying its own form): nothing to allow
    if origin.strip().lower().rstrip("/") not in form.allowed_origins:
        raise Problem(403, "Origin not allowed", "This form does not accept submissions from this website.",
                      "origin-not-allowed")
    return origin


def _admit(session: Session, form: LeadForm, address: str, now: datetime) -> None:
    """Count this request against the form's limits for the address, or answer 429."""
    ratelimit.admit(session, LeadCaptureHit, {"form_id": form.id, "address": address}, LIMITS, name="lead-capture",
                    now=now, title="Too many submissions")


def _validated(raw: dict) -> dict:
    if len(raw) > MAX_FIELDS:
        raise field_error("(body)", f"at most {MAX_FIELDS} fields")
    try:
        return LeadSubmissionSchema().load(raw)
    except ValidationError as err:
        errors = [{"field": "(body)" if f == "_schema" else f, "location": "body", "message": str(m)}
                  for f, msgs in err.normalized_messages().items()
                  for m in (msgs if isinstance(msgs, list) else [msgs])]
        raise Problem(422, "Invalid request", "; ".join(f"{e['field']}: {e['message']}" for e in errors),
                      "validation-error", errors=errors) from None


def _merge(session: Session, lead: Lead, data: dict, now: datetime, actor: str) -> None:
    before = lead_state(lead)
    for field, value in data.items():
        if field != "message" and value and not getattr(lead, field):
            setattr(lead, field, value)
    message = data.get("message")
    if message and message not in (lead.message or ""):
        lead.message = (f"{lead.message}\n\n{message}" if lead.message else message)[:MAX_MERGED_MESSAGE]
    lead.submissions += 1
    lead.last_submitted_at = now
    refresh_keys(lead)
    changed(session, lead, before, "merge_submission", actor)


def capture(session: Session, form: LeadForm, data: dict, now: datetime) -> None:
    """Store the visitor's lead for the form (source, campaign, owner from the form), or merge a repeat."""
    data = clean(data)
    actor = f"lead form {form.name} ({form.id})"
    email_key = dedupe.normalize_email(data.get("email"))
    if email_key:
        # two identical posts at once (a double click) must not both miss each other
        session.execute(select(func.pg_advisory_xact_lock(func.hashtext(f"lead-capture:{form.id}:{email_key}"))))
        recent = session.execute(
            select(Lead).where(Lead.form_id == form.id, Lead.email_key == email_key, Lead.status != "converted",
                               Lead.last_submitted_at > now - DUPLICATE_WINDOW)
            .order_by(Lead.last_submitted_at.desc()).limit(1).with_for_update()).scalar_one_or_none()
        if recent is not None:
            _merge(session, recent, data, now, actor)
            return
    add_lead(session, data, form.owner_id, actor, source=form.source, campaign=form.campaign, form_id=form.id,
             submissions=1, last_submitted_at=now)


def receive_submission(sessions: sessionmaker, form_key: str, address: str, origin: str | None,
                       raw: dict) -> str | None:
    """The public endpoint's use case; returns the origin to allow in the CORS header (None: no header).

    The request is counted in its own transaction first, so refused and bot submissions count too.
    """
    now = datetime.now(UTC)
    with sessions.begin() as session:
        form = _active_form(session, form_key)
        allow = _check_origin(form, origin)
        _admit(session, form, address, now)
        form_id = form.id
    raw = {k: v.strip() if isinstance(v, str) else v for k, v in raw.items()}
    raw = {k: v for k, v in raw.items() if v not in ("", None)}
    if raw.pop(HONEYPOT, None):
        return allow  # a bot: it learns nothing, and nothing is stored
    data = _validated(raw)
    with sessions.begin() as session:
        capture(session, get_form(session, form_id), data, now)
    return allow
