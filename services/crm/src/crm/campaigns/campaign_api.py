"""HTTP endpoints of campaigns (content, preview, test send, schedule, pause, resume, cancel, resend, figures) and
the public links in their messages (one-click unsubscribe, open pixel, click redirect)."""

import html

from flask import Response, redirect, request
from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_optional, if_match_required, required_version
from servicekit.pagination import fixed_order
from servicekit.web import create_once, idempotent, optional_version, sessions, settings, with_etag

from . import mailings, tracking
from .schemas import (
    AttachmentCreateSchema,
    CampaignCreateSchema,
    CampaignRecipientPageSchema,
    CampaignSchema,
    CampaignStatisticsSchema,
    CampaignUpdateSchema,
    PreviewArgs,
    PreviewSchema,
    RecipientListArgs,
    ResendResultSchema,
    ResendSchema,
    ScheduleSchema,
    TestSendResultSchema,
    TestSendSchema,
    UnsubscribeFactsSchema,
)

blp = Blueprint("campaigns", __name__, url_prefix="/api/v1/campaigns/mailings",
                description="Campaigns (campaigns:read / campaigns:manage): sandboxed Jinja2 content with merge "
                            "fields, preview, test send, then scheduled or immediate sending by the worker, "
                            "throttled, exactly once per recipient; pause, resume, cancel, resend to those not yet "
                            "sent or failed; figures (sent, opened, clicked, bounced, unsubscribed, leads, won "
                            "deals).")
public_blp = Blueprint("campaign_mail", __name__, url_prefix="/api/v1/public/campaign-mail",
                       description="The signed links in campaign messages: one-click unsubscribe (RFC 8058), the "
                                   "open pixel and click redirects. A forged link is a 404 and records nothing.")

STATE = "The campaign is not in a state that allows this"


@blp.route("")
class Campaigns(MethodView):
    @requires("campaigns:read")
    @blp.response(200, CampaignSchema(many=True))
    def get(self):
        """Every campaign, newest first."""
        with sessions().begin() as session:
            return mailings.list_campaigns(session)

    @requires("campaigns:manage")
    @blp.arguments(CampaignCreateSchema)
    @blp.response(201, CampaignSchema)
    @blp.alt_response(409, description="The name is taken")
    @blp.alt_response(422, description="A template that does not compile or uses an unknown field; no audience")
    @idempotent
    def post(self, data):
        """Write a campaign (a draft) to one segment or one list."""
        return create_once("POST /campaigns/mailings", CampaignSchema,
                           lambda session, me: mailings.create_campaign(session, data, me),
                           lambda body: f"/api/v1/campaigns/mailings/{body['id']}")


@blp.route("/<uuid:campaign_id>")
class CampaignById(MethodView):
    @requires("campaigns:read")
    @blp.response(200, CampaignSchema)
    def get(self, campaign_id):
        with sessions().begin() as session:
            return with_etag(mailings.get_campaign(session, campaign_id))

    @requires("campaigns:manage")
    @if_match_required
    @blp.arguments(CampaignUpdateSchema)
    @blp.response(200, CampaignSchema)
    @blp.alt_response(409, description="Only a draft can change")
    @blp.alt_response(412, description="The campaign changed since the ETag you sent")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, campaign_id):
        """Change a draft. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(mailings.update_campaign(session, campaign_id, expected, changes, current_principal()))


@blp.route("/<uuid:campaign_id>/attachments")
class CampaignAttachments(MethodView):
    @requires("campaigns:manage")
    @if_match_required
    @blp.arguments(AttachmentCreateSchema)
    @blp.response(200, CampaignSchema)
    @blp.alt_response(409, description="Only a draft can change, or it has the most attachments allowed")
    @blp.alt_response(412, description="The campaign changed since the ETag you sent")
    @blp.alt_response(413, description="The file is over 512 KiB")
    @blp.alt_response(428, description="If-Match is missing")
    def post(self, data, campaign_id):
        """Attach a file (base64) to a draft. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(mailings.add_attachment(session, campaign_id, expected, data, current_principal()))


@blp.route("/<uuid:campaign_id>/preview")
class CampaignPreview(MethodView):
    @requires("campaigns:read")
    @blp.arguments(PreviewArgs, location="query")
    @blp.response(200, PreviewSchema)
    def get(self, args, campaign_id):
        """The message as a chosen recipient (by address) would read it: subject, HTML (CSS inlined), text."""
        with sessions().begin() as session:
            return mailings.preview(session, campaign_id, args.get("email"), settings().crm_public_url)


