"""The flask-smorest Api of a service: OpenAPI at /openapi.json, Swagger UI at /docs (assets served locally)."""

from importlib import resources

from flask import Flask, send_from_directory
from flask_smorest import Api

from . import guards, openapi, problems


def create_api(app: Flask, title: str, description: str) -> Api:
    app.config.setdefault("API_TITLE", title)
    app.config.setdefault("API_VERSION", "v1")
    app.config.setdefault("OPENAPI_VERSION", "3.1.0")
    app.config.setdefault("OPENAPI_URL_PREFIX", "/")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    app.config.setdefault("OPENAPI_SWAGGER_UI_PATH", "/docs")
    app.config.setdefault("OPENAPI_SWAGGER_UI_URL", "/docs-assets/")
    app.config.setdefault("API_SPEC_OPTIONS", {"info": {"description": description},
                                               "security": [{"bearerAuth": []}]})
    api = Api(app)
    # /docs shows "Authorize": paste the token from POST /api/v1/auth/login
    api.spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    assets = str(resources.files("flask_swagger_ui").joinpath("dist"))

    @app.get("/docs-assets/<path:filename>")
    def swagger_assets(filename):
        return send_from_directory(assets, filename)

    openapi.install(app, api)
    problems.register(app)
    guards.install(app)
    trusted = int(app.config.get("TRUSTED_PROXIES", 0))
    if trusted:
        # behind N reverse proxies, the client address (used by the login rate limit) is in X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=trusted, x_proto=trusted, x_host=trusted)
    return api
