"""Fixtures: the app on SQLite and on a real PostgreSQL, a client, and users of every role.

Every test that takes ``app`` runs twice, once per database. The schema comes from the
migrations (``flask db upgrade``), once per database per session; each test then starts
from empty tables.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import flask_babel
import pytest
from flask import Flask, g, request_started
from sqlalchemy import Engine, create_engine, text

from market.app import create_app
from market.extensions import db, limiter
from market.payments.services import INTEGRATIONS_CACHE
from tests.pgserver import ThrowawayPostgres

DATABASES = ["sqlite", "postgresql"]
#: Who the access-matrix tests try every endpoint as: no one, then the users of ``World``
#: (market A's staff and merchant, and their counterparts at market B).
ACCESS_ROLES = [
    "anonymous",
    "admin",
    "manager",
    "helper",
    "merchant",
    "manager_b",
    "helper_b",
    "merchant_b",
]
PASSWORD = "correct horse battery"


#: Test folders whose tests share servers started once per session or package (gunicorn on the
#: demo data, a two-host cluster, load generators): under pytest-xdist (``--dist loadgroup``)
#: each folder's tests run on one worker, so those servers start once, not once per worker.
SERIAL_GROUPS = ("browser", "scaleout", "load")


def pytest_itemcollected(item) -> None:
    # Marked as each test is collected: xdist reads the groups in its own
    # pytest_collection_modifyitems, which runs before a conftest's.
    folder = item.path.relative_to(Path(__file__).parent).parts[0]
    if folder in SERIAL_GROUPS:
        item.add_marker(pytest.mark.xdist_group(folder))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items) -> None:
    """Under ``--dist loadgroup`` xdist tags each grouped test's id with its group; a pytest
    that does not let it (9.2 did not) would spread a group over both workers unnoticed."""
    if getattr(config.option, "loadgroup", False):
        untagged = [i.nodeid for i in items if i.get_closest_marker("xdist_group")]
        untagged = [nodeid for nodeid in untagged if "@" not in nodeid]
        if untagged:
            raise pytest.UsageError(f"xdist did not group {len(untagged)} tests: {untagged[0]}")


@pytest.fixture(scope="session")
def postgres() -> Iterator[ThrowawayPostgres | None]:
    """The suite's PostgreSQL server, started here unless MARKET_TEST_POSTGRES_URL names one."""
    if os.environ.get("MARKET_TEST_POSTGRES_URL"):
        yield None
        return
    server = ThrowawayPostgres().start()
    try:
        yield server
    finally:
        server.destroy()


def _migrate(url: str, instance: Path) -> None:
    from flask_migrate import upgrade

    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    app.instance_path = str(instance)
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated(tmp_path_factory, request):
    """A function giving the URL of a migrated database of a kind, made on first use."""
    database_urls: dict[str, str] = {}

    def get(kind: str) -> str:
        if kind not in database_urls:
            instance = tmp_path_factory.mktemp(kind)
            if kind == "sqlite":
                url = f"sqlite:///{instance / 'test.sqlite3'}"
            else:
                external = os.environ.get("MARKET_TEST_POSTGRES_URL")
                url = external or request.getfixturevalue("postgres").create_database("market_test")
            _migrate(url, instance)
            database_urls[kind] = url
        return database_urls[kind]

    return get


def _wipe(conn) -> None:
    """Empty every table (ids start again at 1) on ``conn``, in its transaction."""
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    else:
        for table in tables:
            conn.execute(text(f"DELETE FROM {table}"))  # noqa: S608 - names from metadata