@blp.route("/<uuid:campaign_id>/test-send")
class CampaignTestSend(MethodView):
    @requires("campaigns:manage")
    @blp.arguments(TestSendSchema)
    @blp.response(202, TestSendResultSchema)
    @blp.alt_response(409, description="The address is suppressed")
    def post(self, data, campaign_id):
        """Mail the campaign, marked [TEST], to one address (the worker sends it)."""
        with sessions().begin() as session:
            return mailings.test_send(session, campaign_id, data["to"], settings().campaign_from,
                                      settings().crm_public_url, current_principal())


@blp.route("/<uuid:campaign_id>/schedule")
class CampaignSchedule(MethodView):
    @requires("campaigns:manage")
    @if_match_optional
    @blp.arguments(ScheduleSchema)
    @blp.response(200, CampaignSchema)
    @blp.alt_response(409, description=STATE)
    def post(self, data, campaign_id):
        """Send the draft now or at `at`; its audience is taken when sending starts. If-Match optional."""
        expected = optional_version()
        with sessions().begin() as session:
            return with_etag(mailings.schedule(session, campaign_id, data.get("at"), expected, current_principal()))


@blp.route("/<uuid:campaign_id>/pause")
class CampaignPause(MethodView):
    @requires("campaigns:manage")
    @if_match_optional
    @blp.response(200, CampaignSchema)
    @blp.alt_response(409, description=STATE)
    def post(self, campaign_id):
        """Stop after the message in flight; resume goes on where it stopped. If-Match optional."""
        with sessions().begin() as session:
            return with_etag(mailings.pause(session, campaign_id, optional_version(), current_principal()))


@blp.route("/<uuid:campaign_id>/resume")
class CampaignResume(MethodView):
    @requires("campaigns:manage")
    @if_match_optional
    @blp.response(200, CampaignSchema)
    @blp.alt_response(409, description=STATE)
    def post(self, campaign_id):
        """Go on sending a paused campaign. If-Match optional."""
        with sessions().begin() as session:
            return with_etag(mailings.resume(session, campaign_id, optional_version(), current_principal()))


@blp.route("/<uuid:campaign_id>/cancel")
class CampaignCancel(MethodView):
    @requires("campaigns:manage")
    @if_match_optional
    @blp.response(200, CampaignSchema)
    @blp.alt_response(409, description=STATE)
    def post(self, campaign_id):
        """Stop for good (resend can still reach those not sent). If-Match optional."""
        with sessions().begin() as session:
            return with_etag(mailings.cancel(session, campaign_id, optional_version(), current_principal()))


@blp.route("/<uuid:campaign_id>/resend")
class CampaignResend(MethodView):
    @requires("campaigns:manage")
    @if_match_optional
    @blp.arguments(ResendSchema)
    @blp.response(200, ResendResultSchema)
    @blp.alt_response(409, description=STATE)
    def post(self, data, campaign_id):
        """Send to those not yet sent: addresses that joined the audience since and, with failed (default),
        those whose sending failed. Nobody already sent gets it twice. If-Match optional."""
        with sessions().begin() as session:
            return with_etag(mailings.resend(session, campaign_id, data["failed"], optional_version(),
                                             current_principal()))


@blp.route("/<uuid:campaign_id>/statistics")
class CampaignStatistics(MethodView):
    @requires("campaigns:read")
    @blp.response(200, CampaignStatisticsSchema)
    def get(self, campaign_id):
        """Recipients, sent, failed, bounced (hard/soft), opened, clicked (per link), unsubscribed, complained,
        and the leads and won deals attributed to the campaign."""
        with sessions().begin() as session:
            return mailings.statistics(session, campaign_id)


@blp.route("/<uuid:campaign_id>/recipients")
class CampaignRecipients(MethodView):
    @requires("campaigns:read")
    @blp.arguments(RecipientListArgs, location="query")
    @blp.response(200, CampaignRecipientPageSchema)
    def get(self, args, campaign_id):
        """The send ledger: each recipient's state, attempts, last error, opens, clicks (in sending order)."""
        fixed_order(args, "in sending order")
        with sessions().begin() as session:
            return mailings.recipients(session, campaign_id, args.get("status"), args["page"], args["page_size"])


# -- the public links --------------------------------------------------------------------------------------------

