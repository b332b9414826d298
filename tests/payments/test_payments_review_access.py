"""Who may work off the unmatched list: every role × a payment into an account of market A
(own for market A's staff, other for market B's). Each role gets a fresh unmatched payment,
since an allowed request changes it."""

import pytest
from sqlalchemy import func, select

from market.adoption.models import StallDayPayments
from market.audit.models import AuditLog
from market.extensions import db
from market.payments.models import PaymentNotification
from tests.conftest import ACCESS_ROLES, Auth, World
from tests.payments.test_payments_review import share_account, unmatched_payment

MATRIX = [
    # Every manager has a list: market B's shows none of market A's payments
    # (test_payments_review.py checks what each one lists).
    (
        "payments.unmatched",
        "GET",
        "/admin/payments/unmatched",
        None,
        {"admin", "manager", "manager_b"},
    ),
    (
        "payments.assign_unmatched",
        "POST",
        "/admin/payments/unmatched/{id}/assign",
        {"market_code": "TN-A", "stall_code": "A-01"},
        {"admin", "manager"},
    ),
    (
        "payments.dismiss_unmatched",
        "POST",
        "/admin/payments/unmatched/{id}/not-a-sale",
        {"reason": "Tiền hoàn trả"},
        {"admin", "manager"},
    ),
]


@pytest.fixture
def world(app):
    world = World()
    share_account(world)
    return world


def _state():
    return (
        tuple(
            db.session.execute(
                select(PaymentNotification.id, PaymentNotification.match_status).order_by(
                    PaymentNotification.id
                )
            ).all()
        ),
        db.session.scalar(select(func.count(AuditLog.id))),
        db.session.scalar(select(func.count()).select_from(StallDayPayments)),
    )


@pytest.mark.parametrize(
    ("endpoint", "method", "url", "data", "allowed"),
    MATRIX,
    ids=[f"{m} {u}" for _e, m, u, _d, _a in MATRIX],
)
def test_access(app, world, endpoint, method, url, data, allowed):
    for number, role in enumerate(ACCESS_ROLES):
        payment = unmatched_payment(world, event=f"R{number}")
        client = app.test_client()
        if role != "anonymous":
            assert Auth(client).login(role).status_code == 302
        prefixed = {f"p{payment.id}-{k}": v for k, v in (data or {}).items()}
        before = _state()
        response = client.open(url.format(id=payment.id), method=method, data=prefixed)
        db.session.expire_all()
        where = f"role {role}: {response.status_code}"
        if role in allowed:
            assert response.status_code in (200, 302), where
            if method == "POST":
                assert db.session.get(PaymentNotification, payment.id).reviewed_at, where
            continue
        if role == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code in (403, 404), where
        assert _state() == before, f"{where}: a refused request changed data"
