"""Who may see the adoption dashboard: every route × every role × own/other market.

The province (admin) sees every market; a manager sees their own markets (another market's
page is a 404); helpers and merchants get 403. The API answers the same with a token, and 401
without one. A refused request changes nothing.
"""

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.auth.services import create_api_token
from market.extensions import db
from market.markets.models import Market
from tests.conftest import ACCESS_ROLES, PASSWORD

MANAGERS = {"admin", "manager", "manager_b"}
MANAGERS_A = {"admin", "manager"}

# (endpoint, method, url, form data, roles allowed); everyone else gets 403/404, a login
# redirect (pages) or 401 (API).
MATRIX = [
    ("adoption.index", "GET", "/adoption/", None, MANAGERS),
    ("adoption.market", "GET", "/adoption/markets/TN-A", None, MANAGERS_A),
    (
        "adoption.set_criteria",
        "POST",
        "/adoption/markets/TN-A/criteria",
        {"fees_cashless_since": "2026-01-05", "ecommerce_note": "Shopee"},
        MANAGERS_A,
    ),
    ("adoption.export", "GET", "/adoption/export.csv", None, MANAGERS),
    ("adoption.export", "GET", "/adoption/export.xlsx", None, MANAGERS),
    ("adoption.market_export", "GET", "/adoption/markets/TN-A/export.csv", None, MANAGERS_A),
    ("adoption.market_export", "GET", "/adoption/markets/TN-A/export.xlsx", None, MANAGERS_A),
    ("api.adoption.province_adoption", "GET", "/api/v1/adoption", None, MANAGERS),
    ("api.adoption.market_adoption", "GET", "/api/v1/markets/TN-A/adoption", None, MANAGERS_A),
]


def _state():
    return (
        db.session.scalar(select(func.count(AuditLog.id))),
        tuple(
            db.session.execute(
                select(
                    Market.code,
                    Market.fees_cashless_since,
                    Market.ecommerce_listed_since,
                    Market.ecommerce_note,
                ).order_by(Market.id)
            ).all()
        ),
    )


def _check(app, world, role, method, url, data, allowed):
    client = app.test_client()
    api = url.startswith("/api/")
    headers = {}
    if role != "anonymous":
        if api:
            _token, secret = create_api_token(world.users[role], "test")
            headers = {"Authorization": f"Bearer {secret}"}
        else:
            response = client.post("/login", data={"username": role, "password": PASSWORD})
            assert response.status_code == 302
    before = _state()
    response = client.open(url, method=method, data=data, headers=headers)
    db.session.expire_all()
    if role in allowed:
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 302:
            assert "/login" not in response.headers["Location"]
        return
    if role == "anonymous" and api:
        assert response.status_code == 401
    elif role == "anonymous":
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    else:
        assert response.status_code in (403, 404), response.status_code
    assert _state() == before, "a refused request changed data"


# One test per route, every role inside it (one world per route keeps the suite quick).
@pytest.mark.parametrize(
    ("endpoint", "method", "url", "data", "allowed"),
    MATRIX,
    ids=[f"{m} {u}" for _e, m, u, _d, _a in MATRIX],
)
def test_access(app, world, endpoint, method, url, data, allowed):
    for role in ACCESS_ROLES:
        try:
            _check(app, world, role, method, url, data, allowed)
        except AssertionError as exc:
            raise AssertionError(f"role {role}: {exc}") from exc


def test_another_markets_manager_gets_404_not_403(app, world, auth):
    assert auth.login("manager_b").status_code == 302
    assert auth.client.get("/adoption/markets/TN-A").status_code == 404
    assert auth.login("helper").status_code == 302
    assert auth.client.get("/adoption/markets/TN-A").status_code == 403
