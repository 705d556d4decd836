"""What the mailbox endpoints accept and return."""

from marshmallow import Schema, fields, validate
from servicekit.pagination import PageArgs, page_schema

_HOST = validate.Regexp(r"^[A-Za-z0-9.-]{1,253}$", error="a host name or IP address")
_SECURITY = validate.OneOf(("none", "starttls", "tls"))
_FOLDERS = fields.List(fields.String(validate=validate.Length(min=1, max=200)), validate=validate.Length(min=1, max=20),
                       metadata={"description": "The remote IMAP folders fetched (default INBOX); each besides "
                                                "INBOX becomes a CRM folder of the same name."})


class _AccountFields(Schema):
    display_name = fields.String(allow_none=True, validate=validate.Length(max=150))
    smtp_host = fields.String(validate=_HOST)
    smtp_port = fields.Integer(validate=validate.Range(min=1, max=65535))
    smtp_security = fields.String(validate=_SECURITY, metadata={"description": "none, starttls or tls (SMTPS)."})
    smtp_username = fields.String(validate=validate.Length(max=254))
    smtp_password = fields.String(load_only=True, validate=validate.Length(max=500))
    imap_host = fields.String(allow_none=True, validate=_HOST, metadata={"description": "None: sending only."})
    imap_port = fields.Integer(allow_none=True, validate=validate.Range(min=1, max=65535))
    imap_security = fields.String(validate=_SECURITY, metadata={"description": "none, starttls or tls (IMAPS)."})
    imap_username = fields.String(validate=validate.Length(max=254))
    imap_password = fields.String(load_only=True, validate=validate.Length(max=500))
    imap_folders = _FOLDERS


class MailAccountCreateSchema(_AccountFields):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    smtp_host = fields.String(required=True, validate=_HOST)
    smtp_port = fields.Integer(required=True, validate=validate.Range(min=1, max=65535))
    smtp_security = fields.String(load_default="starttls", validate=_SECURITY)
    imap_security = fields.String(load_default="tls", validate=_SECURITY)
    imap_folders = fields.List(fields.String(validate=validate.Length(min=1, max=200)),
                               validate=validate.Length(min=1, max=20), load_default=lambda: ["INBOX"],
                               metadata=_FOLDERS.metadata)


class MailAccountUpdateSchema(_AccountFields):
    pass


class MailAccountSchema(_AccountFields):
    id = fields.UUID()
    user_id = fields.UUID()
    email = fields.String()
    smtp_password_set = fields.Boolean()
    imap_password_set = fields.Boolean()
    last_fetched_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class MailFolderCreateSchema(Schema):
    account_id = fields.UUID(required=True)
    name = fields.String(required=True, validate=[validate.Length(min=1, max=100),
                                                  validate.Regexp(r"^[^\x00-\x1f/]+$", error="no / or controls")])


class MailFolderSchema(Schema):
    id = fields.UUID()
    account_id = fields.UUID()
    account_email = fields.String()
    name = fields.String()
    role = fields.String(metadata={"description": "inbox, sent or user."})
    total = fields.Integer()
    unread = fields.Integer()


class MailAddressSchema(Schema):
    name = fields.String(allow_none=True)
    address = fields.String()


class MailAttachmentInfoSchema(Schema):
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer()


class MailLinkSchema(Schema):
    kind = fields.String(metadata={"description": "party, lead, deal or ticket."})
    record_id = fields.UUID()
    found_by = fields.String(metadata={"description": "address, thread, subject (a ticket number) or sender."})


