"""HTTP endpoints of the documents to customers beside invoices: statements, dunning letters, delivery notes."""

from flask import Response
from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.mail_outbox import Mailer
from servicekit.web import sessions, settings

from ..payments.schemas import CurrentAccountArgs
from . import service
from .schemas import DunningArgs, DunningSendSchema, DunningSentSchema, StatementSendSchema, StatementSentSchema

blp = Blueprint("letters", __name__, url_prefix="/api/v1",
                description="Documents to customers on the company's letterhead: the statement of account, dunning "
                            "letters (levels 1 to 3) and delivery notes as PDF; statements and dunning letters by "
                            "mail.")


def _pdf(name: str, document: bytes) -> Response:
    return Response(document, mimetype="application/pdf", headers={"Content-Disposition": f'inline; filename="{name}"'})


@blp.route("/parties/<uuid:party_id>/statement/pdf")
class StatementPdf(MethodView):
    @requires("payments:read")
    @blp.arguments(CurrentAccountArgs, location="query")
    @blp.response(200, content_type="application/pdf", description="The statement of account")
    def get(self, args, party_id):
        """The customer's statement of account as PDF (same period and currency arguments as the JSON one)."""
        with sessions().begin() as session:
            return _pdf(*service.statement_pdf(session, party_id, args.get("date_from"), args.get("date_to"),
                                               args.get("currency")))


@blp.route("/parties/<uuid:party_id>/statement/send")
class StatementSend(MethodView):
    @requires("invoices:send")
    @blp.arguments(StatementSendSchema)
    @blp.response(200, StatementSentSchema)
    @blp.alt_response(422, description="The customer has no email and no `to` was given")
    def post(self, data, party_id):
        """Mail the statement of account to the customer, the PDF attached (sent by the worker after the commit)."""
        with sessions().begin() as session:
            return service.send_statement(session, party_id, data, current_principal(),
                                          Mailer.from_settings(settings()))


@blp.route("/parties/<uuid:party_id>/dunning-letter")
class DunningLetter(MethodView):
    @requires("invoices:read")
    @blp.arguments(DunningArgs, location="query")
    @blp.response(200, content_type="application/pdf", description="The dunning letter")
    @blp.alt_response(409, description="The customer has no overdue invoice")
    def get(self, args, party_id):
        """Preview the dunning letter for the customer's overdue invoices (nothing is recorded)."""
        with sessions().begin() as session:
            return _pdf(*service.dunning_pdf(session, party_id, args.get("level")))


@blp.route("/parties/<uuid:party_id>/dunning-letter/send")
class DunningSend(MethodView):
    @requires("invoices:send")
    @blp.arguments(DunningSendSchema)
    @blp.response(200, DunningSentSchema)
    @blp.alt_response(409, description="The customer has no overdue invoice")
    @blp.alt_response(422, description="The customer has no email and no `to` was given")
    def post(self, data, party_id):
        """Mail the dunning letter; each overdue invoice records the level, and the CRM's timeline shows it."""
        with sessions().begin() as session:
            return service.send_dunning(session, party_id, data, current_principal(),
                                        Mailer.from_settings(settings()))


@blp.route("/sales-orders/<uuid:order_id>/deliveries/<uuid:delivery_id>/pdf")
class DeliveryNotePdf(MethodView):
    @requires("sales:read")
    @blp.response(200, content_type="application/pdf", description="The delivery note")
    def get(self, order_id, delivery_id):
        """The delivery note that travels with the goods: what this delivery holds and what is still to come."""
        with sessions().begin() as session:
            return _pdf(*service.delivery_note_pdf(session, order_id, delivery_id))
