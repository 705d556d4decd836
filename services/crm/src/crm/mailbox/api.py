"""HTTP endpoints of the mailbox (mailbox:use): your mail accounts, folders, mail by folder, thread or customer
record, writing a mail (sent by the worker through your SMTP server), moving it and marking it read, and the
shared templates. Each user sees only the mail of their own accounts."""

from urllib.parse import quote

from flask import Response, current_app
from flask.views import MethodView
from servicekit.auth.principal import current_principal, requires
from servicekit.blueprint import Blueprint
from servicekit.etag import if_match_required, required_version
from servicekit.pagination import fixed_order
from servicekit.web import create_once, idempotent, sessions, with_etag

from . import accounts, messages
from .schemas import (
    MailAccountCreateSchema,
    MailAccountSchema,
    MailAccountUpdateSchema,
    MailFolderCreateSchema,
    MailFolderSchema,
    MailMessageListArgs,
    MailMessagePageSchema,
    MailMessageSchema,
    MailMessageUpdateSchema,
    MailSendSchema,
    MailTemplateCreateSchema,
    MailTemplateSchema,
)

blp = Blueprint("mailbox", __name__, url_prefix="/api/v1/mailbox",
                description="The CRM mailbox (mailbox:use): each user's mail accounts (SMTP to send, IMAP fetched "
                            "by the worker; passwords stored encrypted), folders, conversations, and each mail "
                            "linked to the parties, leads, deals and tickets it concerns (on their timelines).")


def _box():
    return current_app.extensions["crm.secretbox"]


def _allow_private() -> bool:
    return current_app.config["CRM_MAILBOX_ALLOW_PRIVATE"]


@blp.route("/accounts")
class Accounts(MethodView):
    @requires("mailbox:use")
    @blp.response(200, MailAccountSchema(many=True))
    def get(self):
        """Your mail accounts (never their passwords)."""
        with sessions().begin() as session:
            return accounts.list_accounts(session, current_principal())

    @requires("mailbox:use")
    @blp.arguments(MailAccountCreateSchema)
    @blp.response(201, MailAccountSchema)
    @blp.alt_response(409, description="You have linked this address already")
    @blp.alt_response(422, description="A host that does not resolve or is a private address; IMAP host without "
                                       "port")
    @idempotent
    def post(self, data):
        """Link a mail account: its SMTP server sends your mail, its IMAP folders are fetched into the CRM."""
        return create_once("POST /mailbox/accounts", MailAccountSchema,
                           lambda session, me: accounts.create_account(session, data, me, _box(), _allow_private()),
                           lambda body: f"/api/v1/mailbox/accounts/{body['id']}")


