"""HTTP endpoints of the ledger: chart of accounts and role mapping, journals, manual entries (draft -> post,
reverse), period close, hash chain verification and the financial reports (JSON, CSV, XLSX)."""

from flask import Response, request
from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import etag_of, if_match_optional, if_match_required, required_version
from servicekit.web import create_once, idempotent, sessions

from ..company.service import seller as company_seller
from . import accounts, exports, hashchain, hledger, reports, service
from .schemas import (
    AccountMappingUpdateSchema,
    AccountRoleSchema,
    AgingArgs,
    AgingSchema,
    AsOfArgs,
    BalanceSheetSchema,
    GeneralLedgerArgs,
    GeneralLedgerSchema,
    JournalEntryCreateSchema,
    JournalEntryListArgs,
    JournalEntryPageSchema,
    JournalEntryReverseSchema,
    JournalEntrySchema,
    JournalEntryUpdateSchema,
    LedgerAccountCreateSchema,
    LedgerAccountListArgs,
    LedgerAccountPageSchema,
    LedgerAccountSchema,
    LedgerAccountUpdateSchema,
    LedgerExportArgs,
    LedgerJournalCreateSchema,
    LedgerJournalSchema,
    LedgerSettingsSchema,
    LedgerVerificationSchema,
    LockDateSchema,
    PartyStatementSchema,
    PeriodArgs,
    ProfitAndLossSchema,
    StatementArgs,
    TrialBalanceSchema,
)

ledger_blp = Blueprint("ledger", __name__, url_prefix="/api/v1",
                       description="The chart of accounts, the accounts each posting role books to, journals, the "
                                   "lock date of closed periods and the hash chain over posted entries.")
entries_blp = Blueprint("journal_entries", __name__, url_prefix="/api/v1/journal-entries",
                        description="Journal entries: every document posts one; accountants add manual ones (draft, "
                                    "then post). Posted entries never change: reverse them.")
reports_blp = Blueprint("ledger_reports", __name__, url_prefix="/api/v1/ledger/reports",
                        description="Financial reports as of a date, computed from the journal: JSON, or "
                                    "?format=csv / ?format=xlsx / ?format=pdf to download.")


# -- chart of accounts ---------------------------------------------------------------------------

@ledger_blp.route("/accounts")
class Accounts(MethodView):
    @requires("ledger:read")
    @ledger_blp.arguments(LedgerAccountListArgs, location="query")
    @ledger_blp.response(200, LedgerAccountPageSchema)
    def get(self, args):
        """The chart of accounts, by code; filter by type, active, code prefix or name."""
        with sessions().begin() as session:
            return accounts.list_accounts(session, args)

    @requires("accounts:manage")
    @ledger_blp.arguments(LedgerAccountCreateSchema)
    @ledger_blp.response(201, LedgerAccountSchema)
    @ledger_blp.alt_response(409, description="The code is taken")
    @idempotent
    def post(self, data):
        """Add an account. Send Idempotency-Key to make retries safe."""
        return create_once("POST /accounts", LedgerAccountSchema(),
                       lambda session, me: accounts.create_account(session, data, me))


