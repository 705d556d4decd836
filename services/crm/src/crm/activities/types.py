"""Use cases of activity types: the built-in kinds and those managers add (activity_types:manage)."""

from datetime import UTC, datetime

from servicekit import audit
from servicekit.auth.principal import Principal
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db import audit_log
from .models import ActivityType

_FIELDS = ("label", "icon", "color", "has_direction", "active", "position")


def _state(t: ActivityType) -> dict:
    return {f: getattr(t, f) for f in ("key", *_FIELDS)}


def list_types(session: Session, include_inactive: bool = False) -> list[dict]:
    stmt = select(ActivityType).order_by(ActivityType.position, ActivityType.label)
    if not include_inactive:
        stmt = stmt.where(ActivityType.active)
    return [row_view(t) for t in session.execute(stmt).scalars()]


def show_type(session: Session, key: str) -> dict:
    return row_view(get_type(session, key))


def get_type(session: Session, key: str) -> ActivityType:
    found = session.get(ActivityType, key)
    if found is None:
        raise NotFound("activity type", key)
    return found


def usable_type(session: Session, key: str) -> ActivityType:
    """The active type a new or changed activity names; 422 on `type` otherwise."""
    found = session.get(ActivityType, key)
    if found is None:
        raise field_error("type", f"no activity type {key!r}; GET /api/v1/activity-types lists them")
    if not found.active:
        raise field_error("type", f"activity type {key!r} is no longer in use")
    return found


def create_type(session: Session, data: dict, actor: Principal) -> dict:
    if session.get(ActivityType, data["key"]) is not None:
        raise Problem(409, "Activity type exists", f"An activity type with key {data['key']} exists.", "conflict",
                      errors=[{"field": "key", "message": "already used"}])
    found = ActivityType(key=data["key"], label=data["label"], icon=data.get("icon"), color=data.get("color"),
                         has_direction=data.get("has_direction", False), position=data.get("position", 100),
                         builtin=False, active=True, version=1)
    session.add(found)
    session.flush()
    audit.record(session, audit_log, actor, "create", "activity_type", found.key, None, _state(found))
    return row_view(found)


def update_type(session: Session, key: str, expected_version: int, changes: dict, actor: Principal) -> dict:
    found = session.execute(select(ActivityType).where(ActivityType.key == key).with_for_update()).scalar_one_or_none()
    if found is None:
        raise NotFound("activity type", key)
    check_version(found.version, expected_version)
    if "label" in changes and not changes["label"]:
        raise field_error("label", "a type needs a label")
    changed = {k: v for k, v in changes.items() if getattr(found, k) != v}
    if not changed:
        return row_view(found)
    before = _state(found)
    for k, v in changed.items():
        setattr(found, k, v)
    found.version += 1
    found.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, audit_log, actor, "update", "activity_type", found.key, before, _state(found))
    return row_view(found)
