"""Unsubscribing a recipient of a campaign: from the campaign's list only, or from every campaign.

A campaign sent to a static list carries list-scoped links (List-Unsubscribe, the body's unsubscribe_url and the
mailto:): their one-click POST takes the address off that list only, and the page they open offers both choices.
A segment's campaign has no list to leave: its links unsubscribe from everything. Either way the address's
consent history and the person's timeline say which."""

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from ..timeline.entries import add_entry
from . import consent
from .models import Campaign, CampaignRecipient, ListMember, MailingList


def scope_of(campaign: Campaign) -> str:
    """What a campaign's own links unsubscribe from."""
    return "list" if campaign.list_id else "all"


def leave(session: Session, rec: CampaignRecipient, scope: str, method: str, ip: str | None) -> str:
    """Unsubscribe the recipient (idempotent; leaving everything after leaving the list is a step further).
    Returns the scope now in force: list or all."""
    campaign = session.get(Campaign, rec.campaign_id)
    if scope == "list" and campaign.list_id is None:
        scope = "all"
    if rec.unsubscribe_scope in ("all", scope):
        return rec.unsubscribe_scope
    now = datetime.now(UTC)
    rec.unsubscribed_at, rec.unsubscribe_scope = rec.unsubscribed_at or now, scope
    actor = f"recipient of campaign {campaign.name}"
    if scope == "list":
        mailing_list = session.get(MailingList, campaign.list_id)
        member = session.get(ListMember, (mailing_list.id, rec.email), with_for_update=True)
        if member is not None and member.unsubscribed_at is None:
            member.unsubscribed_at, member.unsubscribe_method = now, method
        consent.left_list(session, rec.email, mailing_list.name, method=method, ip=ip, actor=actor)
        title, data = f"Unsubscribed from list {mailing_list.name} (campaign {campaign.name})", {
            "scope": "list", "list_id": mailing_list.id, "list": mailing_list.name}
    else:
        consent.set_consent(session, rec.email, "unsubscribed", method=method, source=f"campaign {campaign.name}",
                            ip=ip, actor=actor)
        title, data = f"Unsubscribed from every campaign (campaign {campaign.name})", {"scope": "all"}
    if rec.party_id or rec.lead_id:
        add_entry(session, kind="campaign_unsubscribed", title=title, party_id=rec.party_id, lead_id=rec.lead_id,
                  ref_type="campaign_recipient", ref_id=rec.id,
                  data={"campaign_id": rec.campaign_id, "email": rec.email, "method": method, **data})
    return scope
