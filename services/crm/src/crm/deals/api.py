"""HTTP endpoints of pipelines and deals: read arguments, call one use case in one transaction, answer."""

from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_optional, if_match_required, required_version
from servicekit.web import create_once, idempotent, optional_version, sessions, with_etag

from ..access.routes import OwnedRecord, add_owner_routes
from . import pipelines, reports, service
from .schemas import (
    BoardArgs,
    DealCreateSchema,
    DealForecastSchema,
    DealListArgs,
    DealLostSchema,
    DealMoveSchema,
    DealPageSchema,
    DealReopenSchema,
    DealSchema,
    DealStageChangeSchema,
    DealUpdateSchema,
    DealWonSchema,
    ForecastArgs,
    PipelineBoardSchema,
    PipelineCreateSchema,
    PipelineListArgs,
    PipelineSchema,
    PipelineStageCreateSchema,
    PipelineStageOrderSchema,
    PipelineStageUpdateSchema,
    PipelineUpdateSchema,
)

pipelines_blp = Blueprint("pipelines", __name__, url_prefix="/api/v1/pipelines",
                          description="Sales funnels: each pipeline has ordered stages with a win probability, "
                                      "exactly one won and one lost stage. Managed with pipelines:manage.")
deals_blp = Blueprint("deals", __name__, url_prefix="/api/v1/deals",
                      description="Deals moving through a pipeline, with their stage history, the board and the "
                                  "forecast. You see your deals, those shared with you or your teams, and your team "
                                  "members' if you manage the team.")


# -- pipelines -----------------------------------------------------------------------------------

@pipelines_blp.route("")
class Pipelines(MethodView):
    @requires("pipelines:read")
    @pipelines_blp.arguments(PipelineListArgs, location="query")
    @pipelines_blp.response(200, PipelineSchema(many=True))
    def get(self, args):
        """Pipelines with their stages in order, the default one first."""
        with sessions().begin() as session:
            return pipelines.list_pipelines(session, args["include_inactive"])

    @requires("pipelines:manage")
    @pipelines_blp.arguments(PipelineCreateSchema)
    @pipelines_blp.response(201, PipelineSchema)
    def post(self, data):
        """Create a pipeline; without stages it gets Qualification, Proposal, Negotiation, Won and Lost."""
        with sessions().begin() as session:
            return with_etag(pipelines.create_pipeline(session, data, current_principal()), 201)


@pipelines_blp.route("/<uuid:pipeline_id>")
class PipelineById(MethodView):
    @requires("pipelines:read")
    @pipelines_blp.response(200, PipelineSchema)
    def get(self, pipeline_id):
        with sessions().begin() as session:
            return with_etag(pipelines.show_pipeline(session, pipeline_id))

    @requires("pipelines:manage")
    @if_match_required
    @pipelines_blp.arguments(PipelineUpdateSchema)
    @pipelines_blp.response(200, PipelineSchema)
    def patch(self, changes, pipeline_id):
        """Rename, change the currency, (de)activate, or make it the default. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(pipelines.update_pipeline(session, pipeline_id, expected, changes,
                                                       current_principal()))


@pipelines_blp.route("/<uuid:pipeline_id>/stages")
class PipelineStages(MethodView):
    @requires("pipelines:manage")
    @if_match_required
    @pipelines_blp.arguments(PipelineStageCreateSchema)
    @pipelines_blp.response(201, PipelineSchema)
    def post(self, data, pipeline_id):
        """Add an open stage; answers the whole pipeline. Requires If-Match with the pipeline's ETag."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(pipelines.add_stage(session, pipeline_id, data, current_principal(), expected), 201)


