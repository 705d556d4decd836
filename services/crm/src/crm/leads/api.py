"""HTTP endpoints of leads, lead forms and the public lead capture: read arguments, call one use case, answer."""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from flask import redirect, request
from flask.views import MethodView
from servicekit import guards
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_optional, if_match_required, required_version
from servicekit.problems import Problem
from servicekit.web import create_once, idempotent, optional_version, sessions, settings, with_etag

from ..access.routes import OwnedRecord, add_owner_routes
from . import capture, conversion, service
from .schemas import (
    LeadConversionSchema,
    LeadConvertSchema,
    LeadCreateSchema,
    LeadDisqualifySchema,
    LeadDuplicateSchema,
    LeadFormCreateSchema,
    LeadFormSchema,
    LeadFormUpdateSchema,
    LeadListArgs,
    LeadPageSchema,
    LeadSchema,
    LeadSubmissionReceivedSchema,
    LeadSubmissionSchema,
    LeadUpdateSchema,
)

leads_blp = Blueprint("leads", __name__, url_prefix="/api/v1/leads",
                      description="Leads from forms, imports and salespeople: qualify, disqualify, find duplicates, "
                                  "convert into a party and a deal. You see your leads, those shared with you or "
                                  "your teams, and your team members' if you manage the team.")
forms_blp = Blueprint("lead_forms", __name__, url_prefix="/api/v1/lead-forms",
                      description="Website forms that capture leads (lead_forms:manage): each has a public key "
                                  "for its submit URL, a source, a campaign and the owner of its leads.")
public_blp = Blueprint("lead_capture", __name__, url_prefix="/api/v1/public/lead-forms",
                       description="The public lead capture for websites: no token, rate-limited per form and "
                                   "address, with a honeypot field and size limits.")


# -- leads ---------------------------------------------------------------------------------------

@leads_blp.route("")
class Leads(MethodView):
    @requires("leads:read")
    @leads_blp.arguments(LeadListArgs, location="query")
    @leads_blp.response(200, LeadPageSchema)
    def get(self, args):
        """List leads (filter by status, source, campaign, owner, form; search with q)."""
        with sessions().begin() as session:
            return service.list_leads(session, args, current_principal())

    @requires("leads:create")
    @leads_blp.arguments(LeadCreateSchema)
    @leads_blp.response(201, LeadSchema)
    @leads_blp.alt_response(422, description="Invalid field (problem+json naming it)")
    @idempotent
    def post(self, data):
        """Create a lead. Send Idempotency-Key to make retries safe."""
        return create_once("POST /leads", LeadSchema, lambda session, me: service.create_lead(session, data, me),
                           lambda body: f"/api/v1/leads/{body['id']}")


@leads_blp.route("/<uuid:lead_id>")
class LeadById(MethodView):
    @requires("leads:read")
    @leads_blp.response(200, LeadSchema)
    def get(self, lead_id):
        """Get one lead; its ETag is what If-Match needs for changes."""
        with sessions().begin() as session:
            return with_etag(service.get_lead(session, lead_id, current_principal()))

    @requires("leads:update")
    @if_match_required
    @leads_blp.arguments(LeadUpdateSchema)
    @leads_blp.response(200, LeadSchema)
    @leads_blp.alt_response(409, description="The lead is converted")
    @leads_blp.alt_response(412, description="The lead changed since the ETag you sent")
    @leads_blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, lead_id):
        """Change some fields. Requires If-Match with the ETag of your last read."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.update_lead(session, lead_id, expected, changes, current_principal()))


@leads_blp.route("/<uuid:lead_id>/qualify")
class LeadQualify(MethodView):
    @requires("leads:update")
    @if_match_optional
    @leads_blp.response(200, LeadSchema)
    def post(self, lead_id):
        """Mark the lead qualified (ready to convert). If-Match optional."""
        expected = optional_version()
        with sessions().begin() as session:
            return with_etag(service.qualify_lead(session, lead_id, current_principal(), expected))


@leads_blp.route("/<uuid:lead_id>/disqualify")
class LeadDisqualify(MethodView):
    @requires("leads:update")
    @if_match_optional
    @leads_blp.arguments(LeadDisqualifySchema)
    @leads_blp.response(200, LeadSchema)
    def post(self, data, lead_id):
        """Mark the lead disqualified, saying why. If-Match optional."""
        expected = optional_version()
        with sessions().begin() as session:
            return with_etag(service.disqualify_lead(session, lead_id, data["reason"], current_principal(),
                                                     expected))


@leads_blp.route("/<uuid:lead_id>/duplicates")
class LeadDuplicates(MethodView):
    @requires("leads:read")
    @leads_blp.response(200, LeadDuplicateSchema(many=True))
    def get(self, lead_id):
        """Leads and parties you can see that are probably the same: same email, same phone (last 9 digits),
        same person at the same company (ignoring case, accents, spacing and legal forms like SA or GmbH)."""
        with sessions().begin() as session:
            return service.find_duplicates(session, lead_id, current_principal())


@leads_blp.route("/<uuid:lead_id>/convert")
class LeadConvert(MethodView):
    @requires("leads:convert")
    @if_match_optional
    @leads_blp.arguments(LeadConvertSchema)
    @leads_blp.response(200, LeadConversionSchema)
    @leads_blp.alt_response(409, description="The lead is converted or disqualified")
    def post(self, data, lead_id):
        """Convert into an existing party or new ones (company and/or person), plus a deal unless create_deal is
        false; all or nothing. If-Match optional."""
        expected = optional_version()
        with sessions().begin() as session:
            return conversion.convert_lead(session, lead_id, data, current_principal(), expected)


# -- lead forms ----------------------------------------------------------------------------------

def _public(form: dict) -> dict:
    """The form with its submit_url absolute, on the CRM's public URL (what a web page needs)."""
    return {**form, "submit_url": settings().crm_public_url + form["submit_url"]}