@ledger_blp.route("/accounts/<uuid:account_id>")
class AccountById(MethodView):
    @requires("ledger:read")
    @ledger_blp.response(200, LedgerAccountSchema)
    def get(self, account_id):
        with sessions().begin() as session:
            view = accounts.get_account(session, account_id)
        return view, 200, {"ETag": etag_of(view["version"])}

    @requires("accounts:manage")
    @if_match_required
    @ledger_blp.arguments(LedgerAccountUpdateSchema)
    @ledger_blp.response(200, LedgerAccountSchema)
    @ledger_blp.alt_response(409, description="Code or type of an account with postings; deactivating a mapped one")
    def patch(self, changes, account_id):
        """Rename, regroup, flag or (de)activate an account. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            view = accounts.update_account(session, account_id, expected, changes, current_principal())
        return view, 200, {"ETag": etag_of(view["version"])}

    @requires("accounts:manage")
    @ledger_blp.response(204)
    @ledger_blp.alt_response(409, description="The account has postings, roles, sub-accounts or drafts")
    def delete(self, account_id):
        """Delete an account nobody used; one with postings is deactivated instead."""
        with sessions().begin() as session:
            accounts.delete_account(session, account_id, current_principal())


@ledger_blp.route("/ledger/account-mapping")
class AccountMapping(MethodView):
    @requires("ledger:read")
    @ledger_blp.response(200, AccountRoleSchema(many=True))
    def get(self):
        """The posting roles (receivable, revenue_goods, vat_collected, grni, ...) and the account each books to."""
        with sessions().begin() as session:
            return accounts.get_mapping(session)

    @requires("accounts:manage")
    @ledger_blp.arguments(AccountMappingUpdateSchema)
    @ledger_blp.response(200, AccountRoleSchema(many=True))
    def patch(self, data):
        """Point roles at other active accounts; later postings use them."""
        with sessions().begin() as session:
            return accounts.update_mapping(session, data["roles"], current_principal())


@ledger_blp.route("/journals")
class Journals(MethodView):
    @requires("ledger:read")
    @ledger_blp.response(200, LedgerJournalSchema(many=True))
    def get(self):
        """The journals (SAL, PUR, BNK, CSH, GEN, STK and any added)."""
        with sessions().begin() as session:
            return accounts.list_journals(session)

    @requires("accounts:manage")
    @ledger_blp.arguments(LedgerJournalCreateSchema)
    @ledger_blp.response(201, LedgerJournalSchema)
    def post(self, data):
        """Add a journal; its entries are numbered <CODE>-<year>-000001 onwards."""
        with sessions().begin() as session:
            return accounts.create_journal(session, data, current_principal())


# -- period close and verification ---------------------------------------------------------------

@ledger_blp.route("/ledger/settings")
class Settings(MethodView):
    @requires("ledger:read")
    @ledger_blp.response(200, LedgerSettingsSchema)
    def get(self):
        """The ledger's currency and lock date."""
        with sessions().begin() as session:
            return accounts.settings_view(session)


@ledger_blp.route("/ledger/lock")
class Lock(MethodView):
    @requires("ledger:close")
    @ledger_blp.arguments(LockDateSchema)
    @ledger_blp.response(200, LedgerSettingsSchema)
    @ledger_blp.alt_response(409, description="Moving the lock date back (administrators only)")
    def post(self, data):
        """Close the books up to lock_date: postings dated on or before it are refused (409 period-closed)."""
        me = current_principal()
        with sessions().begin() as session:
            return accounts.set_lock_date(session, data["lock_date"], me, me.is_admin)


@ledger_blp.route("/ledger/verify")
class Verify(MethodView):
    @requires("ledger:read")
    @ledger_blp.response(200, LedgerVerificationSchema)
    def get(self):
        """Recompute the hash chain over every posted entry: ok, or the first entry altered behind the app's back."""
        with sessions().begin() as session:
            return hashchain.verify(session).__dict__


@ledger_blp.route("/ledger/export")
class Export(MethodView):
    @requires("ledger:report")
    @ledger_blp.arguments(LedgerExportArgs, location="query")
    @ledger_blp.response(200, content_type="text/plain", description="The posted journal in hledger's format")
    def get(self, args):
        """The posted journal for another program to read: `format=hledger` (hledger's journal format, so
        `hledger -f export.journal bal` checks every account's balance independently)."""
        session = sessions()()

        def stream():
            try:
                with session.begin():
                    yield from hledger.journal(session, args.get("date_to"))
            finally:
                session.close()

        return Response(stream(), mimetype="text/plain",
                        headers={"Content-Disposition": 'attachment; filename="ledger.journal"'})


# -- journal entries -----------------------------------------------------------------------------

