"""The fee payments API: cash on a bill with its receipt, a bill's payments, a receipt by
number, the arrears; bad input answered per field."""

from __future__ import annotations

from sqlalchemy import func, select

from market.auth.services import create_api_token
from market.extensions import db
from market.fees.models import FeePayment
from tests.fees.moneyworld import bill, board_account


def _headers(world, who: str) -> dict:
    _token, secret = create_api_token(world.users[who], "api test")
    return {"Authorization": f"Bearer {secret}"}


def test_cash_then_payments_receipt_and_arrears(client, world):
    board_account(world)
    made = bill(world, reference="CPAB23CD45", total=500_000, period="2026-01")
    manager = _headers(world, "manager")
    url = f"/api/v1/markets/TN-A/fees/bills/{made.number}/payments"
    created = client.post(
        url,
        json={"amount": 200_000, "receipt_number": "Q1/7", "paid_at": "2026-01-20T02:00:00Z"},
        headers=manager,
    )
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["method"] == "cash" and body["receipt"] == "PT2026-000001"
    assert body["paid_at"] == "2026-01-20T02:00:00+00:00"
    listed = client.get(url, headers=_headers(world, "helper")).get_json()
    assert (listed["paid"], listed["due"], listed["status"]) == (200_000, 300_000, "partial")
    receipt = client.get("/api/v1/markets/TN-A/fees/receipts/PT2026-000001", headers=manager)
    assert receipt.get_json()["balance_after"] == 300_000
    assert receipt.get_json()["pdf"].endswith("/receipt.pdf")
    arrears = client.get("/api/v1/markets/TN-A/fees/arrears", headers=manager).get_json()
    assert arrears["total"] == 300_000
    assert arrears["stalls"][0]["bills"][0]["bill"] == made.number
    mine = client.get(
        f"/api/v1/me/bills/{made.id}/payments", headers=_headers(world, "merchant")
    ).get_json()
    assert [p["receipt"] for p in mine["payments"]] == ["PT2026-000001"]


def test_bad_cash_is_answered_per_field_and_changes_nothing(client, world):
    board_account(world)
    made = bill(world, reference="CPAB23CD45", total=500_000, period="2026-01")
    response = client.post(
        f"/api/v1/markets/TN-A/fees/bills/{made.number}/payments",
        json={"amount": "nhiều", "paid_at": "hôm qua"},
        headers=_headers(world, "manager"),
    )
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"amount", "paid_at"}
    assert db.session.scalar(select(func.count()).select_from(FeePayment)) == 0
