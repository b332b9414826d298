"""Who may see and change what: every protected route × every role × own/other market.

Every domain keeps such a table (``MATRIX``) in a ``test_*_access.py`` module;
``tests/test_route_coverage.py`` checks them against the app's URL map, so a new route
without a row fails the suite.
"""

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.extensions import db
from market.markets.models import Market, Stall
from market.merchants.models import PayeeAccount
from tests.conftest import ACCESS_ROLES

STAFF_A = {"admin", "manager", "helper"}
MANAGERS_A = {"admin", "manager"}

PAYEE_FORM = {
    "bank_bin": "970415",
    "service": "account",
    "account_number": "999888777",
    "holder_name": "KE GIAN",
    "action": "save",
    "expected_current_id": "{payee_a}",
}

# (endpoint, method, url, data, roles allowed); everyone else gets 403/404 (or a login redirect).
MATRIX = [
    ("auth.index", "GET", "/", None, set(ACCESS_ROLES)),
    ("auth.login", "GET", "/login", None, set(ACCESS_ROLES)),
    ("auth.logout", "POST", "/logout", None, set(ACCESS_ROLES) - {"anonymous"}),
    ("auth.set_language", "GET", "/lang/en", None, set(ACCESS_ROLES)),
    ("markets.index", "GET", "/markets/", None, STAFF_A | {"manager_b", "helper_b"}),
    ("markets.new_market", "GET", "/markets/new", None, {"admin"}),
    (
        "markets.new_market",
        "POST",
        "/markets/new",
        {"code": "TN-NEW", "name": "Chợ Mới", "district": "TP. Thái Nguyên", "status": "planned"},
        {"admin"},
    ),
    ("markets.show", "GET", "/markets/TN-A", None, STAFF_A),
    ("markets.edit_market", "GET", "/markets/TN-A/edit", None, MANAGERS_A),
    (
        "markets.edit_market",
        "POST",
        "/markets/TN-A/edit",
        {"name": "Đổi tên", "district": "TP. Thái Nguyên", "status": "live"},
        MANAGERS_A,
    ),
    ("markets.new_stall", "GET", "/markets/TN-A/stalls/new", None, STAFF_A),
    (
        "markets.new_stall",
        "POST",
        "/markets/TN-A/stalls/new",
        {"code": "Z-99", "category": "khac", "status": "active"},
        STAFF_A,
    ),
    ("markets.stall", "GET", "/markets/TN-A/stalls/A-01", None, STAFF_A),
    (
        "markets.edit_stall",
        "POST",
        "/markets/TN-A/stalls/A-01/edit",
        {"code": "A-01", "category": "thit", "status": "closed"},
        STAFF_A,
    ),
    (
        "markets.stall_merchant",
        "POST",
        "/markets/TN-A/stalls/A-01/merchant",
        {"full_name": "Người Khác", "phone": "0977000111"},
        STAFF_A,
    ),
    ("markets.stall_payee", "GET", "/markets/TN-A/stalls/A-01/payee", None, MANAGERS_A),
    ("markets.stall_payee", "POST", "/markets/TN-A/stalls/A-01/payee", PAYEE_FORM, MANAGERS_A),
    (
        "markets.verify_payee",
        "POST",
        "/markets/TN-A/stalls/A-01/payee/{payee_a}/verify",
        None,
        MANAGERS_A,
    ),
    ("markets.import_file", "GET", "/markets/TN-A/import", None, STAFF_A),
    ("markets.apply_import", "POST", "/markets/TN-A/import/999/apply", None, set()),
    (
        "markets.import_template",
        "GET",
        "/markets/import-template.csv",
        None,
        STAFF_A | {"manager_b", "helper_b"},
    ),
    ("markets.export", "GET", "/markets/TN-A/export.csv", None, STAFF_A),
    ("markets.audit_log", "GET", "/markets/TN-A/audit", None, MANAGERS_A),
    ("merchants.my_stalls", "GET", "/me/", None, {"merchant", "merchant_b"}),
]


def _state():
    return (
        db.session.scalar(select(func.count(PayeeAccount.id))),
        db.session.scalar(select(func.count(AuditLog.id))),
        db.session.scalar(select(func.count(Market.id))),
        tuple(
            db.session.execute(
                select(Stall.code, Stall.status, Stall.merchant_id, Stall.category).order_by(
                    Stall.id
                )
            ).all()
        ),
        db.session.scalar(select(Market.name).where(Market.code == "TN-A")),
    )


@pytest.mark.parametrize("role", ACCESS_ROLES)
@pytest.mark.parametrize(
    ("endpoint", "method", "url", "data", "allowed"),
    MATRIX,
    ids=[f"{m} {u}" for _e, m, u, _d, _a in MATRIX],
)
def test_access(world, client, auth, role, endpoint, method, url, data, allowed):
    if role != "anonymous":
        assert auth.login(role).status_code == 302
    url = url.format(payee_a=world.payee_a.id)
    if data:
        data = {k: v.format(payee_a=world.payee_a.id) for k, v in data.items()}
    before = _state()
    response = client.open(url, method=method, data=data)
    db.session.expire_all()
    if role in allowed:
        assert response.status_code in (200, 302), response.status_code
        if response.status_code == 302 and role != "anonymous":
            assert "/login" not in response.headers["Location"] or endpoint == "auth.logout"
    else:
        if role == "anonymous":
            assert response.status_code == 302
            assert "/login" in response.headers["Location"]
        else:
            assert response.status_code in (403, 404), response.status_code
        assert _state() == before, "a refused request changed data"