@entries_blp.route("")
class Entries(MethodView):
    @requires("ledger:read")
    @entries_blp.arguments(JournalEntryListArgs, location="query")
    @entries_blp.response(200, JournalEntryPageSchema)
    def get(self, args):
        """Journal entries, newest first; filter by journal, status, source document, account, party, dates."""
        with sessions().begin() as session:
            return service.list_entries(session, args)

    @requires("ledger:post")
    @entries_blp.arguments(JournalEntryCreateSchema)
    @entries_blp.response(201, JournalEntrySchema)
    @idempotent
    def post(self, data):
        """A manual entry, as a draft (its lines may not balance yet). Send Idempotency-Key to make retries safe."""
        return create_once("POST /journal-entries", JournalEntrySchema(),
                       lambda session, me: service.create_draft(session, data, me))


@entries_blp.route("/<uuid:entry_id>")
class EntryById(MethodView):
    @requires("ledger:read")
    @entries_blp.response(200, JournalEntrySchema)
    def get(self, entry_id):
        with sessions().begin() as session:
            view = service.get_entry(session, entry_id)
        return view, 200, {"ETag": etag_of(view["version"])}

    @requires("ledger:post")
    @if_match_required
    @entries_blp.arguments(JournalEntryUpdateSchema)
    @entries_blp.response(200, JournalEntrySchema)
    @entries_blp.alt_response(409, description="The entry is posted: reverse it instead")
    def patch(self, changes, entry_id):
        """Change a draft. Requires If-Match. A posted entry answers 409."""
        expected = required_version()
        with sessions().begin() as session:
            view = service.update_draft(session, entry_id, expected, changes, current_principal())
        return view, 200, {"ETag": etag_of(view["version"])}

    @requires("ledger:post")
    @entries_blp.response(204)
    @entries_blp.alt_response(409, description="The entry is posted: reverse it instead")
    def delete(self, entry_id):
        """Delete a draft. A posted entry answers 409."""
        with sessions().begin() as session:
            service.delete_draft(session, entry_id, current_principal())


@entries_blp.route("/<uuid:entry_id>/post")
class PostEntry(MethodView):
    @requires("ledger:post")
    @if_match_optional
    @entries_blp.response(200, JournalEntrySchema)
    @entries_blp.alt_response(409, description="Already posted, or dated in a closed period")
    @entries_blp.alt_response(422, description="Unbalanced, unknown or inactive account, missing party")
    def post(self, entry_id):
        """Post a draft: it is checked, numbered (gapless per journal and year) and sealed in the hash chain.
        If-Match is optional."""
        expected = request.headers.get("If-Match")
        with sessions().begin() as session:
            view = service.post_draft(session, entry_id, required_version() if expected else None,
                                      current_principal())
        return view, 200, {"ETag": etag_of(view["version"])}


@entries_blp.route("/<uuid:entry_id>/reverse")
class ReverseEntry(MethodView):
    @requires("ledger:post")
    @entries_blp.arguments(JournalEntryReverseSchema)
    @entries_blp.response(201, JournalEntrySchema)
    @entries_blp.alt_response(409, description="Already reversed, a reversal, a draft, or a closed period")
    def post(self, data, entry_id):
        """Cancel a posted entry with its mirror image (debits and credits swapped), linked to it."""
        with sessions().begin() as session:
            return service.reverse(session, entry_id, data.get("entry_date"), data["reason"], current_principal())


# -- reports -------------------------------------------------------------------------------------

def _report(args: dict, build, table, name: str):
    with sessions().begin() as session:
        report = build(session)
        company = company_seller(session)["legal_name"] if args["format"] == "pdf" else ""
    if args["format"] == "json":
        return report
    return exports.download(args["format"], table(report), f"{name}-{args['as_of'].isoformat()}", company)


@reports_blp.route("/trial-balance")
class TrialBalance(MethodView):
    @requires("ledger:report")
    @reports_blp.arguments(AsOfArgs, location="query")
    @reports_blp.response(200, TrialBalanceSchema)
    def get(self, args):
        """Debits, credits and balance of every account up to as_of; the totals are equal."""
        return _report(args, lambda s: reports.trial_balance(s, args["as_of"]), exports.trial_balance,
                       "trial-balance")


