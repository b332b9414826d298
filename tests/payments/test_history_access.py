"""Who may read a merchant's history and statements: every route × every role × own/other.

A merchant reads their own (``/me/…``: merchant B's page shows merchant B's money, never A's);
a market's managers and the province read a merchant of that market; helpers, other markets'
staff and other merchants are refused, and a refused request changes nothing and shows none
of the money.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.extensions import db
from market.payments.models import PaymentNotification
from tests.conftest import ACCESS_ROLES, Auth
from tests.payments.test_history import pay, vn
from tests.payments.test_statement import pdf_text

A_PAYER = "NGƯỜI MUA Ở SẠP A"
B_PAYER = "NGƯỜI MUA Ở SẠP B"
DAY = "day=2026-11-03"
MONTH = "month=2026-11"
BOTH = {"merchant", "merchant_b"}

# (endpoint, method, url, data, roles allowed, roles whose answer shows merchant A's money)
MATRIX = [
    ("merchants.history", "GET", f"/me/history?{DAY}", None, BOTH, {"merchant"}),
    ("merchants.statement", "GET", f"/me/statement.pdf?{MONTH}", None, BOTH, {"merchant"}),
    ("merchants.statement", "GET", f"/me/statement.xlsx?{MONTH}", None, BOTH, {"merchant"}),
    (
        "payments.merchant_history",
        "GET",
        f"/markets/TN-A/merchants/{{merchant_a}}/history?{DAY}",
        None,
        {"admin", "manager"},
        {"admin", "manager"},
    ),
    (
        "payments.merchant_history",
        "GET",
        f"/markets/TN-B/merchants/{{merchant_b}}/history?{DAY}",
        None,
        {"admin", "manager_b"},
        set(),
    ),
    # Merchant A holds no stall at market B: nobody reads A's money through B's address.
    (
        "payments.merchant_history",
        "GET",
        "/markets/TN-B/merchants/{merchant_a}/history",
        None,
        set(),
        set(),
    ),
    (
        "payments.merchant_statement",
        "GET",
        f"/markets/TN-A/merchants/{{merchant_a}}/statement.pdf?{MONTH}",
        None,
        {"admin", "manager"},
        {"admin", "manager"},
    ),
    (
        "payments.merchant_statement",
        "GET",
        f"/markets/TN-A/merchants/{{merchant_a}}/statement.xlsx?{MONTH}",
        None,
        {"admin", "manager"},
        {"admin", "manager"},
    ),
    (
        "payments.merchant_statement",
        "GET",
        f"/markets/TN-B/merchants/{{merchant_b}}/statement.pdf?{MONTH}",
        None,
        {"admin", "manager_b"},
        set(),
    ),
]


def _state():
    return (
        db.session.scalar(select(func.count(PaymentNotification.id))),
        db.session.scalar(select(func.count(AuditLog.id))),
    )


def _text(response) -> str:
    if response.mimetype == "application/pdf":
        return pdf_text(response.data)
    if response.mimetype.endswith("spreadsheetml.sheet"):
        book = load_workbook(io.BytesIO(response.data), read_only=True)
        try:
            return "\n".join(
                str(v) for s in book for r in s.iter_rows(values_only=True) for v in r if v
            )
        finally:
            book.close()
    return response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("endpoint", "method", "url", "data", "allowed", "sees_a"),
    MATRIX,
    ids=[f"{m} {u.split('?')[0]}" for _e, m, u, _d, _a, _s in MATRIX],
)
def test_access(app, world, endpoint, method, url, data, allowed, sees_a):
    pay(world.stall_a, vn(2026, 11, 3, 9, 0), 12_345, payer=A_PAYER)
    pay(world.stall_b, vn(2026, 11, 3, 9, 5), 67_890, payer=B_PAYER)
    db.session.commit()
    url = url.format(merchant_a=world.merchant_a.id, merchant_b=world.merchant_b.id)
    for role in ACCESS_ROLES:
        client = app.test_client()
        if role != "anonymous":
            assert Auth(client).login(role).status_code == 302
        before = _state()
        response = client.open(url, method=method, data=data)
        db.session.expire_all()
        where = f"role {role}: {response.status_code}"
        text = _text(response) if response.status_code == 200 else ""
        assert (A_PAYER in text) == (role in sees_a), where
        if role in allowed:
            assert response.status_code == 200, where
            continue
        if role == "anonymous":
            assert response.status_code == 302, where
            assert "/login" in response.headers["Location"], where
        else:
            assert response.status_code in (403, 404), where
        assert A_PAYER not in response.get_data(as_text=True)
        assert _state() == before, f"{where}: a refused request changed data"
