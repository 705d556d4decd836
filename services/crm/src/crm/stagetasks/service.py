"""Use cases of stage tasks: set a stage's task templates (a whole-list replacement) and create them on a deal
entering the stage (an estimate request also opens its estimate: estimates.py).

It writes tasks through the tasks' model, not tasks.service (which reads deals): deals.service calls
`create_stage_tasks` when a deal enters a stage."""

from datetime import UTC, datetime, timedelta

from servicekit import audit
from servicekit.auth.principal import Principal
from servicekit.problems import NotFound, field_error
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..access.models import Team, TeamMember
from ..db import audit_log, auth
from ..deals.models import Deal, Stage
from ..tasks.models import Task
from .models import DealEstimate, StageTaskTemplate


def _stage(session: Session, pipeline_id, stage_id) -> Stage:
    stage = session.get(Stage, str(stage_id))
    if stage is None or stage.pipeline_id != str(pipeline_id):
        raise NotFound("stage", stage_id)
    return stage


def _template_view(t: StageTaskTemplate) -> dict:
    return {"kind": t.kind, "title": t.title, "description": t.description, "assignee_kind": t.assignee_kind,
            "assignee_id": t.assignee_id, "due_in_days": t.due_in_days, "priority": t.priority}


def list_templates(session: Session, pipeline_id, stage_id) -> list[dict]:
    stage = _stage(session, pipeline_id, stage_id)
    return [_template_view(t) for t in session.execute(select(StageTaskTemplate).where(
        StageTaskTemplate.stage_id == stage.id).order_by(StageTaskTemplate.position)).scalars()]


def set_templates(session: Session, pipeline_id, stage_id, templates: list[dict], actor: Principal) -> list[dict]:
    """Replace the stage's task templates; a user or team named must exist (422 naming the template)."""
    stage = _stage(session, pipeline_id, stage_id)
    before = list_templates(session, pipeline_id, stage_id)
    for i, t in enumerate(templates):
        kind, who = t["assignee_kind"], t.get("assignee_id")
        if (kind == "deal_owner") != (who is None):
            raise field_error(f"templates.{i}.assignee_id", "give it for a user or team, not for the deal owner")
        if kind == "user" and session.execute(select(auth.users.c.id).where(auth.users.c.id == str(who),
                                                                         auth.users.c.is_active)).first() is None:
            raise field_error(f"templates.{i}.assignee_id", "no active user with this id")
        if kind == "team" and session.get(Team, str(who)) is None:
            raise field_error(f"templates.{i}.assignee_id", "no team with this id")
    session.execute(delete(StageTaskTemplate).where(StageTaskTemplate.stage_id == stage.id))
    session.add_all([StageTaskTemplate(stage_id=stage.id, position=i + 1, kind=t["kind"], title=t["title"].strip(),
                                       description=t.get("description"), assignee_kind=t["assignee_kind"],
                                       assignee_id=str(t["assignee_id"]) if t.get("assignee_id") else None,
                                       due_in_days=t["due_in_days"], priority=t["priority"])
                     for i, t in enumerate(templates)])
    session.flush()
    after = list_templates(session, pipeline_id, stage_id)
    audit.record(session, audit_log, actor, "update", "stage_task_templates", stage.id, {"templates": before},
                 {"templates": after})
    return after


def _assignee(session: Session, template: StageTaskTemplate, deal: Deal) -> str | None:
    if template.assignee_kind == "deal_owner":
        return deal.owner_id
    if template.assignee_kind == "user":
        return template.assignee_id
    return session.execute(select(TeamMember.user_id).where(TeamMember.team_id == template.assignee_id).order_by(
        TeamMember.role != "manager", TeamMember.user_id)).scalars().first() or deal.owner_id


def create_stage_tasks(session: Session, deal: Deal, stage: Stage, actor) -> list[Task]:
    """The stage's templates as tasks on the deal (an estimate request also opens its estimate)."""
    made = []
    today = datetime.now(UTC).date()
    for t in session.execute(select(StageTaskTemplate).where(StageTaskTemplate.stage_id == stage.id)
                             .order_by(StageTaskTemplate.position)).scalars():
        assignee = _assignee(session, t, deal)
        if not assignee:
            continue
        task = Task(title=f"{t.title} ({deal.name})"[:300], description=t.description, assignee_id=assignee,
                    due_date=today + timedelta(days=t.due_in_days), priority=t.priority, status="open",
                    record_type="deal", record_id=deal.id, created_by=getattr(actor, "user_id", None), version=1)
        session.add(task)
        session.flush()
        audit.record(session, audit_log, actor, "create", "task", task.id, None,
                     {"title": task.title, "assignee_id": assignee, "from_stage": stage.name, "kind": t.kind})
        if t.kind == "estimate_request":
            session.add(DealEstimate(deal_id=deal.id, task_id=task.id, requested_from=assignee, status="requested",
                                     materials=[], version=1))
        made.append(task)
    session.flush()
    return made
