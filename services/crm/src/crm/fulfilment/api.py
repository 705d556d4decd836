"""HTTP views of a deal's fulfilment as the ERP reports it, its installations, and the installer's public form."""

from flask import Response, request
from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_optional
from servicekit.problems import Problem
from servicekit.web import optional_version, sessions, settings, with_etag

from . import form, installation, service
from .schemas import (
    DealFulfilmentSchema,
    InstallationLinkSchema,
    InstallationListArgs,
    InstallationReceivedSchema,
    InstallationSchema,
)

blp = Blueprint("fulfilment", __name__, url_prefix="/api/v1",
                description="What happens after a deal is won, as the ERP reports it (read-only): work orders and "
                            "purchases with their status, expected dates and late flags; then the installation, "
                            "closed by the installer through a public form link.")
public_blp = Blueprint("installation_forms", __name__, url_prefix="/api/v1/public/installation-forms",
                       description="The installer's form (no account): a signed, single-use, expiring link; "
                                   "rate-limited per address; photos checked by their bytes.")


@blp.route("/deals/<uuid:deal_id>/fulfilment")
class DealFulfilment(MethodView):
    @requires("deals:read")
    @blp.response(200, DealFulfilmentSchema)
    def get(self, deal_id):
        """The deal's fulfilment panel: its orders, each work order and purchase with status, expected date and
        late flag, its installations, and a one-sentence summary to tell the customer."""
        with sessions().begin() as session:
            return service.deal_fulfilment(session, deal_id, current_principal())


@blp.route("/installations")
class Installations(MethodView):
    @requires("deals:read")
    @blp.arguments(InstallationListArgs, location="query")
    @blp.response(200, InstallationSchema(many=True))
    def get(self, args):
        """The installations of a deal (one per delivered order whose work orders are all done)."""
        with sessions().begin() as session:
            return service.installations_of(session, args["deal_id"], current_principal())


@blp.route("/installations/<uuid:installation_id>")
class InstallationById(MethodView):
    @requires("deals:read")
    @blp.response(200, InstallationSchema)
    def get(self, installation_id):
        """One installation: status, the installer's report, serials and photos."""
        with sessions().begin() as session:
            return with_etag(installation.get_installation(session, installation_id, current_principal()))


@blp.route("/installations/<uuid:installation_id>/link")
class InstallationLink(MethodView):
    @requires("deals:update")
    @if_match_optional
    @blp.response(200, InstallationLinkSchema)
    @blp.alt_response(409, description="The installation was already reported: its form is closed")
    def post(self, installation_id):
        """Issue the installer's form link (valid 14 days, once); every link issued before stops working."""
        with sessions().begin() as session:
            return installation.issue_link(session, installation_id, optional_version(), current_principal(),
                                           settings().crm_public_url)

    @requires("deals:update")
    @if_match_optional
    @blp.response(200, InstallationSchema)
    def delete(self, installation_id):
        """Withdraw the form link: it answers like any invalid link from now on."""
        with sessions().begin() as session:
            return with_etag(installation.revoke_link(session, installation_id, optional_version(),
                                                      current_principal()))


def _wants_page() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html" and \
        request.accept_mimetypes["text/html"] > request.accept_mimetypes["application/json"]


def _invalid_link():
    title, body = form.INVALID_LINK
    if _wants_page():
        return Response(form.page(title, body), status=404, mimetype="text/html")
    raise Problem(404, "Link not valid", "This installation form link is not valid: it may have expired, already "
                  "been used, or been withdrawn. Nothing was recorded.", "not-found")


def _admit() -> None:
    with sessions().begin() as session:  # counted even when the link turns out invalid
        form.admit(session, (request.remote_addr or "unknown")[:64])


_BODY = {"required": True, "content": {"multipart/form-data": {"schema": form.InstallationReportSchema}}}


@public_blp.route("/<string:token>")
class InstallationForm(MethodView):
    @public_blp.doc(security=[])
    @public_blp.response(200, content_type="text/html", description="The form, for a phone's browser")
    @public_blp.alt_response(404, description="The link is forged, used, withdrawn or expired (never says which)")
    @public_blp.alt_response(429, description="Too many requests from this address (see Retry-After)")
    def get(self, token):
        """The installer's form page."""
        _admit()
        with sessions().begin() as session:
            try:
                context = installation.form_context(session, token)
            except installation.InvalidLink:
                return _invalid_link()
        return Response(form.form_page(context), mimetype="text/html")

    @public_blp.doc(security=[], requestBody=_BODY)
    @public_blp.response(200, InstallationReceivedSchema)
    @public_blp.alt_response(404, description="The link is forged, used, withdrawn or expired: nothing recorded")
    @public_blp.alt_response(413, description="The body is over the size limit")
    @public_blp.alt_response(415, description="Not a multipart/form-data or url-encoded form post")
    @public_blp.alt_response(422, description="A field or photo is invalid (problem+json naming it)")
    @public_blp.alt_response(429, description="Too many requests from this address (see Retry-After)")
    def post(self, token):
        """Submit the installation report (multipart/form-data): result, notes, serials, photos, sign-off. It
        closes the task, puts the result on the deal and sends the serials to the ERP; the link then stops
        working."""
        _admit()
        if request.mimetype not in ("multipart/form-data", "application/x-www-form-urlencoded"):
            raise Problem(415, "Unsupported media type", "Send the form as multipart/form-data.",
                          "unsupported-media-type")
        report, photos = form.checked_report(request.form.to_dict(), request.files.getlist("photos"))
        unknown_files = sorted(set(request.files) - {"photos"})
        if unknown_files:
            raise Problem(422, "Invalid request", f"{unknown_files[0]}: unknown field", "validation-error",
                          errors=[{"field": unknown_files[0], "message": "unknown field"}])
        with sessions().begin() as session:
            try:
                installation.submit_form(session, token, report, photos)
            except installation.InvalidLink:
                return _invalid_link()
        if _wants_page():
            return Response(form.page(*form.THANKS), mimetype="text/html")
        return {"status": "recorded"}
