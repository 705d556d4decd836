"""Use cases of campaigns: write the content (templates checked when saved), attach files, preview for a chosen
recipient, send a test, schedule, pause, resume, cancel, resend to those not yet sent or failed, and read the
figures. The worker (campaigns.sender) does the sending."""

import base64
import binascii
from datetime import UTC, datetime

from servicekit import audit
from servicekit.etag import check_version
from servicekit.mail_outbox import enqueue
from servicekit.pagination import paginate
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from ..db import audit_log, mail_outbox
from ..deals.models import Deal
from ..leads.models import Lead
from ..parties.models import Party
from . import content
from .models import (
    Campaign,
    CampaignAttachment,
    CampaignClick,
    CampaignRecipient,
    EmailAddress,
    MailingList,
    Segment,
)
from .sender import materialize

EDITABLE = ("draft",)
FIELDS = ("name", "subject", "html_body", "text_body", "from_name", "reply_to", "segment_id", "list_id",
          "require_consent", "tracking", "rate_per_second")


def _get(session: Session, campaign_id, lock: bool = False) -> Campaign:
    c = session.get(Campaign, str(campaign_id), with_for_update=lock)
    if c is None:
        raise NotFound("campaign", campaign_id)
    return c


def _state(c: Campaign, status: str | tuple, action: str) -> None:
    allowed = (status,) if isinstance(status, str) else status
    if c.status not in allowed:
        raise Problem(409, "Not in this state", f"A {c.status} campaign cannot be {action}d "
                      f"(only {', '.join(allowed)}).", "conflict", errors=[{"field": "status", "message": c.status}])


def campaign_view(session: Session, c: Campaign) -> dict:
    attachments = session.execute(select(CampaignAttachment.id, CampaignAttachment.filename,
                                         CampaignAttachment.content_type, CampaignAttachment.size)
                                  .where(CampaignAttachment.campaign_id == c.id)
                                  .order_by(CampaignAttachment.created_at)).all()
    return {**{f: getattr(c, f) for f in FIELDS}, "id": c.id, "status": c.status, "scheduled_at": c.scheduled_at,
            "started_at": c.started_at, "finished_at": c.finished_at, "owner_id": c.owner_id, "version": c.version,
            "newsletter_id": c.newsletter_id, "issue_at": c.issue_at,
            "created_at": c.created_at, "updated_at": c.updated_at,
            "attachments": [dict(a._mapping) for a in attachments]}


def _check(session: Session, data: dict) -> None:
    for name, html_mode in (("subject", False), ("html_body", True), ("text_body", False)):
        if data.get(name):
            content.check_template(name, data[name], html_mode)
    if data.get("segment_id") and session.get(Segment, str(data["segment_id"])) is None:
        raise field_error("segment_id", "no such segment")
    if data.get("list_id") and session.get(MailingList, str(data["list_id"])) is None:
        raise field_error("list_id", "no such mailing list")


def _name_free(session: Session, name: str, campaign_id: str | None = None) -> None:
    stmt = select(Campaign.id).where(func.lower(Campaign.name) == name.lower())
    if campaign_id:
        stmt = stmt.where(Campaign.id != campaign_id)
    if session.execute(stmt).first():
        raise field_error("name", "already used", status=409, title="Name taken", type_="conflict")


def create_campaign(session: Session, data: dict, actor) -> dict:
    _check(session, data)
    _name_free(session, data["name"])
    values = {f: (str(data[f]) if f in ("segment_id", "list_id") and data.get(f) else data.get(f)) for f in FIELDS
              if f in data}
    c = Campaign(**values, status="draft", owner_id=actor.user_id, version=1)
    session.add(c)
    session.flush()
    audit.record(session, audit_log, actor, "create", "campaign", c.id, None, {"name": c.name})
    return campaign_view(session, c)


def list_campaigns(session: Session) -> list[dict]:
    return [campaign_view(session, c) for c in
            session.execute(select(Campaign).order_by(Campaign.created_at.desc())).scalars()]


def get_campaign(session: Session, campaign_id) -> dict:
    return campaign_view(session, _get(session, campaign_id))


def update_campaign(session: Session, campaign_id, expected: int, changes: dict, actor) -> dict:
    c = _get(session, campaign_id, lock=True)
    check_version(c.version, expected)
    _state(c, EDITABLE, "change")
    _check(session, changes)
    if "name" in changes:
        _name_free(session, changes["name"], c.id)
    audience = {k: changes[k] for k in ("segment_id", "list_id") if k in changes}
    if audience and sum(1 for v in ({"segment_id": c.segment_id, "list_id": c.list_id} | audience).values() if v) != 1:
        raise field_error("segment_id", "a campaign goes to one segment or one list")
    for k, v in changes.items():
        setattr(c, k, str(v) if k in ("segment_id", "list_id") and v else v)
    c.version += 1
    c.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, audit_log, actor, "update", "campaign", c.id, changes={k: str(v)[:200]
                                                                                  for k, v in changes.items()})
    return campaign_view(session, c)