@blp.route("/accounts/<uuid:account_id>")
class AccountById(MethodView):
    @requires("mailbox:use")
    @blp.response(200, MailAccountSchema)
    def get(self, account_id):
        with sessions().begin() as session:
            return with_etag(accounts.get_account(session, account_id, current_principal()))

    @requires("mailbox:use")
    @if_match_required
    @blp.arguments(MailAccountUpdateSchema)
    @blp.response(200, MailAccountSchema)
    @blp.alt_response(412, description="The account changed since the ETag you sent")
    @blp.alt_response(422, description="A host that does not resolve or is a private address")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, account_id):
        """Change the servers, passwords or fetched folders. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(accounts.update_account(session, account_id, expected, changes, current_principal(),
                                                     _box(), _allow_private()))


@blp.route("/folders")
class Folders(MethodView):
    @requires("mailbox:use")
    @blp.response(200, MailFolderSchema(many=True))
    def get(self):
        """Your folders, per account, with how many mails they hold and how many are unread."""
        with sessions().begin() as session:
            return accounts.list_folders(session, current_principal())

    @requires("mailbox:use")
    @blp.arguments(MailFolderCreateSchema)
    @blp.response(201, MailFolderSchema)
    @blp.alt_response(409, description="The account has a folder of that name")
    @idempotent
    def post(self, data):
        """A folder of your own, to keep mail in order."""
        return create_once("POST /mailbox/folders", MailFolderSchema,
                           lambda session, me: accounts.create_folder(session, data, me),
                           lambda body: f"/api/v1/mailbox/folders/{body['id']}")


@blp.route("/messages")
class Messages(MethodView):
    @requires("mailbox:use")
    @blp.arguments(MailMessageListArgs, location="query")
    @blp.response(200, MailMessagePageSchema)
    def get(self, args):
        """Your mail, newest first (a thread: oldest first), by folder, thread, party, lead, deal or ticket."""
        fixed_order(args, "newest first; a thread oldest first")
        with sessions().begin() as session:
            return messages.list_messages(session, current_principal(), args)

    @requires("mailbox:use")
    @blp.arguments(MailSendSchema)
    @blp.response(201, MailMessageSchema)
    @blp.alt_response(409, description="A marketing template to a suppressed address")
    @blp.alt_response(413, description="An attachment over 2 MiB, or more than 5")
    @blp.alt_response(422, description="An invalid address, an unknown record, template or reply, no body")
    @idempotent
    def post(self, data):
        """Write a mail (to a party's contacts, from a template or your own text, with attachments): it is
        queued in your Sent folder, linked to the records it concerns, and sent by the worker through your
        account's SMTP server."""
        return create_once("POST /mailbox/messages", MailMessageSchema,
                           lambda session, me: messages.send(session, data, me),
                           lambda body: f"/api/v1/mailbox/messages/{body['id']}")


@blp.route("/messages/<uuid:message_id>")
class MessageById(MethodView):
    @requires("mailbox:use")
    @blp.response(200, MailMessageSchema)
    def get(self, message_id):
        """One mail: its text, attachments (names and sizes), thread and the records it is linked to."""
        with sessions().begin() as session:
            return with_etag(messages.get_message(session, message_id, current_principal()))

    @requires("mailbox:use")
    @if_match_required
    @blp.arguments(MailMessageUpdateSchema)
    @blp.response(200, MailMessageSchema)
    @blp.alt_response(412, description="The mail changed since the ETag you sent")
    @blp.alt_response(422, description="Not a folder of this mail's account")
    @blp.alt_response(428, description="If-Match is missing")
    def patch(self, changes, message_id):
        """Move the mail to another folder, mark it read or unread. Requires If-Match."""
        expected = required_version()
        with sessions().begin() as session:
            return with_etag(messages.update_message(session, message_id, expected, changes, current_principal()))


@blp.route("/messages/<uuid:message_id>/attachments/<int:index>")
class MessageAttachment(MethodView):
    @requires("mailbox:use")
    @blp.response(200, content_type="application/octet-stream", description="The file, with its own type")
    @blp.alt_response(410, description="The mail was larger than the CRM keeps: its attachments are only listed")
    def get(self, message_id, index):
        """Download the mail's `index`-th attachment (0-based, in the order of its `attachments`). Types a browser
        would run (HTML, SVG, XML, scripts) come as application/octet-stream."""
        with sessions().begin() as session:
            meta, data = messages.read_attachment(session, message_id, index, current_principal())
        return Response(data, mimetype=meta["content_type"], headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(meta['filename'])}",
            "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"})


@blp.route("/templates")
class Templates(MethodView):
    @requires("mailbox:use")
    @blp.response(200, MailTemplateSchema(many=True))
    def get(self):
        with sessions().begin() as session:
            return messages.list_templates(session)

    @requires("mailbox:use")
    @blp.arguments(MailTemplateCreateSchema)
    @blp.response(201, MailTemplateSchema)
    @blp.alt_response(409, description="The name is taken")
    @blp.alt_response(422, description="A template that does not compile or uses an unknown field")
    @idempotent
    def post(self, data):
        """A mail template shared by all users; a marketing one is never sent to a suppressed address."""
        return create_once("POST /mailbox/templates", MailTemplateSchema,
                           lambda session, me: messages.create_template(session, data, me),
                           lambda body: f"/api/v1/mailbox/templates/{body['id']}")
