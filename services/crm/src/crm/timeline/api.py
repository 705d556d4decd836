"""HTTP endpoints of the timeline: the history of a party, a deal or a lead, newest first."""

from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.web import sessions

from . import service
from .schemas import TimelineArgs, TimelinePageSchema

blp = Blueprint("timeline", __name__, url_prefix="/api/v1",
                description="What happened to a customer: activities, completed tasks, stage changes, quotes and "
                            "the ERP's orders, deliveries, invoices and payments, newest first.")


@blp.route("/parties/<uuid:party_id>/timeline")
class PartyTimeline(MethodView):
    @requires("parties:read")
    @blp.arguments(TimelineArgs, location="query")
    @blp.response(200, TimelinePageSchema)
    def get(self, args, party_id):
        """A party's timeline, newest first (paginated; filter by kind, activity type, date range). A company's
        timeline includes its people's entries. Anyone who may see the party sees its whole timeline."""
        with sessions().begin() as session:
            return service.party_timeline(session, party_id, args, current_principal())


@blp.route("/deals/<uuid:deal_id>/timeline")
class DealTimeline(MethodView):
    @requires("deals:read")
    @blp.arguments(TimelineArgs, location="query")
    @blp.response(200, TimelinePageSchema)
    def get(self, args, deal_id):
        """A deal's timeline, newest first: its stage changes, activities, quotes, completed tasks, orders..."""
        with sessions().begin() as session:
            return service.record_timeline(session, "deal", deal_id, args, current_principal())


@blp.route("/leads/<uuid:lead_id>/timeline")
class LeadTimeline(MethodView):
    @requires("leads:read")
    @blp.arguments(TimelineArgs, location="query")
    @blp.response(200, TimelinePageSchema)
    def get(self, args, lead_id):
        """A lead's timeline, newest first: capture, qualification, activities, conversion..."""
        with sessions().begin() as session:
            return service.record_timeline(session, "lead", lead_id, args, current_principal())
