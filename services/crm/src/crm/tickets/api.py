"""HTTP endpoints of tickets and SLA policies: read arguments, call one use case in one transaction, answer."""

from urllib.parse import quote

from flask import Response, request
from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_optional, if_match_required, required_version
from servicekit.problems import field_error
from servicekit.web import create_once, idempotent, optional_version, sessions, settings, with_etag

from ..access.routes import OwnedRecord, add_owner_routes
from . import attachments, mail_out, policies, service
from .schemas import (
    AttachmentFormSchema,
    AttachmentSchema,
    CalendarCreateSchema,
    CalendarSchema,
    CalendarUpdateSchema,
    CoverageArgs,
    CoverageSchema,
    FactSchema,
    MessageCreateSchema,
    MessageSchema,
    PolicyCreateSchema,
    PolicySchema,
    PolicyUpdateSchema,
    SlaAsOfArgs,
    SlaAsOfSchema,
    SlaReportArgs,
    SlaReportRowSchema,
    TicketCreateSchema,
    TicketListArgs,
    TicketMergeSchema,
    TicketPageSchema,
    TicketSchema,
    TicketStatusSchema,
    TicketUpdateSchema,
)

blp = Blueprint("tickets", __name__, url_prefix="/api/v1/tickets",
                description="Support tickets from opening to closing: numbered T-YYYY-NNNNN, statuses new, open, "
                            "pending (waiting on the customer), on_hold, resolved, closed; public replies and internal "
                            "notes, attachments, merging duplicates, queues, and SLA deadlines in business time "
                            "(derived from the ticket's own history, recomputable as of any moment).")
sla_blp = Blueprint("sla", __name__, url_prefix="/api/v1/sla",
                    description="SLA calendars (working hours, time zone, holidays, half days) and policies (targets "
                                "matched by priority, category, channel and customer segment, first by position), and "
                                "the report of targets met.")


@blp.route("")
class Tickets(MethodView):
    @requires("tickets:read")
    @blp.arguments(TicketListArgs, location="query")
    @blp.response(200, TicketPageSchema)
    def get(self, args):
        """List tickets you see: a queue (mine, team, unassigned, breaching_soon, breached), filters, sort by due
        (default: soonest resolution deadline first), created_at, updated_at, number, priority, status."""
        with sessions().begin() as session:
            return service.list_tickets(session, args, current_principal())

    @requires("tickets:create")
    @blp.arguments(TicketCreateSchema)
    @blp.response(201, TicketSchema)
    @blp.alt_response(422, description="Invalid field, unknown party or product (problem+json naming it)")
    @idempotent
    def post(self, data):
        """Open a ticket for a customer; its SLA policy is matched and its deadlines computed at once. Send
        Idempotency-Key to make retries safe."""
        return create_once("POST /tickets", TicketSchema,
                           lambda session, me: service.create_ticket(session, data, me),
                           lambda body: f"/api/v1/tickets/{body['id']}")


