"""HTTP endpoints of stage tasks (templates on pipeline stages) and estimate requests."""

from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_required, required_version
from servicekit.web import sessions, with_etag

from ..tasks.escalation import escalate_overdue
from . import estimates, service
from .schemas import (
    EscalationRunSchema,
    EstimateSchema,
    EstimateSubmitSchema,
    StageTaskTemplateSchema,
    StageTaskTemplatesSchema,
)

blp = Blueprint("stage_tasks", __name__, url_prefix="/api/v1",
                description="Tasks a pipeline stage creates on every deal entering it (to the deal's owner, a user "
                            "or a team's manager), estimate requests that bring production's hours and "
                            "materials back onto the deal, and overdue tasks escalated to the team lead.")


@blp.route("/pipelines/<uuid:pipeline_id>/stages/<uuid:stage_id>/task-templates")
class StageTaskTemplates(MethodView):
    @requires("pipelines:read")
    @blp.response(200, StageTaskTemplateSchema(many=True))
    def get(self, pipeline_id, stage_id):
        """The tasks a deal gets on entering this stage."""
        with sessions().begin() as session:
            return service.list_templates(session, pipeline_id, stage_id)

    @requires("pipelines:manage")
    @blp.arguments(StageTaskTemplatesSchema)
    @blp.response(200, StageTaskTemplateSchema(many=True))
    @blp.alt_response(422, description="Invalid field, e.g. an assignee that does not exist")
    def put(self, data, pipeline_id, stage_id):
        """Set the stage's task templates (the whole list)."""
        with sessions().begin() as session:
            return service.set_templates(session, pipeline_id, stage_id, data["templates"], current_principal())


@blp.route("/deals/<uuid:deal_id>/estimates")
class DealEstimates(MethodView):
    @requires("deals:read")
    @blp.response(200, EstimateSchema(many=True))
    def get(self, deal_id):
        """The estimates requested for the deal, with the hours and materials answered."""
        with sessions().begin() as session:
            return estimates.deal_estimates(session, deal_id, current_principal())


@blp.route("/estimates/<uuid:estimate_id>")
class EstimateById(MethodView):
    @requires("tasks:read")
    @blp.response(200, EstimateSchema)
    def get(self, estimate_id):
        """One estimate request (for its addressee and whoever sees the deal)."""
        with sessions().begin() as session:
            return with_etag(estimates.get_estimate(session, estimate_id, current_principal()))


@blp.route("/estimates/<uuid:estimate_id>/submit")
class EstimateSubmit(MethodView):
    @requires("tasks:update")
    @if_match_required
    @blp.arguments(EstimateSubmitSchema)
    @blp.response(200, EstimateSchema)
    @blp.alt_response(409, description="The estimate was already given")
    def post(self, data, estimate_id):
        """Answer the estimate: hours and materials go onto the deal; the request's task is done. Requires
        If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(estimates.submit_estimate(session, estimate_id, expected, data, current_principal()))


@blp.route("/tasks/escalations")
class TaskEscalations(MethodView):
    @requires("tasks:update_all")
    @blp.response(200, EscalationRunSchema)
    def post(self):
        """Escalate overdue tasks now (the worker also does it every CRM_ESCALATION_INTERVAL_MINUTES): each pending
        task past due whose assignee has a team lead gives the lead a follow-up task, once per task."""
        with sessions().begin() as session:
            return {"escalated": escalate_overdue(session)}
