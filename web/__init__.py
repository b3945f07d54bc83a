"""The Flask API. `create_app()` is the factory gunicorn and `flask --app web` use."""

from __future__ import annotations

import click
from flask import Blueprint, Flask, Response
from flask.helpers import get_debug_flag

import config
from telemetry import logs
from web import auth, docs, graphql_api, health, http_metrics, jobs, orders, request_ids, resources, webhooks
from web.cli import register_cli
from web.problems import register_database_error_handler, register_error_handlers


def create_app(settings: config.Settings | None = None) -> Flask:
    refuse_werkzeug_debugger()
    settings = settings or config.current()
    app = Flask(__name__)
    # Never debug mode, whatever FLASK_DEBUG says: it would show tracebacks and
    # let exceptions escape the problem+json handlers.
    app.debug = False
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    app.json.sort_keys = False  # type: ignore[attr-defined]  # keep fields in the order views build them
    resources.install(app, settings)
    register_blueprints(app, settings)
    register_error_handlers(app)
    register_database_error_handler(app)
    register_cli(app)
    request_ids.register(app)
    http_metrics.register(app)
    app.after_request(_security_headers)
    logs.configure()
    return app


def refuse_werkzeug_debugger() -> None:
    """`flask run --debug` (or `--debugger`) wraps the app in Werkzeug's
    debugger, which runs Python typed into a browser page: whoever reaches the
    port (or the PIN) owns the process. `app.debug = False` does not stop it,
    so the app refuses to be loaded by such a `flask run`."""
    ctx = click.get_current_context(silent=True)
    if ctx is None or ctx.info_name != "run":
        return
    debugger = ctx.params.get("debugger")
    if debugger or (debugger is None and get_debug_flag()):
        raise click.UsageError(
            "Orderly refuses to run under the Werkzeug debugger (--debug / --debugger): it executes code "
            "sent from a browser. Use `make run`, or `flask run --no-debugger`."
        )


def register_blueprints(app: Flask, settings: config.Settings) -> None:
    api = Blueprint("api", __name__, url_prefix="/api/v1")
    api.before_request(auth.require_api_key)
    graphql_api.register(api, settings)
    api.register_blueprint(orders.bp)
    api.register_blueprint(jobs.bp)
    api.register_blueprint(webhooks.bp)
    api.register_blueprint(docs.bp)
    app.register_blueprint(api)
    app.register_blueprint(health.bp)


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Cache-Control", "no-store")
    return response
