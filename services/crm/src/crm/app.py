"""create_app(): the CRM's Flask app with its API, access control, error handlers and health endpoints."""

from datetime import timedelta

from flask import Flask
from servicekit import guards, health, web
from servicekit.api import create_api
from servicekit.auth import api as auth_api
from servicekit.mail_outbox import Mailer
from servicekit.secretbox import DEV_KEY, SecretBox

from .access.api import blp as teams_blp
from .access.roles import CATALOG
from .activities.api import blp as activities_blp
from .activities.api import types_blp as activity_types_blp
from .agenda import api as agenda_api
from .agenda.api import blp as agenda_blp
from .agenda.api import public_blp as agenda_public_blp
from .agenda.api import sharing_blp as agenda_sharing_blp
from .audit_scope import audit_scope
from .billing.api import blp as billing_blp
from .campaigns.api import audiences_blp
from .campaigns.api import public_blp as campaign_public_blp
from .campaigns.campaign_api import blp as campaigns_blp
from .campaigns.campaign_api import public_blp as campaign_mail_blp
from .campaigns.newsletter_api import blp as newsletters_blp
from .catalog import api as catalog_api
from .catalog.api import blp as catalog_blp
from .company.api import blp as company_blp
from .config import Settings
from .db import audit_log, auth, idempotency_keys
from .deals.api import deals_blp, pipelines_blp
from .exports.api import blp as exports_blp
from .fulfilment import form as installation_form
from .fulfilment.api import blp as fulfilment_blp
from .fulfilment.api import public_blp as installation_forms_blp
from .imports import service as imports_service
from .imports.api import blp as imports_blp
from .leads.api import forms_blp, leads_blp, public_blp
from .mailbox.api import blp as mailbox_blp
from .merge.api import blp as merge_blp
from .notifications.api import blp as notifications_blp
from .parties.api import blp as parties_blp
from .quotes import api as quotes_api
from .quotes.api import blp as quotes_blp
from .stagetasks.api import blp as stage_tasks_blp
from .statistics.api import blp as statistics_blp
from .tasks.api import blp as tasks_blp
from .tickets.api import blp as tickets_blp
from .tickets.api import sla_blp
from .tickets.claims_api import blp as ticket_claims_blp
from .timeline.api import blp as timeline_blp

# Every API blueprint of the CRM, in the order the OpenAPI document lists them. A new module adds its own here.
BLUEPRINTS = (parties_blp, merge_blp, imports_blp, exports_blp, teams_blp, leads_blp, forms_blp, public_blp,
              pipelines_blp, deals_blp, activities_blp, activity_types_blp, tasks_blp, timeline_blp, billing_blp,
              statistics_blp, catalog_blp, quotes_blp, company_blp, agenda_blp, agenda_sharing_blp,
              agenda_public_blp, notifications_blp, fulfilment_blp, installation_forms_blp, stage_tasks_blp,
              audiences_blp, campaign_public_blp, campaigns_blp, campaign_mail_blp, tickets_blp, sla_blp,
              ticket_claims_blp, newsletters_blp, mailbox_blp)


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app, db = web.service_app("crm", settings, idempotency_keys)
    api = create_api(app, "CRM API", "Parties, leads and web capture, funnels and deals, quotes, activities, the "
                     "customer timeline, tasks, support tickets with SLA clocks, the ERP's catalog and billing as the "
                     "CRM sees them, statistics, import and export. Authenticate with "
                     "POST /api/v1/auth/login, then send the header `Authorization: Bearer <token>`. Errors are "
                     "RFC 9457 problem+json; updates need If-Match.")
    auth_api.init_app(app, api, auth_api.AuthContext("crm", auth, audit_log, CATALOG, db.sessions,
                                                     timedelta(hours=settings.session_ttl_hours),
                                                     audit_scope=audit_scope))
    for blp in BLUEPRINTS:
        api.register_blueprint(blp)
    guards.allow_larger_body(app, "imports.Imports", imports_service.MAX_BYTES + 64 * 1024)
    guards.allow_larger_body(app, "agenda.Import", agenda_api.IMPORT_MAX_BYTES + 64 * 1024)
    app.config["CRM_PUBLIC_URL"] = settings.crm_public_url
    app.extensions["crm.agenda.mailer"] = Mailer.from_settings(settings)  # iMIP invitations to customer contacts
    app.extensions["crm.secretbox"] = SecretBox(settings.credentials_key or DEV_KEY)  # CalDAV passwords
    app.config["CRM_CALDAV_ALLOW_PRIVATE"] = settings.caldav_allow_private
    app.config["CRM_MAILBOX_ALLOW_PRIVATE"] = settings.mailbox_allow_private
    guards.allow_larger_body(app, "mailbox.Messages", 16 * 1024 * 1024)  # attachments: 5 x 2 MiB, base64
    guards.allow_larger_body(app, "installation_forms.InstallationForm", installation_form.MAX_BODY)
    guards.allow_larger_body(app, "tickets.TicketAttachments", settings.ticket_attachment_max_bytes + 64 * 1024)
    catalog_api.init_app(app, api, settings.erp_public_url)
    quotes_api.init_app(app, api, settings)
    app.register_blueprint(health.blueprint({"database": db.ping}))
    return app
