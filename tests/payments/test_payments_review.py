"""The unmatched list, worked off: assign a payment to a stall, or mark it not a sale."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from market.adoption.models import MarketDayPayments, StallDayPayments
from market.audit.models import AuditLog
from market.extensions import db
from market.merchants.models import PayeeAccount
from market.payments import queries
from market.payments.models import PaymentNotification
from tests.conftest import Auth, World

#: 21:30 in Vietnam on 3 Dec 2026: a late payment, so the day is Vietnam's, not UTC's.
PAID_AT = datetime(2026, 12, 3, 14, 30, tzinfo=UTC)


@pytest.fixture
def world(app):
    return World()


def unmatched_payment(world, *, account="0099887766", event="U1", amount=45_000):
    """An incoming payment into an account that two stalls of market A share (so no stall
    could be chosen), or that no stall has."""
    notification = PaymentNotification(
        provider="sepay",
        event_id=event,
        raw_body="{}",
        transaction_at=PAID_AT,
        account_number=account,
        amount=amount,
        direction="in",
        content="chuyen tien",
        reference_code=f"FT{event}",
        match_status="unmatched",
    )
    db.session.add(notification)
    db.session.commit()
    return notification


def share_account(world, account="0099887766"):
    """A former payee of stall A-01 had this account: the payment is market A's to review."""
    db.session.add(
        PayeeAccount(
            stall=world.stall_a,
            bank_bin="970436",
            account_number=account,
            holder_name="NGUYEN THI HOA",
            is_current=False,
        )
    )
    db.session.commit()


def login(app, role):
    client = app.test_client()
    assert Auth(client).login(role).status_code == 302
    return client


def test_assigning_an_unmatched_payment_moves_it_to_the_stalls_day(app, world):
    share_account(world)
    payment = unmatched_payment(world)
    day = queries.today_in_vietnam(PAID_AT)
    assert queries.received_payments(world.stall_a, day).total == 0
    client = login(app, "manager")
    page = client.get("/admin/payments/unmatched")
    assert page.status_code == 200 and "0099887766" in page.text

    response = client.post(
        f"/admin/payments/unmatched/{payment.id}/assign",
        data={f"p{payment.id}-market_code": "TN-A", f"p{payment.id}-stall_code": "A-01"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    moved = db.session.get(PaymentNotification, payment.id)
    assert (moved.match_status, moved.stall_id) == ("matched", world.stall_a.id)
    assert moved.reviewed_at is not None
    # The stall's day (the merchant's "today" screen reads this), and its rollups.
    assert day == datetime(2026, 12, 3).date()
    assert queries.received_payments(world.stall_a, day).total == 45_000
    rollup = db.session.get(StallDayPayments, (world.stall_a.id, day))
    assert (rollup.payments, rollup.amount) == (1, 45_000)
    market_rollup = db.session.get(MarketDayPayments, (world.market_a.id, day))
    assert market_rollup.payments == 1
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "payment.assign"))
    assert entry.entity_id == payment.id and entry.market_id == world.market_a.id
    # Worked off: no longer on the list, and a second assignment is refused.
    assert "0099887766" not in client.get("/admin/payments/unmatched").text
    again = client.post(
        f"/admin/payments/unmatched/{payment.id}/assign",
        data={f"p{payment.id}-market_code": "TN-A", f"p{payment.id}-stall_code": "A-01"},
    )
    assert again.status_code == 409
    assert db.session.get(StallDayPayments, (world.stall_a.id, day)).payments == 1


def test_not_a_sale_needs_a_reason_keeps_the_payment_and_counts_nothing(app, world):
    share_account(world)
    payment = unmatched_payment(world)
    client = login(app, "manager")
    url = f"/admin/payments/unmatched/{payment.id}/not-a-sale"
    refused = client.post(url, data={f"p{payment.id}-reason": "  "})
    assert refused.status_code == 422
    assert "Vui lòng ghi lý do." in refused.text
    db.session.expire_all()
    assert db.session.get(PaymentNotification, payment.id).match_status == "unmatched"

    assert client.post(url, data={f"p{payment.id}-reason": "Tiền hoàn trả"}).status_code == 302
    db.session.expire_all()
    kept = db.session.get(PaymentNotification, payment.id)
    assert (kept.match_status, kept.review_note, kept.stall_id) == (
        "ignored",
        "Tiền hoàn trả",
        None,
    )
    assert db.session.scalar(select(func.count()).select_from(StallDayPayments)) == 0
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "payment.not_a_sale"))
    assert entry.new["reason"] == "Tiền hoàn trả" and entry.market_id == world.market_a.id


def test_a_manager_reviews_only_payments_into_their_markets_accounts(app, world):
    share_account(world)
    ours = unmatched_payment(world)
    nobodys = unmatched_payment(world, account="5555555555", event="U2")
    other = login(app, "manager_b")
    assert "0099887766" not in other.get("/admin/payments/unmatched").text
    response = other.post(
        f"/admin/payments/unmatched/{ours.id}/assign",
        data={f"p{ours.id}-market_code": "TN-B", f"p{ours.id}-stall_code": "B-01"},
    )
    assert response.status_code == 404
    # The province sees both, and may credit a stall of any market.
    admin = login(app, "admin")
    page = admin.get("/admin/payments/unmatched").text
    assert "0099887766" in page and "5555555555" in page
    response = admin.post(
        f"/admin/payments/unmatched/{nobodys.id}/assign",
        data={f"p{nobodys.id}-market_code": "TN-B", f"p{nobodys.id}-stall_code": "B-01"},
    )
    assert response.status_code == 302


def test_a_manager_cannot_assign_to_another_markets_stall(app, world):
    share_account(world)
    payment = unmatched_payment(world)
    client = login(app, "manager")
    response = client.post(
        f"/admin/payments/unmatched/{payment.id}/assign",
        data={f"p{payment.id}-market_code": "TN-B", f"p{payment.id}-stall_code": "B-01"},
    )
    assert response.status_code == 422  # TN-B is not among the manager's choices
    response = client.post(
        f"/admin/payments/unmatched/{payment.id}/assign",
        data={f"p{payment.id}-market_code": "TN-A", f"p{payment.id}-stall_code": "Z-99"},
    )
    assert response.status_code == 422
    assert "Không có sạp này ở chợ đã chọn." in response.text
    db.session.expire_all()
    assert db.session.get(PaymentNotification, payment.id).match_status == "unmatched"
