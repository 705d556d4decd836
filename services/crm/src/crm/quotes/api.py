"""HTTP endpoints of quotes: read arguments, call one use case in one transaction, answer."""

from dataclasses import dataclass

from flask import Flask, Response, current_app
from flask.views import MethodView
from flask_smorest import Api
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_optional, if_match_required, required_version
from servicekit.mail_outbox import Mailer
from servicekit.web import create_once, idempotent, optional_version, sessions, with_etag

from ..config import Settings
from . import service
from .schemas import (
    QuoteAcceptSchema,
    QuoteCreateSchema,
    QuoteLineInputSchema,
    QuoteLineUpdateSchema,
    QuoteListArgs,
    QuotePageSchema,
    QuoteRejectSchema,
    QuoteSchema,
    QuoteSendSchema,
    QuoteUpdateSchema,
)

blp = Blueprint("quotes", __name__, url_prefix="/api/v1/quotes",
                description="Quotes on deals: lines from the ERP's catalog priced by its price lists, totals "
                            "rounded half up per line, versions, PDF, sending by email, and acceptance, which "
                            "places the order with the ERP (crm.order.placed). You see the quotes of the customers "
                            "and deals you see. The CRM never invoices: the ERP does.")


@dataclass(frozen=True)
class QuoteContext:
    """What sending and printing need from the configuration: the SMTP server and the seller's block."""

    mailer: Mailer
    seller: tuple[str, ...]


def init_app(app: Flask, api: Api, settings: Settings) -> None:
    seller = tuple(s.strip() for s in settings.quote_seller.split("|") if s.strip())
    app.extensions["crm.quotes"] = QuoteContext(Mailer.from_settings(settings), seller)


def _context() -> QuoteContext:
    return current_app.extensions["crm.quotes"]


@blp.route("")
class Quotes(MethodView):
    @requires("quotes:read")
    @blp.arguments(QuoteListArgs, location="query")
    @blp.response(200, QuotePageSchema)
    def get(self, args):
        """List quotes (paginated; filter by deal, party, owner, status; q searches the number; sort by number,
        created_at, updated_at, valid_until, gross_total or status)."""
        with sessions().begin() as session:
            return service.list_quotes(session, args, current_principal())

    @requires("quotes:create")
    @blp.arguments(QuoteCreateSchema)
    @blp.response(201, QuoteSchema)
    @blp.alt_response(422, description="Invalid field (problem+json naming it)")
    @blp.alt_response(409, description="The deal is closed")
    @idempotent
    def post(self, data):
        """Draft a quote on a deal, with lines or without. Send Idempotency-Key to make retries safe."""
        return create_once("POST /quotes", QuoteSchema, lambda session, me: service.create_quote(session, data, me),
                           lambda body: f"/api/v1/quotes/{body['id']}")


@blp.route("/<uuid:quote_id>")
class QuoteById(MethodView):
    @requires("quotes:read")
    @blp.response(200, QuoteSchema)
    def get(self, quote_id):
        """One quote with its lines, stock availability per line and warnings; its ETag is what If-Match needs."""
        with sessions().begin() as session:
            return with_etag(service.get_quote(session, quote_id, current_principal()))

    @requires("quotes:update")
    @if_match_required
    @blp.arguments(QuoteUpdateSchema)
    @blp.response(200, QuoteSchema)
    @blp.alt_response(409, description="The quote is not a draft")
    @blp.alt_response(412, description="The quote changed since the ETag you sent")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, quote_id):
        """Change a draft; `lines` replaces all lines. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.update_quote(session, quote_id, expected, changes, current_principal()))


@blp.route("/<uuid:quote_id>/lines")
class QuoteLines(MethodView):
    @requires("quotes:update")
    @if_match_required
    @blp.arguments(QuoteLineInputSchema)
    @blp.response(201, QuoteSchema)
    @blp.alt_response(409, description="The quote is not a draft")
    def post(self, data, quote_id):
        """Add a line to a draft; answers the whole quote with its new totals. Requires If-Match."""
        with sessions().begin() as session:
            return with_etag(service.add_line(session, quote_id, data, current_principal(), required_version()),
                             201)


@blp.route("/<uuid:quote_id>/lines/<uuid:line_id>")
class QuoteLineById(MethodView):
    @requires("quotes:update")
    @if_match_required
    @blp.arguments(QuoteLineUpdateSchema)
    @blp.response(200, QuoteSchema)
    @blp.alt_response(409, description="The quote is not a draft")
    def patch(self, changes, quote_id, line_id):
        """Change a draft's line (quantity, agreed price, discount, tax rate, description). Requires If-Match."""
        with sessions().begin() as session:
            return with_etag(service.update_line(session, quote_id, line_id, changes, current_principal(),
                                                 required_version()))

    @requires("quotes:update")
    @if_match_required
    @blp.response(200, QuoteSchema)
    @blp.alt_response(409, description="The quote is not a draft")
    def delete(self, quote_id, line_id):
        """Remove a draft's line; the others are renumbered. Answers the quote. Requires If-Match."""
        with sessions().begin() as session:
            return with_etag(service.remove_line(session, quote_id, line_id, current_principal(),
                                                 required_version()))


