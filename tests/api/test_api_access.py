"""Who may call what in the API: every API route × every role × own/other market.

A request authenticates only with its personal token; a refused one (401 without a token,
403/404 for someone else's market) changes nothing. Rows follow the registry's ``MATRIX``
(see ``tests/test_route_coverage.py``); the docs and the token pages are here too.
"""

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.auth.models import ApiToken
from market.extensions import db
from market.markets.models import Market, Stall
from market.merchants.models import Merchant, PayeeAccount
from tests.conftest import ACCESS_ROLES

USERS = set(ACCESS_ROLES) - {"anonymous"}
STAFF_A = {"admin", "manager", "helper"}
MANAGERS_A = {"admin", "manager"}
HOLDER_A = STAFF_A | {"merchant"}

STALL = "/api/v1/markets/TN-A/stalls/A-01"

# (endpoint, method, url, JSON body or form data, roles allowed). "{payee_a}" and the like
# are filled in from the world; everyone else gets 401 (no token), 403 or 404.
MATRIX = [
    ("api.markets.list_markets", "GET", "/api/v1/markets", None, USERS),
    (
        "api.markets.create_market",
        "POST",
        "/api/v1/markets",
        {"code": "TN-NEW", "name": "Chợ Mới", "district": "TP. Thái Nguyên"},
        {"admin"},
    ),
    ("api.markets.get_market", "GET", "/api/v1/markets/TN-A", None, STAFF_A),
    ("api.markets.update_market", "PATCH", "/api/v1/markets/TN-A", {"name": "Đổi tên"}, MANAGERS_A),
    ("api.markets.list_stalls", "GET", "/api/v1/markets/TN-A/stalls", None, STAFF_A),
    (
        "api.markets.create_stall",
        "POST",
        "/api/v1/markets/TN-A/stalls",
        {"code": "Z-99"},
        STAFF_A,
    ),
    ("api.markets.get_stall", "GET", STALL, None, HOLDER_A),
    ("api.markets.update_stall", "PATCH", STALL, {"status": "closed"}, STAFF_A),
    ("api.merchants.list_merchants", "GET", "/api/v1/merchants", None, USERS),
    ("api.merchants.get_merchant", "GET", "/api/v1/merchants/{merchant_a}", None, HOLDER_A),
    ("api.merchants.get_stall_merchant", "GET", f"{STALL}/merchant", None, HOLDER_A),
    (
        "api.merchants.put_stall_merchant",
        "PUT",
        f"{STALL}/merchant",
        {"full_name": "Người Khác", "phone": "0977000111"},
        STAFF_A,
    ),
    ("api.merchants.delete_stall_merchant", "DELETE", f"{STALL}/merchant", None, STAFF_A),
    ("api.merchants.list_payees", "GET", f"{STALL}/payees", None, HOLDER_A),
    (
        "api.merchants.create_payee",
        "POST",
        f"{STALL}/payees",
        {
            "bank": "970415",
            "account_number": "999888777",
            "holder_name": "KE GIAN",
            "expected_current_id": "{payee_a}",
        },
        MANAGERS_A,
    ),
    ("api.merchants.get_current_payee", "GET", f"{STALL}/payees/current", None, HOLDER_A),
    ("api.merchants.verify_payee", "POST", f"{STALL}/payees/{{payee_a}}/verify", None, MANAGERS_A),
    ("api.merchants.qr_payload", "GET", f"{STALL}/qr-payload?amount=25000", None, HOLDER_A),
    ("api_docs.openapi_json", "GET", "/api/v1/openapi.json", None, set(ACCESS_ROLES)),
    ("api_docs.docs", "GET", "/api/v1/docs", None, set(ACCESS_ROLES)),
    # The token pages: a logged-in user's own tokens (session and CSRF, not a token).
    ("auth.api_tokens", "GET", "/account/tokens", None, USERS),
    ("auth.api_tokens", "POST", "/account/tokens", {"name": "bảng tính"}, USERS),
    ("auth.revoke_api_token", "POST", "/account/tokens/{own_token}/revoke", None, USERS),
]


def _state():
    return (
        db.session.scalar(select(func.count(PayeeAccount.id))),
        db.session.scalar(select(func.count(AuditLog.id))),
        db.session.scalar(select(func.count(Market.id))),
        db.session.scalar(select(func.count(Merchant.id))),
        tuple(
            db.session.execute(
                select(Stall.code, Stall.status, Stall.merchant_id, Stall.zone).order_by(Stall.id)
            ).all()
        ),
        tuple(db.session.execute(select(Market.name, Market.status).order_by(Market.id)).all()),
        tuple(db.session.execute(select(ApiToken.id, ApiToken.revoked_at)).all()),
        db.session.scalar(select(PayeeAccount.verified_at).where(PayeeAccount.is_current)),
    )


def _fill(value, ids):
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


@pytest.mark.parametrize("role", ACCESS_ROLES)
@pytest.mark.parametrize(
    ("endpoint", "method", "url", "data", "allowed"),
    MATRIX,
    ids=[f"{m} {u}" for _e, m, u, _d, _a in MATRIX],
)
def test_access(world, client, auth, api, role, endpoint, method, url, data, allowed):
    ids = {"payee_a": world.payee_a.id, "merchant_a": world.merchant_a.id}
    ui = url.startswith("/account/")
    headers = {}
    if role != "anonymous":
        # Every user has a token of their own; the token pages are used with a session.
        headers = api.headers(role)
        ids["own_token"] = db.session.scalar(
            select(ApiToken.id).where(ApiToken.user_id == world.users[role].id)
        )
        if ui:
            headers = {}
            assert auth.login(role).status_code == 302
    else:
        ids["own_token"] = 1
    url = url.format(**ids)
    kwargs = {}
    if data and ui:
        kwargs["data"] = data
    elif data:
        kwargs["json"] = {key: _fill(value, ids) for key, value in data.items()}
    before = _state()
    response = client.open(url, method=method, headers=headers, **kwargs)
    db.session.expire_all()
    if role in allowed:
        assert response.status_code in (200, 201, 204, 302), (response.status_code, response.data)
        if response.status_code == 302:
            assert "/login" not in response.headers["Location"]
        return
    if ui and role == "anonymous":
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]
    elif role == "anonymous":
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.get_json()["error"]["status"] == 401
    else:
        assert response.status_code in (403, 404), response.status_code
        assert response.get_json()["error"]["status"] == response.status_code
    assert _state() == before, "a refused request changed data"


def test_lists_hold_only_what_the_caller_may_see(world, api):
    assert [m["code"] for m in api.get("/markets", as_="manager_b").get_json()["items"]] == ["TN-B"]
    assert api.get("/markets", as_="merchant").get_json()["items"] == []
    assert {m["code"] for m in api.get("/markets", as_="admin").get_json()["items"]} == {
        "TN-A",
        "TN-B",
    }
    phones = [m["phone"] for m in api.get("/merchants", as_="helper_b").get_json()["items"]]
    assert phones == [world.merchant_b.phone]
    own = api.get("/merchants", as_="merchant").get_json()["items"]
    assert [m["id"] for m in own] == [world.merchant_a.id]
