"""Settings for running several hosts behind a load balancer: X-Forwarded-* trusted only when
MARKET_PROXY_FIX says a proxy sets them, secure cookies in production, and logins that keep
working (still limited) when the shared Redis is down; and what the WSGI entry point does once
per worker."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from market.app import create_app
from market.config import ConfigError
from market.extensions import db
from tests.conftest import PASSWORD
from tests.liveserver import free_port


@pytest.fixture
def make_app(db_url):
    """Apps made with other settings on the test's database; their pools closed afterwards."""
    made = []

    def make(**settings):
        app = create_app(
            {
                "ENV": "testing",
                "SQLALCHEMY_DATABASE_URI": db_url,
                "WTF_CSRF_ENABLED": False,
                "RATELIMIT_STORAGE_URI": "memory://",
                "LOGIN_RATE_LIMIT": "2 per minute",
                **settings,
            }
        )
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.engine.dispose()


def _failed_login(client, address: str) -> int:
    return client.post(
        "/login",
        data={"username": "manager", "password": "wrong"},
        headers={"X-Forwarded-For": address},
    ).status_code


def test_behind_a_proxy_the_login_limit_counts_per_client_address(world, make_app):
    client = make_app(PROXY_FIX=1).test_client()
    assert [_failed_login(client, "203.0.113.7") for _ in range(3)] == [401, 401, 429]
    # Another shopper's phone behind the same balancer is not locked out.
    assert _failed_login(client, "203.0.113.8") == 401


def test_without_proxy_fix_a_client_cannot_pick_its_address(world, make_app):
    client = make_app().test_client()
    codes = [_failed_login(client, f"203.0.113.{i}") for i in range(3)]
    assert codes == [401, 401, 429]


def test_behind_a_proxy_external_links_use_the_forwarded_scheme_and_host(world, make_app):
    client = make_app(PROXY_FIX=1).test_client()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "cho40.thainguyen.gov.vn"}
    host = {"headers": headers, "base_url": "http://10.0.0.5:8000"}
    client.post("/login", data={"username": "admin", "password": PASSWORD}, **host)
    page = client.get("/admin/webhooks", **host)
    # The address to paste into SePay's settings is the public one, not the host's own.
    assert "https://cho40.thainguyen.gov.vn/api/v1/webhooks/sepay" in page.get_data(as_text=True)


@pytest.mark.parametrize("value", ["yes", "-1", "1.5"])
def test_proxy_fix_must_be_a_count_of_proxies(monkeypatch, value):
    monkeypatch.setenv("MARKET_PROXY_FIX", value)
    with pytest.raises(ConfigError, match="MARKET_PROXY_FIX"):
        create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_production_cookies_are_secure_httponly_and_samesite(world, make_app, monkeypatch):
    monkeypatch.delenv("MARKET_SECURE_COOKIES", raising=False)
    production = make_app(ENV="production", SECRET_KEY="k" * 32)
    client = production.test_client()
    response = client.post("/login", data={"username": "manager", "password": PASSWORD})
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "max-age=31536000" in response.headers["Strict-Transport-Security"]


def test_production_secure_cookies_are_the_default(monkeypatch):
    monkeypatch.delenv("MARKET_SECURE_COOKIES", raising=False)
    app = create_app(
        {"ENV": "production", "SECRET_KEY": "k" * 32, "SQLALCHEMY_DATABASE_URI": "sqlite://"}
    )
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["SESSION_COOKIE_HTTPONLY"] and not app.config["DEBUG"]


def test_logins_stay_limited_per_process_while_redis_is_down(world, make_app):
    # Nothing listens there: every call to the shared store is refused.
    down = f"redis://127.0.0.1:{free_port()}/0"
    client = make_app(RATELIMIT_STORAGE_URI=down).test_client()
    codes = [_failed_login(client, "127.0.0.1") for _ in range(3)]
    assert codes == [401, 401, 429]
    ok = client.post("/login", data={"username": "manager2", "password": PASSWORD})
    assert ok.status_code == 429  # same address, still limited: no 500, no free pass


def test_the_wsgi_entry_point_freezes_what_the_app_made_at_start(tmp_path):
    # In a process of its own, as gunicorn's worker imports it.
    env = {**os.environ, "MARKET_INSTANCE_PATH": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    code = "import gc, wsgi\nprint(gc.get_freeze_count())\n"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(out.stdout.split()[-1]) > 10_000  # the app's: routes, tables, statements, …


@pytest.mark.parametrize("value", ["abc", "-1", "3601", "nan"])
def test_the_webhook_secret_cache_must_be_a_bounded_number_of_seconds(monkeypatch, value):
    monkeypatch.setenv("MARKET_INTEGRATION_CACHE_SECONDS", value)
    with pytest.raises(ConfigError, match="MARKET_INTEGRATION_CACHE_SECONDS"):
        create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_the_webhook_secret_cache_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("MARKET_INTEGRATION_CACHE_SECONDS", "0.5")
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["INTEGRATION_CACHE_SECONDS"] == 0.5
    monkeypatch.delenv("MARKET_INTEGRATION_CACHE_SECONDS")
    default = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert default.config["INTEGRATION_CACHE_SECONDS"] == 5.0


def test_the_readme_lists_every_setting():
    """A newcomer finds every MARKET_* variable the app reads in the README's table."""
    root = Path(__file__).resolve().parents[1]
    code = "\n".join(p.read_text(encoding="utf-8") for p in (root / "market").rglob("*.py"))
    names = set(re.findall(r"[\"'](MARKET_[A-Z_]+[A-Z])[\"']", code))
    # Settings read through a helper that adds the prefix (market/config.py).
    names |= {f"MARKET_ADOPTION_{n}" for n in re.findall(r'number\("([A-Z_]+)"', code)}
    assert {"MARKET_ENV", "MARKET_ADOPTION_TARGET_MARKETS"} <= names
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert sorted(n for n in names if f"| `{n}` |" not in readme) == []
