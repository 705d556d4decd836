"""A held meeting becomes history: one occurrence of an event (or the event) turned into a logged `meeting`
activity with its notes and outcome, on the timeline of the event's party, deal and lead. Each occurrence is
recorded once (a second try answers 409 naming the activity)."""

from datetime import UTC, datetime, timedelta

from servicekit.auth.principal import Principal
from servicekit.problems import Problem, field_error
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..activities import service as activities
from . import recurrence as rec
from .models import AgendaAttendee, AgendaOverride, HeldMeeting
from .service import find_event
from .window import override_of, series_of


def _occurrence(session: Session, ev, occurrence: datetime | None) -> rec.Occurrence:
    series = series_of(ev)
    if not rec.is_recurring(series):
        return rec.Occurrence(None, ev.starts_at, ev.ends_at)
    if occurrence is None:
        raise field_error("occurrence", "name the occurrence (its original start) of the series that was held")
    rid = occurrence.astimezone(UTC)
    if not rec.is_occurrence(series, rid):
        raise field_error("occurrence", f"{occurrence.isoformat()} is not an occurrence of this series")
    overrides = [override_of(o) for o in session.execute(select(AgendaOverride).where(
        AgendaOverride.event_id == ev.id, AgendaOverride.recurrence_id == rid)).scalars()]
    if overrides and overrides[0].cancelled:
        raise field_error("occurrence", "this occurrence was cancelled")
    span = ev.ends_at - ev.starts_at
    for occ in rec.occurrences(series, overrides, rid - span - timedelta(days=400), rid + span + timedelta(days=400)):
        if occ.recurrence_id == rid:
            return occ
    raise field_error("occurrence", "this occurrence was cancelled")


def record_held(session: Session, event_id, data: dict, actor: Principal, now: datetime | None = None) -> dict:
    """Log the meeting as an activity (type meeting) owned by the caller, with the attendees who are CRM users as
    participants; answers the activity."""
    now = now or datetime.now(UTC)
    ev = find_event(session, event_id, actor)
    if not (ev.party_id or ev.deal_id or ev.lead_id):
        raise field_error("event_id", "link the event to a party, deal or lead first: an activity belongs to one")
    occ = _occurrence(session, ev, data.get("occurrence"))
    if occ.starts_at > now:
        raise Problem(409, "Not held yet", "This meeting has not started yet.", "not-held-yet")
    key = occ.recurrence_id or ev.starts_at
    done = session.execute(select(HeldMeeting).where(HeldMeeting.event_id == ev.id, HeldMeeting.occurrence == key)
                           .with_for_update()).scalar_one_or_none()
    if done is not None:
        raise Problem(409, "Already recorded", f"This meeting is already activity {done.activity_id}.",
                      "already-recorded", activity_id=done.activity_id)
    users = sorted({u for u in session.execute(select(AgendaAttendee.user_id).where(
        AgendaAttendee.event_id == ev.id, AgendaAttendee.user_id.is_not(None),
        AgendaAttendee.status != "declined")).scalars()} - {actor.user_id})
    activity = activities.log_activity(session, {
        "type": "meeting", "subject": occ.fields.get("title", ev.title)[:300], "body": data.get("notes"),
        "outcome": data.get("outcome"), "occurred_at": occ.starts_at, "ends_at": occ.ends_at,
        "party_id": ev.party_id, "deal_id": ev.deal_id, "lead_id": ev.lead_id, "participants": users}, actor)
    session.add(HeldMeeting(event_id=ev.id, occurrence=key, activity_id=str(activity["id"])))
    session.flush()
    return activity
