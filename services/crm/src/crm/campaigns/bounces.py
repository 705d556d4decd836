"""Bounces and complaints: delivery status notifications (RFC 3464, codes of RFC 3463) and abuse reports (ARF,
RFC 5965), parsed with the standard library's `email`, matched to the ledger row by the VERP address they were
sent back to, and turned into suppressions.

- hard: a permanent failure (status 5.x.x, action failed): the address is suppressed at once;
- soft: a temporary one (4.x.x, or action delayed): counted; SOFT_LIMIT of them within SOFT_DAYS suppress it;
- complaint: the recipient marked the message as spam: suppressed;
- auto-replies (RFC 3834 Auto-Submitted, vacation notices) and anything that is no report: ignored.

Mail to `unsubscribe+<row>-<sig>@` (the List-Unsubscribe mailto:) unsubscribes the row's address; to
`unsubscribe-list+<row>-<sig>@` (a list campaign's) takes it off that list only."""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..timeline.entries import add_entry
from . import consent, links
from .models import Bounce, Campaign, CampaignRecipient
from .unsubscribe import leave

log = logging.getLogger(__name__)

SOFT_LIMIT = 3
SOFT_DAYS = 14


@dataclass(frozen=True)
class Finding:
    kind: str  # hard, soft, complaint
    email: str | None  # the failed recipient the report names (None: the row's own)
    status: str | None = None
    diagnostic: str | None = None


def _fields(part: Message) -> list[dict]:
    """The header blocks of a message/delivery-status part (one per-message block, then per-recipient ones)."""
    blocks = []
    payload = part.get_payload()
    if isinstance(payload, list):  # the email package parses each block as a message of headers
        for block in payload:
            blocks.append({k.lower(): str(v) for k, v in block.items()})
        return blocks
    text = payload if isinstance(payload, str) else ""
    for chunk in text.replace("\r\n", "\n").split("\n\n"):
        fields = {}
        for line in chunk.splitlines():
            if ":" in line and not line.startswith((" ", "\t")):
                key, _, value = line.partition(":")
                fields[key.strip().lower()] = value.strip()
        if fields:
            blocks.append(fields)
    return blocks


def _address(value: str | None) -> str | None:
    """'rfc822; ana@example.com' -> ana@example.com."""
    if not value:
        return None
    return value.split(";", 1)[-1].strip().strip("<>").lower() or None


def classify(raw: bytes) -> list[Finding]:
    """What a received message reports: nothing (an auto-reply, a human's answer), bounces or a complaint."""
    msg = message_from_bytes(raw, policy=policy.compat32)
    auto = (msg.get("Auto-Submitted") or "no").strip().lower()
    content_type = msg.get_content_type()
    report = (msg.get_param("report-type") or "").lower() if content_type == "multipart/report" else ""
    if report == "feedback-report":
        return [Finding("complaint", None, None, (msg.get("Subject") or "")[:1000])]
    if report != "delivery-status":
        if auto.startswith("auto-replied"):
            log.info("auto-reply ignored: %s", msg.get("Subject"))
        return []
    findings = []
    for part in msg.walk():
        if part.get_content_type() not in ("message/delivery-status", "message/global-delivery-status"):
            continue
        for block in _fields(part)[1:] or _fields(part):
            action = (block.get("action") or "").lower()
            status = (block.get("status") or "").split(" ")[0]
            if action not in ("failed", "delayed") and status[:1] not in ("4", "5"):
                continue  # delivered, relayed, expanded: not a bounce
            kind = "hard" if action == "failed" and status.startswith("5") else "soft"
            findings.append(Finding(kind, _address(block.get("final-recipient") or block.get("original-recipient")),
                                    status or None, (block.get("diagnostic-code") or "")[:1000] or None))
    return findings


def receive(session: Session, secret: str, rcpt: str, raw: bytes) -> str:
    """Apply one message delivered to one of our inbound addresses; what happened, in a few words."""
    local = rcpt.lower()
    if local.startswith(("unsubscribe+", "unsubscribe-list+")):
        found = links.mailto_recipient(secret, rcpt.partition("@")[0])
        return _unsubscribe(session, *found) if found else "unknown address"
    rid = links.verp_recipient(secret, rcpt)
    if rid is None:
        return "unknown address"
    rec = session.get(CampaignRecipient, rid, with_for_update=True)
    if rec is None:
        return "unknown recipient"
    findings = classify(raw)
    for f in findings:
        _apply(session, rec, f)
    return ", ".join(f.kind for f in findings) or "ignored"


def _apply(session: Session, rec: CampaignRecipient, f: Finding) -> None:
    now = datetime.now(UTC)
    session.add(Bounce(email=rec.email, recipient_id=rec.id, kind=f.kind, status=f.status, diagnostic=f.diagnostic,
                       at=now))
    name = session.get(Campaign, rec.campaign_id).name
    if f.kind == "complaint":
        rec.complained_at = rec.complained_at or now
        consent.suppress(session, rec.email, "complaint", note=f"complaint about campaign {name}", method="arf")
        title = f"Marked campaign {name} as spam"
    elif f.kind == "hard":
        rec.bounce, rec.bounced_at = "hard", now
        consent.suppress(session, rec.email, "hard_bounce", note=f"{f.status} {f.diagnostic or ''}"[:500],
                         method="dsn")
        title = f"Campaign {name} bounced ({f.status})"
    else:
        rec.bounce = rec.bounce or "soft"
        rec.bounced_at = rec.bounced_at or now
        session.flush()
        recent = session.execute(select(func.count()).where(Bounce.email == rec.email, Bounce.kind == "soft",
                                                            Bounce.at > now - timedelta(days=SOFT_DAYS))).scalar_one()
        if recent >= SOFT_LIMIT:
            consent.suppress(session, rec.email, "hard_bounce", method="dsn",
                             note=f"{recent} soft bounces in {SOFT_DAYS} days (last {f.status})")
        title = f"Campaign {name} delayed ({f.status})"
    if rec.party_id or rec.lead_id:
        add_entry(session, kind="campaign_complained" if f.kind == "complaint" else "campaign_bounced", title=title,
                  party_id=rec.party_id, lead_id=rec.lead_id, ref_type="campaign_recipient", ref_id=rec.id,
                  data={"campaign_id": rec.campaign_id, "email": rec.email, "kind": f.kind, "status": f.status})


def _unsubscribe(session: Session, rid: int, scope: str) -> str:
    rec = session.get(CampaignRecipient, rid, with_for_update=True)
    if rec is None:
        return "unknown recipient"
    leave(session, rec, scope, "mailto", None)
    return "unsubscribed" if scope == "all" else "unsubscribed from the list"
