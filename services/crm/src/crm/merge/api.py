"""HTTP endpoints of duplicates and merges (under /api/v1/parties): read arguments, call one use case, answer."""

from flask.views import MethodView
from servicekit import pagination
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_required, required_version
from servicekit.web import sessions, with_etag

from ..parties.schemas import PartySchema
from . import duplicates, service
from .schemas import DuplicateArgs, DuplicateGroupPageSchema, MergeSchema, PartyDuplicateArgs, PartyDuplicateSchema

blp = Blueprint("party_merge", __name__, url_prefix="/api/v1/parties",
                description="Likely duplicate parties (same email, phone, tax id, or name) and merging them into "
                            "one survivor that takes over their records.")


@blp.route("/duplicates")
class DuplicateGroups(MethodView):
    @requires("parties:read")
    @blp.arguments(DuplicateArgs, location="query")
    @blp.response(200, DuplicateGroupPageSchema)
    def get(self, args):
        """Groups of parties you can see that are probably the same company or person, most certain first."""
        with sessions().begin() as session:
            pagination.fixed_order(args, "most certain first")
            return duplicates.find_duplicate_groups(session, args, current_principal())


@blp.route("/<uuid:party_id>/duplicates")
class PartyDuplicates(MethodView):
    @requires("parties:read")
    @blp.arguments(PartyDuplicateArgs, location="query")
    @blp.response(200, PartyDuplicateSchema(many=True))
    def get(self, args, party_id):
        """Parties you can see that are probably the same as this one, with a score and the reasons."""
        with sessions().begin() as session:
            return duplicates.find_party_duplicates(session, party_id, current_principal(), args["include_archived"])


@blp.route("/<uuid:party_id>/merge")
class PartyMerge(MethodView):
    @requires("parties:merge")
    @if_match_required
    @blp.arguments(MergeSchema)
    @blp.response(200, PartySchema)
    @blp.alt_response(403, description="One of the parties is not yours to change")
    @blp.alt_response(409, description="A party is already merged, or the survivor is archived")
    @blp.alt_response(412, description="The survivor changed since the ETag you sent")
    @blp.alt_response(428, description="If-Match (the survivor's ETag) is missing")
    def post(self, data, party_id):
        """Merge party_ids into this party in one transaction: it takes their missing values, roles, emails and
        phones and every record pointing at them (deals, activities, tasks, timeline, people, shares, quotes...);
        they become status 'merged' with merged_into_id (GET still answers, with the id to follow). Announces
        crm.party.merged for each and crm.party.updated for this one. Needs If-Match with this party's ETag;
        every party must be one you may change."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.merge_parties(session, party_id, data["party_ids"], data["field_choices"],
                                                   expected, current_principal()))
