"""Use cases of tasks: each takes a session and the acting user, checks what that user may see and change,
changes the task and writes the audit trail; completing a task about a party, deal or lead puts it on that
record's timeline.

Who sees a task: its assignee, whoever created it, the managers of the assignee's teams, those it is shared with
(or their teams), and holders of tasks:read_all. Who changes it: the same, minus read-only shares, plus holders
of tasks:update_all. Giving a task to someone other than yourself needs tasks:assign.
"""

from datetime import UTC, date, datetime

from servicekit import audit
from servicekit.auth.principal import Principal, forbidden
from servicekit.db import row_view
from servicekit.etag import check_version
from servicekit.pagination import apply_sort, paginate
from servicekit.problems import NotFound, Problem, field_error, linked
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from ..access import service as access
from ..access.models import Team, TeamMember
from ..access.visibility import editable, visible
from ..activities.service import get_activity
from ..db import audit_log, auth
from ..deals.service import find_deal
from ..leads.service import find_lead
from ..parties.service import find_party
from ..timeline import entries as timeline
from . import due
from .models import PENDING, Task

RECORD = "task"
TIMELINE_RECORDS = {"party": "party_id", "deal": "deal_id", "lead": "lead_id"}

_STATE = ("title", "description", "assignee_id", "due_at", "due_date", "priority", "status", "completed_at",
          "record_type", "record_id", "reminder_at")


def _visible(actor: Principal):
    return or_(visible("tasks", RECORD, Task.id, Task.assignee_id, actor), Task.created_by == actor.user_id)


def visible_tasks(actor: Principal):
    """Tasks the user may see (the audit trail and other cross-record lists filter by it)."""
    return _visible(actor)


def _editable(actor: Principal):
    return or_(editable("tasks", RECORD, Task.id, Task.assignee_id, actor), Task.created_by == actor.user_id)


def _state(t: Task) -> dict:
    return {f: getattr(t, f) for f in _STATE}


def _select(tz: str = "UTC"):
    return select(Task, due.is_overdue(tz).label("overdue"))


def _view(task: Task, overdue: bool) -> dict:
    return {**row_view(task), "overdue": bool(overdue)}


def _view_of(session: Session, task: Task) -> dict:
    session.flush()
    row = session.execute(_select().where(Task.id == task.id)).one()
    return _view(row[0], row.overdue)


def _normalize(data: dict) -> dict:
    out = dict(data)
    for f in ("assignee_id", "record_id"):
        if out.get(f) is not None:
            out[f] = str(out[f])
    for f in ("title", "description"):
        if isinstance(out.get(f), str):
            out[f] = out[f].strip() or None
    return out


_LINKABLE = {"party": find_party, "deal": find_deal, "lead": find_lead, "activity": get_activity}


def _check_record(session: Session, record_type: str | None, record_id: str | None, actor: Principal) -> None:
    """A linked party, deal, lead or activity must be one the caller may see; other records are kept as given."""
    getter = _LINKABLE.get(record_type)
    if getter is not None:
        linked(lambda i: getter(session, str(i), actor), record_id, "record_id", record_type)


def _check_assignee(session: Session, assignee_id: str, actor: Principal) -> None:
    if assignee_id == actor.user_id:
        return
    if not actor.can("tasks:assign"):
        raise forbidden("tasks:assign")
    found = session.execute(select(auth.users.c.id).where(auth.users.c.id == assignee_id,
                                                          auth.users.c.is_active)).first()
    if not found:
        raise field_error("assignee_id", f"no active user with id {assignee_id}")


def add_task(session: Session, *, title: str, assignee_id: str, actor: Principal | None = None,
             description: str | None = None, due_at: datetime | None = None, due_date: date | None = None,
             priority: str = "normal", record_type: str | None = None, record_id: str | None = None,
             reminder_at: datetime | None = None) -> Task:
    """Create a task without checking permissions, in the caller's transaction: for event handlers (e.g. a
    follow-up for the customer's owner when the ERP says an invoice is overdue). `actor` None means the system."""
    task = Task(title=title, description=description, assignee_id=str(assignee_id), due_at=due_at,
                due_date=due_date, priority=priority, status="open", record_type=record_type,
                record_id=str(record_id) if record_id else None, reminder_at=reminder_at,
                created_by=getattr(actor, "user_id", None), version=1)
    session.add(task)
    session.flush()
    audit.record(session, audit_log, actor, "create", RECORD, task.id, None, _state(task))
    return task