@blp.route("/<uuid:quote_id>/send")
class QuoteSend(MethodView):
    @requires("quotes:send")
    @if_match_optional
    @blp.arguments(QuoteSendSchema)
    @blp.response(200, QuoteSchema)
    @blp.alt_response(409, description="The quote is not a draft")
    def post(self, data, quote_id):
        """Send a draft: the quote becomes sent and its PDF is queued by email to `to`, or the contact person's
        (else the customer's) primary email; the worker mails it after the commit, and `mail` follows it
        (queued, sent, or failed with the server's answer)."""
        ctx = _context()
        with sessions().begin() as session:
            return with_etag(service.send_quote(session, quote_id, optional_version(), data, current_principal(),
                                                ctx.mailer, ctx.seller))


@blp.route("/<uuid:quote_id>/revise")
class QuoteRevise(MethodView):
    @requires("quotes:update")
    @if_match_optional
    @blp.response(201, QuoteSchema)
    @blp.alt_response(409, description="Only the latest sent or rejected version is revised")
    def post(self, quote_id):
        """Start the next version of a sent or rejected quote: a draft with the same number and lines; the old
        version becomes superseded."""
        with sessions().begin() as session:
            view = service.revise_quote(session, quote_id, current_principal(), optional_version())
        return with_etag(view, 201, Location=f"/api/v1/quotes/{view['id']}")


@blp.route("/<uuid:quote_id>/accept")
class QuoteAccept(MethodView):
    @requires("quotes:accept")
    @if_match_optional
    @blp.arguments(QuoteAcceptSchema)
    @blp.response(200, QuoteSchema)
    @blp.alt_response(409, description="Not a sent quote, already accepted, or expired")
    def post(self, data, quote_id):
        """Record the customer's acceptance: the order is placed with the ERP (crm.order.placed, with the agreed
        lines and prices), the deal is won, the customer's timeline shows it."""
        with sessions().begin() as session:
            return with_etag(service.accept_quote(session, quote_id, data, current_principal(),
                                                  optional_version()))


@blp.route("/<uuid:quote_id>/reject")
class QuoteReject(MethodView):
    @requires("quotes:accept")
    @if_match_optional
    @blp.arguments(QuoteRejectSchema)
    @blp.response(200, QuoteSchema)
    @blp.alt_response(409, description="Not a sent quote")
    def post(self, data, quote_id):
        """Record that the customer declined (quotes:accept records either answer); revise it to try again."""
        with sessions().begin() as session:
            return with_etag(service.reject_quote(session, quote_id, data["reason"], current_principal(),
                                                  optional_version()))


@blp.route("/<uuid:quote_id>/pdf")
class QuotePdf(MethodView):
    @requires("quotes:read")
    @blp.response(200, content_type="application/pdf", description="The quote as a PDF document")
    def get(self, quote_id):
        """The quote as a PDF: seller, customer, number, version, dates, lines, totals and terms."""
        with sessions().begin() as session:
            filename, pdf = service.quote_pdf(session, quote_id, current_principal(), _context().seller)
        return Response(pdf, mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{filename}"'})