def add_attachment(session: Session, campaign_id, expected: int, data: dict, actor) -> dict:
    c = _get(session, campaign_id, lock=True)
    check_version(c.version, expected)
    _state(c, EDITABLE, "change")
    try:
        raw = base64.b64decode(data["content_base64"], validate=True)
    except (binascii.Error, ValueError):
        raise field_error("content_base64", "not base64") from None
    if len(raw) > content.MAX_ATTACHMENT:
        raise field_error("content_base64", f"over {content.MAX_ATTACHMENT // 1024} KiB", status=413,
                          title="Content too large", type_="content-too-large")
    count = session.execute(select(func.count()).where(CampaignAttachment.campaign_id == c.id)).scalar_one()
    if count >= content.MAX_ATTACHMENTS:
        raise field_error("content_base64", f"at most {content.MAX_ATTACHMENTS} attachments", status=409,
                          title="Too many attachments", type_="conflict")
    session.add(CampaignAttachment(campaign_id=c.id, filename=data["filename"], content_type=data["content_type"],
                                   size=len(raw), content=raw))
    c.version += 1
    session.flush()
    audit.record(session, audit_log, actor, "attach", "campaign", c.id, changes={"filename": data["filename"]})
    return campaign_view(session, c)


def _sample_context(session: Session, c: Campaign, email: str | None, public_url: str) -> dict:
    """The merge fields of the chosen recipient (a party or lead holding the address), else the sample values."""
    ctx = {**content.SAMPLE, "campaign": {"name": c.name}, "unsubscribe_url": public_url + "/unsubscribe-preview"}
    if not email:
        return ctx
    party = session.execute(select(Party).where(Party.emails.op("@>")([{"value": email}]))
                            .limit(1)).scalar_one_or_none()
    if party is not None:
        company = session.get(Party, party.company_id) if party.company_id else None
        ctx["recipient"] = {"email": email, "name": party.display_name, "first_name": party.first_name or "",
                            "last_name": party.last_name or ""}
        ctx["company"] = {"name": company.display_name if company else ""}
        return ctx
    lead = session.execute(select(Lead).where(func.lower(Lead.email) == email.lower()).limit(1)).scalar_one_or_none()
    ctx["recipient"] = {"email": email, "name": lead.display_name if lead else email,
                        "first_name": (lead.first_name if lead else "") or "", "last_name": ""}
    ctx["company"] = {"name": (lead.company_name if lead else "") or ""}
    return ctx


def preview(session: Session, campaign_id, email: str | None, public_url: str) -> dict:
    """The campaign as the chosen recipient would read it (subject, HTML with CSS inlined, text); sends nothing."""
    c = _get(session, campaign_id)
    r = content.render(c.subject, c.html_body, c.text_body, _sample_context(session, c, email, public_url))
    return {"subject": r.subject, "html": r.html, "text": r.text}


def test_send(session: Session, campaign_id, to: str, sender: str, public_url: str, actor) -> dict:
    """Mail the campaign to a colleague (marked as a test, no tracking), through the mail outbox."""
    c = _get(session, campaign_id)
    address = session.get(EmailAddress, to.lower())
    if address is not None and address.suppressed_reason:
        raise field_error("to", f"suppressed ({address.suppressed_reason}): nothing is sent to it", status=409,
                          title="Suppressed", type_="conflict")
    r = content.render(c.subject, c.html_body, c.text_body, _sample_context(session, c, to, public_url))
    attachments = session.execute(select(CampaignAttachment).where(CampaignAttachment.campaign_id == c.id)).scalars()
    msg = content.message(sender=sender, to=to, to_name=None,
                          rendered=content.Rendered(f"[TEST] {r.subject}", r.html, r.text),
                          message_id=f"<test.{datetime.now(UTC).timestamp():.6f}.{c.id[:8]}@crm>",
                          list_id=f"test <{c.id}.test>", unsubscribe_url=public_url + "/unsubscribe-preview",
                          unsubscribe_mailto="mailto:unsubscribe@invalid", attachments=list(attachments))
    enqueue(session, mail_outbox, msg, "campaign_test", c.id)
    audit.record(session, audit_log, actor, "test_send", "campaign", c.id, changes={"to": to})
    return {"status": "queued", "to": to}


def schedule(session: Session, campaign_id, at: datetime | None, expected: int | None, actor) -> dict:
    """Send now (the worker starts within a second) or at a given time; the audience is taken when it starts."""
    c = _get(session, campaign_id, lock=True)
    if expected is not None:
        check_version(c.version, expected)
    _state(c, "draft", "schedule")
    c.status, c.scheduled_at = "scheduled", at or datetime.now(UTC)
    c.version += 1
    audit.record(session, audit_log, actor, "schedule", "campaign", c.id, changes={"at": c.scheduled_at.isoformat()})
    return campaign_view(session, c)


