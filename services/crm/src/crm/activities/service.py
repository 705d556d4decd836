"""Use cases of activities: each takes a session and the acting user, checks what that user may see and change,
writes the activity, keeps its timeline entry in step (same transaction) and writes the audit trail.

Who sees an activity: its owner, the managers of the owner's teams, those it is shared with (or their teams),
the users who took part (participants), and holders of activities:read_all. Who changes it: the same, minus
participants and read-only shares, plus holders of activities:update_all. A deleted activity is deleted for
real: its timeline entry and shares go with it, and the audit trail keeps what it said.
"""

from datetime import UTC, datetime, timedelta

from servicekit import audit
from servicekit.auth.principal import Principal, forbidden
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error, linked
from sqlalchemy import cast, delete, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID, array
from sqlalchemy.orm import Session

from ..access import service as access
from ..access.models import RecordShare
from ..access.visibility import editable, visible
from ..db import audit_log, auth
from ..deals.service import find_deal
from ..leads.service import find_lead
from ..parties.models import Party
from ..parties.service import find_party
from ..timeline import entries as timeline
from . import types
from .models import Activity, ActivityType

RECORD = "activity"
SUMMARY_CHARS = 1000  # how much of the body the timeline shows

SORTABLE = {
    "occurred_at": Activity.occurred_at,
    "created_at": Activity.created_at,
    "updated_at": Activity.updated_at,
    "type": Activity.type,
    "subject": func.lower(Activity.subject),
}

_STATE = ("type", "subject", "body", "direction", "occurred_at", "ends_at", "duration_minutes", "outcome",
          "party_id", "deal_id", "lead_id", "owner_id", "participants")


def _uuids(values: list[str]):
    return cast(array(values), ARRAY(UUID(as_uuid=False)))


def visible_activities(actor: Principal):
    """Activities the user may see: by the usual record rule, plus those they took part in."""
    return or_(visible("activities", RECORD, Activity.id, Activity.owner_id, actor),
               Activity.participants.contains(_uuids([actor.user_id])))


def _editable(actor: Principal):
    return editable("activities", RECORD, Activity.id, Activity.owner_id, actor)


def _state(a: Activity) -> dict:
    return {f: getattr(a, f) for f in _STATE}


def _select():
    return (select(Activity, ActivityType.label.label("type_label"), Party.display_name.label("party_name"))
            .join(ActivityType, ActivityType.key == Activity.type)
            .outerjoin(Party, Party.id == Activity.party_id))


def _view(activity: Activity, type_label: str | None, party_name: str | None) -> dict:
    return {**row_view(activity),
            "type_label": type_label, "party_name": party_name}


def _view_of(session: Session, activity: Activity) -> dict:
    row = session.execute(_select().where(Activity.id == activity.id)).one()
    return _view(row[0], row.type_label, row.party_name)


def _normalize(data: dict) -> dict:
    out = dict(data)
    for f in ("party_id", "deal_id", "lead_id", "owner_id"):
        if out.get(f) is not None:
            out[f] = str(out[f])
    if out.get("participants") is not None:
        out["participants"] = sorted({str(u) for u in out["participants"]})
    for f in ("subject", "body", "outcome"):
        if isinstance(out.get(f), str):
            out[f] = out[f].strip() or None
    return out


def _check_links(session: Session, data: dict, actor: Principal) -> None:
    """The party, deal and lead must be ones the caller may see (else 422 naming the field, as if they did not
    exist). A new activity on a deal, without a party, is with the deal's customer: `data` gets its party_id."""
    if data.get("party_id"):
        linked(lambda i: find_party(session, str(i), actor), data["party_id"], "party_id", "party")
    if data.get("deal_id"):
        deal = linked(lambda i: find_deal(session, str(i), actor), data["deal_id"], "deal_id", "deal")
        if not data.get("party_id"):
            data["party_id"] = deal.party_id
    if data.get("lead_id"):
        linked(lambda i: find_lead(session, str(i), actor), data["lead_id"], "lead_id", "lead")


def _check_participants(session: Session, user_ids: list[str] | None) -> None:
    if not user_ids:
        return
    found = set(session.execute(select(auth.users.c.id).where(auth.users.c.id.in_(user_ids),
                                                              auth.users.c.is_active)).scalars())
    missing = [u for u in user_ids if u not in found]
    if missing:
        raise field_error("participants", f"no active user with id {missing[0]}")


