"""Who may use the fees pages (see tests/test_route_coverage.py): every role, own market (A)
and the other market's staff and merchant; refused requests change nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.extensions import db
from market.fees import services
from market.fees.models import (
    FeeAccount,
    FeeBill,
    FeeCharge,
    FeeCreditNote,
    FeeRate,
    FeeStallArea,
    FeeType,
    MeterReading,
)
from tests.conftest import ACCESS_ROLES
from tests.fees.conftest import setup_fees

STAFF_A = {"admin", "manager", "helper"}
MANAGERS_A = {"admin", "manager"}

# (endpoint, method, url, roles allowed, status when allowed). POSTs carry no data: an
# allowed user gets the form's 422 (or, to verify, the change itself), and nothing changes.
MATRIX = [
    ("fees.overview", "GET", "/markets/TN-A/fees", STAFF_A, 200),
    ("fees.set_account", "POST", "/markets/TN-A/fees/account", MANAGERS_A, 422),
    ("fees.verify_account", "POST", "/markets/TN-A/fees/account/2/verify", {"admin"}, 302),
    ("fees.create_type", "POST", "/markets/TN-A/fees/types", MANAGERS_A, 422),
    ("fees.fee_type", "GET", "/markets/TN-A/fees/types/1", STAFF_A, 200),
    ("fees.fee_type", "POST", "/markets/TN-A/fees/types/1", MANAGERS_A, 422),
    ("fees.add_charge", "POST", "/markets/TN-A/fees/types/4/charges", MANAGERS_A, 422),
    ("fees.areas", "GET", "/markets/TN-A/fees/areas", MANAGERS_A, 200),
    ("fees.areas", "POST", "/markets/TN-A/fees/areas", MANAGERS_A, 200),
    ("fees.bill", "POST", "/markets/TN-A/fees/bill", MANAGERS_A, 422),
    ("fees.bills", "GET", "/markets/TN-A/fees/bills?period=2026-11", STAFF_A, 200),
    ("fees.bill_detail", "GET", "/markets/TN-A/fees/bills/202611-0001", STAFF_A, 200),
    ("fees.credit_note", "POST", "/markets/TN-A/fees/bills/202611-0001/credit", MANAGERS_A, 422),
    (
        "fees.market_notices",
        "GET",
        "/markets/TN-A/fees/notices.pdf?period=2026-11",
        MANAGERS_A,
        200,
    ),
    ("fees.bill_notice", "GET", "/markets/TN-A/fees/bills/202611-0001/notice.pdf", STAFF_A, 200),
    ("fees.readings", "GET", "/markets/TN-A/fees/readings/3?period=2026-11", STAFF_A, 200),
    ("fees.readings", "POST", "/markets/TN-A/fees/readings/3?period=2026-11", STAFF_A, 200),
    ("fees.my_bills", "GET", "/me/bills", {"merchant", "merchant_b"}, 200),
    ("fees.my_bill", "GET", "/me/bills/1", {"merchant"}, 200),
    ("fees.my_bill_notice", "GET", "/me/bills/1/notice.pdf", {"merchant"}, 200),
]


def _state():
    counts = tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (
            FeeAccount,
            FeeType,
            FeeRate,
            FeeBill,
            FeeCreditNote,
            MeterReading,
            FeeCharge,
            FeeStallArea,
            AuditLog,
        )
    )
    verified = db.session.scalar(select(func.count(FeeAccount.verified_at)))
    return (*counts, verified)


@pytest.fixture
def billed(world):
    fees = setup_fees(world)
    services.create_fee_type(  # fee type 4: one-off charges
        world.users["manager"],
        world.market_a,
        code="SUACHUA",
        name="Sửa chữa",
        kind="one_off",
        amount=0,
        valid_from=date(2026, 9, 1),
    )
    services.bill_market(world.users["manager"], world.market_a, "2026-11")
    # A pending change of the board's account (account 2), made by "manager".
    services.set_board_account(
        world.users["manager"],
        world.market_a,
        bank_bin="970436",
        account_number="0451000123456",
        holder_name="BAN QUAN LY CHO DONG QUANG",
    )
    return fees


@pytest.mark.parametrize("role", ACCESS_ROLES)
@pytest.mark.parametrize(
    ("endpoint", "method", "url", "allowed", "ok"),
    MATRIX,
    ids=[f"{m} {u.split('?')[0]}" for _e, m, u, _a, _o in MATRIX],
)
def test_access(billed, client, auth, role, endpoint, method, url, allowed, ok):
    if role != "anonymous":
        auth.login(role)
    before = _state()
    response = client.open(url, method=method, data={} if method == "POST" else None)
    response.close()
    db.session.expire_all()
    if role in allowed:
        assert response.status_code == ok, response.status_code
    elif role == "anonymous":
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    else:
        assert response.status_code in (403, 404), response.status_code
    if role not in allowed or ok != 302:
        assert _state() == before