_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head><body>
<h1>{title}</h1><p>{text}</p>{form}</body></html>"""
_HTML = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
         "X-Frame-Options": "DENY"}
_UNSUBSCRIBE_RESPONSES = {"200": {"description": "A page (HTML)", "content": {
    "text/html": {"schema": {"type": "string"}}, "application/json": {"schema": UnsubscribeFactsSchema}}}}
_ONE_CLICK_BODY = {"required": False, "content": {"application/x-www-form-urlencoded": {"schema": {
    "type": "object", "properties": {"List-Unsubscribe": {"type": "string", "enum": ["One-Click"]}}}}}}


def _page(title: str, text: str, form: str = "") -> Response:
    return Response(_PAGE.format(title=html.escape(title), text=text, form=form), 200, _HTML)


def _wants_json() -> bool:
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def _unsubscribe_page(facts: dict) -> Response:
    """The page of an unsubscribe link: what is done, and the buttons (POST forms) for what is not. A list
    campaign's page offers both: leave this list only (this link's own POST) or every campaign (the other)."""
    email = html.escape(facts["email"])
    if facts["unsubscribed_from"] == "all":
        return _page("Unsubscribed", f"{email} gets no more campaigns.")
    everything = (f'<form method="post" action="{html.escape(facts["everything_path"])}">'
                  '<button type="submit">Unsubscribe from all our campaigns</button></form>')
    if facts["list"] is None:  # a segment's campaign: its own link leaves everything
        return _page("Unsubscribe", f"Stop sending campaigns such as {html.escape(facts['campaign'])} to {email}?",
                     '<form method="post"><button type="submit">Unsubscribe from all our campaigns</button></form>')
    mailing_list = html.escape(facts["list"])
    if facts["unsubscribed_from"] == "list":
        return _page("Unsubscribed from the list", f"{email} is off the list {mailing_list}. Other campaigns may "
                                                   "still reach it.", everything)
    this_list = (f'<form method="post"><button type="submit">Unsubscribe from {mailing_list} only</button></form>')
    return _page("Unsubscribe", f"Stop sending {mailing_list} (campaign {html.escape(facts['campaign'])}) to "
                                f"{email}, or every campaign?", this_list + everything)


@public_blp.route("/unsubscribe/<string:rid>/<string:sig>")
class Unsubscribe(MethodView):
    @public_blp.doc(security=[], responses=_UNSUBSCRIBE_RESPONSES)
    @public_blp.alt_response(404, description="The link is unknown")
    def get(self, rid, sig):
        """The page the List-Unsubscribe link opens: a button. Opening it (a link scanner) changes nothing."""
        with sessions().begin() as session:
            facts = tracking.unsubscribe_facts(session, settings().campaign_secret, rid, sig)
        if _wants_json():
            return UnsubscribeFactsSchema().dump(facts)
        return _unsubscribe_page(facts)

    @public_blp.doc(security=[], requestBody=_ONE_CLICK_BODY, responses=_UNSUBSCRIBE_RESPONSES)
    @public_blp.alt_response(404, description="The link is unknown; nothing recorded")
    def post(self, rid, sig):
        """One-click unsubscribe (RFC 8058) and the page's buttons: answered 200, no redirect, no cookie. A list
        campaign's own link leaves that list only; the link of the page's other button leaves every campaign."""
        request.max_content_length = 4096
        one_click = request.form.get("List-Unsubscribe") == "One-Click"
        with sessions().begin() as session:
            facts = tracking.unsubscribe(session, settings().campaign_secret, rid, sig,
                                         "one_click" if one_click else "page", (request.remote_addr or "")[:64])
        if _wants_json():
            return UnsubscribeFactsSchema().dump(facts)
        return _unsubscribe_page(facts)


@public_blp.route("/open/<string:rid>/<string:sig>.gif")
class Open(MethodView):
    @public_blp.doc(security=[], responses={"200": {"description": "A 1x1 transparent GIF", "content": {
        "image/gif": {"schema": {"type": "string", "format": "binary"}}}}})
    @public_blp.alt_response(404, description="The link is unknown; nothing recorded")
    def get(self, rid, sig):
        """The open pixel: counts an open of the recipient's message."""
        with sessions().begin() as session:
            tracking.record_open(session, settings().campaign_secret, rid, sig)
        return Response(tracking.PIXEL, 200, {"Content-Type": "image/gif", "Cache-Control": "no-store"})


@public_blp.route("/click/<string:rid>/<string:sig>")
class Click(MethodView):
    @public_blp.doc(security=[], parameters=[{"in": "query", "name": "url", "required": True,
                                               "schema": {"type": "string"}}],
                    responses={"302": {"description": "To the link's URL (only the one the signature names)"}})
    @public_blp.alt_response(404, description="The link is unknown or altered; nothing recorded")
    def get(self, rid, sig):
        """A tracked link: counts the click and sends the browser on."""
        with sessions().begin() as session:
            url = tracking.record_click(session, settings().campaign_secret, rid, sig,
                                        request.args.get("url", "")[:2000])
        return redirect(url, 302)