@forms_blp.route("")
class LeadForms(MethodView):
    @requires("lead_forms:manage")
    @forms_blp.response(200, LeadFormSchema(many=True))
    def get(self):
        with sessions().begin() as session:
            return [_public(f) for f in capture.list_forms(session)]

    @requires("lead_forms:manage")
    @forms_blp.arguments(LeadFormCreateSchema)
    @forms_blp.response(201, LeadFormSchema)
    def post(self, data):
        """Create a form; post to its submit_url from the website."""
        with sessions().begin() as session:
            return with_etag(_public(capture.create_form(session, data, current_principal())), 201)


@forms_blp.route("/<uuid:form_id>")
class LeadFormById(MethodView):
    @requires("lead_forms:manage")
    @forms_blp.response(200, LeadFormSchema)
    def get(self, form_id):
        with sessions().begin() as session:
            return with_etag(_public(capture.show_form(session, form_id)))

    @requires("lead_forms:manage")
    @if_match_required
    @forms_blp.arguments(LeadFormUpdateSchema)
    @forms_blp.response(200, LeadFormSchema)
    def patch(self, changes, form_id):
        """Change the form (deactivate it to stop capture). Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(_public(capture.update_form(session, form_id, expected, changes,
                                                         current_principal())))


@forms_blp.route("/<uuid:form_id>/rotate-key")
class LeadFormRotateKey(MethodView):
    @requires("lead_forms:manage")
    @forms_blp.response(200, LeadFormSchema)
    def post(self, form_id):
        """Give the form a new public key; the old submit URL stops working at once."""
        with sessions().begin() as session:
            return with_etag(_public(capture.rotate_key(session, form_id, current_principal())))


# -- public capture ------------------------------------------------------------------------------

def _with_status(url: str, status: str) -> str:
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query), ("status", status)])
    return urlunsplit(parts._replace(query=query))


def _cors(allow: str | None) -> dict:
    return {"Access-Control-Allow-Origin": allow, "Vary": "Origin"} if allow else {}


_BODY = {"required": True, "content": {"application/json": {"schema": LeadSubmissionSchema},
                                       "application/x-www-form-urlencoded": {"schema": LeadSubmissionSchema}}}


@public_blp.route("/<string:form_key>/submissions")
class LeadFormSubmissions(MethodView):
    @public_blp.doc(security=[], requestBody=_BODY)
    @public_blp.response(201, LeadSubmissionReceivedSchema)
    @public_blp.alt_response(404, description="No active form has this key")
    @public_blp.alt_response(413, description="The body is over 16 KiB")
    @public_blp.alt_response(422, description="A field is invalid or too long (problem+json naming it)")
    @public_blp.alt_response(429, description="Too many submissions from this address (see Retry-After)")
    @public_blp.alt_response(303, description="A browser's form post to a form with a redirect_url: go there")
    def post(self, form_key):
        """Submit a website form (no token). The answer never says what became of the submission. A browser's
        plain HTML form post to a form with a redirect_url is sent there (303) with ?status=received, invalid or
        rate_limited."""
        browser = request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")
        landing = capture.redirect_for(sessions(), form_key) if browser else None
        try:
            raw = guards.public_fields(capture.MAX_BODY)
            allow = capture.receive_submission(sessions(), form_key, (request.remote_addr or "unknown")[:64],
                                               request.headers.get("Origin"), raw)
        except Problem as problem:
            if landing is None or problem.status not in (413, 422, 429):
                raise
            status = "rate_limited" if problem.status == 429 else "invalid"
            return redirect(_with_status(landing, status), 303)
        if landing is not None:
            return redirect(_with_status(landing, "received"), 303)
        return {"status": "received"}, 201, _cors(allow)

    @public_blp.doc(security=[])
    @public_blp.response(204)
    def options(self, form_key):
        """CORS preflight for browsers posting JSON; the post itself checks the form's allowed origins."""
        origin = request.headers.get("Origin")
        return None, 204, {**_cors(origin or "*"), "Access-Control-Allow-Methods": "POST",
                           "Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "86400"}


add_owner_routes(leads_blp, OwnedRecord("lead", "leads", "lead_id", service.SHARING, service.assign_lead, LeadSchema))