@blp.route("/<uuid:ticket_id>")
class TicketById(MethodView):
    @requires("tickets:read")
    @blp.response(200, TicketSchema)
    def get(self, ticket_id):
        """One ticket with its SLA fields; its ETag is what If-Match needs."""
        with sessions().begin() as session:
            return with_etag(service.get_ticket(session, ticket_id, current_principal()))

    @requires("tickets:update")
    @if_match_required
    @blp.arguments(TicketUpdateSchema)
    @blp.response(200, TicketSchema)
    @blp.alt_response(409, description="The ticket is closed")
    @blp.alt_response(412, description="The ticket changed since the ETag you sent")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, ticket_id):
        """Change fields; a new priority, category, channel or SLA policy recomputes the deadlines, keeping the time
        already spent. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(service.update_ticket(session, ticket_id, expected, changes, current_principal()))


@blp.route("/<uuid:ticket_id>/status")
class TicketStatus(MethodView):
    @requires("tickets:update")
    @if_match_optional
    @blp.arguments(TicketStatusSchema)
    @blp.response(200, TicketSchema)
    @blp.alt_response(409, description="The current status does not allow this one")
    def post(self, data, ticket_id):
        """Move the ticket: new -> open -> pending -> on_hold -> resolved -> closed; resolved can reopen (open),
        closed is final. If-Match is optional: when sent, it must match."""
        expected = optional_version()
        with sessions().begin() as session:
            return with_etag(service.change_status(session, ticket_id, expected, data["status"],
                                                   current_principal()))


@blp.route("/<uuid:ticket_id>/merge")
class TicketMerge(MethodView):
    @requires("tickets:update")
    @if_match_optional
    @blp.arguments(TicketMergeSchema)
    @blp.response(200, TicketSchema, description="The ticket that stays")
    @blp.alt_response(409, description="This ticket is closed")
    def post(self, data, ticket_id):
        """Merge this duplicate into another ticket of the same customer: it closes, its messages and attachments
        move. If-Match (of the duplicate) is optional: when sent, it must match."""
        expected = optional_version()
        with sessions().begin() as session:
            return service.merge_ticket(session, ticket_id, expected, data["into_id"], current_principal())


@blp.route("/<uuid:ticket_id>/messages")
class TicketMessages(MethodView):
    @requires("tickets:read")
    @blp.response(200, MessageSchema(many=True))
    def get(self, ticket_id):
        """Replies and internal notes, oldest first."""
        with sessions().begin() as session:
            return service.list_messages(session, ticket_id, current_principal())

    @requires("tickets:update")
    @blp.arguments(MessageCreateSchema)
    @blp.response(201, MessageSchema)
    @blp.alt_response(409, description="The ticket is closed, merged, or resolved too long ago to reopen")
    @idempotent
    def post(self, data, ticket_id):
        """Add a public reply or an internal note. An agent's first reply meets the first-response target; a
        customer's reply reopens a pending ticket, or a resolved one within the reopening window. An agent's public
        reply is also mailed to the customer from the support address, threaded with the ticket's mails. Send
        Idempotency-Key to make retries safe."""
        config = settings()
        return create_once(f"POST /tickets/{ticket_id}/messages", MessageSchema,
                           lambda session, me: mail_out.post_message(session, ticket_id, data, me, config))


@blp.route("/<uuid:ticket_id>/history")
class TicketHistory(MethodView):
    @requires("tickets:read")
    @blp.response(200, FactSchema(many=True))
    def get(self, ticket_id):
        """The ticket's own timeline: every fact (status, changes, replies, notes, attachments, merges,
        escalations), oldest first. Its SLA clock is computed from exactly these."""
        with sessions().begin() as session:
            return service.history(session, ticket_id, current_principal())


@blp.route("/<uuid:ticket_id>/sla")
class TicketSlaAsOf(MethodView):
    @requires("tickets:read")
    @blp.arguments(SlaAsOfArgs, location="query")
    @blp.response(200, SlaAsOfSchema)
    def get(self, args, ticket_id):
        """The SLA clock recomputed from the ticket's history as it stood at `as_of`."""
        with sessions().begin() as session:
            return service.sla_as_of(session, ticket_id, args["as_of"], current_principal())


@blp.route("/<uuid:ticket_id>/coverage")
class TicketCoverage(MethodView):
    @requires("tickets:read")
    @blp.arguments(CoverageArgs, location="query")
    @blp.response(200, CoverageSchema)
    def get(self, args, ticket_id):
        """Warranty coverage of the ticket's product (and serial) for its customer, from the ERP's entitlements:
        covered (with the entitlement, its end date and what it covers), expired, or not_found."""
        with sessions().begin() as session:
            return service.ticket_coverage(session, ticket_id, args.get("on"), current_principal())


@blp.route("/<uuid:ticket_id>/attachments")
class TicketAttachments(MethodView):
    @requires("tickets:read")
    @blp.response(200, AttachmentSchema(many=True))
    def get(self, ticket_id):
        """The ticket's files."""
        with sessions().begin() as session:
            return attachments.list_attachments(session, ticket_id, current_principal())

    @requires("tickets:update")
    @blp.arguments(AttachmentFormSchema, location="form", content_type="multipart/form-data")
    @blp.response(201, AttachmentSchema)
    @blp.alt_response(413, description="The file is over the size limit")
    @blp.alt_response(415, description="The file's type is not accepted")
    @blp.alt_response(422, description="No file, or refused by the virus scan")
    def post(self, _form, ticket_id):
        """Attach a file (multipart field `file`): stored once by its SHA-256 however many tickets carry it."""
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise field_error("file", "send the file as the multipart field 'file'")
        config = settings()
        data = upload.stream.read(config.ticket_attachment_max_bytes + 1)
        with sessions().begin() as session:
            return attachments.add_attachment(session, ticket_id, upload.filename, upload.mimetype or "", data,
                                              current_principal(), config)