def close_task(session: Session, task_id: str, actor) -> None:
    """Mark a task done without checking permissions, in the caller's transaction: for a system fact that settles it
    (e.g. the installer's form submitted). A task already done is left as it is."""
    task = session.execute(select(Task).where(Task.id == str(task_id)).with_for_update()).scalar_one_or_none()
    if task is None or task.status == "done":
        return
    before = _state(task)
    _apply_status(session, task, "done", actor)
    _save(session, task, before, "complete", actor)


def create_task(session: Session, data: dict, actor: Principal) -> dict:
    """Create a task for the caller, or (with tasks:assign) for someone else."""
    data = _normalize(data)
    data["assignee_id"] = data.get("assignee_id") or actor.user_id
    if not data.get("title"):
        raise field_error("title", "a task needs a title")
    _check_assignee(session, data["assignee_id"], actor)
    _check_record(session, data.get("record_type"), data.get("record_id"), actor)
    return _view_of(session, add_task(session, **data, actor=actor))


def _find(session: Session, task_id, actor: Principal, for_update: bool = False) -> Task:
    stmt = select(Task).where(Task.id == str(task_id), _visible(actor))
    if for_update:
        stmt = stmt.with_for_update(of=Task)
    found = session.execute(stmt).scalar_one_or_none()
    if found is None:
        raise NotFound("task", task_id)
    return found


def get_task(session: Session, task_id, actor: Principal) -> dict:
    """A task the caller may see; any other is "not found", like one that does not exist."""
    return _view_of(session, _find(session, task_id, actor))


def _for_change(session: Session, task_id, actor: Principal, expected_version: int | None) -> Task:
    task = _find(session, task_id, actor, for_update=True)
    if not session.execute(select(Task.id).where(Task.id == task.id, _editable(actor))).first():
        raise Problem(403, "Forbidden", "You can see this task but not change it: ask its assignee to share it "
                      "with write access.", "forbidden")
    if expected_version is not None:
        check_version(task.version, expected_version)
    return task


def _apply_status(session: Session, task: Task, status: str, actor: Principal) -> None:
    """Move to a status; done stamps completed_at and tells the linked record's timeline, leaving done undoes it."""
    if status == task.status:
        return
    was_done = task.status == "done"
    task.status = status
    task.completed_at = datetime.now(UTC) if status == "done" else None
    column = TIMELINE_RECORDS.get(task.record_type or "")
    if column is None:
        return
    if status == "done":
        timeline.add_entry(session, kind="task_completed", title=f"Task done: {task.title}",
                           occurred_at=task.completed_at, summary=task.description, ref_type=RECORD,
                           ref_id=task.id, actor=actor, data={"priority": task.priority,
                                                              "assignee_id": task.assignee_id},
                           **{column: task.record_id})
    elif was_done:
        timeline.remove_entries(session, ref_type=RECORD, ref_id=task.id, kind="task_completed")


def _save(session: Session, task: Task, before: dict, action: str, actor: Principal) -> dict:
    task.version += 1
    task.updated_at = datetime.now(UTC)
    session.flush()
    audit.record(session, audit_log, actor, action, RECORD, task.id, before, _state(task))
    return _view_of(session, task)


def update_task(session: Session, task_id, expected_version: int, changes: dict, actor: Principal) -> dict:
    """Change a task the caller may edit, if they saw its current version."""
    task = _for_change(session, task_id, actor, expected_version)
    changes = _normalize(changes)
    if "title" in changes and not changes["title"]:
        raise field_error("title", "a task needs a title")
    if changes.get("assignee_id") and changes["assignee_id"] != task.assignee_id:
        _check_assignee(session, changes["assignee_id"], actor)
    elif "assignee_id" in changes and not changes["assignee_id"]:
        raise field_error("assignee_id", "a task needs an assignee")
    if changes.get("due_at"):
        changes.setdefault("due_date", None)  # setting one kind of due replaces the other
    if changes.get("due_date"):
        changes.setdefault("due_at", None)
    status = changes.pop("status", None)
    changed = {k: v for k, v in changes.items() if getattr(task, k) != v}
    if not changed and (status is None or status == task.status):
        return _view_of(session, task)
    before = _state(task)
    for k, v in changed.items():
        setattr(task, k, v)
    if (task.record_type is None) != (task.record_id is None):
        raise field_error("record_id" if task.record_type else "record_type",
                          "give record_type and record_id together")
    if {"record_type", "record_id"} & set(changed):
        _check_record(session, task.record_type, task.record_id, actor)
    if status:
        _apply_status(session, task, status, actor)
    return _save(session, task, before, "update", actor)


def complete_task(session: Session, task_id, expected_version: int | None, actor: Principal) -> dict:
    """Mark done (it leaves the pending lists); a task about a party, deal or lead shows on its timeline."""
    task = _for_change(session, task_id, actor, expected_version)
    if task.status == "done":
        return _view_of(session, task)
    before = _state(task)
    _apply_status(session, task, "done", actor)
    return _save(session, task, before, "complete", actor)


