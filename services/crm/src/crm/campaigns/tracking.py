"""What recipients do with a campaign's message: open it, click its links, unsubscribe. Every link is signed
(campaigns.links): a forged one is a 404 and records nothing. Each first open, each click and the unsubscribe go
on the person's (or lead's) timeline."""

from datetime import UTC, datetime

from servicekit.problems import Problem
from sqlalchemy.orm import Session

from ..timeline.entries import add_entry
from . import links
from .models import Campaign, CampaignClick, CampaignRecipient, MailingList
from .unsubscribe import leave

# a transparent 1x1 GIF
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")


def _not_found() -> Problem:
    return Problem(404, "Not found", "This link is unknown.", "not-found")


def _row(rid) -> int:
    """The ledger row a link names (its path holds any text: anything but a row number is a 404)."""
    text = str(rid)
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise _not_found()
    return int(text)


def _recipient(session: Session, secret: str, rid, sig: str, *signed, lock: bool = False) -> CampaignRecipient:
    if not links.valid(secret, sig, *signed):
        raise _not_found()
    rec = session.get(CampaignRecipient, _row(rid), with_for_update=lock)
    if rec is None or rec.sent_at is None:
        raise _not_found()
    return rec


def _on_timeline(session: Session, rec: CampaignRecipient, kind: str, title: str, data: dict | None = None) -> None:
    if rec.party_id or rec.lead_id:
        add_entry(session, kind=kind, title=title, party_id=rec.party_id, lead_id=rec.lead_id,
                  ref_type="campaign_recipient", ref_id=rec.id,
                  data={"campaign_id": rec.campaign_id, "email": rec.email, **(data or {})})


def record_open(session: Session, secret: str, rid: str, sig: str) -> None:
    rec = _recipient(session, secret, rid, sig, "open", _row(rid), lock=True)
    rec.opens += 1
    if rec.opened_at is None:
        rec.opened_at = datetime.now(UTC)
        _on_timeline(session, rec, "campaign_opened", f"Opened campaign {session.get(Campaign, rec.campaign_id).name}")


def record_click(session: Session, secret: str, rid: str, sig: str, url: str) -> str:
    """The URL to send the browser to: only the one the signature names (no open redirect)."""
    if not url.startswith(("http://", "https://")):
        raise _not_found()
    rec = _recipient(session, secret, rid, sig, "click", _row(rid), url, lock=True)
    session.add(CampaignClick(campaign_id=rec.campaign_id, recipient_id=rec.id, url=url[:2000]))
    rec.clicked_at = rec.clicked_at or datetime.now(UTC)
    if rec.opened_at is None:  # a click proves the message was opened (images may have been blocked)
        rec.opened_at = rec.clicked_at
    _on_timeline(session, rec, "campaign_clicked",
                 f"Clicked a link of campaign {session.get(Campaign, rec.campaign_id).name}", {"url": url[:500]})
    return url


def _unsubscribe_link(session: Session, secret: str, rid: str, sig: str, lock: bool = False):
    """The recipient an unsubscribe link names and the scope its signature allows (a forged one is a 404)."""
    scope = links.unsubscribe_scope(secret, _row(rid), sig)
    if scope is None:
        raise _not_found()
    return _recipient(session, secret, rid, sig, links.UNSUBSCRIBE_ACTION[scope], _row(rid), lock=lock), scope


def _facts(session: Session, secret: str, rec: CampaignRecipient, scope: str) -> dict:
    campaign = session.get(Campaign, rec.campaign_id)
    mailing_list = session.get(MailingList, campaign.list_id) if campaign.list_id else None
    done = rec.unsubscribe_scope in ("all", scope) if mailing_list else rec.unsubscribe_scope is not None
    return {"email": rec.email, "campaign": campaign.name, "list": mailing_list.name if mailing_list else None,
            "scope": scope if mailing_list else "all", "unsubscribed": done,
            "unsubscribed_from": rec.unsubscribe_scope,
            "everything_path": links.unsubscribe_path(secret, rec.id, "all")}


def unsubscribe_facts(session: Session, secret: str, rid: str, sig: str) -> dict:
    """What the GET page shows: the address, the campaign, its list and what this link leaves. It changes nothing."""
    rec, scope = _unsubscribe_link(session, secret, rid, sig)
    return _facts(session, secret, rec, scope)


def unsubscribe(session: Session, secret: str, rid: str, sig: str, method: str, ip: str | None) -> dict:
    """Leave what the link names: the campaign's list only (a list-scoped link), or every campaign (the address's
    consent withdrawn and the address suppressed); idempotent."""
    rec, scope = _unsubscribe_link(session, secret, rid, sig, lock=True)
    leave(session, rec, scope, method, ip)
    return _facts(session, secret, rec, scope)
