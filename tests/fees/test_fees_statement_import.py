"""Importing the board's bank statement: it fills the gap a notifier left, recognises the
transfer a notifier reported, and changes nothing the second time; cash payments."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.errors import Forbidden, InvalidInput
from market.extensions import db
from market.fees import queries as fee_queries
from market.fees.models import FeeBill, FeePayment, FeeReceipt
from market.fees.money import services
from tests.fees.moneyworld import BOARD_ACCOUNT, bill, board_account
from tests.payments.conftest import integrations, post_sepay, sepay_body  # noqa: F401

DATA = Path(__file__).parent / "data"
NOW = datetime(2026, 3, 20, 3, 0, tzinfo=UTC)


def _file(name: str) -> bytes:
    return (DATA / name).read_bytes()


def _payments() -> int:
    return db.session.scalar(select(func.count()).select_from(FeePayment))


@pytest.fixture
def bills(world):
    account = board_account(world)
    paid_by_qr = bill(world, reference="CPAB23CD45", total=1_250_000, period="2026-03")
    missed = bill(world, reference="CPHH23CD47", total=600_000, period="2026-02")
    return account, paid_by_qr, missed


@pytest.mark.usefixtures("integrations")
def test_a_statement_fills_the_gap_and_twice_changes_nothing(world, client, bills):
    account, paid_by_qr, missed = bills
    manager = world.users["manager"]
    # The notifier reported the first transfer (same account, bill, amount and day)...
    body = sepay_body(
        7001,
        amount=1_250_000,
        account=BOARD_ACCOUNT,
        content="NGUYEN THI HOA chuyen tien PHI CPAB23CD45",
        when="2026-03-05 10:01:00",
    )
    assert post_sepay(client, body).status_code == 200
    assert _payments() == 1
    # ...but not the second one: the statement shows both.
    plan = services.plan_statement(
        manager, world.market_a, account.id, "vcb_saoke.xlsx", _file("vcb_saoke.xlsx")
    )
    assert [p.outcome for p in plan.lines] == ["paired", "new", "outgoing", "unmatched"]
    assert _payments() == 1  # a preview changes nothing

    applied = services.apply_statement(
        manager, world.market_a, account.id, "vcb_saoke.xlsx", _file("vcb_saoke.xlsx"), now=NOW
    )
    assert applied.count("new") == 1 and applied.new_amount == 600_000
    db.session.expire_all()
    assert _payments() == 2
    assert db.session.get(FeeBill, missed.id).status == "paid"
    payment = db.session.scalar(select(FeePayment).where(FeePayment.bill_id == missed.id))
    assert payment.method == "statement" and payment.statement_key
    # The notifier's payment now carries the line's key: the same transfer, once.
    notified = db.session.scalar(select(FeePayment).where(FeePayment.bill_id == paid_by_qr.id))
    assert notified.method == "transfer" and notified.statement_key

    receipts = db.session.scalar(select(func.count()).select_from(FeeReceipt))
    again = services.apply_statement(
        manager, world.market_a, account.id, "vcb_saoke.xlsx", _file("vcb_saoke.xlsx"), now=NOW
    )
    assert [p.outcome for p in again.lines] == ["known", "known", "outgoing", "unmatched"]
    # The other download of the same account (Digibank CSV) shows the first transfer too.
    other = services.plan_statement(
        manager, world.market_a, account.id, "vcb_digibank.csv", _file("vcb_digibank.csv")
    )
    assert other.lines[0].outcome == "known"
    db.session.expire_all()
    assert _payments() == 2
    assert db.session.scalar(select(func.count()).select_from(FeeReceipt)) == receipts


def test_a_statement_of_another_account_is_refused(world, bills):
    account, *_ = bills
    account.account_number = "19020352517013x"[:14]
    db.session.commit()
    with pytest.raises(InvalidInput) as caught:
        services.plan_statement(
            world.users["manager"],
            world.market_a,
            account.id,
            "vcb_saoke.xlsx",
            _file("vcb_saoke.xlsx"),
        )
    assert "file" in caught.value.errors


@pytest.mark.parametrize("who", ["helper", "manager_b", "merchant"])
def test_only_the_markets_managers_import(world, bills, who):
    account, *_ = bills
    with pytest.raises(Forbidden):
        services.plan_statement(
            world.users[who], world.market_a, account.id, "vcb_saoke.xlsx", _file("vcb_saoke.xlsx")
        )
    assert _payments() == 0


def test_a_cash_payment_is_recorded_with_who_when_and_receipt(world, bills):
    _account, paid_by_qr, _missed = bills
    manager = world.users["manager"]
    when = datetime(2026, 3, 6, 2, 0, tzinfo=UTC)
    payment = services.record_cash(
        manager, paid_by_qr, amount=1_000_000, receipt="Q12/0457", paid_at=when, now=NOW
    )
    db.session.expire_all()
    payment = db.session.get(FeePayment, payment.id)
    assert (payment.method, payment.amount, payment.receipt_number) == (
        "cash",
        1_000_000,
        "Q12/0457",
    )
    assert payment.recorded_by_id == manager.id
    assert db.session.get(FeeBill, paid_by_qr.id).status == "partial"
    assert fee_queries.owed([paid_by_qr])[paid_by_qr.id].due == 250_000
    entry = db.session.scalar(select(AuditLog).where(AuditLog.action == "fee.payment.cash"))
    assert entry.actor_id == manager.id and entry.new["receipt_number"] == "Q12/0457"
    assert entry.new["amount"] == 1_000_000


@pytest.mark.parametrize(
    "amount, receipt, paid_at, field",
    [
        (0, None, None, "amount"),
        (10**12, None, None, "amount"),
        (1000, "x" * 41, None, "receipt_number"),
        (1000, None, datetime(2026, 3, 21, tzinfo=UTC), "paid_at"),
    ],
)
def test_bad_cash_changes_nothing(world, bills, amount, receipt, paid_at, field):
    _account, paid_by_qr, _missed = bills
    with pytest.raises(InvalidInput) as caught:
        services.record_cash(
            world.users["manager"],
            paid_by_qr,
            amount=amount,
            receipt=receipt,
            paid_at=paid_at,
            now=NOW,
        )
    assert field in caught.value.errors
    db.session.rollback()
    assert _payments() == 0


@pytest.mark.parametrize("who", ["helper", "manager_b", "merchant"])
def test_only_the_markets_managers_record_cash(world, bills, who):
    _account, paid_by_qr, _missed = bills
    with pytest.raises(Forbidden):
        services.record_cash(world.users[who], paid_by_qr, amount=1000, receipt=None, now=NOW)
    assert _payments() == 0