def reopen_task(session: Session, task_id, expected_version: int | None, actor: Principal) -> dict:
    """Back to open from done or cancelled; a completion on the timeline is taken back."""
    task = _for_change(session, task_id, actor, expected_version)
    if task.status in PENDING:
        return _view_of(session, task)
    before = _state(task)
    _apply_status(session, task, "open", actor)
    return _save(session, task, before, "reopen", actor)




def list_tasks(session: Session, args: dict, actor: Principal) -> dict:
    """Tasks the caller may see, filtered, sorted (default: soonest due first, then most urgent), paginated."""
    tz = args.get("tz", "UTC")
    stmt = _select(tz).where(_visible(actor))
    if args.get("mine"):
        stmt = stmt.where(Task.assignee_id == actor.user_id)
    for f in ("assignee_id", "created_by", "record_id"):
        if args.get(f):
            stmt = stmt.where(getattr(Task, f) == str(args[f]))
    if args.get("record_type"):
        stmt = stmt.where(Task.record_type == args["record_type"])
    if args.get("team_id"):  # a department: tasks assigned to the team's members
        stmt = stmt.where(Task.assignee_id.in_(select(TeamMember.user_id).where(
            TeamMember.team_id == str(args["team_id"]))))
    if args.get("status"):
        statuses = {s for s in args["status"] if s != "pending"} | (set(PENDING) if "pending" in args["status"]
                                                                     else set())
        stmt = stmt.where(Task.status.in_(sorted(statuses)))
    if args.get("priority"):
        stmt = stmt.where(Task.priority.in_(args["priority"]))
    when = args.get("due")
    if when == "overdue":
        stmt = stmt.where(due.is_overdue(tz))
    elif when in ("today", "week"):
        stmt = stmt.where(due.is_due_within(tz, 1 if when == "today" else 7))
    elif when == "none":
        stmt = stmt.where(due.is_undated())
    if args.get("q"):
        like = f"%{args['q'].lower()}%"
        stmt = stmt.where(or_(func.lower(Task.title).like(like), func.lower(Task.description).like(like)))
    sortable = {"due": due.due_key(tz), "priority": due.priority_rank(), "created_at": Task.created_at,
                "updated_at": Task.updated_at, "completed_at": Task.completed_at, "status": Task.status,
                "title": func.lower(Task.title)}
    stmt = apply_sort(stmt, args.get("sort"), sortable,
                      [due.due_key(tz).asc().nulls_last(), due.priority_rank(), Task.created_at, Task.id])
    page = paginate(session, stmt, args["page"], args["page_size"], entities=False)
    page["items"] = [_view(r["Task"], r["overdue"]) for r in page["items"]]
    return page


def _summary_users(session: Session, team_id, actor: Principal):
    """Whose counts the caller asked for: themselves, or a team they manage (any team with tasks:read_all)."""
    if team_id is None:
        return [actor.user_id]
    team = session.get(Team, str(team_id))
    if team is None:
        raise NotFound("team", team_id)
    manages = session.execute(select(TeamMember.user_id).where(
        TeamMember.team_id == team.id, TeamMember.user_id == actor.user_id, TeamMember.role == "manager")).first()
    if not manages and not actor.can("tasks:read_all"):
        raise Problem(403, "Forbidden", "Only the team's managers see its members' task counts.", "forbidden")
    return select(TeamMember.user_id).where(TeamMember.team_id == team.id)


def task_summary(session: Session, args: dict, actor: Principal) -> list[dict]:
    """Per user: pending, overdue and pending-due-today counts, for the caller or a team they manage."""
    tz = args.get("tz", "UTC")
    users = _summary_users(session, args.get("team_id"), actor)
    counts = (select(auth.users.c.id.label("user_id"), auth.users.c.email, auth.users.c.name,
                     func.count(Task.id).label("pending"),
                     func.count(Task.id).filter(due.is_overdue(tz)).label("overdue"),
                     func.count(Task.id).filter(due.is_due_within(tz, 1)).label("due_today"))
              .outerjoin(Task, and_(Task.assignee_id == auth.users.c.id, due.is_pending()))
              .where(auth.users.c.id.in_(users))
              .group_by(auth.users.c.id, auth.users.c.email, auth.users.c.name)
              .order_by(auth.users.c.email))
    return [dict(r._mapping) for r in session.execute(counts)]


SHARING = access.Sharing(RECORD, _find, lambda session, task_id, actor: _for_change(session, task_id, actor, None))
