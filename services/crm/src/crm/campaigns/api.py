"""HTTP endpoints of campaign audiences (segments, lists), consent and the suppression list, and the public
double opt-in: read arguments, call one use case, answer."""

import html

from flask import Response, request
from flask.views import MethodView
from marshmallow import ValidationError
from servicekit import guards
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_required, required_version
from servicekit.pagination import PageArgs, fixed_order
from servicekit.problems import field_error
from servicekit.web import create_once, idempotent, sessions, settings, with_etag

from . import service, subscriptions
from .schemas import (
    AudiencePreviewSchema,
    ConfirmationSchema,
    ConsentSetSchema,
    EmailAddressSchema,
    EmailArgs,
    ListImportResultSchema,
    ListImportSchema,
    ListMemberPageSchema,
    MailingListCreateSchema,
    MailingListSchema,
    PublicAnswerSchema,
    PublicSubscribeSchema,
    SegmentCreateSchema,
    SegmentFilterPreviewSchema,
    SegmentSchema,
    SegmentUpdateSchema,
    SubscriptionFormCreateSchema,
    SubscriptionFormSchema,
    SubscriptionFormUpdateSchema,
    SuppressionCreateSchema,
    SuppressionListArgs,
    SuppressionPageSchema,
)

audiences_blp = Blueprint("audiences", __name__, url_prefix="/api/v1/campaigns",
                          description="Who campaigns reach (campaigns:read / campaigns:manage): segments (saved "
                                      "filters over parties or leads, evaluated when used), static lists with CSV "
                                      "import, each address's consent and history, the suppression list every "
                                      "send obeys, and double opt-in subscription forms.")
public_blp = Blueprint("campaign_public", __name__, url_prefix="/api/v1/public/subscriptions",
                       description="Public double opt-in: no token, rate-limited, answers the same whatever the "
                                   "address; the mailed link opens a page whose button (a POST) confirms.")


def _client_ip() -> str:
    return (request.remote_addr or "unknown")[:64]


# -- segments --------------------------------------------------------------------------------------------------

@audiences_blp.route("/segments")
class Segments(MethodView):
    @requires("campaigns:read")
    @audiences_blp.response(200, SegmentSchema(many=True))
    def get(self):
        """Every segment."""
        with sessions().begin() as session:
            return service.list_segments(session)

    @requires("campaigns:manage")
    @audiences_blp.arguments(SegmentCreateSchema)
    @audiences_blp.response(201, SegmentSchema)
    @audiences_blp.alt_response(409, description="The name is taken")
    @audiences_blp.alt_response(422, description="A filter on an unknown field, or an invalid value")
    @idempotent
    def post(self, data):
        """Save a segment: a filter evaluated each time it is used."""
        return create_once("POST /campaigns/segments", SegmentSchema,
                           lambda session, me: service.create_segment(session, data, me),
                           lambda body: f"/api/v1/campaigns/segments/{body['id']}")


@audiences_blp.route("/segments/preview")
class SegmentFilterPreview(MethodView):
    @requires("campaigns:read")
    @audiences_blp.arguments(SegmentFilterPreviewSchema)
    @audiences_blp.response(200, AudiencePreviewSchema)
    @audiences_blp.alt_response(422, description="A filter on an unknown field, or an invalid value")
    def post(self, data):
        """Count a filter without saving it (suppressed addresses left out), with a sample. Changes nothing."""
        with sessions().begin() as session:
            return service.preview_filter(session, data["subject"], data["filter"])


@audiences_blp.route("/segments/<uuid:segment_id>")
class SegmentById(MethodView):
    @requires("campaigns:read")
    @audiences_blp.response(200, SegmentSchema)
    def get(self, segment_id):
        with sessions().begin() as session:
            return with_etag(service.get_segment(session, segment_id))

    @requires("campaigns:manage")
    @if_match_required
    @audiences_blp.arguments(SegmentUpdateSchema)
    @audiences_blp.response(200, SegmentSchema)
    @audiences_blp.alt_response(409, description="The name is taken")
    @audiences_blp.alt_response(412, description="The segment changed since the ETag you sent")
    @audiences_blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, segment_id):
        """Rename the segment or change its filter. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.update_segment(session, segment_id, expected, changes, current_principal()))


@audiences_blp.route("/segments/<uuid:segment_id>/preview")
class SegmentPreview(MethodView):
    @requires("campaigns:read")
    @audiences_blp.response(200, AudiencePreviewSchema)
    def get(self, segment_id):
        """Evaluate the segment now: how many addresses it reaches (suppressed ones left out), and a sample."""
        with sessions().begin() as session:
            return service.preview_segment(session, segment_id)


# -- lists -----------------------------------------------------------------------------------------------------

@audiences_blp.route("/lists")
class MailingLists(MethodView):
    @requires("campaigns:read")
    @audiences_blp.response(200, MailingListSchema(many=True))
    def get(self):
        with sessions().begin() as session:
            return service.list_lists(session)

    @requires("campaigns:manage")
    @audiences_blp.arguments(MailingListCreateSchema)
    @audiences_blp.response(201, MailingListSchema)
    @audiences_blp.alt_response(409, description="The name is taken")
    @idempotent
    def post(self, data):
        """Create a static list."""
        return create_once("POST /campaigns/lists", MailingListSchema,
                           lambda session, me: service.create_list(session, data, me),
                           lambda body: f"/api/v1/campaigns/lists/{body['id']}")


@audiences_blp.route("/lists/<uuid:list_id>")
class MailingListById(MethodView):
    @requires("campaigns:read")
    @audiences_blp.response(200, MailingListSchema)
    def get(self, list_id):
        with sessions().begin() as session:
            return with_etag(service.get_list(session, list_id))


@audiences_blp.route("/lists/<uuid:list_id>/members")
class MailingListMembers(MethodView):
    @requires("campaigns:read")
    @audiences_blp.arguments(PageArgs, location="query")
    @audiences_blp.response(200, ListMemberPageSchema)
    def get(self, args, list_id):
        """The list's members with their consent and suppression, by address."""
        fixed_order(args, "by address")
        with sessions().begin() as session:
            return service.list_members(session, list_id, args["page"], args["page_size"])