@blp.route("/<uuid:ticket_id>/attachments/<uuid:attachment_id>")
class TicketAttachmentFile(MethodView):
    @requires("tickets:read")
    @blp.response(200, content_type="application/octet-stream", description="The file, with its own type")
    def get(self, ticket_id, attachment_id):
        """Download one attachment."""
        with sessions().begin() as session:
            meta, data = attachments.read_attachment(session, ticket_id, attachment_id, current_principal(),
                                                     settings())
        return Response(data, mimetype=meta["content_type"], headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(meta['filename'])}",
            "X-Content-Type-Options": "nosniff"})


add_owner_routes(blp, OwnedRecord("ticket", "tickets", "ticket_id", service.SHARING))


@sla_blp.route("/calendars")
class Calendars(MethodView):
    @requires("tickets:read")
    @sla_blp.response(200, CalendarSchema(many=True))
    def get(self):
        """Every SLA calendar."""
        with sessions().begin() as session:
            return policies.list_calendars(session)

    @requires("sla:manage")
    @sla_blp.arguments(CalendarCreateSchema)
    @sla_blp.response(201, CalendarSchema)
    @sla_blp.alt_response(409, description="The name is taken")
    @sla_blp.alt_response(422, description="Overlapping windows, an unknown zone or country (naming the field)")
    @idempotent
    def post(self, data):
        """Create a calendar. Send Idempotency-Key to make retries safe."""
        return create_once("POST /sla/calendars", CalendarSchema,
                           lambda session, me: policies.create_calendar(session, data, me),
                           lambda body: f"/api/v1/sla/calendars/{body['id']}")


@sla_blp.route("/calendars/<uuid:calendar_id>")
class CalendarById(MethodView):
    @requires("tickets:read")
    @sla_blp.response(200, CalendarSchema)
    def get(self, calendar_id):
        """One calendar; its ETag is what If-Match needs."""
        with sessions().begin() as session:
            return with_etag(policies.get_calendar(session, calendar_id))

    @requires("sla:manage")
    @if_match_required
    @sla_blp.arguments(CalendarUpdateSchema)
    @sla_blp.response(200, CalendarSchema)
    @sla_blp.alt_response(409, description="The name is taken")
    @sla_blp.alt_response(412, description="The calendar changed since the ETag you sent")
    @sla_blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, calendar_id):
        """Change a calendar: the worker recomputes every open ticket's deadlines within seconds (time spent and
        paused is kept)."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(policies.update_calendar(session, calendar_id, expected, changes, current_principal()))


@sla_blp.route("/policies")
class Policies(MethodView):
    @requires("tickets:read")
    @sla_blp.response(200, PolicySchema(many=True))
    def get(self):
        """Every SLA policy, in the order they are tried."""
        with sessions().begin() as session:
            return policies.list_policies(session)

    @requires("sla:manage")
    @sla_blp.arguments(PolicyCreateSchema)
    @sla_blp.response(201, PolicySchema)
    @sla_blp.alt_response(409, description="The position is taken")
    @idempotent
    def post(self, data):
        """Create a policy; the worker matches open tickets again within seconds. Send Idempotency-Key to make
        retries safe."""
        return create_once("POST /sla/policies", PolicySchema,
                           lambda session, me: policies.create_policy(session, data, me),
                           lambda body: f"/api/v1/sla/policies/{body['id']}")


@sla_blp.route("/policies/<uuid:policy_id>")
class PolicyById(MethodView):
    @requires("tickets:read")
    @sla_blp.response(200, PolicySchema)
    def get(self, policy_id):
        """One policy; its ETag is what If-Match needs."""
        with sessions().begin() as session:
            return with_etag(policies.get_policy(session, policy_id))

    @requires("sla:manage")
    @if_match_required
    @sla_blp.arguments(PolicyUpdateSchema)
    @sla_blp.response(200, PolicySchema)
    @sla_blp.alt_response(409, description="The position is taken")
    @sla_blp.alt_response(412, description="The policy changed since the ETag you sent")
    @sla_blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, policy_id):
        """Change a policy (targets, conditions, position, calendar): the worker matches and recomputes open
        tickets within seconds."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(policies.update_policy(session, policy_id, expected, changes, current_principal()))


@sla_blp.route("/report")
class SlaReport(MethodView):
    @requires("tickets:read_all")
    @sla_blp.arguments(SlaReportArgs, location="query")
    @sla_blp.response(200, SlaReportRowSchema(many=True))
    def get(self, args):
        """Resolution targets met and breached, and met %, by team, priority, category or month of opening."""
        with sessions().begin() as session:
            return policies.sla_report(session, args)
