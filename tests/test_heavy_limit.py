"""The per-user limit on heavy requests (market.limits): exports and print kits share one
budget per signed-in user; past it that user gets 429, other users and light pages do not."""

from __future__ import annotations

import pytest
from flask import g, request_started

from tests.conftest import Auth


def _forget_user(_sender, **_extra) -> None:
    # The test keeps one app context open; a server would give each request its own, so
    # Flask-Login's user must not carry over from one client's request to the other's.
    g.pop("_login_user", None)


@pytest.fixture
def limited(app):
    app.config["HEAVY_RATE_LIMIT"] = "3 per minute"
    request_started.connect(_forget_user, app)
    yield app
    request_started.disconnect(_forget_user, app)


def test_heavy_requests_share_one_budget_per_user(limited, world):
    one, other = limited.test_client(), limited.test_client()
    assert Auth(one).login("manager").status_code == 302
    assert Auth(other).login("admin").status_code == 302
    heavy = [
        "/adoption/export.csv",
        "/adoption/markets/TN-A/export.xlsx",
        "/markets/TN-A/export.csv",
    ]
    assert [one.get(path).status_code for path in heavy] == [200, 200, 200]
    refused = one.get("/markets/TN-A/stickers.pdf")
    assert refused.status_code == 429
    assert "Retry-After" in refused.headers
    assert "Bạn thao tác quá nhanh" in refused.get_data(as_text=True)
    # Light pages stay open to the same user, heavy ones to everyone else.
    assert one.get("/adoption/").status_code == 200
    assert one.get("/markets/TN-A").status_code == 200
    assert other.get("/adoption/export.csv").status_code == 200


def test_the_heavy_limit_comes_from_the_environment(monkeypatch, tmp_path):
    from market.app import create_app

    monkeypatch.setenv("MARKET_HEAVY_RATE_LIMIT", "5 per hour")
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert app.config["HEAVY_RATE_LIMIT"] == "5 per hour"