@audiences_blp.route("/lists/<uuid:list_id>/import")
class MailingListImport(MethodView):
    @requires("campaigns:manage")
    @audiences_blp.arguments(ListImportSchema)
    @audiences_blp.response(200, ListImportResultSchema)
    @audiences_blp.alt_response(413, description="More rows than one import takes")
    @audiences_blp.alt_response(422, description="Lines that are not valid addresses (all named); nothing imported")
    def post(self, data, list_id):
        """Add a CSV's addresses (all or none). With already_confirmed, their consent is recorded as given, with
        the source, for subscribers who confirmed elsewhere."""
        with sessions().begin() as session:
            return service.import_members(session, list_id, data["csv"], data["already_confirmed"],
                                          data["source"], current_principal())


# -- consent and the suppression list ----------------------------------------------------------------------------

@audiences_blp.route("/addresses")
class Addresses(MethodView):
    @requires("campaigns:read")
    @audiences_blp.arguments(EmailArgs, location="query")
    @audiences_blp.response(200, EmailAddressSchema)
    @audiences_blp.alt_response(404, description="The CRM has never seen this address")
    def get(self, args):
        """One address's consent, suppression and their history."""
        with sessions().begin() as session:
            return service.show_address(session, args["email"])


@audiences_blp.route("/consents")
class Consents(MethodView):
    @requires("campaigns:manage")
    @audiences_blp.arguments(ConsentSetSchema)
    @audiences_blp.response(200, EmailAddressSchema)
    def post(self, data):
        """Record consent given or withdrawn outside the CRM (withdrawn also suppresses the address)."""
        with sessions().begin() as session:
            return service.set_consent(session, data, current_principal())


@audiences_blp.route("/suppressions")
class Suppressions(MethodView):
    @requires("campaigns:read")
    @audiences_blp.arguments(SuppressionListArgs, location="query")
    @audiences_blp.response(200, SuppressionPageSchema)
    def get(self, args):
        """Addresses no send may reach: unsubscribed, hard-bounced, complained, blocked (latest first)."""
        fixed_order(args, "latest first")
        with sessions().begin() as session:
            return service.list_suppressions(session, args.get("reason"), args["page"], args["page_size"])

    @requires("campaigns:manage")
    @audiences_blp.arguments(SuppressionCreateSchema)
    @audiences_blp.response(200, EmailAddressSchema)
    def post(self, data):
        """Block an address by hand (idempotent: an address suppressed already keeps its first reason)."""
        with sessions().begin() as session:
            return service.block(session, data, current_principal())

    @requires("campaigns:manage")
    @audiences_blp.arguments(EmailArgs, location="query")
    @audiences_blp.response(204)
    @audiences_blp.alt_response(404, description="The address is not suppressed")
    @audiences_blp.alt_response(409, description="Unsubscribed by its owner: only a new subscription lifts it")
    def delete(self, args):
        """Release a suppressed address (a blocked or bounced one; never an owner's unsubscribe)."""
        with sessions().begin() as session:
            service.unblock(session, args["email"], current_principal())


# -- subscription forms --------------------------------------------------------------------------------------------

def _absolute(form: dict) -> dict:
    return {**form, "subscribe_url": settings().crm_public_url + form["subscribe_url"]}


