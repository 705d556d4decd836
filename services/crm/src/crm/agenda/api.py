"""HTTP endpoints of the agenda: read arguments, call one use case in one transaction, answer."""

from datetime import date

from flask import Response, current_app, request
from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_required, required_version
from servicekit.problems import field_error
from servicekit.web import create_once, idempotent, sessions, with_etag

from ..access.routes import OwnedRecord, add_owner_routes
from ..activities.schemas import ActivitySchema
from . import caldav, exchange, held, invitations, service, views
from .models import AgendaEvent
from .schemas import (
    BookingArgs,
    CalDavLinkCreateSchema,
    CalDavLinkSchema,
    CalDavSyncSchema,
    ConflictArgs,
    ConflictSchema,
    DayNoteArgs,
    DayNoteInSchema,
    DayNoteSchema,
    DeleteArgs,
    EventCreateSchema,
    EventSchema,
    EventUpdateSchema,
    FeedSchema,
    FreeBusyArgs,
    FreeBusySchema,
    HeldSchema,
    IcsImportFormSchema,
    IcsImportReportSchema,
    OccurrenceSchema,
    OverviewArgs,
    OverviewSchema,
    RespondSchema,
    ScopeArgs,
    WindowArgs,
)

blp = Blueprint("agenda", __name__, url_prefix="/api/v1/agenda",
                description="Appointments and recurring series (RFC 5545: a master and its overrides, never "
                            "expanded rows), attendees, reminders, double-booking checks and calendar views. You "
                            "see your events, those you attend, those shared with you and your team members' if "
                            "you manage the team.")


def _mailer():
    return current_app.extensions.get("crm.agenda.mailer")


def _invite(session, view: dict, method: str = "REQUEST") -> dict:
    """Mail the event's customer contacts its iMIP invitation (queued in this transaction)."""
    invitations.send(session, session.get(AgendaEvent, view["id"]), _mailer(), method)
    return view


@blp.route("/events")
class Events(MethodView):
    @requires("agenda:create")
    @idempotent
    @blp.arguments(BookingArgs, location="query")
    @blp.arguments(EventCreateSchema)
    @blp.response(201, EventSchema)
    @blp.alt_response(409, description="An attendee is busy then (the conflicts are listed)")
    @blp.alt_response(422, description="Invalid field (problem+json naming it)")
    def post(self, args, data):
        """Create an event or a recurring series; refused with 409 if it double-books an attendee unless
        allow_conflicts=true. Send Idempotency-Key to make retries safe."""
        return create_once("POST /agenda/events", EventSchema,
                           lambda session, me: _invite(session, service.create_event(session, data, me,
                                                                                     args["allow_conflicts"])),
                           lambda body: f"/api/v1/agenda/events/{body['id']}")


@blp.route("/events/<uuid:event_id>")
class EventById(MethodView):
    @requires("agenda:read")
    @blp.response(200, EventSchema)
    def get(self, event_id):
        """One event (a series master with its overrides); its ETag is what If-Match needs."""
        with sessions().begin() as session:
            return with_etag(service.get_event(session, event_id, current_principal()))

    @requires("agenda:update")
    @if_match_required
    @blp.arguments(ScopeArgs, location="query")
    @blp.arguments(EventUpdateSchema)
    @blp.response(200, EventSchema)
    @blp.alt_response(409, description="An attendee is busy then (the conflicts are listed)")
    @blp.alt_response(412, description="The event changed since the ETag you sent")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, args, changes, event_id):
        """Change the series (scope=all), one occurrence (scope=this) or this and the following ones
        (scope=following: answers the new series). Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            changed = service.update_event(session, event_id, expected, changes, current_principal(),
                                           args["scope"], args.get("occurrence"), args["allow_conflicts"])
            if changed["id"] != str(event_id):  # split: the old series now ends before the new one
                _invite(session, {"id": str(event_id)})
            return with_etag(_invite(session, changed))

    @requires("agenda:update")
    @if_match_required
    @blp.arguments(DeleteArgs, location="query")
    @blp.response(204)
    @blp.alt_response(412, description="The event changed since the ETag you sent")
    @blp.alt_response(428, description="If-Match is missing")
    def delete(self, args, event_id):
        """Delete the series (scope=all), cancel one occurrence (scope=this) or end the series before one
        (scope=following). Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            ev = service.find_event(session, event_id, current_principal())
            if args["scope"] == "all" or not (ev.rrule or ev.rdates):
                invitations.send(session, ev, _mailer(), "CANCEL")
            left = service.delete_event(session, event_id, expected, current_principal(), args["scope"],
                                        args.get("occurrence"))
            if left is not None:
                _invite(session, left)


