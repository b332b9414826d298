"""The payment rollups: kept by each counted notification, equal to a recomputation from the raw
notifications, filled by the webhook path exactly once, and rebuilt by the migration."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import date

from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, select, text

from market.adoption import services
from market.adoption.models import MarketDayPayments, StallDayPayments
from market.adoption.periods import vietnam_date
from market.app import create_app
from market.extensions import db
from market.markets.models import Stall
from market.payments.models import PaymentNotification
from tests.adoption.conftest import vn
from tests.payments.conftest import post_sepay, sepay_body

ADOPTION_REVISION_PARENT = "034ba0749dd0"


def _rollups():
    db.session.expire_all()
    stall_days = {
        (r.stall_id, r.day): (r.payments, r.amount)
        for r in db.session.scalars(select(StallDayPayments))
    }
    market_days = {
        (r.market_id, r.day): (r.payments, r.amount)
        for r in db.session.scalars(select(MarketDayPayments))
    }
    return stall_days, market_days


def _recomputed_in_python():
    """The rollups worked out from the raw rows in Python, independently of the SQL."""
    stall_days: Counter = Counter()
    stall_amounts: Counter = Counter()
    market_of = dict(db.session.execute(select(Stall.id, Stall.market_id)).all())
    for n in db.session.scalars(select(PaymentNotification)):
        if n.match_status == "matched" and n.direction == "in":
            key = (n.stall_id, vietnam_date(n.transaction_at))
            stall_days[key] += 1
            stall_amounts[key] += n.amount
    market_days: dict = {}
    for (stall_id, day), count in stall_days.items():
        payments, amount = market_days.get((market_of[stall_id], day), (0, 0))
        market_days[(market_of[stall_id], day)] = (
            payments + count,
            amount + stall_amounts[(stall_id, day)],
        )
    return {k: (v, stall_amounts[k]) for k, v in stall_days.items()}, market_days


def test_staged_rollup_equals_recomputation_from_notifications(province):
    staged = _rollups()
    assert staged == _recomputed_in_python()
    result = services.rebuild_rollups()
    assert _rollups() == staged
    # Every matched payment, whenever it was: A-01 22, A-02 5, A-04 2, B-01 1.
    assert (result.payments, result.amount) == (30, 630_000)
    assert result.stall_days == len(staged[0]) == 8
    assert result.market_days == len(staged[1]) == 8


def test_boundary_payments_fall_on_their_vietnam_day(province):
    stall_days, _ = _rollups()
    a1 = province.stalls["A-01"].id
    assert stall_days[(a1, date(2026, 2, 3))] == (1, 5_000)  # 00:00:00
    assert stall_days[(a1, date(2026, 2, 2))] == (1, 7_000)  # 23:59:59 the day before


def test_refunds_and_unmatched_payments_are_not_in_the_rollup(province):
    stall_days, _ = _rollups()
    a2 = province.stalls["A-02"].id
    assert (a2, date(2026, 2, 26)) not in stall_days
    assert all(amount != 99_000 for _n, amount in stall_days.values())


def test_rebuild_repairs_a_damaged_rollup(province):
    expected = _rollups()
    db.session.execute(StallDayPayments.__table__.delete())
    db.session.execute(MarketDayPayments.__table__.update().values(payments=999))
    db.session.commit()
    services.rebuild_rollups()
    assert _rollups() == expected


def test_rebuild_on_an_empty_database(app):
    result = services.rebuild_rollups()
    assert (result.stall_days, result.market_days, result.payments, result.amount) == (0, 0, 0, 0)


def test_a_signed_webhook_is_rolled_up_once_and_a_refund_never(world, integrations, client):
    when = "2026-11-27 00:00:00"  # midnight in Vietnam: 26 Nov 17:00 UTC
    assert post_sepay(client, sepay_body(7001, amount=25_000, when=when)).status_code == 200
    assert post_sepay(client, sepay_body(7001, amount=25_000, when=when)).status_code == 200
    assert post_sepay(client, sepay_body(7002, amount=9_000, kind="out")).status_code == 200
    unknown = sepay_body(7003, amount=1_000, account="99999999")
    assert post_sepay(client, unknown).status_code == 200
    stall_days, market_days = _rollups()
    assert stall_days == {(world.stall_a.id, date(2026, 11, 27)): (1, 25_000)}
    assert market_days == {(world.market_a.id, date(2026, 11, 27)): (1, 25_000)}


def test_concurrent_payments_to_one_stall_are_all_counted(app, world):
    stall_id = world.stall_a.id
    errors = []

    def worker():
        try:
            with app.app_context():
                for _ in range(10):
                    services.stage_received_payment(stall_id, vn(2026, 3, 4, 9), 1_000)
                    db.session.commit()
                db.session.remove()
        except Exception as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    stall_days, market_days = _rollups()
    assert stall_days == {(stall_id, date(2026, 3, 4)): (40, 40_000)}
    assert market_days == {(world.market_a.id, date(2026, 3, 4)): (40, 40_000)}


def test_the_migration_rolls_up_payments_stored_before_it(db_url):
    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": db_url})
    with app.app_context():
        downgrade(revision=ADOPTION_REVISION_PARENT)
        engine = create_engine(db_url)
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO markets (id, code, name, district, commune, address, status,"
                    " created_at) VALUES (1, 'TN-M', 'Chợ M', 'TP. Thái Nguyên', '', '', 'live',"
                    " '2026-01-01 00:00:00')"
                )
            )
            conn.execute(
                text(
                    "INSERT INTO stalls (id, market_id, code, zone, category, status, created_at)"
                    " VALUES (1, 1, 'M-01', '', 'khac', 'active', '2026-01-01 00:00:00')"
                )
            )
            for event, at, amount, direction, status, stall in [
                ("1", "2026-03-03 16:59:59", 1_000, "in", "matched", 1),  # 3 Mar, 23:59:59 VN
                ("2", "2026-03-03 17:00:00", 2_000, "in", "matched", 1),  # 4 Mar, 00:00 VN
                ("3", "2026-03-03 18:00:00", 4_000, "in", "matched", 1),
                ("4", "2026-03-03 18:00:00", 8_000, "out", "ignored", None),
            ]:
                conn.execute(
                    text(
                        "INSERT INTO payment_notifications (provider, event_id, raw_body,"
                        " received_at, transaction_at, account_number, amount, direction,"
                        " content, reference_code, stall_id, match_status) VALUES ('sepay',"
                        " :event, '{}', :at, :at, '', :amount, :direction, '', '', :stall,"
                        " :status)"
                    ),
                    {
                        "event": event,
                        "at": at + ("+00:00" if engine.dialect.name == "postgresql" else ""),
                        "amount": amount,
                        "direction": direction,
                        "stall": stall,
                        "status": status,
                    },
                )
        engine.dispose()
        upgrade()
        assert _rollups() == (
            {(1, date(2026, 3, 3)): (1, 1_000), (1, date(2026, 3, 4)): (2, 6_000)},
            {(1, date(2026, 3, 3)): (1, 1_000), (1, date(2026, 3, 4)): (2, 6_000)},
        )
        db.session.remove()
        db.engine.dispose()
