"""The demo's market fees: every live market has a verified board account, its fees and
three closed months of bills, which billing again leaves as they are."""

from __future__ import annotations

from sqlalchemy import func, select

from market import demo
from market.extensions import db
from market.fees import queries, services
from market.fees.models import FeeBill, FeeBillLine
from market.markets.models import Market


def test_live_markets_have_fees_and_three_months_of_bills(app):
    loaded = demo.load()
    periods = [p.key for p in demo.fee_periods(demo.datetime.now(demo.UTC))]
    live = list(db.session.scalars(select(Market).where(Market.status == "live")))
    assert len(live) == 11
    for market in live:
        assert queries.paying_account(market.id) is not None
        assert [t.code for t in queries.fee_types(market)] == ["THUE", "VESINH", "BAOVE", "DIEN"]
        assert [p for p, _count, _total in queries.billing_periods(market)] == periods[::-1]
    assert loaded["fee_bills"] == db.session.scalar(select(func.count(FeeBill.id))) > 6000
    # The hygiene fee went up for the last month only: a dated rate.
    hygiene = dict(
        db.session.execute(
            select(FeeBill.period, func.max(FeeBillLine.amount))
            .join(FeeBillLine, FeeBillLine.bill_id == FeeBill.id)
            .where(FeeBillLine.description == "Phí vệ sinh")
            .group_by(FeeBill.period)
        ).all()
    )
    assert hygiene == {periods[0]: 60_000, periods[1]: 60_000, periods[2]: 70_000}
    chothai = next(m for m in live if m.code == "TN-CHOTHAI")
    again = services.bill_market(None, chothai, periods[-1])
    assert again.created == 0 and again.existing > 300
