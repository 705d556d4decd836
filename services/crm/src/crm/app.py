"""create_app(): the CRM's Flask app with its API, access control, error handlers and health endpoints."""

from dataclasses import dataclass
from datetime import timedelta

from flask import Flask
from servicekit import guards, health
from servicekit.api import create_api
from servicekit.auth import api as auth_api
from servicekit.db import make_engine, make_session_factory, ping
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from .access.api import blp as teams_blp
from .access.roles import CATALOG
from .activities import api as activities_api
from .audit_scope import audit_scope
from .billing.api import blp as billing_blp
from .catalog import api as catalog_api
from .config import Settings
from .db import audit_log, auth
from .deals import api as deals_api
from .exports.api import blp as exports_blp
from .imports import service as imports_service
from .imports.api import blp as imports_blp
from .leads import api as leads_api
from .merge.api import blp as merge_blp
from .parties.api import blp as parties_blp
from .quotes import api as quotes_api
from .statistics.api import blp as statistics_blp
from .tasks.api import blp as tasks_blp
from .timeline.api import blp as timeline_blp


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask("crm", static_folder=None)
    app.config["TRUSTED_PROXIES"] = settings.trusted_proxies
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    engine = make_engine(settings.database_url)
    db = Database(engine, make_session_factory(engine))
    app.extensions["crm.db"] = db
    api = create_api(app, "CRM API", "Parties, leads and web capture, funnels and deals, quotes, activities, the "
                     "customer timeline, tasks, the ERP's catalog and billing as the CRM sees them, statistics, "
                     "import and export. Authenticate with "
                     "POST /api/v1/auth/login, then send 'Authorization: Bearer <token>'. Errors are RFC 9457 "
                     "problem+json; updates need If-Match.")
    auth_api.init_app(app, api, auth_api.AuthContext("crm", auth, audit_log, CATALOG, db.sessions,
                                                     timedelta(hours=settings.session_ttl_hours),
                                                     audit_scope=audit_scope))
    api.register_blueprint(parties_blp)
    api.register_blueprint(merge_blp)
    api.register_blueprint(imports_blp)
    guards.allow_larger_body(app, "imports.Imports", imports_service.MAX_BYTES + 64 * 1024)
    api.register_blueprint(exports_blp)
    api.register_blueprint(teams_blp)
    leads_api.register(api)
    deals_api.register(api)
    activities_api.register(api)
    api.register_blueprint(tasks_blp)
    api.register_blueprint(timeline_blp)
    api.register_blueprint(billing_blp)
    api.register_blueprint(statistics_blp)
    catalog_api.init_app(app, api, settings.erp_public_url)
    quotes_api.init_app(app, api, settings)
    app.register_blueprint(health.blueprint({"database": lambda: ping(engine)}))
    return app
