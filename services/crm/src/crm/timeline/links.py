"""The records that activities, tasks and timelines point at, fetched only if the caller may see them.

The sales modules (deals, leads) and activities are imported when first needed: they themselves write to the
timeline, so importing them here at module load would make the timeline depend on them.
"""

from servicekit.auth.principal import Principal
from servicekit.problems import NotFound, field_error
from sqlalchemy.orm import Session

from ..parties.service import get_party


def _getter(record_type: str):
    if record_type == "party":
        return get_party
    if record_type == "deal":
        from ..deals.service import get_deal
        return get_deal
    if record_type == "lead":
        from ..leads.service import get_lead
        return get_lead
    if record_type == "activity":
        from ..activities.service import get_activity
        return get_activity
    return None


def visible_record(session: Session, record_type: str, record_id, actor: Principal):
    """The party, deal, lead or activity if the caller may see it; NotFound otherwise (as if it did not exist).
    Other record types are not checked: None."""
    getter = _getter(record_type)
    return getter(session, str(record_id), actor) if getter else None


def linked_record(session: Session, record_type: str, record_id, actor: Principal, field: str):
    """Like visible_record, but a record the caller may not see is a 422 naming the field that pointed at it."""
    try:
        return visible_record(session, record_type, record_id, actor)
    except NotFound:
        raise field_error(field, f"no {record_type} with id {record_id}") from None
