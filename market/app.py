"""The application factory: config -> extensions -> blueprints -> errors -> cli."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
from flask import Flask, has_request_context, session
from flask.cli import with_appcontext
from flask.sessions import NullSession, SessionInterface
from flask_login import current_user
from sqlalchemy.engine import make_url
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.middleware.proxy_fix import ProxyFix

from market import config as market_config
from market.database import enforce_foreign_keys, ping_idle_connections, use_write_ahead_log
from market.extensions import babel, csrf, db, limiter, login_manager, migrate
from market.routing import DatabaseIdConverter
from market.textsearch import register_fold

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict[str, Any] | None = None) -> Flask:
    instance_path = Path(os.environ.get("MARKET_INSTANCE_PATH", ROOT / "instance"))
    app = Flask(
        "market",
        instance_path=str(instance_path),
        template_folder=str(ROOT / "templates"),
        static_folder=str(Path(__file__).parent / "static"),
    )
    app.config.update(market_config.load(instance_path, config))
    app.url_map.converters["int"] = DatabaseIdConverter
    instance_path.mkdir(parents=True, exist_ok=True)

    register_models()
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_security_headers(app)
    register_template_helpers(app)
    register_commands(app)
    register_webhook_app(app)
    register_proxy_fix(app)
    return app


def select_locale() -> str:
    """The language picked on this device, else the user's saved one, else Vietnamese.

    A login copies the device's choice into the user's (market.auth.views.login), and a
    logged-in user's switch saves it (a POST); a GET link only changes this device's."""
    if not has_request_context():
        return "vi"
    lang = session.get("lang")
    if lang in ("vi", "en"):
        return lang
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale:
        return current_user.locale
    return "vi"


def register_models() -> None:
    """Import every domain's tables, so the metadata (and so migrations) sees them all."""
    import market.adoption.models
    import market.audit.models
    import market.auth.models
    import market.fees.models
    import market.markets.models
    import market.merchants.models
    import market.payments.models
    import market.places.models
    import market.stickers.models  # noqa: F401


def prepare_engines(app: Flask) -> None:
    """SQLite files in WAL mode and checking foreign keys, server connections pinged after
    idling (market/database.py); SQLite taught the search fold (market/textsearch.py)."""
    with app.app_context():
        for engine in db.engines.values():
            enforce_foreign_keys(engine)
            use_write_ahead_log(engine)
            ping_idle_connections(engine)
            register_fold(engine)


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    prepare_engines(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)

    from market.auth.models import load_user

    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"


def register_blueprints(app: Flask) -> None:
    from market.adoption.views import bp as adoption_bp
    from market.api import register_api
    from market.auth.views import bp as auth_bp
    from market.fees.money.views import bp as fee_money_bp
    from market.fees.views import bp as fees_bp
    from market.guide.views import bp as guide_bp
    from market.health.views import bp as health_bp
    from market.markets.views import bp as markets_bp
    from market.merchants.views import bp as merchants_bp
    from market.payments.views import bp as payments_bp
    from market.payments.webhooks import bp as webhooks_bp
    from market.stickers.views import bp as stickers_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(markets_bp)
    app.register_blueprint(merchants_bp)
    app.register_blueprint(guide_bp)
    app.register_blueprint(stickers_bp)
    app.register_blueprint(payments_bp)
    app.register_blueprint(adoption_bp)
    app.register_blueprint(fees_bp)
    app.register_blueprint(fee_money_bp)
    # The webhooks' URLs only, for url_for: their requests never reach this app, nor its
    # CSRF check (register_webhook_app); they prove themselves with the provider's signature.
    app.register_blueprint(webhooks_bp)
    register_api(app)
    app.register_blueprint(health_bp)


def register_errorhandlers(app: Flask) -> None:
    from market.errors import refuse_unstorable_input
    from market.errors import register_errorhandlers as register

    register(app)
    # Before any blueprint's hooks and views (the webhooks' own app reads JSON, checked by
    # its schemas): characters no database column can hold never reach a query.
    app.before_request(refuse_unstorable_input)


CSP = "; ".join(
    [
        "default-src 'self'",
        "img-src 'self' data: blob:",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "object-src 'none'",
    ]
)


