"""Who may use the money pages and API of fees: every role × market A's board, bills and
receipts (own market for A's staff and merchant, other for B's). Refused requests change
nothing. Each role gets fresh data, since an allowed request changes it."""

from __future__ import annotations

import base64
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.auth.services import create_api_token
from market.extensions import db
from market.fees.models import FeePayment, FeeReceipt
from market.fees.money import services
from market.payments.models import PaymentNotification
from tests.conftest import ACCESS_ROLES, Auth
from tests.fees.moneyworld import BOARD_ACCOUNT, bill, board_account
from tests.fees.test_fees_statement_import import _file

STAFF_A = {"admin", "manager", "helper"}
MANAGERS_A = {"admin", "manager"}
BILL = "HD202601-A-01"

MATRIX = [
    ("fee_money.bill_payments", "GET", f"/markets/TN-A/fees/bills/{BILL}/payments", None, STAFF_A),
    (
        "fee_money.bill_payments",
        "POST",
        f"/markets/TN-A/fees/bills/{BILL}/payments",
        {"amount": "1000"},
        MANAGERS_A,
    ),
    ("fee_money.statement", "GET", "/markets/TN-A/fees/statement", None, MANAGERS_A),
    ("fee_money.statement", "POST", "/markets/TN-A/fees/statement", "file", MANAGERS_A),
    (
        "fee_money.apply_statement",
        "POST",
        "/markets/TN-A/fees/statement/apply",
        "apply",
        MANAGERS_A,
    ),
    ("fee_money.unmatched", "GET", "/markets/TN-A/fees/unmatched", None, MANAGERS_A),
    (
        "fee_money.assign_unmatched",
        "POST",
        "/markets/TN-A/fees/unmatched/{notification}",
        "assign",
        MANAGERS_A,
    ),
    ("fee_money.arrears", "GET", "/markets/TN-A/fees/arrears", None, STAFF_A),
    ("fee_money.arrears_export", "GET", "/markets/TN-A/fees/arrears.xlsx", None, STAFF_A),
    ("fee_money.reminders", "GET", "/markets/TN-A/fees/arrears/reminders", None, STAFF_A),
    (
        "fee_money.market_receipt",
        "GET",
        "/markets/TN-A/fees/payments/{payment}/receipt.pdf",
        None,
        STAFF_A,
    ),
    (
        "fee_money.my_receipt",
        "GET",
        "/me/bills/{bill}/payments/{payment}/receipt.pdf",
        None,
        {"merchant"},
    ),
    (
        "api.fee_money.bill_payments",
        "GET",
        f"/api/v1/markets/TN-A/fees/bills/{BILL}/payments",
        None,
        STAFF_A,
    ),
    (
        "api.fee_money.record_cash",
        "POST",
        f"/api/v1/markets/TN-A/fees/bills/{BILL}/payments",
        {"amount": 1000},
        MANAGERS_A,
    ),
    (
        "api.fee_money.receipt",
        "GET",
        "/api/v1/markets/TN-A/fees/receipts/PT2026-000001",
        None,
        STAFF_A,
    ),
    ("api.fee_money.arrears", "GET", "/api/v1/markets/TN-A/fees/arrears", None, STAFF_A),
    (
        "api.fee_money.my_bill_payments",
        "GET",
        "/api/v1/me/bills/{bill}/payments",
        None,
        {"merchant"},
    ),
]


@pytest.fixture
def board(world):
    account = board_account(world)
    made = bill(world, reference="CPAB23CD45", total=500_000, period="2026-01")
    when = datetime(2026, 1, 15, 3, 0, tzinfo=UTC)
    services.record_cash(world.users["manager"], made, amount=1000, receipt=None, now=when)
    return account, made


def _unmatched(event: str) -> PaymentNotification:
    notification = PaymentNotification(
        provider="sepay",
        event_id=event,
        raw_body="{}",
        transaction_at=datetime(2026, 1, 20, tzinfo=UTC),
        account_number=BOARD_ACCOUNT,
        amount=20_000,
        direction="in",
        content="tien phi",
        reference_code="",
        match_status="unmatched",
    )
    db.session.add(notification)
    db.session.commit()
    return notification


def _state():
    return (
        db.session.scalar(select(func.count()).select_from(FeePayment)),
        db.session.scalar(select(func.count(AuditLog.id))),
        tuple(
            db.session.execute(
                select(PaymentNotification.id, PaymentNotification.match_status)
            ).all()
        ),
    )


@pytest.mark.parametrize(
    ("endpoint", "method", "url", "data", "allowed"),
    MATRIX,
    ids=[f"{m} {u}" for _e, m, u, _d, _a in MATRIX],
)
def test_access(app, world, board, endpoint, method, url, data, allowed):
    account, made = board
    payment_id = db.session.scalar(select(func.min(FeeReceipt.payment_id)))
    api = url.startswith("/api/")
    for number, role in enumerate(ACCESS_ROLES):
        notification = _unmatched(f"ACC{number}")
        client = app.test_client()
        headers = {}
        if role != "anonymous":
            if api:
                _token, secret = create_api_token(world.users[role], f"t{number}")
                headers = {"Authorization": f"Bearer {secret}"}
            else:
                assert Auth(client).login(role).status_code == 302
        kwargs = {}
        if data == "file":
            kwargs = {
                "data": {
                    "account": str(account.id),
                    "file": (io.BytesIO(_file("vcb_saoke.xlsx")), "s.xlsx"),
                },
                "content_type": "multipart/form-data",
            }
        elif data == "apply":
            content = base64.b64encode(_file("vcb_digibank.csv")).decode()
            kwargs = {"data": {"account": str(account.id), "filename": "s.csv", "content": content}}
        elif data == "assign":
            kwargs = {"data": {f"n{notification.id}-bill": BILL}}
        elif data and api:
            kwargs = {"json": data}
        elif data:
            kwargs = {"data": data}
        target = url.format(notification=notification.id, payment=payment_id, bill=made.id)
        before = _state()
        response = client.open(target, method=method, headers=headers, **kwargs)
        db.session.expire_all()
        where = f"role {role}: {response.status_code}"
        if role in allowed:
            assert response.status_code in (200, 201, 302), where
            if response.status_code == 302:
                assert "/login" not in response.headers["Location"], where
            continue
        if role == "anonymous" and api:
            assert response.status_code == 401, where
        elif role == "anonymous":
            assert response.status_code == 302 and "/login" in response.headers["Location"]
        else:
            assert response.status_code in (403, 404), where
        assert _state() == before, f"{where}: a refused request changed data"
