"""HTTP endpoints of banking: accounts and cash boxes, their balance and movements, deposits, withdrawals, fees,
interest and transfers."""

from flask import request
from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_required, required_version
from servicekit.problems import field_error
from servicekit.web import create_once, idempotent, sessions, with_etag

from . import accounts, bank_rules, cash_position, imports, movements, reconciliation, reconciling_reads
from .schemas import (
    AutoReconcileReportSchema,
    AutoReconcileSchema,
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
    BankStatementDetailSchema,
    BankStatementSchema,
    BankTransferCreateSchema,
    BankTransferSchema,
    CashPositionArgs,
    CashPositionSchema,
    CsvMappingSchema,
    CsvMappingViewSchema,
    ProposalsSchema,
    ReconcileSchema,
    ReconciliationReportSchema,
    ReconciliationSchema,
    RuleCreateSchema,
    RuleSchema,
    RuleUpdateSchema,
    StatementImportArgs,
    StatementImportReportSchema,
    StatementLineArgs,
    StatementLineSchema,
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
    @idempotent
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
    @idempotent
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
    @idempotent
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


@blp.route("/accounts/<uuid:account_id>/csv-mapping")
class AccountCsvMapping(MethodView):
    @requires("payments:read")
    @blp.response(200, CsvMappingViewSchema)
    def get(self, account_id):
        """How this account's bank writes its CSV export."""
        with sessions().begin() as session:
            return with_etag(imports.get_csv_mapping(session, account_id))

    @requires("payments:record")
    @blp.arguments(CsvMappingSchema)
    @blp.response(200, CsvMappingViewSchema)
    def put(self, data, account_id):
        """Save the column mapping of this account's CSV export (replaces the one saved)."""
        with sessions().begin() as session:
            return with_etag(imports.save_csv_mapping(session, account_id, data["mapping"], current_principal()))


@blp.route("/accounts/<uuid:account_id>/statements")
class AccountStatements(MethodView):
    @requires("payments:read")
    @blp.response(200, BankStatementSchema(many=True))
    def get(self, account_id):
        """The statements imported into the account, newest first."""
        with sessions().begin() as session:
            return imports.list_statements(session, account_id)

    @requires("payments:record")
    @blp.arguments(StatementImportArgs, location="query")
    @blp.response(200, StatementImportReportSchema)
    @blp.alt_response(409, description="The account is closed")
    @idempotent
    def post(self, args, account_id):
        """Import a statement file (multipart field `file`): camt.053, MT940, OFX, or CSV with the saved mapping.
        A file that does not read, is of another account, whose balances do not add up, that does not continue the
        previous statement or skips a sequence number is refused whole (422 naming the line); lines imported
        before are skipped, so the same or an overlapping file creates nothing twice."""
        upload = request.files.get("file")
        if upload is None:
            raise field_error("file", "send the statement as multipart/form-data field 'file'")
        # the upload is spooled to disk past a size: the import reads it as a stream, never whole
        with upload.stream:
            return create_once(f"POST /banking/accounts/{account_id}/statements", StatementImportReportSchema,
                               lambda session, me: imports.import_statement(session, account_id, upload.stream,
                                                                            upload.filename, args.get("format"), me))


@blp.route("/statements/<uuid:statement_id>")
class StatementById(MethodView):
    @requires("payments:read")
    @blp.response(200, BankStatementDetailSchema)
    def get(self, statement_id):
        """One statement with its lines."""
        with sessions().begin() as session:
            return imports.get_statement(session, statement_id)


@blp.route("/accounts/<uuid:account_id>/statement-lines")
class AccountStatementLines(MethodView):
    @requires("payments:read")
    @blp.arguments(StatementLineArgs, location="query")
    @blp.response(200, StatementLineSchema(many=True))
    def get(self, args, account_id):
        """The account's statement lines by booking date (reconciled=false: those still to explain)."""
        with sessions().begin() as session:
            return imports.list_lines(session, account_id, args.get("reconciled"))


# -- reconciliation -------------------------------------------------------------------------------

@blp.route("/statement-lines/<uuid:line_id>/proposals")
class LineProposals(MethodView):
    @requires("payments:read")
    @blp.response(200, ProposalsSchema)
    def get(self, line_id):
        """What could explain a statement line, best first: the rule that found it, a score and why."""
        with sessions().begin() as session:
            return reconciling_reads.proposals(session, line_id)


@blp.route("/statement-lines/<uuid:line_id>/reconcile")
class LineReconcile(MethodView):
    @requires("payments:allocate")
    @blp.arguments(ReconcileSchema)
    @blp.response(201, ReconciliationSchema)
    @blp.alt_response(409, description="The line is reconciled already, or a ledger line is taken")
    @idempotent
    def post(self, data, line_id):
        """Explain a statement line by invoices it pays (payments are recorded and allocated), bills, ledger lines
        already on the account, amounts booked to accounts, a small write-off or credit held: it must add up to
        the line. Send Idempotency-Key to make retries safe."""
        return create_once(f"POST /banking/statement-lines/{line_id}/reconcile", ReconciliationSchema,
                           lambda session, me: reconciliation.reconcile(session, line_id, data, me),
                           lambda v: f"/api/v1/banking/reconciliations/{v['id']}")


@blp.route("/reconciliations/<uuid:reconciliation_id>")
class ReconciliationById(MethodView):
    @requires("payments:read")
    @blp.response(200, ReconciliationSchema)
    def get(self, reconciliation_id):
        """A reconciliation: its rule, score, explanation and ledger lines."""
        with sessions().begin() as session:
            return with_etag(reconciling_reads.get_reconciliation(session, reconciliation_id))


@blp.route("/reconciliations/<uuid:reconciliation_id>/undo")
class ReconciliationUndo(MethodView):
    @requires("payments:allocate")
    @if_match_required
    @blp.response(200, ReconciliationSchema)
    @blp.alt_response(409, description="Undone already")
    def post(self, reconciliation_id):
        """Unreconcile: the line and its ledger lines are free again; write-offs and rule bookings it made are
        reversed; payments it recorded stay."""
        with sessions().begin() as session:
            return with_etag(reconciliation.undo(session, reconciliation_id, required_version(),
                                                  current_principal()))


@blp.route("/accounts/<uuid:account_id>/auto-reconcile")
class AccountAutoReconcile(MethodView):
    @requires("payments:allocate")
    @blp.arguments(AutoReconcileSchema)
    @blp.response(200, AutoReconcileReportSchema)
    def post(self, data, account_id):
        """Apply the best proposal of every unreconciled line that scores at least min_score; each line's rule,
        score and reason are in the answer, matched or not."""
        with sessions().begin() as session:
            return reconciliation.auto_reconcile(session, account_id, data["min_score"], current_principal())


@blp.route("/accounts/<uuid:account_id>/reconciliation-report")
class AccountReconciliationReport(MethodView):
    @requires("payments:read")
    @blp.arguments(BankBalanceArgs, location="query")
    @blp.response(200, ReconciliationReportSchema)
    def get(self, args, account_id):
        """Book balance against statement balance, with the unreconciled items on each side."""
        with sessions().begin() as session:
            return reconciling_reads.report(session, account_id, args.get("as_of"))


@blp.route("/rules")
class Rules(MethodView):
    @requires("payments:read")
    @blp.response(200, RuleSchema(many=True))
    def get(self):
        """The reconciliation rules."""
        with sessions().begin() as session:
            return bank_rules.list_rules(session)

    @requires("payments:allocate")
    @blp.arguments(RuleCreateSchema)
    @blp.response(201, RuleSchema)
    @idempotent
    def post(self, data):
        """A rule for recurring lines without a document: text contains / counterparty / IBAN / amount range ->
        account (and party). Send Idempotency-Key to make retries safe."""
        return create_once("POST /banking/rules", RuleSchema,
                           lambda session, me: bank_rules.create_rule(session, data, me),
                           lambda v: f"/api/v1/banking/rules/{v['id']}")


@blp.route("/rules/<uuid:rule_id>")
class RuleById(MethodView):
    @requires("payments:allocate")
    @if_match_required
    @blp.arguments(RuleUpdateSchema)
    @blp.response(200, RuleSchema)
    def patch(self, data, rule_id):
        """Change or deactivate a rule."""
        with sessions().begin() as session:
            return with_etag(bank_rules.update_rule(session, rule_id, required_version(), data,
                                                    current_principal()))


@blp.route("/cash-position")
class CashPosition(MethodView):
    @requires("payments:read")
    @blp.arguments(CashPositionArgs, location="query")
    @blp.response(200, CashPositionSchema)
    def get(self, args):
        """What the accounts hold today and a forecast by week: cheques by their date, customer invoices and
        supplier bills by their due date (overdue ones in the first week)."""
        with sessions().begin() as session:
            return cash_position.cash_position(session, args["currency"], args["weeks"])