def security_headers(app: Flask) -> list[tuple[str, str]]:
    """The headers every answer carries (unless a view set its own)."""
    headers = [
        ("Content-Security-Policy", CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
    ]
    if app.config["SESSION_COOKIE_SECURE"]:
        headers.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    return headers


def register_security_headers(app: Flask) -> None:
    defaults = tuple((name.lower(), name, value) for name, value in security_headers(app))

    @app.after_request
    def add_security_headers(response):
        # One pass over what the response has (a view may have set its own), not a search
        # per header: this runs on every response.
        present = {name.lower() for name, _value in response.headers}
        for lowered, name, value in defaults:
            if lowered not in present:
                response.headers.add(name, value)
        return response


class NoSessions(SessionInterface):
    """For an app that never has a user: no cookie is read, signed or set."""

    def open_session(self, app: Flask, request) -> NullSession:
        return self.make_null_session(app)

    def save_session(self, app: Flask, session, response) -> None:
        return None


def register_webhook_app(app: Flask) -> None:
    """Serve the bank notifications (``/api/v1/webhooks/…``) apart from the main app.

    A notification is a machine's POST, proved by its signature: it has no session, no user,
    no CSRF token and no rate limit (a bank's burst must all land). The main app runs all of
    those for every request, and for a request this small they were a third of its cost
    (bench/bench_webhooks.py). The notifications are served by a plain WSGI application
    (market.payments.webhooks.WebhookIngest) inside a lean Flask app of their own that has
    only what ingest needs: the database, messages in Vietnamese, the JSON errors and the
    security headers. It shares the main app's settings and its cache of integration
    settings (so a secret saved on the admin screen reaches it at once). The main app keeps
    the URLs for ``url_for`` and the route list; requests under the prefix never reach it."""
    from market.payments import services
    from market.payments.webhooks import URL_PREFIX, WebhookIngest

    ingest = Flask(
        "market",
        instance_path=app.instance_path,
        template_folder=app.template_folder,
        static_folder=None,
    )
    ingest.config.update(app.config)
    if make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != "sqlite":
        # A sync worker serves one request at a time: one server connection kept (and a few
        # spare for threads), not another 5 (+10) like the main pool's.
        ingest.config["SQLALCHEMY_ENGINE_OPTIONS"] = {
            **app.config.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
            "pool_size": 1,
            "max_overflow": 4,
            # A notification is one statement, atomic by itself (market.payments.services).
            "isolation_level": "AUTOCOMMIT",
            # So no transaction is ever left open to roll back when a connection goes back to
            # the pool: skip that call (SQLAlchemy's advice for autocommit engines).
            "pool_reset_on_return": None,
        }
    ingest.session_interface = NoSessions()
    db.init_app(ingest)  # a pool of its own, set up like the main app's
    prepare_engines(ingest)
    babel.init_app(ingest)  # no user, no session: the default language
    register_errorhandlers(ingest)
    register_security_headers(ingest)
    ingest.extensions[services.INTEGRATIONS_CACHE] = services.integrations_cache(app)
    app.extensions["market.webhook_app"] = ingest
    endpoint = WebhookIngest(ingest, security_headers(ingest))
    app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {URL_PREFIX: endpoint})


def register_proxy_fix(app: Flask) -> None:
    """Behind ``PROXY_FIX`` trusted proxies (MARKET_PROXY_FIX), take the client's address,
    scheme and host from their X-Forwarded-* headers: rate limits then count per client, not
    per load balancer, and external URLs say https. Off by default, since without a proxy
    that overwrites them those headers are whatever the client chose to send."""
    count = app.config["PROXY_FIX"]
    if count:
        app.wsgi_app = ProxyFix(
            app.wsgi_app, x_for=count, x_proto=count, x_host=count, x_port=count
        )


def register_template_helpers(app: Flask) -> None:
    from market import formatting

    app.jinja_env.filters["money"] = formatting.money
    app.jinja_env.globals["number"] = formatting.number
    app.jinja_env.filters["vndate"] = formatting.date_vn
    app.jinja_env.filters["vndatetime"] = formatting.datetime_vn
    app.jinja_env.globals["current_locale"] = select_locale
    app.jinja_env.globals["group_separator"] = formatting.group_separator


def register_commands(app: Flask) -> None:
    from market.adoption.cli import register as register_adoption
    from market.auth.cli import register as register_auth
    from market.fees.cli import register as register_fees
    from market.fees.money.cli import register as register_fee_money
    from market.markets.cli import register as register_markets
    from market.payments.cli import register as register_payments
    from market.places.cli import register as register_places
    from market.stickers.cli import register as register_stickers

    register_adoption(app)
    register_auth(app)
    register_fees(app)
    register_fee_money(app)
    register_markets(app)
    register_payments(app)
    register_places(app)
    register_stickers(app)
    app.cli.add_command(seed_demo)


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database has markets.")
@with_appcontext
def seed_demo(if_empty: bool) -> None:
    """Load the Thái Nguyên demo data set (deterministic)."""
    # The demo spans every domain (registry, payments, adoption): it belongs to the shell,
    # and is imported only when the command runs.
    from market import demo

    if if_empty and demo.has_data():
        click.echo("database already has data; demo not loaded again")
    else:
        click.echo(json.dumps(demo.load(), ensure_ascii=False))
    click.echo(f"demo logins (password: {demo.DEMO_PASSWORD}):")
    for username, role, note in demo.DEMO_USERS:
        click.echo(f"  {username:<12} {role:<9} {note}")
