"""HTTP endpoints of customers and suppliers in the ERP."""

from flask import current_app
from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import etag_of, if_match_required, required_version
from servicekit.pagination import PageArgs
from servicekit.web import sessions

from . import service
from .schemas import AccountUpdateSchema, PartyChangeListSchema, PartyListArgs, PartyPageSchema, PartyViewSchema

blp = Blueprint("parties", __name__, url_prefix="/api/v1",
                description="Customers and suppliers: master data replicated from the CRM (read-only here) "
                            "plus the terms the ERP owns.")



def _crm_url():
    return current_app.config["CRM_PUBLIC_URL"]


@blp.route("/customers")
class Customers(MethodView):
    @requires("partners:read")
    @blp.arguments(PartyListArgs, location="query")
    @blp.response(200, PartyPageSchema)
    def get(self, args):
        """Customers (parties with the customer role in the CRM)."""
        with sessions().begin() as session:
            return service.list_parties(session, "customer", args, _crm_url())


@blp.route("/suppliers")
class Suppliers(MethodView):
    @requires("partners:read")
    @blp.arguments(PartyListArgs, location="query")
    @blp.response(200, PartyPageSchema)
    def get(self, args):
        """Suppliers (parties with the supplier role in the CRM)."""
        with sessions().begin() as session:
            return service.list_parties(session, "supplier", args, _crm_url())


@blp.route("/parties/<uuid:party_id>")
class PartyById(MethodView):
    @requires("partners:read")
    @blp.response(200, PartyViewSchema)
    def get(self, party_id):
        """One customer or supplier; the ETag is the version of its ERP terms."""
        with sessions().begin() as session:
            view = service.get_party(session, party_id, _crm_url())
        return view, 200, {"ETag": etag_of(view["account"]["version"])}

    @requires("partners:update")
    @if_match_required
    @blp.arguments(AccountUpdateSchema)
    @blp.response(200, PartyViewSchema)
    @blp.alt_response(422, description="Invalid field, or a master-data field the CRM owns")
    def patch(self, changes, party_id):
        """Change ERP-owned terms (payment terms, credit limit, currency). Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            view = service.update_terms(session, party_id, expected, changes, _crm_url(), current_principal())
        return view, 200, {"ETag": etag_of(view["account"]["version"])}


@blp.route("/parties/<uuid:party_id>/changes")
class PartyChanges(MethodView):
    @requires("partners:read")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, PartyChangeListSchema)
    def get(self, args, party_id):
        """Master-data changes received from the CRM for this party, newest first."""
        with sessions().begin() as session:
            return service.list_changes(session, party_id, args["page"], args["page_size"])
