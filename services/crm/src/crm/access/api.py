"""Teams: who works together, and who manages whom."""

from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.web import sessions

from . import service
from .schemas import MemberSetSchema, TeamCreateSchema, TeamSchema

blp = Blueprint("teams", __name__, url_prefix="/api/v1/teams",
                description="Teams: members see records shared with the team; managers see their members' records.")


@blp.route("")
class Teams(MethodView):
    @requires("teams:read")
    @blp.response(200, TeamSchema(many=True))
    def get(self):
        with sessions().begin() as session:
            return service.list_teams(session)

    @requires("teams:create")
    @blp.arguments(TeamCreateSchema)
    @blp.response(201, TeamSchema)
    def post(self, data):
        with sessions().begin() as session:
            return service.create_team(session, data["name"], current_principal())


@blp.route("/<uuid:team_id>/members")
class TeamMembers(MethodView):
    @requires("teams:update")
    @blp.arguments(MemberSetSchema)
    @blp.response(200, TeamSchema)
    def post(self, data, team_id):
        """Add a member or change their role (member or manager)."""
        with sessions().begin() as session:
            return service.set_member(session, team_id, data["user_id"], data["role"], current_principal())


@blp.route("/<uuid:team_id>/members/<uuid:user_id>")
class TeamMember(MethodView):
    @requires("teams:update")
    @blp.response(200, TeamSchema)
    def delete(self, team_id, user_id):
        with sessions().begin() as session:
            return service.remove_member(session, team_id, user_id, current_principal())
