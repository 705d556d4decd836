"""HTTP endpoints of banking: accounts and cash boxes, their balance and movements, deposits, withdrawals, fees,
interest and transfers."""

from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_required, required_version
from servicekit.web import create_once, sessions, with_etag

from . import accounts, movements
from .schemas import (
    BankAccountListArgs,
    BankAccountOpenSchema,
    BankAccountUpdateSchema,
    BankAccountViewSchema,
    BankBalanceArgs,
    BankBalanceSchema,
    BankMovementCreateSchema,
    BankMovementReportSchema,
    BankMovementReverseSchema,
    BankMovementSchema,
    BankPeriodArgs,
    BankTransferCreateSchema,
    BankTransferSchema,
)

blp = Blueprint("banking", __name__, url_prefix="/api/v1/banking",
                description="Bank accounts and cash boxes, their balances and movements; deposits, withdrawals, "
                            "bank fees, interest and transfers between own accounts, each posted to the ledger.")


@blp.route("/accounts")
class Accounts(MethodView):
    @requires("payments:read")
    @blp.arguments(BankAccountListArgs, location="query")
    @blp.response(200, BankAccountViewSchema(many=True))
    def get(self, args):
        """Bank accounts and cash boxes with today's balance."""
        with sessions().begin() as session:
            return accounts.list_accounts(session, args.get("kind"))

    @requires("payments:record")
    @blp.arguments(BankAccountOpenSchema)
    @blp.response(201, BankAccountViewSchema)
    @blp.alt_response(409, description="A bank account or cash box with this name exists")
    def post(self, data):
        """Open a bank account (IBAN and BIC checked) or a cash box, with a ledger account of its own and its
        opening balance posted. Send Idempotency-Key to make retries safe."""
        return create_once("POST /banking/accounts", BankAccountViewSchema,
                           lambda session, me: accounts.open_account(session, data, me),
                           lambda v: f"/api/v1/banking/accounts/{v['id']}")


@blp.route("/accounts/<uuid:account_id>")
class AccountById(MethodView):
    @requires("payments:read")
    @blp.response(200, BankAccountViewSchema)
    def get(self, account_id):
        """One account with today's balance."""
        with sessions().begin() as session:
            return with_etag(accounts.get_account(session, account_id))

    @requires("payments:record")
    @if_match_required
    @blp.arguments(BankAccountUpdateSchema)
    @blp.response(200, BankAccountViewSchema)
    def patch(self, data, account_id):
        """Rename, set the BIC or the write-off limit, close (active false) or reopen."""
        with sessions().begin() as session:
            return with_etag(accounts.update_account(session, account_id, required_version(), data,
                                                     current_principal()))


@blp.route("/accounts/<uuid:account_id>/balance")
class AccountBalance(MethodView):
    @requires("payments:read")
    @blp.arguments(BankBalanceArgs, location="query")
    @blp.response(200, BankBalanceSchema)
    def get(self, args, account_id):
        """The account's balance in the books at the end of a day."""
        with sessions().begin() as session:
            return accounts.balance(session, account_id, args.get("as_of"))


@blp.route("/accounts/<uuid:account_id>/movements")
class AccountMovements(MethodView):
    @requires("payments:read")
    @blp.arguments(BankPeriodArgs, location="query")
    @blp.response(200, BankMovementReportSchema)
    def get(self, args, account_id):
        """The account's movements between two dates: opening balance, each movement with what posted it and a
        running balance, closing balance."""
        with sessions().begin() as session:
            return accounts.movements(session, account_id, args.get("date_from"), args.get("date_to"))

    @requires("payments:record")
    @blp.arguments(BankMovementCreateSchema)
    @blp.response(201, BankMovementSchema)
    def post(self, data, account_id):
        """Record a deposit, withdrawal, bank fee or interest. Send Idempotency-Key to make retries safe."""
        return create_once(f"POST /banking/accounts/{account_id}/movements", BankMovementSchema,
                           lambda session, me: movements.record_movement(session, account_id, data, me))


@blp.route("/movements/<uuid:movement_id>/reverse")
class MovementReverse(MethodView):
    @requires("payments:record")
    @if_match_required
    @blp.arguments(BankMovementReverseSchema)
    @blp.response(200, BankMovementSchema)
    @blp.alt_response(409, description="Already reversed, or reconciled with a statement line")
    def post(self, data, movement_id):
        """Cancel a movement booked in error: its entry is reversed."""
        with sessions().begin() as session:
            return with_etag(movements.reverse_movement(session, movement_id, required_version(),
                                                        data.get("reversal_date"), current_principal()))


@blp.route("/transfers")
class Transfers(MethodView):
    @requires("payments:record")
    @blp.arguments(BankTransferCreateSchema)
    @blp.response(201, BankTransferSchema)
    def post(self, data):
        """Move money between two own accounts (through transfers in transit when it arrives on a later day).
        Send Idempotency-Key to make retries safe."""
        return create_once("POST /banking/transfers", BankTransferSchema,
                           lambda session, me: movements.transfer(session, data, me),
                           lambda v: f"/api/v1/banking/transfers/{v['id']}")


@blp.route("/transfers/<uuid:transfer_id>")
class TransferById(MethodView):
    @requires("payments:read")
    @blp.response(200, BankTransferSchema)
    def get(self, transfer_id):
        """One transfer with its entries."""
        with sessions().begin() as session:
            return with_etag(movements.get_transfer(session, transfer_id))
