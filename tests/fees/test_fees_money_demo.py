"""The demo's fee payments: most bills paid by QR, some in cash, some in arrears, a receipt for
every payment, and the dashboard's fee criterion measured (met and not met)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from market import demo
from market.adoption import queries
from market.adoption.criteria import Settings
from market.extensions import db
from market.fees.models import FeeBill, FeePayment, FeeReceipt
from market.fees.money import queries as money
from market.markets.models import Market


def test_demo_bills_are_mostly_paid_by_qr_some_cash_some_in_arrears(app):
    loaded = demo.load()
    methods = dict(
        db.session.execute(
            select(FeePayment.method, func.count()).group_by(FeePayment.method)
        ).all()
    )
    assert loaded["fee_payments"] == sum(methods.values())
    assert methods["transfer"] > 3 * methods["cash"] > 0
    assert db.session.scalar(select(func.count(FeeReceipt.id))) == sum(methods.values())
    statuses = dict(
        db.session.execute(select(FeeBill.status, func.count()).group_by(FeeBill.status)).all()
    )
    assert statuses["paid"] > 5 * statuses["open"] > 0 and statuses["partial"] > 0

    now = datetime.now(UTC)
    live = list(db.session.scalars(select(Market).where(Market.status == "live")))
    fees = {}
    for market in live:
        report = queries.market_report(market, Settings(), now=now)
        fees[market.code] = next(c for c in report.market.criteria if c.key == "fees_cashless")
        if market.code == "TN-DONGQUANG":
            assert money.arrears(market, now=now).stalls  # arrears to chase
            assert money.board_unmatched(market)  # transfers naming no bill
    assert all(c.measured for c in fees.values())
    assert {code for code, c in fees.items() if c.met} == set(demo.FEES_CASHLESS)
    # The qualifying markets still qualify, now on measured fees.
    for code in demo.QUALIFYING:
        market = next(m for m in live if m.code == code)
        assert queries.market_report(market, Settings(), now=now).market.qualifies