def pause(session: Session, campaign_id, expected: int | None, actor) -> dict:
    """Stop sending after the message in flight; nothing is lost (resume goes on where it stopped)."""
    return _move(session, campaign_id, expected, actor, ("sending", "scheduled"), "paused", "pause")


def cancel(session: Session, campaign_id, expected: int | None, actor) -> dict:
    return _move(session, campaign_id, expected, actor, ("draft", "scheduled", "sending", "paused"), "cancelled",
                 "cancel")


def resume(session: Session, campaign_id, expected: int | None, actor) -> dict:
    c = _get(session, campaign_id)
    return _move(session, campaign_id, expected, actor, ("paused",),
                 "sending" if c.started_at else "scheduled", "resume")


def _move(session, campaign_id, expected, actor, allowed, status, action) -> dict:
    c = _get(session, campaign_id, lock=True)
    if expected is not None:
        check_version(c.version, expected)
    _state(c, allowed, action)
    before, c.status = c.status, status
    c.version += 1
    c.updated_at = datetime.now(UTC)
    audit.record(session, audit_log, actor, action, "campaign", c.id, {"status": before}, {"status": status})
    return campaign_view(session, c)


def resend(session: Session, campaign_id, failed: bool, expected: int | None, actor) -> dict:
    """Send to those not sent yet: addresses that joined the audience since (and are not suppressed) and, with
    `failed`, those whose sending failed; never again to anyone already sent."""
    c = _get(session, campaign_id, lock=True)
    if expected is not None:
        check_version(c.version, expected)
    _state(c, ("sending", "paused", "cancelled", "sent"), "resend")
    added = materialize(session, c) if c.started_at else 0
    retried = 0
    if failed:
        retried = session.execute(update(CampaignRecipient).where(
            CampaignRecipient.campaign_id == c.id, CampaignRecipient.status == "failed")
            .values(status="queued", attempts=0, next_attempt_at=func.now(), last_error=None)).rowcount
    c.status = "sending" if c.started_at else "scheduled"
    c.finished_at = None
    c.version += 1
    audit.record(session, audit_log, actor, "resend", "campaign", c.id, changes={"added": added, "retried": retried})
    return {**campaign_view(session, c), "added": added, "retried": retried}


def statistics(session: Session, campaign_id) -> dict:
    """What the campaign did: recipients by outcome, opens and clicks (unique and per link), unsubscribes,
    bounces, complaints, and the leads and won deals attributed to it (leads whose campaign is its name)."""
    c = _get(session, campaign_id)
    r = CampaignRecipient

    def n(cond):
        return func.count(case((cond, 1)))
    row = session.execute(select(
        func.count().label("recipients"), n(r.status == "queued").label("queued"),
        n(r.status == "sent").label("sent"), n(r.status == "failed").label("failed"),
        n(r.status == "skipped").label("skipped"), n(r.bounce == "hard").label("bounced_hard"),
        n(r.bounce == "soft").label("bounced_soft"), n(r.opened_at.is_not(None)).label("opened"),
        func.coalesce(func.sum(r.opens), 0).label("opens"), n(r.clicked_at.is_not(None)).label("clicked"),
        n(r.unsubscribed_at.is_not(None)).label("unsubscribed"),
        n(r.unsubscribe_scope == "list").label("unsubscribed_from_list"),
        n(r.complained_at.is_not(None)).label("complained")).where(r.campaign_id == c.id)).one()
    clicks = session.execute(select(CampaignClick.url, func.count().label("clicks"),
                                    func.count(func.distinct(CampaignClick.recipient_id)).label("unique_clicks"))
                             .where(CampaignClick.campaign_id == c.id).group_by(CampaignClick.url)
                             .order_by(func.count().desc(), CampaignClick.url)).all()
    leads = select(Lead.id).where(Lead.campaign == c.name)
    won = session.execute(select(func.count()).where(Deal.source_lead_id.in_(leads), Deal.status == "won")
                          ).scalar_one()
    return {**dict(row._mapping), "campaign_id": c.id, "status": c.status,
            "links": [dict(x._mapping) for x in clicks],
            "leads": session.execute(select(func.count()).select_from(leads.subquery())).scalar_one(),
            "won_deals": won}


def recipients(session: Session, campaign_id, status: str | None, page: int, page_size: int) -> dict:
    _get(session, campaign_id)
    q = select(CampaignRecipient).where(CampaignRecipient.campaign_id == str(campaign_id))
    if status:
        q = q.where(CampaignRecipient.status == status)
    return paginate(session, q.order_by(CampaignRecipient.id), page, page_size)

