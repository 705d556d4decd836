"""HTTP endpoints of cheques received: receive, move, the portfolio and its maturity ladder."""

from flask import Response
from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_required, required_version
from servicekit.web import create_once, idempotent, sessions, with_etag

from . import issued, pdf, service
from .schemas import (
    ChequeBookCreateSchema,
    ChequeBookSchema,
    ChequeListArgs,
    ChequeMoveSchema,
    ChequeReceiveSchema,
    ChequeSchema,
    DepositSlipCreateSchema,
    DepositSlipSchema,
    DrawerArgs,
    DrawerSchema,
    IssueChequeSchema,
    IssuedChequeSchema,
    IssuedListArgs,
    IssuedMoveSchema,
    LadderArgs,
    LadderSchema,
    OutgoingLadderSchema,
)

blp = Blueprint("cheques", __name__, url_prefix="/api/v1/cheques",
                description="Cheques received from customers: the portfolio, deposits for collection, endorsement "
                            "to suppliers, collateral, clearing and bounces, each posted; the maturity ladder.")


@blp.route("")
class Cheques(MethodView):
    @requires("payments:read")
    @blp.arguments(ChequeListArgs, location="query")
    @blp.response(200, ChequeSchema(many=True))
    def get(self, args):
        """Cheques by due date (filter by state, customer; due_within_days: the ones to deposit now)."""
        with sessions().begin() as session:
            return service.list_cheques(session, args)

    @requires("payments:record")
    @blp.arguments(ChequeReceiveSchema)
    @blp.response(201, ChequeSchema)
    @idempotent
    def post(self, data):
        """Receive a customer's cheque (post-dated or not): a receipt that settles invoices, held in the
        portfolio. Send Idempotency-Key to make retries safe."""
        return create_once("POST /cheques", ChequeSchema,
                           lambda session, me: service.receive_cheque(session, data, me),
                           lambda v: f"/api/v1/cheques/{v['id']}")


@blp.route("/maturity-ladder")
class ChequeLadder(MethodView):
    @requires("payments:read")
    @blp.arguments(LadderArgs, location="query")
    @blp.response(200, LadderSchema)
    def get(self, args):
        """Cheques not yet cashed by the week or month they fall due."""
        with sessions().begin() as session:
            return service.maturity_ladder(session, args["by"], args["currency"])


@blp.route("/books")
class ChequeBooks(MethodView):
    @requires("payments:record")
    @blp.arguments(ChequeBookCreateSchema)
    @blp.response(201, ChequeBookSchema)
    @idempotent
    def post(self, data):
        """A book of our own cheques on a bank account (numbers first..last). Send Idempotency-Key to make
        retries safe."""
        return create_once("POST /cheques/books", ChequeBookSchema,
                           lambda session, me: issued.create_book(session, data, me))


@blp.route("/issued")
class IssuedCheques(MethodView):
    @requires("payments:read")
    @blp.arguments(IssuedListArgs, location="query")
    @blp.response(200, IssuedChequeSchema(many=True))
    def get(self, args):
        """Our cheques by due date."""
        with sessions().begin() as session:
            return issued.list_issued(session, args.get("state"))

    @requires("payments:record")
    @blp.arguments(IssueChequeSchema)
    @blp.response(201, IssuedChequeSchema)
    @blp.alt_response(409, description="The cheque book is used up")
    @idempotent
    def post(self, data):
        """Write the book's next cheque to a supplier: a supplier payment (the bills named, else oldest due) into
        cheques issued until the bank pays it. Send Idempotency-Key to make retries safe."""
        return create_once("POST /cheques/issued", IssuedChequeSchema,
                           lambda session, me: issued.issue_cheque(session, data, me))


@blp.route("/issued/maturity-ladder")
class IssuedLadder(MethodView):
    @requires("payments:read")
    @blp.arguments(LadderArgs, location="query")
    @blp.response(200, OutgoingLadderSchema)
    def get(self, args):
        """Our cheques not yet paid by the bank, by the week or month they fall due."""
        with sessions().begin() as session:
            return service.outgoing_ladder(session, args["by"], args["currency"])


@blp.route("/issued/<uuid:cheque_id>/moves")
class IssuedMove(MethodView):
    @requires("payments:record")
    @if_match_required
    @blp.arguments(IssuedMoveSchema)
    @blp.response(200, IssuedChequeSchema)
    @blp.alt_response(409, description="A move its state does not allow")
    def post(self, data, cheque_id):
        """presented, cleared (moves the amount to the bank account), or voided (the supplier payment is reversed,
        the bills reopen)."""
        with sessions().begin() as session:
            return with_etag(issued.move_issued(session, cheque_id, required_version(), data, current_principal()))


@blp.route("/drawers")
class ChequeDrawers(MethodView):
    @requires("payments:read")
    @blp.arguments(DrawerArgs, location="query")
    @blp.response(200, DrawerSchema(many=True))
    def get(self, args):
        """Each drawer's cheques and how often they bounced, most bounces first."""
        with sessions().begin() as session:
            return service.drawers(session, args.get("drawer"))


@blp.route("/<uuid:cheque_id>")
class ChequeById(MethodView):
    @requires("payments:read")
    @blp.response(200, ChequeSchema)
    def get(self, cheque_id):
        """One cheque with its moves."""
        with sessions().begin() as session:
            return with_etag(service.get_cheque(session, cheque_id))


@blp.route("/<uuid:cheque_id>/moves")
class ChequeMove(MethodView):
    @requires("payments:record")
    @if_match_required
    @blp.arguments(ChequeMoveSchema)
    @blp.response(200, ChequeSchema)
    @blp.alt_response(409, description="A move its state does not allow, or a post-dated cheque deposited early")
    def post(self, data, cheque_id):
        """Move a cheque: deposited_for_collection (bank_account_id), endorsed (supplier_id, bills),
        given_as_collateral (bank_account_id), cleared, bounced (reason), returned, protested."""
        with sessions().begin() as session:
            return with_etag(service.move_cheque(session, cheque_id, required_version(), data,
                                                 current_principal()))


@blp.route("/deposit-slips")
class DepositSlips(MethodView):
    @requires("payments:record")
    @blp.arguments(DepositSlipCreateSchema)
    @blp.response(201, DepositSlipSchema)
    @blp.alt_response(409, description="A cheque is not in the portfolio, or dated later than the deposit")
    @idempotent
    def post(self, data):
        """Deposit several cheques of the portfolio to one bank account: each is moved and posted; one that may
        not be deposited refuses the whole slip. Send Idempotency-Key to make retries safe."""
        return create_once("POST /cheques/deposit-slips", DepositSlipSchema,
                           lambda session, me: service.deposit_slip(session, data, me),
                           lambda v: f"/api/v1/cheques/deposit-slips/{v['id']}")


@blp.route("/deposit-slips/<uuid:slip_id>")
class DepositSlipById(MethodView):
    @requires("payments:read")
    @blp.response(200, DepositSlipSchema)
    def get(self, slip_id):
        """A deposit slip: the bank account, the day, its cheques and their total."""
        with sessions().begin() as session:
            return service.get_deposit_slip(session, slip_id)


@blp.route("/deposit-slips/<uuid:slip_id>/pdf")
class DepositSlipPdf(MethodView):
    @requires("payments:read")
    @blp.response(200, content_type="application/pdf")
    def get(self, slip_id):
        """The printable deposit slip (application/pdf) to hand to the bank with the cheques."""
        with sessions().begin() as session:
            slip = service.get_deposit_slip(session, slip_id)
        return Response(pdf.render_deposit_slip(slip), mimetype="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="deposit-slip-{slip_id}.pdf"'})