class MailMessageSummarySchema(Schema):
    id = fields.UUID()
    account_id = fields.UUID()
    folder_id = fields.UUID()
    direction = fields.String(metadata={"description": "in (fetched) or out (written in the CRM)."})
    status = fields.String(metadata={"description": "received; or queued, sent, failed for mail sent."})
    thread_id = fields.UUID()
    message_id = fields.String(allow_none=True, metadata={"description": "The Message-ID header."})
    in_reply_to = fields.String(allow_none=True)
    subject = fields.String()
    from_address = fields.String(allow_none=True)
    from_name = fields.String(allow_none=True)
    to = fields.List(fields.Nested(MailAddressSchema))
    cc = fields.List(fields.Nested(MailAddressSchema))
    date = fields.DateTime()
    is_read = fields.Boolean()
    auto_reply = fields.Boolean()
    has_html = fields.Boolean(metadata={"description": "The mail had HTML; only its text is kept and shown."})
    attachments = fields.List(fields.Nested(MailAttachmentInfoSchema))
    snippet = fields.String()
    sent_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    version = fields.Integer()


class MailMessageSchema(MailMessageSummarySchema):
    text_body = fields.String()
    references = fields.List(fields.String())
    links = fields.List(fields.Nested(MailLinkSchema))


MailMessagePageSchema = page_schema(MailMessageSummarySchema, "MailMessagePage")


class MailMessageListArgs(PageArgs):
    account_id = fields.UUID()
    folder_id = fields.UUID()
    thread_id = fields.UUID(metadata={"description": "A conversation, oldest first."})
    party_id = fields.UUID()
    lead_id = fields.UUID()
    deal_id = fields.UUID()
    ticket_id = fields.UUID()
    unread = fields.Boolean()


class MailAttachmentSchema(Schema):
    filename = fields.String(required=True, validate=[validate.Length(min=1, max=200),
                                                      validate.Regexp(r"^[^/\\\x00-\x1f]+$",
                                                                      error="a file name without a path")])
    content_type = fields.String(required=True, validate=validate.Regexp(
        r"^[a-z]+/[a-z0-9.+-]+$", error="a MIME type such as application/pdf"))
    content_base64 = fields.String(required=True, validate=validate.Length(min=1, max=2_900_000), metadata={
        "description": "The file, base64; at most 2 MiB once decoded."})


class MailSendSchema(Schema):
    account_id = fields.UUID(required=True, metadata={"description": "One of your mail accounts (its SMTP server)."})
    to = fields.List(fields.Email(validate=validate.Length(max=254)), required=True,
                     validate=validate.Length(min=1, max=50))
    cc = fields.List(fields.Email(validate=validate.Length(max=254)), validate=validate.Length(max=50))
    template_id = fields.UUID(allow_none=True, metadata={
        "description": "Render this template for the party (merge fields); else give subject and a body."})
    subject = fields.String(validate=validate.Length(min=1, max=500))
    text_body = fields.String(validate=validate.Length(max=200_000))
    html_body = fields.String(validate=validate.Length(max=500_000))
    party_id = fields.UUID(allow_none=True, metadata={"description": "The party written to (merge fields, link)."})
    deal_id = fields.UUID(allow_none=True)
    lead_id = fields.UUID(allow_none=True)
    ticket_id = fields.UUID(allow_none=True)
    reply_to_message_id = fields.UUID(allow_none=True, metadata={
        "description": "A mail of the same account this answers (In-Reply-To, References, same thread)."})
    attachments = fields.List(fields.Nested(MailAttachmentSchema), validate=validate.Length(max=5))


class MailMessageUpdateSchema(Schema):
    folder_id = fields.UUID(metadata={"description": "Move it to this folder of its account."})
    is_read = fields.Boolean()


class MailTemplateCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=150))
    subject = fields.String(required=True, validate=validate.Length(min=1, max=500), metadata={
        "description": "Jinja2; merge fields recipient.(email, name, first_name, last_name), company.name, "
                       "owner.(name, email)."})
    html_body = fields.String(required=True, validate=validate.Length(min=1, max=500_000))
    text_body = fields.String(allow_none=True, validate=validate.Length(max=200_000))
    marketing = fields.Boolean(load_default=False, metadata={
        "description": "A marketing mail: never sent to a suppressed address."})


class MailTemplateSchema(MailTemplateCreateSchema):
    id = fields.UUID()
    owner_id = fields.UUID(allow_none=True)
    version = fields.Integer()
    created_at = fields.DateTime()