@blp.route("/events/<uuid:event_id>/respond")
class EventRespond(MethodView):
    @requires("agenda:read")
    @blp.arguments(RespondSchema)
    @blp.response(200, EventSchema)
    @blp.alt_response(409, description="You are not an attendee")
    def post(self, data, event_id):
        """Accept, decline or tentatively accept an invitation (a declined event no longer blocks your time)."""
        with sessions().begin() as session:
            return with_etag(service.respond(session, event_id, data["status"], current_principal()))


@blp.route("/events/<uuid:event_id>/held")
class EventHeld(MethodView):
    @requires("activities:create")
    @blp.arguments(HeldSchema)
    @blp.response(201, ActivitySchema)
    @blp.alt_response(409, description="Not held yet, or this occurrence is already recorded")
    def post(self, data, event_id):
        """The meeting took place: log it (one occurrence of a series, or the event) as a meeting activity with
        your notes and outcome, on the timeline of its party, deal and lead. Once per occurrence."""
        with sessions().begin() as session:
            return held.record_held(session, event_id, data, current_principal())


@blp.route("/occurrences")
class Occurrences(MethodView):
    @requires("agenda:read")
    @blp.arguments(WindowArgs, location="query")
    @blp.response(200, OccurrenceSchema(many=True))
    def get(self, args):
        """Every occurrence in a window (day, week, month, year; at most 400 days), recurring ones expanded in their
        own zone, filtered by users, attendee party, linked party and category."""
        with sessions().begin() as session:
            return views.list_occurrences(session, args, current_principal())


@blp.route("/overview")
class Overview(MethodView):
    @requires("agenda:read")
    @blp.arguments(OverviewArgs, location="query")
    @blp.response(200, OverviewSchema)
    def get(self, args):
        """A month (or a year): per day, how many occurrences and how many busy minutes."""
        with sessions().begin() as session:
            return views.overview(session, args, current_principal())


@blp.route("/day-notes")
class DayNotes(MethodView):
    @requires("agenda:read")
    @blp.arguments(DayNoteArgs, location="query")
    @blp.response(200, DayNoteSchema(many=True))
    def get(self, args):
        """Your notes for the days of a window (the overview shows them too)."""
        with sessions().begin() as session:
            return views.day_notes(session, args, current_principal())


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text) if len(text) == 10 else date.fromisoformat("")
    except ValueError:
        raise field_error("day", "a date such as 2031-03-17") from None


@blp.route("/day-notes/<string:day>")
class DayNoteByDay(MethodView):
    @requires("agenda:read")
    @blp.arguments(DayNoteInSchema)
    @blp.response(200, DayNoteSchema)
    @blp.alt_response(422, description="Not a date (YYYY-MM-DD), or an invalid field")
    def put(self, data, day):
        """Write your note for a day (replaces the one there), with a colour to spot it in the month view."""
        with sessions().begin() as session:
            return views.put_day_note(session, _day(day), data, current_principal())

    @requires("agenda:read")
    @blp.response(204)
    @blp.alt_response(422, description="Not a date (YYYY-MM-DD)")
    def delete(self, day):
        """Remove your note for a day."""
        with sessions().begin() as session:
            views.delete_day_note(session, _day(day), current_principal())