@reports_blp.route("/profit-and-loss")
class ProfitAndLoss(MethodView):
    @requires("ledger:report")
    @reports_blp.arguments(PeriodArgs, location="query")
    @reports_blp.response(200, ProfitAndLossSchema)
    def get(self, args):
        """Income and expenses from date_from (default: start of the fiscal year) to as_of, and the result."""
        return _report(args, lambda s: reports.profit_and_loss(s, args.get("date_from"), args["as_of"]),
                       exports.profit_and_loss, "profit-and-loss")


@reports_blp.route("/balance-sheet")
class BalanceSheet(MethodView):
    @requires("ledger:report")
    @reports_blp.arguments(AsOfArgs, location="query")
    @reports_blp.response(200, BalanceSheetSchema)
    def get(self, args):
        """Assets, liabilities and equity as of a date; equity includes the year's result."""
        return _report(args, lambda s: reports.balance_sheet(s, args["as_of"]), exports.balance_sheet,
                       "balance-sheet")


@reports_blp.route("/general-ledger")
class GeneralLedger(MethodView):
    @requires("ledger:report")
    @reports_blp.arguments(GeneralLedgerArgs, location="query")
    @reports_blp.response(200, GeneralLedgerSchema)
    def get(self, args):
        """One account's lines with the running balance, paginated (the downloads hold every line)."""
        page = args["page"] if args["format"] == "json" else None
        return _report(args, lambda s: reports.general_ledger(s, args["account"], args.get("date_from"),
                                                              args["as_of"], page, args["page_size"],
                                                              args.get("after") if page else None),
                       exports.ledger_lines, f"general-ledger-{args['account']}")


@reports_blp.route("/ar-aging")
class ReceivablesAging(MethodView):
    @requires("ledger:report")
    @reports_blp.arguments(AgingArgs, location="query")
    @reports_blp.response(200, AgingSchema)
    def get(self, args):
        """What customers owe, by days past due (current, 1-30, 31-60, 61-90, over 90); payments settle the
        oldest items first."""
        return _report(args, lambda s: reports.aging(s, "receivable", args["as_of"], args.get("account"),
                                                     args.get("party_id")), exports.aging, "ar-aging")


@reports_blp.route("/ap-aging")
class PayablesAging(MethodView):
    @requires("ledger:report")
    @reports_blp.arguments(AgingArgs, location="query")
    @reports_blp.response(200, AgingSchema)
    def get(self, args):
        """What we owe suppliers, by days past due; payments settle the oldest bills first."""
        return _report(args, lambda s: reports.aging(s, "payable", args["as_of"], args.get("account"),
                                                     args.get("party_id")), exports.aging, "ap-aging")


@reports_blp.route("/customer-statement")
class CustomerStatement(MethodView):
    @requires("ledger:report")
    @reports_blp.arguments(StatementArgs, location="query")
    @reports_blp.response(200, PartyStatementSchema)
    def get(self, args):
        """A customer's invoices and payments between two dates with the running balance they owe."""
        return _report(args, lambda s: reports.statement(s, "receivable", args["party_id"], args.get("date_from"),
                                                         args["as_of"], args.get("account")),
                       lambda r: exports.ledger_lines(r, "lines"), f"customer-statement-{args['party_id']}")


@reports_blp.route("/supplier-statement")
class SupplierStatement(MethodView):
    @requires("ledger:report")
    @reports_blp.arguments(StatementArgs, location="query")
    @reports_blp.response(200, PartyStatementSchema)
    def get(self, args):
        """A supplier's bills and payments between two dates with the running balance we owe."""
        return _report(args, lambda s: reports.statement(s, "payable", args["party_id"], args.get("date_from"),
                                                         args["as_of"], args.get("account")),
                       lambda r: exports.ledger_lines(r, "lines"), f"supplier-statement-{args['party_id']}")
