"""Who may call the fees API: every role × market A's routes; others get 401/403/404 and
nothing changes (see tests/test_route_coverage.py)."""

from __future__ import annotations

import pytest

from market.extensions import db
from tests.conftest import ACCESS_ROLES
from tests.fees.conftest import setup_fees
from tests.fees.test_fees_access import _state

STAFF_A = {"admin", "manager", "helper"}
MANAGERS_A = {"admin", "manager"}
# Merchants list bills of any market but see only their own (merchant_b: an empty page).
BILL_READERS = STAFF_A | {"merchant", "merchant_b"}

# (endpoint, method, url, JSON body, roles allowed, status when allowed)
MATRIX = [
    ("api.fees.list_fee_types", "GET", "/api/v1/markets/TN-A/fee-types", None, STAFF_A, 200),
    (
        "api.fees.create_fee_type",
        "POST",
        "/api/v1/markets/TN-A/fee-types",
        {
            "code": "BAOVE",
            "name": "Phí bảo vệ",
            "kind": "fixed",
            "amount": 30000,
            "valid_from": "2026-12",
        },
        MANAGERS_A,
        201,
    ),
    (
        "api.fees.add_rate",
        "POST",
        "/api/v1/markets/TN-A/fee-types/2/rates",
        {"amount": 60000, "valid_from": "2027-01"},
        MANAGERS_A,
        201,
    ),
    (
        "api.fees.bill_market",
        "POST",
        "/api/v1/markets/TN-A/bills",
        {"period": "2026-12"},
        MANAGERS_A,
        200,
    ),
    ("api.fees.list_bills", "GET", "/api/v1/markets/TN-A/bills", None, BILL_READERS, 200),
    (
        "api.fees.get_bill",
        "GET",
        "/api/v1/markets/TN-A/bills/202611-0001",
        None,
        STAFF_A | {"merchant"},
        200,
    ),
]


@pytest.fixture
def billed(world):
    from market.fees import services

    fees = setup_fees(world)
    services.bill_market(None, world.market_a, "2026-11")
    return fees


@pytest.mark.parametrize("role", ACCESS_ROLES)
@pytest.mark.parametrize(
    ("endpoint", "method", "url", "body", "allowed", "ok"),
    MATRIX,
    ids=[f"{m} {u.removeprefix('/api/v1')}" for _e, m, u, _b, _a, _o in MATRIX],
)
def test_access(billed, api, role, endpoint, method, url, body, allowed, ok):
    as_ = None if role == "anonymous" else role
    api.headers(as_)  # the token first: making it is audit-logged
    before = _state()
    response = api.open(method, url, as_=as_, json=body)
    db.session.expire_all()
    if role in allowed:
        assert response.status_code == ok, (response.status_code, response.get_json())
    elif role == "anonymous":
        assert response.status_code == 401
    else:
        assert response.status_code in (403, 404), response.status_code
    if role not in allowed or method == "GET":
        assert _state() == before
