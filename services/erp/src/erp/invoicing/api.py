"""HTTP endpoints of invoices and credit notes: drafts, issuing, crediting, the PDF, invoicing an order."""

from flask import Response
from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import check_version, if_match_optional
from servicekit.mail_outbox import Mailer
from servicekit.web import create_once, idempotent, optional_version, sessions, settings, with_etag

from . import sending, service
from .schemas import (
    CreditNoteCreateSchema,
    InvoiceCreateSchema,
    InvoiceIssueSchema,
    InvoiceListArgs,
    InvoicePageSchema,
    InvoiceSchema,
    InvoiceSendSchema,
    SalesOrderInvoiceSchema,
)

blp = Blueprint("invoicing", __name__, url_prefix="/api/v1",
                description="Customer invoices and credit notes: gapless numbers per series and year, the "
                            "customer's legal details as issued, immutable once issued (credit notes correct them).")


@blp.route("/invoices")
class Invoices(MethodView):
    @requires("invoices:read")
    @blp.arguments(InvoiceListArgs, location="query")
    @blp.response(200, InvoicePageSchema)
    def get(self, args):
        """Invoices and credit notes (filter by customer, order, kind, status, series, issue date; q searches the
        number and the customer; sort: number, issue_date, due_date, gross_total, status, created_at)."""
        with sessions().begin() as session:
            return service.list_invoices(session, args)

    @requires("invoices:issue")
    @blp.arguments(InvoiceCreateSchema)
    @blp.response(201, InvoiceSchema)
    @blp.alt_response(422, description="Invalid field, e.g. an unknown customer or product")
    @idempotent
    def post(self, data):
        """Create an invoice with free or product lines: a draft (no number) unless `issue` is true. Send
        Idempotency-Key to make retries safe."""
        return create_once("POST /invoices", InvoiceSchema,
                           lambda session, me: service.create_invoice(session, data, me),
                           lambda v: f"/api/v1/invoices/{v['id']}")


@blp.route("/invoices/<uuid:invoice_id>")
class InvoiceById(MethodView):
    @requires("invoices:read")
    @blp.response(200, InvoiceSchema)
    def get(self, invoice_id):
        """One invoice or credit note with its lines, credit notes and payments."""
        with sessions().begin() as session:
            return with_etag(service.get_invoice(session, invoice_id))

    @requires("invoices:issue")
    @blp.response(204)
    @blp.alt_response(409, description="Only a draft can be deleted")
    def delete(self, invoice_id):
        """Throw a draft away (issued documents are never deleted: credit them)."""
        with sessions().begin() as session:
            service.delete_draft(session, invoice_id, current_principal())


@blp.route("/invoices/<uuid:invoice_id>/issue")
class InvoiceIssue(MethodView):
    @requires("invoices:issue")
    @blp.arguments(InvoiceIssueSchema)
    @blp.response(200, InvoiceSchema)
    @blp.alt_response(409, description="Only a draft can be issued")
    def post(self, data, invoice_id):
        """Issue a draft: next number in its series and year, the customer's legal details copied, due date by the
        customer's payment terms, journal entry."""
        with sessions().begin() as session:
            return with_etag(service.issue_invoice(session, invoice_id, data.get("issue_date"), current_principal()))


@blp.route("/invoices/<uuid:invoice_id>/credit-notes")
class InvoiceCreditNotes(MethodView):
    @requires("invoices:credit")
    @blp.arguments(CreditNoteCreateSchema)
    @blp.response(201, InvoiceSchema)
    @blp.alt_response(409, description="The invoice is a draft, a credit note, or already fully credited")
    @blp.alt_response(422, description="A quantity above what can still be credited, or a line of another invoice")
    @idempotent
    def post(self, data, invoice_id):
        """Issue a credit note for all of the invoice or some quantities of its lines (numbered in series CN). Send
        Idempotency-Key to make retries safe."""
        return create_once(f"POST /invoices/{invoice_id}/credit-notes", InvoiceSchema,
                           lambda session, me: service.credit_invoice(session, invoice_id, data, me),
                           lambda v: f"/api/v1/invoices/{v['id']}")


@blp.route("/invoices/<uuid:invoice_id>/pdf")
class InvoicePdf(MethodView):
    @requires("invoices:read")
    @blp.response(200, content_type="application/pdf")
    def get(self, invoice_id):
        """The printable document (application/pdf)."""
        with sessions().begin() as session:
            name, document = sending.invoice_document(session, invoice_id)
        return Response(document, mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{name}"'})


@blp.route("/invoices/<uuid:invoice_id>/send")
class InvoiceSend(MethodView):
    @requires("invoices:send")
    @if_match_optional
    @blp.arguments(InvoiceSendSchema)
    @blp.response(200, InvoiceSchema)
    @blp.alt_response(409, description="A draft cannot be mailed: issue it first")
    @blp.alt_response(422, description="The customer has no email and no `to` was given")
    def post(self, data, invoice_id):
        """Mail the invoice or credit note to the customer (its primary email unless `to` is given), the PDF
        attached. The mail leaves after the commit (the worker sends it); `mail` tells its status, and the CRM shows
        the mailing on the customer's timeline. If-Match optional."""
        expected = optional_version()
        with sessions().begin() as session:
            if expected is not None:
                check_version(service.invoice_row(session, invoice_id).version, expected)
            return with_etag(sending.send_invoice(session, invoice_id, data, current_principal(),
                                                  Mailer.from_settings(settings())))


@blp.route("/sales-orders/<uuid:order_id>/invoice")
class SalesOrderInvoice(MethodView):
    @requires("invoices:issue")
    @blp.arguments(SalesOrderInvoiceSchema)
    @blp.response(201, InvoiceSchema)
    @blp.alt_response(409, description="Nothing delivered is left to invoice, or the order is not delivered yet")
    @idempotent
    def post(self, data, order_id):
        """Invoice what the order delivered and no invoice holds yet (issued at once unless `issue` is false). Send
        Idempotency-Key to make retries safe."""
        return create_once(f"POST /sales-orders/{order_id}/invoice", InvoiceSchema,
                           lambda session, me: service.invoice_order(session, order_id, data, me),
                           lambda v: f"/api/v1/invoices/{v['id']}")