@pytest.fixture(params=DATABASES)
def db_kind(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def wiping_engines() -> Iterator[dict[str, tuple[Engine, int]]]:
    """One engine per database URL, kept for the session, that empties the tables (with the
    server's restart count when it was made)."""
    engines: dict[str, tuple[Engine, int]] = {}
    yield engines
    for engine, _restarts in engines.values():
        engine.dispose()


def _server_restarts(request, kind: str) -> int:
    """How often the suite's own PostgreSQL was stopped (fault and recovery tests restart it):
    pools kept from before hold dead connections."""
    if kind != "postgresql" or os.environ.get("MARKET_TEST_POSTGRES_URL"):
        return 0
    return request.getfixturevalue("postgres").stops


@pytest.fixture
def db_url(request, db_kind, migrated, wiping_engines) -> str:
    """The migrated database of this kind, emptied before the test (on a kept connection)."""
    url = migrated(db_kind)
    restarts = _server_restarts(request, db_kind)
    if url in wiping_engines and wiping_engines[url][1] != restarts:
        wiping_engines.pop(url)[0].dispose()
    if url not in wiping_engines:
        wiping_engines[url] = (create_engine(url), restarts)
    with wiping_engines[url][0].begin() as conn:
        _wipe(conn)
    return url


#: What every test's app is built with (on top of the environment's defaults).
TEST_SETTINGS = {
    "ENV": "testing",
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    # A rotated webhook secret applies to the next notification (tests/scaleout sets its own).
    "INTEGRATION_CACHE_SECONDS": 0,
}


@pytest.fixture(scope="session")
def built_apps(migrated) -> Iterator[Callable[[str], Flask]]:
    """One app per database kind for the whole session (templates compiled once, connections
    pooled), made on first use; the ``app`` fixture hands it to each test as new."""
    apps: dict[str, Flask] = {}

    def get(kind: str) -> Flask:
        if kind not in apps:
            app = create_app({**TEST_SETTINGS, "SQLALCHEMY_DATABASE_URI": migrated(kind)})
            # A fresh Flask-Babel locale per request, as under a real server: Flask-Babel
            # caches the locale and translations on the app context, which a server makes per
            # request but a test keeps open throughout; without this a test's first request (or
            # a message translated while building its data) would fix the language of every
            # request after it.
            request_started.connect(_drop_cached_locale, app)
            # Likewise the ORM session: a server gives each request a new one, so a request
            # reads what is in the database, not what this test's session loaded before. (A
            # webhook is stored by the webhooks' own app, on its own connection: the shared
            # session never hears of it.)
            request_started.connect(_read_afresh, app)
            app.extensions["tests.pristine_config"] = dict(app.config)
            app.extensions["tests.restarts"] = 0
            # The one Limiter object takes its storage and switches from the app it was last
            # initialised with; a test that builds an app of its own (Redis, limits off) must
            # not leave this app counting there.
            app.extensions["tests.limiter_state"] = dict(vars(limiter))
            app.extensions["tests.pristine_extensions"] = {
                *app.extensions,
                "tests.pristine_extensions",
            }
            apps[kind] = app
        return apps[kind]

    yield get
    for app in apps.values():
        request_started.disconnect(_drop_cached_locale, app)
        request_started.disconnect(_read_afresh, app)
        for each in (app, app.extensions["market.webhook_app"]):
            with each.app_context():
                db.engine.dispose()


@pytest.fixture
def app(request, db_kind, db_url, built_apps):
    """This database kind's app, as new: empty tables (``db_url``), the settings it was built
    with, no rate limit counted, nothing cached. (A test that needs an app built
    otherwise, or adds routes to one, calls create_app itself with ``db_url``.)"""
    app = built_apps(db_kind)
    restarts = _server_restarts(request, db_kind)
    if app.extensions["tests.restarts"] != restarts:  # the server went away since: new pools
        for each in (app, app.extensions["market.webhook_app"]):
            with each.app_context():
                db.engine.dispose()
        app.extensions["tests.restarts"] = restarts
    app.config.clear()
    app.config.update(app.extensions["tests.pristine_config"])
    vars(limiter).update(app.extensions["tests.limiter_state"])
    limiter.reset()
    # Caches a worker keeps on its app (figures, ...) start empty: anything added since the app
    # was built goes, and the webhook secrets' cache (shared with the webhook app) is emptied.
    for name in set(app.extensions) - app.extensions["tests.pristine_extensions"]:
        del app.extensions[name]
    app.extensions.get(INTEGRATIONS_CACHE, {}).clear()
    with app.app_context():
        try:
            yield app
        finally:
            db.session.remove()


def _drop_cached_locale(_sender, **_extra) -> None:
    flask_babel.refresh()


def _read_afresh(_sender, **_extra) -> None:
    db.session.expire_all()
    # And the logged-in user: Flask-Login keeps it on ``g``, which a server makes anew per
    # request but this fixture's app context keeps, so a session ended on the server (logout,
    # reset, deactivation) would still look logged in to the next request of the same test.
    g.pop("_login_user", None)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# --- data builders ------------------------------------------------------------------------


class World:
    """Two markets, a stall with a merchant and verified payee in each, and one user per role:
    manager/helper/merchant of market A (``own``), and the same roles for market B; market A
    has a second manager (``manager2``) to confirm the first one's payee changes."""

    def __init__(self) -> None:
        from market.auth.models import User
        from market.markets.models import Market, Stall
        from market.merchants.models import Merchant, PayeeAccount

        self.market_a = Market(
            code="TN-A", name="Chợ Đồng Quang", district="TP. Thái Nguyên", status="live"
        )
        self.market_b = Market(
            code="TN-B", name="Chợ Túc Duyên", district="TP. Thái Nguyên", status="live"
        )
        self.merchant_a = Merchant(full_name="Nguyễn Thị Hoa", phone="0912345678", consent=True)
        self.merchant_b = Merchant(full_name="Trần Văn Bình", phone="0987654321", consent=True)
        self.stall_a = Stall(
            market=self.market_a,
            code="A-01",
            zone="Khu A",
            category="rau-cu",
            status="active",
            merchant=self.merchant_a,
        )
        self.stall_b = Stall(
            market=self.market_b,
            code="B-01",
            zone="Khu B",
            category="thit",
            status="active",
            merchant=self.merchant_b,
        )
        db.session.add_all([self.market_a, self.market_b, self.stall_a, self.stall_b])
        self.users = {}
        for name, role, markets, merchant in [
            ("admin", "admin", [], None),
            ("manager", "manager", [self.market_a], None),
            ("manager2", "manager", [self.market_a], None),
            ("helper", "helper", [self.market_a], None),
            ("merchant", "merchant", [], self.merchant_a),
            ("manager_b", "manager", [self.market_b], None),
            ("helper_b", "helper", [self.market_b], None),
            ("merchant_b", "merchant", [], self.merchant_b),
        ]:
            user = User(
                username=name, full_name=name.title(), role=role, markets=markets, merchant=merchant
            )
            user.password_hash = HASH
            user.activated_at = ACTIVATED  # logins in use, as after activation with a code
            db.session.add(user)
            self.users[name] = user
        db.session.flush()
        self.payee_a = PayeeAccount(
            stall=self.stall_a,
            bank_bin="970436",
            account_number="0011001234567",
            holder_name="NGUYEN THI HOA",
            verified_at=db.func.now(),
            verified_by_id=self.users["manager"].id,
        )
        self.payee_b = PayeeAccount(
            stall=self.stall_b,
            bank_bin="970415",
            account_number="101867123456",
            holder_name="TRAN VAN BINH",
            verified_at=db.func.now(),
            verified_by_id=self.users["manager_b"].id,
        )
        db.session.add_all([self.payee_a, self.payee_b])
        db.session.commit()


def _hash() -> str:
    from werkzeug.security import generate_password_hash

    # The real login path checks this hash; a cheap one keeps hundreds of logins fast.
    # (Production hashes use scrypt: see User.set_password and its test.)
    return generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")


HASH = _hash()
ACTIVATED = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)


@pytest.fixture
def world(app) -> World:
    return World()


class Auth:
    def __init__(self, client) -> None:
        self.client = client

    def login(self, username: str, password: str = PASSWORD):
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client) -> Auth:
    return Auth(client)
