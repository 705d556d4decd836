"""SQL predicates for "which records may this user see / change", applied before any filter or count."""

from servicekit.auth.principal import Principal
from sqlalchemy import ColumnElement, and_, exists, or_, select, true

from .models import RecordShare, TeamMember


def _my_teams(p: Principal):
    return select(TeamMember.team_id).where(TeamMember.user_id == p.user_id)


def _managed_users(p: Principal):
    """Members of every team the user manages (themselves included)."""
    managed = select(TeamMember.team_id).where(TeamMember.user_id == p.user_id, TeamMember.role == "manager")
    return select(TeamMember.user_id).where(TeamMember.team_id.in_(managed))


def _shared(record_type: str, id_column, p: Principal, write_only: bool) -> ColumnElement:
    cond = [RecordShare.record_type == record_type, RecordShare.record_id == id_column,
            or_(RecordShare.user_id == p.user_id, RecordShare.team_id.in_(_my_teams(p)))]
    if write_only:
        cond.append(RecordShare.access == "write")
    return exists(select(RecordShare.id).where(and_(*cond)))


def visible(module: str, record_type: str, id_column, owner_column, p: Principal) -> ColumnElement:
    """Own records, records of people in teams the user manages, and records shared with the user or their teams."""
    if p.can(f"{module}:read_all"):
        return true()
    return or_(owner_column == p.user_id, owner_column.in_(_managed_users(p)),
               _shared(record_type, id_column, p, write_only=False))


def editable(module: str, record_type: str, id_column, owner_column, p: Principal) -> ColumnElement:
    """Like visible, but shares count only with write access, and read_all does not imply write."""
    if p.can(f"{module}:update_all"):
        return true()
    return or_(owner_column == p.user_id, owner_column.in_(_managed_users(p)),
               _shared(record_type, id_column, p, write_only=True))
