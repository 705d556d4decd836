"""HTTP endpoints of tasks: read arguments, call one use case in one transaction, answer."""

from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_optional, if_match_required, required_version
from servicekit.web import create_once, idempotent, optional_version, sessions, with_etag

from ..access.routes import OwnedRecord, add_owner_routes
from . import service
from .schemas import (
    TaskCreateSchema,
    TaskListArgs,
    TaskPageSchema,
    TaskSchema,
    TaskSummaryArgs,
    TaskSummarySchema,
    TaskUpdateSchema,
)

blp = Blueprint("tasks", __name__, url_prefix="/api/v1/tasks",
                description="Things to do, by whom and by when, about any record. You see the tasks assigned to "
                            "you or created by you, those shared with you or your teams, and your team members' "
                            "if you manage the team. Overdue is computed when you ask, never stored.")


@blp.route("")
class Tasks(MethodView):
    @requires("tasks:read")
    @blp.arguments(TaskListArgs, location="query")
    @blp.response(200, TaskPageSchema)
    def get(self, args):
        """List tasks (filter: mine, assignee, creator, status incl. pending, priority, linked record,
        due=overdue|today|week|none, q; sort by due, priority, created_at, updated_at, completed_at, status,
        title; default soonest due first, then most urgent)."""
        with sessions().begin() as session:
            return service.list_tasks(session, args, current_principal())

    @requires("tasks:create")
    @blp.arguments(TaskCreateSchema)
    @blp.response(201, TaskSchema)
    @blp.alt_response(422, description="Invalid field (problem+json naming it)")
    @idempotent
    def post(self, data):
        """Create a task (for you by default; for someone else with tasks:assign). Send Idempotency-Key to make
        retries safe."""
        return create_once("POST /tasks", TaskSchema, lambda session, me: service.create_task(session, data, me),
                           lambda body: f"/api/v1/tasks/{body['id']}")


@blp.route("/summary")
class TaskSummary(MethodView):
    @requires("tasks:read")
    @blp.arguments(TaskSummaryArgs, location="query")
    @blp.response(200, TaskSummarySchema(many=True))
    def get(self, args):
        """Pending, overdue and due-today counts: yours, or per member of a team you manage (team_id)."""
        with sessions().begin() as session:
            return service.task_summary(session, args, current_principal())


@blp.route("/<uuid:task_id>")
class TaskById(MethodView):
    @requires("tasks:read")
    @blp.response(200, TaskSchema)
    def get(self, task_id):
        """Get one task; its ETag is what If-Match needs for changes."""
        with sessions().begin() as session:
            return with_etag(service.get_task(session, task_id, current_principal()))

    @requires("tasks:update")
    @if_match_required
    @blp.arguments(TaskUpdateSchema)
    @blp.response(200, TaskSchema)
    @blp.alt_response(412, description="The task changed since the ETag you sent")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, task_id):
        """Change some fields (a new assignee other than you needs tasks:assign). Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.update_task(session, task_id, expected, changes, current_principal()))


@blp.route("/<uuid:task_id>/complete")
class TaskComplete(MethodView):
    @requires("tasks:update")
    @if_match_optional
    @blp.response(200, TaskSchema)
    def post(self, task_id):
        """Mark the task done. If-Match is optional: when sent, it must match."""
        expected = optional_version()
        with sessions().begin() as session:
            return with_etag(service.complete_task(session, task_id, expected, current_principal()))


@blp.route("/<uuid:task_id>/reopen")
class TaskReopen(MethodView):
    @requires("tasks:update")
    @if_match_optional
    @blp.response(200, TaskSchema)
    def post(self, task_id):
        """Open a done or cancelled task again. If-Match is optional: when sent, it must match."""
        expected = optional_version()
        with sessions().begin() as session:
            return with_etag(service.reopen_task(session, task_id, expected, current_principal()))


add_owner_routes(blp, OwnedRecord("task", "tasks", "task_id", service.SHARING))