@blp.route("/conflicts")
class Conflicts(MethodView):
    @requires("agenda:read")
    @blp.arguments(ConflictArgs, location="query")
    @blp.response(200, ConflictSchema(many=True))
    def get(self, args):
        """Preview: the busy occurrences of these people that a proposed time (or series) would overlap."""
        with sessions().begin() as session:
            return views.preview_conflicts(session, args, current_principal())


@blp.route("/freebusy")
class FreeBusy(MethodView):
    @requires("agenda:read")
    @blp.arguments(FreeBusyArgs, location="query")
    @blp.response(200, FreeBusySchema(many=True))
    def get(self, args):
        """Per user, the merged busy intervals in a window (times only, never titles)."""
        with sessions().begin() as session:
            return views.free_busy(session, args, current_principal())


# -- calendar exchange: .ics export, the per-user feed, import -----------------------------------------------

IMPORT_MAX_BYTES = 10 * 1024 * 1024
_ICS = "text/calendar"


def _ics(body: bytes, filename: str) -> Response:
    return Response(body, mimetype=_ICS, headers={"Content-Disposition": f'attachment; filename="{filename}"',
                                                  "Cache-Control": "private, no-store"})


@blp.route("/events/<uuid:event_id>/ics")
class EventIcs(MethodView):
    @requires("agenda:read")
    @blp.response(200, content_type=_ICS, description="The event (a series with its changed and cancelled "
                                                      "occurrences) as an RFC 5545 file")
    def get(self, event_id):
        """One event as an .ics file for Outlook, Google, Apple or Thunderbird."""
        with sessions().begin() as session:
            return _ics(exchange.export_event(session, event_id, current_principal()), f"event-{event_id}.ics")


@blp.route("/calendar.ics")
class WindowIcs(MethodView):
    @requires("agenda:read")
    @blp.arguments(WindowArgs, location="query")
    @blp.response(200, content_type=_ICS, description="The events with an occurrence in the window, as stored: "
                                                      "series with RRULE, EXDATE and overrides, never expanded")
    def get(self, args):
        """Export a window (at most 400 days) with the same filters as the occurrence view."""
        with sessions().begin() as session:
            return _ics(exchange.export_window(session, args, current_principal()), "agenda.ics")


@blp.route("/feed")
class Feed(MethodView):
    @requires("agenda:read")
    @blp.response(200, FeedSchema)
    def get(self):
        """Whether you have a calendar feed (its URL is shown only when made)."""
        with sessions().begin() as session:
            return exchange.feed_status(session, current_principal())

    @requires("agenda:read")
    @blp.response(201, FeedSchema)
    def post(self):
        """Make your secret feed URL (webcal://) for a calendar client to subscribe to; an older one stops working
        at once. Anyone with the URL reads your agenda: treat it as a password."""
        with sessions().begin() as session:
            return exchange.rotate_feed(session, current_principal(), current_app.config["CRM_PUBLIC_URL"])

    @requires("agenda:read")
    @blp.response(204)
    def delete(self):
        """Revoke your feed URL: subscribed clients get 404 from now on."""
        with sessions().begin() as session:
            exchange.revoke_feed(session, current_principal())


