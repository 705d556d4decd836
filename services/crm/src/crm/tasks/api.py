"""HTTP endpoints of tasks: read arguments, call one use case in one transaction, answer."""

from flask import current_app, jsonify, request
from flask.views import MethodView
from servicekit import idempotency
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import etag_of, if_match_optional, if_match_required, required_version

from ..access.schemas import ShareCreateSchema, ShareSchema
from ..db import idempotency_keys
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


def _sessions():
    return current_app.extensions["crm.db"].sessions


def _optional_version() -> int | None:
    return required_version() if request.headers.get("If-Match") else None


def _with_etag(view: dict, status=200):
    return view, status, {"ETag": etag_of(view["version"])}


@blp.route("")
class Tasks(MethodView):
    @requires("tasks:read")
    @blp.arguments(TaskListArgs, location="query")
    @blp.response(200, TaskPageSchema)
    def get(self, args):
        """List tasks (filter: mine, assignee, creator, status incl. pending, priority, linked record,
        due=overdue|today|week|none, q; sort by due, priority, created_at, updated_at, completed_at, status,
        title; default soonest due first, then most urgent)."""
        with _sessions().begin() as session:
            return service.list_tasks(session, args, current_principal())

    @requires("tasks:create")
    @blp.arguments(TaskCreateSchema)
    @blp.response(201, TaskSchema)
    @blp.alt_response(422, description="Invalid field (problem+json naming it)")
    def post(self, data):
        """Create a task (for you by default; for someone else with tasks:assign). Send Idempotency-Key to make
        retries safe."""
        key = request.headers.get("Idempotency-Key")
        me = current_principal()
        scope = f"POST /tasks {me.user_id}"
        with _sessions().begin() as session:
            if key:
                stored = idempotency.claim(session, idempotency_keys, scope, key, request.get_json())
                if stored:  # a retry: answer what the first request got
                    return jsonify(stored[1]), stored[0], {"ETag": etag_of(stored[1]["version"]),
                                                           "Location": f"/api/v1/tasks/{stored[1]['id']}"}
            view = service.create_task(session, data, me)
            if key:
                idempotency.remember(session, idempotency_keys, scope, key, 201, TaskSchema().dump(view))
        return view, 201, {"ETag": etag_of(view["version"]), "Location": f"/api/v1/tasks/{view['id']}"}


@blp.route("/summary")
class TaskSummary(MethodView):
    @requires("tasks:read")
    @blp.arguments(TaskSummaryArgs, location="query")
    @blp.response(200, TaskSummarySchema(many=True))
    def get(self, args):
        """Pending, overdue and due-today counts: yours, or per member of a team you manage (team_id)."""
        with _sessions().begin() as session:
            return service.task_summary(session, args, current_principal())


@blp.route("/<uuid:task_id>")
class TaskById(MethodView):
    @requires("tasks:read")
    @blp.response(200, TaskSchema)
    def get(self, task_id):
        """Get one task; its ETag is what If-Match needs for changes."""
        with _sessions().begin() as session:
            return _with_etag(service.get_task(session, task_id, current_principal()))

    @requires("tasks:update")
    @if_match_required
    @blp.arguments(TaskUpdateSchema)
    @blp.response(200, TaskSchema)
    @blp.alt_response(412, description="The task changed since the ETag you sent")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, task_id):
        """Change some fields (a new assignee other than you needs tasks:assign). Requires If-Match."""
        expected = required_version()
        with _sessions().begin() as session:
            return _with_etag(service.update_task(session, task_id, expected, changes, current_principal()))


@blp.route("/<uuid:task_id>/complete")
class TaskComplete(MethodView):
    @requires("tasks:update")
    @if_match_optional
    @blp.response(200, TaskSchema)
    def post(self, task_id):
        """Mark the task done. If-Match is optional: when sent, it must match."""
        expected = _optional_version()
        with _sessions().begin() as session:
            return _with_etag(service.complete_task(session, task_id, expected, current_principal()))


@blp.route("/<uuid:task_id>/reopen")
class TaskReopen(MethodView):
    @requires("tasks:update")
    @if_match_optional
    @blp.response(200, TaskSchema)
    def post(self, task_id):
        """Open a done or cancelled task again. If-Match is optional: when sent, it must match."""
        expected = _optional_version()
        with _sessions().begin() as session:
            return _with_etag(service.reopen_task(session, task_id, expected, current_principal()))


@blp.route("/<uuid:task_id>/shares")
class TaskShares(MethodView):
    @requires("tasks:read")
    @blp.response(200, ShareSchema(many=True))
    def get(self, task_id):
        """Who else sees this task."""
        with _sessions().begin() as session:
            return service.list_shares(session, task_id, current_principal())

    @requires("tasks:share")
    @blp.arguments(ShareCreateSchema)
    @blp.response(201, ShareSchema)
    def post(self, data, task_id):
        """Share with a user or a team, read-only or with write access."""
        with _sessions().begin() as session:
            return service.share_task(session, task_id, data, current_principal())


@blp.route("/<uuid:task_id>/shares/<uuid:share_id>")
class TaskShare(MethodView):
    @requires("tasks:share")
    @blp.response(204)
    def delete(self, task_id, share_id):
        """Stop sharing."""
        with _sessions().begin() as session:
            service.unshare_task(session, task_id, share_id, current_principal())
