"""HTTP endpoints of payments, bank accounts and party statements."""

from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.web import create_once, idempotent, sessions, with_etag

from . import service, statement
from .schemas import (
    BankAccountCreateSchema,
    BankAccountSchema,
    CurrentAccountArgs,
    CurrentAccountSchema,
    PaymentAllocateSchema,
    PaymentChequeMoveSchema,
    PaymentCreateSchema,
    PaymentListArgs,
    PaymentPageSchema,
    PaymentSchema,
)

blp = Blueprint("payments", __name__, url_prefix="/api/v1",
                description="Customer receipts and supplier payments, allocated to invoices and bills; credit held "
                            "on the party's account; bank accounts; cheques; each party's statement.")


@blp.route("/bank-accounts")
class BankAccounts(MethodView):
    @requires("payments:read")
    @blp.response(200, BankAccountSchema(many=True))
    def get(self):
        """The company's bank accounts."""
        with sessions().begin() as session:
            return service.list_bank_accounts(session)

    @requires("payments:record")
    @blp.arguments(BankAccountCreateSchema)
    @blp.response(201, BankAccountSchema)
    @blp.alt_response(409, description="A bank account with this name exists")
    def post(self, data):
        """Add a bank account (name, IBAN, currency, the ledger account it posts to)."""
        with sessions().begin() as session:
            return service.create_bank_account(session, data, current_principal())


@blp.route("/payments")
class Payments(MethodView):
    @requires("payments:read")
    @blp.arguments(PaymentListArgs, location="query")
    @blp.response(200, PaymentPageSchema)
    def get(self, args):
        """Receipts and payments (filter by party, direction, method, status, cheque status, date, held credit;
        sort: number, payment_date, amount, created_at)."""
        with sessions().begin() as session:
            return service.list_payments(session, args)

    @requires("payments:record")
    @blp.arguments(PaymentCreateSchema)
    @blp.response(201, PaymentSchema)
    @blp.alt_response(422, description="Invalid field, e.g. an allocation above what a document still owes")
    @idempotent
    def post(self, data):
        """Record a customer receipt (in) or supplier payment (out), allocated as given or oldest due first; the
        rest is held as credit. Send Idempotency-Key to make retries safe."""
        return create_once("POST /payments", PaymentSchema,
                           lambda session, me: service.record_payment(session, data, me),
                           lambda v: f"/api/v1/payments/{v['id']}")


@blp.route("/payments/<uuid:payment_id>")
class PaymentById(MethodView):
    @requires("payments:read")
    @blp.response(200, PaymentSchema)
    def get(self, payment_id):
        """One payment with its allocations."""
        with sessions().begin() as session:
            return with_etag(service.get_payment(session, payment_id))


@blp.route("/payments/<uuid:payment_id>/allocate")
class PaymentAllocate(MethodView):
    @requires("payments:allocate")
    @blp.arguments(PaymentAllocateSchema)
    @blp.response(200, PaymentSchema)
    @blp.alt_response(409, description="Nothing left to allocate, or the payment bounced")
    def post(self, data, payment_id):
        """Apply the payment's held credit to documents (as given, or oldest due first)."""
        with sessions().begin() as session:
            return with_etag(service.allocate_payment(session, payment_id, data, current_principal()))


@blp.route("/payments/<uuid:payment_id>/cheque")
class PaymentCheque(MethodView):
    @requires("payments:record")
    @blp.arguments(PaymentChequeMoveSchema)
    @blp.response(200, PaymentSchema)
    @blp.alt_response(409, description="Not a cheque, or not a move its status allows")
    def post(self, data, payment_id):
        """Move a cheque on: deposited, cleared, or bounced (with a reason: the payment is reversed)."""
        with sessions().begin() as session:
            return with_etag(service.move_cheque(session, payment_id, data["status"], data.get("reason"),
                                                 current_principal()))


@blp.route("/parties/<uuid:party_id>/statement")
class PartyStatement(MethodView):
    @requires("payments:read")
    @blp.arguments(CurrentAccountArgs, location="query")
    @blp.response(200, CurrentAccountSchema)
    def get(self, args, party_id):
        """The party's current account between two dates: opening balance, documents and payments with a running
        balance (positive = the party owes us), closing balance, open invoices by age."""
        with sessions().begin() as session:
            return statement.statement(session, party_id, args.get("date_from"), args.get("date_to"),
                                       args.get("currency"))
