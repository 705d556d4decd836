"""HTTP endpoints of newsletters (recurring campaigns): write one with its schedule, pause and resume the series,
list its issues and read the figures per issue and across the series."""

from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_optional, if_match_required, required_version
from servicekit.web import create_once, idempotent, optional_version, sessions, with_etag

from . import mailings, newsletters
from .newsletter_schemas import (
    NewsletterCreateSchema,
    NewsletterSchema,
    NewsletterStatisticsSchema,
    NewsletterUpdateSchema,
)
from .schemas import CampaignSchema

blp = Blueprint("newsletters", __name__, url_prefix="/api/v1/campaigns/newsletters",
                description="Newsletters (campaigns:read / campaigns:manage): a template, an audience and a "
                            "schedule (RRULE in a time zone); the worker makes each occurrence into one campaign "
                            "(an issue) exactly once, its audience taken when it sends. Pause and resume the "
                            "series; figures per issue and across the series.")


@blp.route("")
class Newsletters(MethodView):
    @requires("campaigns:read")
    @blp.response(200, NewsletterSchema(many=True))
    def get(self):
        """Every newsletter, by name."""
        with sessions().begin() as session:
            return newsletters.list_all(session)

    @requires("campaigns:manage")
    @blp.arguments(NewsletterCreateSchema)
    @blp.response(201, NewsletterSchema)
    @blp.alt_response(409, description="The name is taken")
    @blp.alt_response(422, description="A template that does not compile or uses an unknown field, a rule that "
                                       "is not an RRULE or runs more than daily, an unknown time zone, no audience")
    @idempotent
    def post(self, data):
        """Start a newsletter: its first issue comes at the first occurrence from now on."""
        return create_once("POST /campaigns/newsletters", NewsletterSchema,
                           lambda session, me: newsletters.create(session, data, me),
                           lambda body: f"/api/v1/campaigns/newsletters/{body['id']}")


@blp.route("/<uuid:newsletter_id>")
class NewsletterById(MethodView):
    @requires("campaigns:read")
    @blp.response(200, NewsletterSchema)
    def get(self, newsletter_id):
        with sessions().begin() as session:
            return with_etag(newsletters.get(session, newsletter_id))

    @requires("campaigns:manage")
    @if_match_required
    @blp.arguments(NewsletterUpdateSchema)
    @blp.response(200, NewsletterSchema)
    @blp.alt_response(409, description="The name is taken")
    @blp.alt_response(412, description="The newsletter changed since the ETag you sent")
    @blp.alt_response(422, description="An invalid template, rule, time zone or audience")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, newsletter_id):
        """Change what later issues carry, or their schedule (issues made already keep their copy)."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(newsletters.update(session, newsletter_id, expected, changes, current_principal()))


@blp.route("/<uuid:newsletter_id>/pause")
class NewsletterPause(MethodView):
    @requires("campaigns:manage")
    @if_match_optional
    @blp.response(200, NewsletterSchema)
    @blp.alt_response(409, description="Only an active newsletter can be paused")
    def post(self, newsletter_id):
        """No issue is made until resumed (an issue already sending goes on). If-Match optional."""
        with sessions().begin() as session:
            return with_etag(newsletters.pause(session, newsletter_id, optional_version(), current_principal()))


@blp.route("/<uuid:newsletter_id>/resume")
class NewsletterResume(MethodView):
    @requires("campaigns:manage")
    @if_match_optional
    @blp.response(200, NewsletterSchema)
    @blp.alt_response(409, description="Only a paused newsletter can be resumed")
    def post(self, newsletter_id):
        """Issues come again from the next occurrence (those in the pause are skipped). If-Match optional."""
        with sessions().begin() as session:
            return with_etag(newsletters.resume(session, newsletter_id, optional_version(), current_principal()))


@blp.route("/<uuid:newsletter_id>/issues")
class NewsletterIssues(MethodView):
    @requires("campaigns:read")
    @blp.response(200, CampaignSchema(many=True))
    def get(self, newsletter_id):
        """The campaigns made from it, newest first (each has its own figures, pause and cancel)."""
        with sessions().begin() as session:
            return [mailings.campaign_view(session, c) for c in newsletters.issues(session, newsletter_id)]


@blp.route("/<uuid:newsletter_id>/statistics")
class NewsletterStatistics(MethodView):
    @requires("campaigns:read")
    @blp.response(200, NewsletterStatisticsSchema)
    def get(self, newsletter_id):
        """Recipients, sent, failed, bounced, opened, clicked, unsubscribed, complained per issue and in total."""
        with sessions().begin() as session:
            return newsletters.statistics(session, newsletter_id)