MAX_DURATION_MINUTES = 100_000  # what duration_minutes accepts, so one computed from ends_at stays in range
MAX_DURATION = timedelta(minutes=MAX_DURATION_MINUTES)


def _check_shape(a: Activity, kind: ActivityType) -> None:
    if a.direction and not kind.has_direction:
        raise field_error("direction", f"{kind.label} activities have no direction")
    if a.ends_at and a.ends_at < a.occurred_at:
        raise field_error("ends_at", "must not be before occurred_at")
    if a.ends_at and a.ends_at - a.occurred_at > MAX_DURATION:
        raise field_error("ends_at", f"at most {MAX_DURATION_MINUTES} minutes (about 69 days) after occurred_at")
    if not a.subject:
        raise field_error("subject", "an activity needs a subject")
    if not (a.party_id or a.deal_id or a.lead_id):
        raise field_error("party_id", "link the activity to a party, a deal or a lead")


def _minutes(a: Activity) -> int | None:
    return int((a.ends_at - a.occurred_at).total_seconds() // 60) if a.ends_at else None


def _timeline_fields(a: Activity, kind: ActivityType) -> dict:
    body = a.body or None
    return dict(kind="activity", title=f"{kind.label}: {a.subject}", occurred_at=a.occurred_at,
                summary=body[:SUMMARY_CHARS] if body else None, party_id=a.party_id, deal_id=a.deal_id,
                lead_id=a.lead_id, data={"activity_type": a.type, "direction": a.direction, "outcome": a.outcome,
                                         "duration_minutes": a.duration_minutes, "owner_id": a.owner_id})


def log_activity(session: Session, data: dict, actor: Principal) -> dict:
    """Log a call, email, message, meeting or note (owned by the caller unless they may assign), and put it on
    the timeline of its party, deal and lead."""
    data = _normalize(data)
    kind = types.usable_type(session, data["type"])
    owner = data.pop("owner_id", None) or actor.user_id
    if owner != actor.user_id:
        if not actor.can("activities:assign"):
            raise forbidden("activities:assign")
        access.check_assignee(session, owner)
    _check_links(session, data, actor)
    _check_participants(session, data.get("participants"))
    activity = Activity(**data, owner_id=owner, created_by=actor.user_id, version=1)
    activity.occurred_at = data.get("occurred_at") or datetime.now(UTC)
    activity.participants = data.get("participants") or []
    if activity.duration_minutes is None:
        activity.duration_minutes = _minutes(activity)
    _check_shape(activity, kind)
    session.add(activity)
    session.flush()
    timeline.add_entry(session, **_timeline_fields(activity, kind), ref_type=RECORD, ref_id=activity.id,
                       actor=actor)
    audit.record(session, audit_log, actor, "create", RECORD, activity.id, None, _state(activity))
    return _view_of(session, activity)


def _find(session: Session, activity_id, actor: Principal, for_update: bool = False) -> Activity:
    stmt = select(Activity).where(Activity.id == str(activity_id), visible_activities(actor))
    if for_update:
        stmt = stmt.with_for_update(of=Activity)
    found = session.execute(stmt).scalar_one_or_none()
    if found is None:
        raise NotFound("activity", activity_id)
    return found


def get_activity(session: Session, activity_id, actor: Principal) -> dict:
    """An activity the caller may see; any other is "not found", like one that does not exist."""
    return _view_of(session, _find(session, activity_id, actor))


def _for_change(session: Session, activity_id, actor: Principal) -> Activity:
    found = _find(session, activity_id, actor, for_update=True)
    if not session.execute(select(Activity.id).where(Activity.id == found.id, _editable(actor))).first():
        raise Problem(403, "Forbidden", "You can see this activity but not change it: ask its owner to share it "
                      "with write access.", "forbidden")
    return found


def update_activity(session: Session, activity_id, expected_version: int, changes: dict, actor: Principal) -> dict:
    """Change an activity the caller may edit, if they saw its current version; its timeline entry follows."""
    activity = _for_change(session, activity_id, actor)
    check_version(activity.version, expected_version)
    changes = _normalize(changes)
    if "subject" in changes and not changes["subject"]:
        raise field_error("subject", "an activity needs a subject")
    if "type" in changes and changes["type"] != activity.type:
        kind = types.usable_type(session, changes["type"])
        if not kind.has_direction and "direction" not in changes:
            changes["direction"] = None  # a note has no direction, whatever the call it was before
    else:
        kind = types.get_type(session, activity.type)
    _check_links(session, {f: changes[f] for f in ("party_id", "deal_id", "lead_id")
                            if changes.get(f) and changes[f] != getattr(activity, f)}, actor)
    if changes.get("participants"):
        _check_participants(session, changes["participants"])
    if "participants" in changes and changes["participants"] is None:
        changes["participants"] = []
    changed = {k: v for k, v in changes.items() if getattr(activity, k) != v}
    if not changed:
        return _view_of(session, activity)
    before = _state(activity)
    for k, v in changed.items():
        setattr(activity, k, v)
    if "duration_minutes" not in changes and ({"occurred_at", "ends_at"} & set(changed)) and activity.ends_at:
        activity.duration_minutes = _minutes(activity)
    _check_shape(activity, kind)
    activity.version += 1
    activity.updated_at = datetime.now(UTC)
    session.flush()
    timeline.update_entries(session, ref_type=RECORD, ref_id=activity.id, **_timeline_fields(activity, kind))
    audit.record(session, audit_log, actor, "update", RECORD, activity.id, before, _state(activity))
    return _view_of(session, activity)


def delete_activity(session: Session, activity_id, expected_version: int | None, actor: Principal) -> None:
    """Delete for real, with its timeline entry and shares; the audit trail keeps its last content."""
    activity = _for_change(session, activity_id, actor)
    if expected_version is not None:
        check_version(activity.version, expected_version)
    before, gone = _state(activity), activity.id
    timeline.remove_entries(session, ref_type=RECORD, ref_id=gone)
    session.execute(delete(RecordShare).where(RecordShare.record_type == RECORD,
                                              RecordShare.record_id == gone))
    session.delete(activity)
    session.flush()
    audit.record(session, audit_log, actor, "delete", RECORD, gone, before, None)


def assign_activity(session: Session, activity_id, owner_id, actor: Principal) -> dict:
    """Give the activity to another user (needs activities:assign, checked by the endpoint)."""
    activity = _for_change(session, activity_id, actor)
    owner_id = str(owner_id)
    access.check_assignee(session, owner_id)
    if activity.owner_id != owner_id:
        before = _state(activity)
        activity.owner_id = owner_id
        activity.version += 1
        activity.updated_at = datetime.now(UTC)
        session.flush()
        timeline.update_entries(session, ref_type=RECORD, ref_id=activity.id,
                                **_timeline_fields(activity, types.get_type(session, activity.type)))
        audit.record(session, audit_log, actor, "assign", RECORD, activity.id, before, _state(activity))
    return _view_of(session, activity)




def list_activities(session: Session, args: dict, actor: Principal) -> dict:
    """Activities the caller may see, filtered, sorted (default newest first) and paginated."""
    stmt = _select().where(visible_activities(actor))
    for f in ("party_id", "deal_id", "lead_id", "owner_id"):
        if args.get(f):
            stmt = stmt.where(getattr(Activity, f) == str(args[f]))
    if args.get("type"):
        stmt = stmt.where(Activity.type.in_(args["type"]))
    if args.get("participant_id"):
        stmt = stmt.where(Activity.participants.contains(_uuids([str(args["participant_id"])])))
    if args.get("direction"):
        stmt = stmt.where(Activity.direction == args["direction"])
    if args.get("since"):
        stmt = stmt.where(Activity.occurred_at >= args["since"])
    if args.get("until"):
        stmt = stmt.where(Activity.occurred_at < args["until"])
    if args.get("q"):
        like = f"%{args['q'].lower()}%"
        stmt = stmt.where(or_(func.lower(Activity.subject).like(like), func.lower(Activity.body).like(like)))
    stmt = apply_sort(stmt, args.get("sort"), SORTABLE, [Activity.occurred_at.desc(), Activity.id])
    page = paginate(session, stmt, args["page"], args["page_size"], entities=False)
    page["items"] = [_view(r["Activity"], r["type_label"], r["party_name"]) for r in page["items"]]
    return page


SHARING = access.Sharing(RECORD, _find, _for_change)
