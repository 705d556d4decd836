"""Use cases of teams and record sharing."""

from collections.abc import Callable
from dataclasses import dataclass

from servicekit import audit
from servicekit.auth.principal import Principal
from servicekit.problems import NotFound, Problem, field_error
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..db import audit_log, auth
from .models import RecordShare, Team, TeamMember


def _user_exists(session: Session, user_id: str, field: str) -> None:
    found = session.execute(select(auth.users.c.id).where(auth.users.c.id == str(user_id),
                                                          auth.users.c.is_active)).first()
    if not found:
        raise field_error(field, f"no active user with id {user_id}")


def team_view(session: Session, team: Team) -> dict:
    members = session.execute(
        select(TeamMember.user_id, TeamMember.role, auth.users.c.email, auth.users.c.name)
        .join(auth.users, auth.users.c.id == TeamMember.user_id)
        .where(TeamMember.team_id == team.id).order_by(auth.users.c.email)).all()
    return {"id": team.id, "name": team.name, "created_at": team.created_at,
            "members": [dict(m._mapping) for m in members]}


def create_team(session: Session, name: str, actor: Principal) -> dict:
    if session.execute(select(Team.id).where(Team.name == name)).first():
        raise Problem(409, "Team exists", f"A team named {name} exists.", "conflict",
                      errors=[{"field": "name", "message": "already used"}])
    team = Team(name=name)
    session.add(team)
    session.flush()
    session.refresh(team)
    audit.record(session, audit_log, actor, "create", "team", team.id, None, {"name": name})
    return team_view(session, team)


def get_team(session: Session, team_id: str) -> Team:
    team = session.get(Team, str(team_id))
    if team is None:
        raise NotFound("team", team_id)
    return team


def list_teams(session: Session) -> list[dict]:
    return [team_view(session, t) for t in session.execute(select(Team).order_by(Team.name)).scalars()]


def set_member(session: Session, team_id: str, user_id: str, role: str, actor: Principal) -> dict:
    team = get_team(session, team_id)
    _user_exists(session, user_id, "user_id")
    member = session.get(TeamMember, (team.id, str(user_id)))
    before = {"role": member.role} if member else None
    if member is None:
        session.add(TeamMember(team_id=team.id, user_id=str(user_id), role=role))
    else:
        member.role = role
    session.flush()
    audit.record(session, audit_log, actor, "set_member", "team", team.id, before, {"user_id": str(user_id),
                                                                                      "role": role})
    return team_view(session, team)


def remove_member(session: Session, team_id: str, user_id: str, actor: Principal) -> dict:
    team = get_team(session, team_id)
    gone = session.execute(delete(TeamMember).where(TeamMember.team_id == team.id,
                                                    TeamMember.user_id == str(user_id))
                           .returning(TeamMember.role)).first()
    if gone is None:
        raise NotFound("team member", user_id)
    audit.record(session, audit_log, actor, "remove_member", "team", team.id, {"user_id": str(user_id)}, None)
    return team_view(session, team)


# -- shares --------------------------------------------------------------------------------------

def share_view(session: Session, share: RecordShare) -> dict:
    label = None
    if share.user_id:
        label = session.execute(select(auth.users.c.email).where(auth.users.c.id == share.user_id)).scalar()
    elif share.team_id:
        label = session.execute(select(Team.name).where(Team.id == share.team_id)).scalar()
    return {"id": share.id, "user_id": share.user_id, "team_id": share.team_id, "grantee": label,
            "access": share.access, "granted_by": share.granted_by, "created_at": share.created_at}


def list_shares(session: Session, record_type: str, record_id: str) -> list[dict]:
    rows = session.execute(select(RecordShare).where(RecordShare.record_type == record_type,
                                                     RecordShare.record_id == str(record_id))
                           .order_by(RecordShare.created_at)).scalars()
    return [share_view(session, s) for s in rows]


def share_record(session: Session, record_type: str, record_id: str, data: dict, actor: Principal) -> dict:
    """Share with one user or one team; sharing again with the same grantee changes the access."""
    user_id, team_id = data.get("user_id"), data.get("team_id")
    if bool(user_id) == bool(team_id):
        raise field_error("user_id", "name exactly one of user_id and team_id")
    if user_id:
        _user_exists(session, user_id, "user_id")
    else:
        get_team_or_field_error(session, team_id)
    same_user = RecordShare.user_id == str(user_id) if user_id else RecordShare.user_id.is_(None)
    same_team = RecordShare.team_id == str(team_id) if team_id else RecordShare.team_id.is_(None)
    share = session.execute(select(RecordShare).where(
        RecordShare.record_type == record_type, RecordShare.record_id == str(record_id), same_user, same_team)
    ).scalar_one_or_none()
    if share is None:
        share = RecordShare(record_type=record_type, record_id=str(record_id),
                            user_id=str(user_id) if user_id else None, team_id=str(team_id) if team_id else None,
                            access=data["access"], granted_by=actor.user_id)
        session.add(share)
    else:
        share.access = data["access"]
    session.flush()
    session.refresh(share)
    view = share_view(session, share)
    audit.record(session, audit_log, actor, "share", record_type, record_id, None,
                 {"grantee": view["grantee"], "access": share.access})
    return view


def get_team_or_field_error(session: Session, team_id) -> None:
    if session.get(Team, str(team_id)) is None:
        raise field_error("team_id", f"no team with id {team_id}")


def unshare_record(session: Session, record_type: str, record_id: str, share_id: str, actor: Principal) -> None:
    share = session.execute(select(RecordShare).where(RecordShare.id == str(share_id),
                                                      RecordShare.record_type == record_type,
                                                      RecordShare.record_id == str(record_id))).scalar_one_or_none()
    if share is None:
        raise NotFound("share", share_id)
    view = share_view(session, share)
    session.delete(share)
    audit.record(session, audit_log, actor, "unshare", record_type, record_id,
                 {"grantee": view["grantee"], "access": view["access"]}, None)


def check_assignee(session: Session, user_id: str) -> None:
    _user_exists(session, user_id, "owner_id")


@dataclass(frozen=True)
class Sharing:
    """The sharing use cases of one kind of owned record (parties, deals, leads, activities, tasks): who else sees
    it. `find(session, id, actor)` returns the record if the caller may see it (NotFound otherwise);
    `for_change(session, id, actor)` returns it if the caller may change it (403 or 404 otherwise)."""

    record_type: str
    find: Callable
    for_change: Callable

    def list(self, session: Session, record_id, actor: Principal) -> list[dict]:
        self.find(session, record_id, actor)
        return list_shares(session, self.record_type, str(record_id))

    def share(self, session: Session, record_id, data: dict, actor: Principal) -> dict:
        record = self.for_change(session, record_id, actor)
        return share_record(session, self.record_type, record.id, data, actor)

    def unshare(self, session: Session, record_id, share_id, actor: Principal) -> None:
        record = self.for_change(session, record_id, actor)
        unshare_record(session, self.record_type, record.id, share_id, actor)