@pipelines_blp.route("/<uuid:pipeline_id>/stages/order")
class PipelineStageOrder(MethodView):
    @requires("pipelines:manage")
    @if_match_required
    @pipelines_blp.arguments(PipelineStageOrderSchema)
    @pipelines_blp.response(200, PipelineSchema)
    def put(self, data, pipeline_id):
        """Reorder the stages: name every stage of the pipeline once, in the new order. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(pipelines.reorder_stages(session, pipeline_id, data["stage_ids"],
                                                      current_principal(), expected))


@pipelines_blp.route("/<uuid:pipeline_id>/stages/<uuid:stage_id>")
class PipelineStage(MethodView):
    @requires("pipelines:manage")
    @if_match_required
    @pipelines_blp.arguments(PipelineStageUpdateSchema)
    @pipelines_blp.response(200, PipelineSchema)
    def patch(self, changes, pipeline_id, stage_id):
        """Rename a stage or change its probability. Requires If-Match with the pipeline's ETag."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(pipelines.update_stage(session, pipeline_id, stage_id, changes, current_principal(),
                                                    expected))

    @requires("pipelines:manage")
    @if_match_required
    @pipelines_blp.response(200, PipelineSchema)
    @pipelines_blp.alt_response(409, description="The stage holds deals, or the pipeline needs it")
    def delete(self, pipeline_id, stage_id):
        """Remove an open stage that holds no deal. Requires If-Match with the pipeline's ETag."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(pipelines.remove_stage(session, pipeline_id, stage_id, current_principal(),
                                                    expected))


@pipelines_blp.route("/<uuid:pipeline_id>/board")
class PipelineBoard(MethodView):
    @requires("deals:read")
    @pipelines_blp.arguments(BoardArgs, location="query")
    @pipelines_blp.response(200, PipelineBoardSchema)
    def get(self, args, pipeline_id):
        """The stages in order with the open deals you can see in each, their count and totals per currency."""
        with sessions().begin() as session:
            return reports.board(session, pipeline_id, args, current_principal())


# -- deals ---------------------------------------------------------------------------------------

@deals_blp.route("")
class Deals(MethodView):
    @requires("deals:read")
    @deals_blp.arguments(DealListArgs, location="query")
    @deals_blp.response(200, DealPageSchema)
    def get(self, args):
        """List deals (filter by pipeline, stage, status, owner, party, source lead, expected close range; q)."""
        with sessions().begin() as session:
            return service.list_deals(session, args, current_principal())

    @requires("deals:create")
    @deals_blp.arguments(DealCreateSchema)
    @deals_blp.response(201, DealSchema)
    @deals_blp.alt_response(422, description="Invalid field (problem+json naming it)")
    @idempotent
    def post(self, data):
        """Open a deal with a party. Send Idempotency-Key to make retries safe."""
        return create_once("POST /deals", DealSchema, lambda session, me: service.create_deal(session, data, me),
                           lambda body: f"/api/v1/deals/{body['id']}")


@deals_blp.route("/forecast")
class Forecast(MethodView):
    @requires("deals:read")
    @deals_blp.arguments(ForecastArgs, location="query")
    @deals_blp.response(200, DealForecastSchema)
    def get(self, args):
        """Weighted amounts of open deals by expected-close month (or owner), with won, committed and best case."""
        with sessions().begin() as session:
            return reports.forecast(session, args, current_principal())


@deals_blp.route("/<uuid:deal_id>")
class DealById(MethodView):
    @requires("deals:read")
    @deals_blp.response(200, DealSchema)
    def get(self, deal_id):
        """Get one deal; its ETag is what If-Match needs for changes."""
        with sessions().begin() as session:
            return with_etag(service.get_deal(session, deal_id, current_principal()))

    @requires("deals:update")
    @if_match_required
    @deals_blp.arguments(DealUpdateSchema)
    @deals_blp.response(200, DealSchema)
    @deals_blp.alt_response(412, description="The deal changed since the ETag you sent")
    @deals_blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, deal_id):
        """Change some fields. Requires If-Match with the ETag of your last read."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.update_deal(session, deal_id, expected, changes, current_principal()))


@deals_blp.route("/<uuid:deal_id>/move")
class DealMove(MethodView):
    @requires("deals:update")
    @if_match_optional
    @deals_blp.arguments(DealMoveSchema)
    @deals_blp.response(200, DealSchema)
    @deals_blp.alt_response(409, description="The deal is won or lost: reopen it first")
    def post(self, data, deal_id):
        """Move an open deal to another stage; into the lost stage needs a reason. If-Match optional."""
        expected = optional_version()
        with sessions().begin() as session:
            return with_etag(service.move_deal(session, deal_id, data["stage_id"], data.get("reason"),
                                               current_principal(), expected))


@deals_blp.route("/<uuid:deal_id>/won")
class DealWon(MethodView):
    @requires("deals:update")
    @if_match_optional
    @deals_blp.arguments(DealWonSchema)
    @deals_blp.response(200, DealSchema)
    def post(self, data, deal_id):
        """Mark the deal won (it enters its pipeline's won stage). If-Match optional."""
        expected = optional_version()
        with sessions().begin() as session:
            return with_etag(service.win_deal(session, deal_id, data.get("reason"), current_principal(), expected))


@deals_blp.route("/<uuid:deal_id>/lost")
class DealLost(MethodView):
    @requires("deals:update")
    @if_match_optional
    @deals_blp.arguments(DealLostSchema)
    @deals_blp.response(200, DealSchema)
    def post(self, data, deal_id):
        """Mark the deal lost, saying why (it enters its pipeline's lost stage). If-Match optional."""
        expected = optional_version()
        with sessions().begin() as session:
            return with_etag(service.lose_deal(session, deal_id, data["reason"], current_principal(), expected))


@deals_blp.route("/<uuid:deal_id>/reopen")
class DealReopen(MethodView):
    @requires("deals:update")
    @if_match_optional
    @deals_blp.arguments(DealReopenSchema)
    @deals_blp.response(200, DealSchema)
    def post(self, data, deal_id):
        """Reopen a won or lost deal (default: in the stage it was closed from). If-Match optional."""
        expected = optional_version()
        with sessions().begin() as session:
            return with_etag(service.reopen_deal(session, deal_id, data.get("stage_id"), current_principal(),
                                                 expected))


@deals_blp.route("/<uuid:deal_id>/history")
class DealHistory(MethodView):
    @requires("deals:read")
    @deals_blp.response(200, DealStageChangeSchema(many=True))
    def get(self, deal_id):
        """The stages the deal went through, oldest first, with the time spent in each."""
        with sessions().begin() as session:
            return service.stage_history(session, deal_id, current_principal())


add_owner_routes(deals_blp, OwnedRecord("deal", "deals", "deal_id", service.SHARING, service.assign_deal, DealSchema))