@audiences_blp.route("/subscription-forms")
class SubscriptionForms(MethodView):
    @requires("campaigns:read")
    @audiences_blp.response(200, SubscriptionFormSchema(many=True))
    def get(self):
        with sessions().begin() as session:
            return [_absolute(f) for f in subscriptions.list_forms(session)]

    @requires("campaigns:manage")
    @audiences_blp.arguments(SubscriptionFormCreateSchema)
    @audiences_blp.response(201, SubscriptionFormSchema)
    @audiences_blp.alt_response(409, description="The name is taken")
    @idempotent
    def post(self, data):
        """A public double opt-in form for a list; websites post addresses to its subscribe_url."""
        return create_once("POST /campaigns/subscription-forms", SubscriptionFormSchema,
                           lambda session, me: _absolute(subscriptions.create_form(session, data, me)),
                           lambda body: f"/api/v1/campaigns/subscription-forms/{body['id']}")


@audiences_blp.route("/subscription-forms/<uuid:form_id>")
class SubscriptionFormById(MethodView):
    @requires("campaigns:manage")
    @if_match_required
    @audiences_blp.arguments(SubscriptionFormUpdateSchema)
    @audiences_blp.response(200, SubscriptionFormSchema)
    @audiences_blp.alt_response(412, description="The form changed since the ETag you sent")
    @audiences_blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, form_id):
        """Deactivate the form or rotate its key (pending confirmations are revoked). Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(_absolute(subscriptions.update_form(session, form_id, expected, changes,
                                                                 current_principal())))


# -- the public double opt-in --------------------------------------------------------------------------------------

_SUBSCRIBE_BODY = {"required": True, "content": {
    "application/json": {"schema": PublicSubscribeSchema, "example": {"email": "ada@example.com"}},
    "application/x-www-form-urlencoded": {"schema": PublicSubscribeSchema}}}


@public_blp.route("/<string:form_key>")
class Subscribe(MethodView):
    @public_blp.doc(security=[], requestBody=_SUBSCRIBE_BODY)
    @public_blp.response(202, PublicAnswerSchema)
    @public_blp.alt_response(404, description="No active form has this key")
    @public_blp.alt_response(413, description="The body is over 4 KiB")
    @public_blp.alt_response(415, description="Neither JSON nor a form post")
    @public_blp.alt_response(422, description="Not an email address")
    @public_blp.alt_response(429, description="Too many requests from this address (see Retry-After)")
    def post(self, form_key):
        """Ask for a subscription (no token): a confirmation link is mailed; the answer never says more."""
        subscriptions.admit(sessions(), form_key, _client_ip())
        body = guards.public_fields(subscriptions.MAX_BODY)
        try:
            data = PublicSubscribeSchema().load({"email": str(body.get("email") or "").strip()})
        except ValidationError:
            raise field_error("email", "not an email address") from None
        with sessions().begin() as session:
            subscriptions.request_subscription(session, form_key, data["email"], _client_ip(),
                                               settings().campaign_from, settings().crm_public_url)
        return {"status": "check your mailbox"}, 202


_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head><body>
<h1>{title}</h1><p>{text}</p>{form}</body></html>"""


def _page(title: str, text: str, form: str = "", status: int = 200) -> Response:
    body = _PAGE.format(title=html.escape(title), text=text, form=form)
    return Response(body, status, {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                                   "Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY"})


def _wants_html() -> bool:
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


@public_blp.route("/confirm/<string:token>")
class Confirm(MethodView):
    @public_blp.doc(security=[], responses={"200": {"description": "The confirmation page (HTML) or its facts "
                                                                   "(JSON)", "content": {
        "text/html": {"schema": {"type": "string"}}, "application/json": {"schema": ConfirmationSchema}}}})
    @public_blp.alt_response(404, description="The link is unknown, revoked or expired")
    def get(self, token):
        """The page the mailed link opens: the address and a button. Opening it confirms nothing."""
        with sessions().begin() as session:
            facts = subscriptions.confirmation_page(session, token)
        if not _wants_html():
            return ConfirmationSchema().dump(facts)
        if facts["confirmed"]:
            return _page("Subscription confirmed", f"{html.escape(facts['email'])} receives "
                                                   f"{html.escape(facts['list'])}.")
        button = '<form method="post"><button type="submit">Confirm my subscription</button></form>'
        return _page("Confirm your subscription", f"Subscribe {html.escape(facts['email'])} to "
                                                  f"{html.escape(facts['list'])}?", button)

    @public_blp.doc(security=[], responses={"200": {"description": "Confirmed (HTML page or JSON)", "content": {
        "text/html": {"schema": {"type": "string"}}, "application/json": {"schema": ConfirmationSchema}}}})
    @public_blp.alt_response(404, description="The link is unknown, revoked or expired; nothing recorded")
    def post(self, token):
        """Confirm the subscription (the page's button): consent is recorded with the form and address."""
        with sessions().begin() as session:
            facts = subscriptions.confirm(session, token, _client_ip())
        if not _wants_html():
            return ConfirmationSchema().dump(facts)
        return _page("Subscription confirmed", f"{html.escape(facts['email'])} receives "
                                               f"{html.escape(facts['list'])}.")