@blp.route("/import")
class Import(MethodView):
    @requires("agenda:create")
    @blp.arguments(IcsImportFormSchema, location="form", content_type="multipart/form-data")
    @blp.response(200, IcsImportReportSchema)
    @blp.alt_response(413, description="The file is over 10 MB")
    @blp.alt_response(422, description="The file is not a calendar, or an event cannot be read (the problem names "
                                       "its line); nothing was imported")
    def post(self, form):
        """Import an .ics file into your agenda: recurring series, changed occurrences (RECURRENCE-ID), time zones
        (IANA or Windows names) and reminders kept, unknown properties preserved for export. Idempotent by UID:
        importing the same file again changes nothing; all or nothing."""
        upload = request.files.get("file")
        if upload is None or not upload.filename:
            raise field_error("file", "send the .ics file as the multipart field 'file'")
        try:
            data = upload.stream.read(IMPORT_MAX_BYTES + 1)
        finally:
            upload.close()
        if len(data) > IMPORT_MAX_BYTES:
            raise field_error("file", "an .ics file is at most 10 MB", status=413, title="Content too large",
                              type_="content-too-large")
        with sessions().begin() as session:
            return exchange.import_calendar(session, data, current_principal(), form["tz"])


@blp.route("/caldav-links")
class CalDavLinks(MethodView):
    @requires("agenda:read")
    @blp.response(200, CalDavLinkSchema(many=True))
    def get(self):
        """The CalDAV calendars linked to your agenda, with how their last sync went."""
        with sessions().begin() as session:
            return caldav.list_links(session, current_principal())

    @requires("agenda:create")
    @blp.arguments(CalDavLinkCreateSchema)
    @blp.response(201, CalDavLinkSchema)
    @blp.alt_response(409, description="This calendar is already linked")
    def post(self, data):
        """Link an external CalDAV calendar (Nextcloud, iCloud, Fastmail, Radicale...): the worker syncs it both
        ways every few minutes; events you own go there, its events come here."""
        with sessions().begin() as session:
            return caldav.create_link(session, data, current_principal(), current_app.extensions["crm.secretbox"],
                                      current_app.config["CRM_CALDAV_ALLOW_PRIVATE"])


@blp.route("/caldav-links/<uuid:link_id>")
class CalDavLinkById(MethodView):
    @requires("agenda:read")
    @blp.response(204)
    def delete(self, link_id):
        """Unlink the calendar (nothing is deleted on either side)."""
        with sessions().begin() as session:
            caldav.delete_link(session, link_id, current_principal())


@blp.route("/caldav-links/<uuid:link_id>/sync")
class CalDavLinkSync(MethodView):
    @requires("agenda:read")
    @blp.response(200, CalDavSyncSchema)
    @blp.alt_response(409, description="A sync of this calendar is running")
    def post(self, link_id):
        """Sync now instead of waiting for the worker; the report says what moved which way."""
        return caldav.sync_now(sessions(), link_id, current_principal(), current_app.extensions["crm.secretbox"],
                               current_app.config["CRM_CALDAV_ALLOW_PRIVATE"])


public_blp = Blueprint("agenda_feeds", __name__, url_prefix="/api/v1/public/agenda",
                       description="Calendar feeds for calendar clients: no login, the secret URL is the key; rate "
                                   "limited per client address.")


@public_blp.route("/feeds/<string:token>.ics")
class PublicFeed(MethodView):
    @public_blp.doc(security=[])
    @public_blp.response(200, content_type=_ICS, description="The user's agenda as an RFC 5545 calendar")
    @public_blp.alt_response(404, description="No active feed has this URL (however it is wrong)")
    @public_blp.alt_response(429, description="Too many requests from this address (see Retry-After)")
    def get(self, token):
        """A user's calendar feed (subscribe with the webcal:// URL from POST /agenda/feed)."""
        with sessions().begin() as session:
            exchange.admit(session, request.remote_addr or "unknown")
        with sessions().begin() as session:
            body = exchange.feed(session, token)
        return Response(body, mimetype=_ICS, headers={"Cache-Control": "private, max-age=300"})


# the owner routes hang under /events/<id>, so they live on a blueprint of their own
sharing_blp = Blueprint("agenda_sharing", __name__, url_prefix="/api/v1/agenda/events",
                        description="Who else sees an agenda event: share it with a user or a team.")
add_owner_routes(sharing_blp, OwnedRecord("event", "agenda", "event_id", service.SHARING))
