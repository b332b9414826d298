"""Every adoption figure of the hand-built province (see conftest.py), with its answer written
down here, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from sqlalchemy import select

from market.adoption import queries
from market.adoption.criteria import Settings
from market.extensions import db
from market.markets.models import Market
from tests.adoption.conftest import NOW, TODAY

SETTINGS = Settings()


def _markets() -> list[Market]:
    return queries.in_province_order(db.session.scalars(select(Market)))


def _report():
    return queries.province_report(_markets(), SETTINGS, scope="province", now=NOW)


def _by_code(report) -> dict[str, queries.MarketFigures]:
    return {row.code: row for row in report.markets}


def _criteria(row) -> dict[str, tuple[bool, int, int, int]]:
    return {c.key: (c.met, c.value, c.required, c.shortfall) for c in row.criteria}


def test_window_is_the_30_vietnam_days_ending_today(province):
    report = _report()
    assert report.today == TODAY
    assert (report.window.start, report.window.last) == (date(2026, 2, 3), date(2026, 3, 4))


def test_market_a_stalls_payees_stickers_and_audits(province):
    a = _by_code(_report())["TN-A"]
    assert a.active_stalls == 4  # A-04 is vacant
    assert a.stalls_with_qr == 3  # A-03's payee is not verified
    assert a.stalls_with_current_sticker == 2  # A-02's sticker shows the replaced account
    assert a.audited_stalls == 2
    assert a.failed_audits == 1
    assert a.merchants_onboarded == 2  # Hoa once, Bình


def test_market_a_payments_in_the_window(province):
    a = _by_code(_report())["TN-A"]
    # 19 × 10.000 + 5.000 at 00:00:00 on the first day; not 7.000 at 23:59:59 the day
    # before, nor 8.000 in November. A-02: 2 × 40.000 before its payee changed and 3 × 60.000
    # after (a stall's payments, whatever the account); the 50.000 refund is not income.
    # A-04 (vacant now): 2 × 30.000 are still money the market received.
    assert a.payments == 20 + 5 + 2
    assert a.amount == 195_000 + 260_000 + 60_000
    # Only active stalls: A-01 and A-02 were paid; A-01's 20 payments make it an active
    # cashless stall (>= 20), A-02's 5 do not.
    assert a.paying_stalls == 2
    assert a.active_cashless_stalls == 1


def test_market_a_criteria_and_what_it_lacks(province):
    a = _by_code(_report())["TN-A"]
    assert _criteria(a) == {
        "qr_coverage": (False, 3, 4, 1),
        "fees_cashless": (True, 1, 1, 0),
        "ecommerce_listed": (False, 0, 1, 1),
    }
    assert not a.qualifies
    assert [c.key for c in a.lacks] == ["qr_coverage", "ecommerce_listed"]


def test_market_b_qualifies(province):
    b = _by_code(_report())["SC-B"]
    assert (b.active_stalls, b.stalls_with_qr, b.stalls_with_current_sticker) == (1, 1, 1)
    assert (b.paying_stalls, b.active_cashless_stalls, b.payments, b.amount) == (1, 0, 1, 100_000)
    assert b.qualifies
    assert b.ecommerce_note == "Shopee: chè Tân Cương"


def test_a_market_without_stalls_has_zeros_and_does_not_qualify(province):
    c = _by_code(_report())["TN-C"]
    assert (c.active_stalls, c.stalls_with_qr, c.paying_stalls, c.payments, c.amount) == (
        0,
        0,
        0,
        0,
        0,
    )
    assert _criteria(c) == {
        "qr_coverage": (False, 0, 1, 1),  # at least one stall with a QR
        "fees_cashless": (False, 0, 1, 1),  # declared from tomorrow: not yet
        "ecommerce_listed": (False, 0, 1, 1),
    }


def test_a_criterion_declared_from_today_counts(province):
    d = _by_code(_report())["DT-D"]
    assert _criteria(d)["ecommerce_listed"] == (True, 1, 1, 0)
    assert d.qualifies
    assert d.stalls_with_current_sticker == 0  # never printed


def test_province_totals(province):
    t = _report().totals
    assert (t.markets, t.qualifying) == (4, 2)
    assert (t.active_stalls, t.stalls_with_qr, t.stalls_with_current_sticker) == (6, 5, 3)
    assert (t.audited_stalls, t.failed_audits) == (2, 1)
    assert (t.paying_stalls, t.active_cashless_stalls) == (3, 1)
    assert (t.payments, t.amount) == (28, 615_000)
    # Hoa holds stalls in TN-A and DT-D: once in the province, though once in each market.
    assert t.merchants_onboarded == 3
    assert sum(row.merchants_onboarded for row in _report().markets) == 4


def test_districts_in_the_provinces_order(province):
    rows = [
        (d.district, d.markets, d.qualifying, d.active_stalls, d.stalls_with_qr, d.paying_stalls)
        for d in _report().districts
    ]
    assert rows == [
        ("TP. Thái Nguyên", 2, 0, 4, 3, 2),
        ("TP. Sông Công", 1, 1, 1, 1, 1),
        ("Huyện Đại Từ", 1, 1, 1, 1, 0),
    ]


def test_closest_to_qualifying_and_what_each_lacks(province):
    closest = _report().closest
    # TN-C has no stalls: not started, so never "close" (it used to be listed second).
    assert [row.code for row in closest] == ["TN-A"]
    report = _report()
    gamma = next(row for row in report.markets if row.code == "TN-C")
    assert (gamma.stage, report.totals.not_started) == ("not_started", 1)
    assert [(c.key, c.shortfall) for c in closest[0].lacks] == [
        ("qr_coverage", 1),
        ("ecommerce_listed", 1),
    ]


def test_weekly_trend_of_payments_and_onboarding(province):
    weekly = _report().weekly
    assert len(weekly) == 12
    assert (weekly[0].iso_year, weekly[0].iso_week, weekly[0].start) == (
        2025,
        51,
        date(2025, 12, 15),
    )
    assert (weekly[-1].iso_week, weekly[-1].start, weekly[-1].last) == (
        10,
        date(2026, 3, 2),
        date(2026, 3, 8),
    )
    by_week = {w.iso_week: (w.payments, w.amount) for w in weekly if w.payments}
    assert by_week == {
        6: (2, 12_000),  # 7.000 on Mon 2 Feb 23:59:59, 5.000 on Tue 3 Feb 00:00
        7: (2, 80_000),
        8: (19, 190_000),
        9: (5, 240_000),  # A-02's 3 × 60.000 and A-04's 2 × 30.000; not the refund
        10: (1, 100_000),
    }
    # First verification per stall: A-04 in November (before the 12 weeks), D-01 at 00:00 on
    # Mon 15 Dec (week 51), A-01 and A-02 (its first payee) in week 2, B-01 at 23:59:59 on
    # Sun 1 Mar (week 9), A-05 at 00:00 on Mon 2 Mar (week 10). A-03 is not verified.
    onboarded = {w.iso_week: w.stalls_onboarded for w in weekly if w.stalls_onboarded}
    assert onboarded == {51: 1, 2: 2, 9: 1, 10: 1}
    assert [w.stalls_onboarded_total for w in weekly] == [2, 2, 2, 4, 4, 4, 4, 4, 4, 4, 5, 6]


def test_market_series_per_day_week_and_month(province):
    market = db.session.scalar(select(Market).where(Market.code == "TN-A"))
    report = queries.market_report(market, SETTINGS, now=NOW)
    assert len(report.daily) == 30
    assert (report.daily[0].start, report.daily[-1].start) == (date(2026, 2, 3), TODAY)
    daily = {p.start: (p.payments, p.amount) for p in report.daily if p.payments}
    assert daily == {
        date(2026, 2, 3): (1, 5_000),
        date(2026, 2, 10): (2, 80_000),
        date(2026, 2, 20): (19, 190_000),
        date(2026, 2, 25): (3, 180_000),
        date(2026, 2, 27): (2, 60_000),
    }
    weekly = {p.start: p.payments for p in report.weekly if p.payments}
    assert weekly == {
        date(2026, 2, 2): 2,
        date(2026, 2, 9): 2,
        date(2026, 2, 16): 19,
        date(2026, 2, 23): 5,
    }
    assert len(report.monthly) == 12
    assert report.monthly[0].start == date(2025, 4, 1)
    monthly = {p.start: (p.payments, p.amount) for p in report.monthly if p.payments}
    assert monthly == {
        date(2025, 11, 1): (1, 8_000),
        date(2026, 2, 1): (28, 522_000),  # the window's 27 and the 7.000 of 2 Feb
    }


def test_a_managers_scope_aggregates_only_their_markets(province):
    report = queries.province_report([province.b, province.d], SETTINGS, scope="markets", now=NOW)
    assert [row.code for row in report.markets] == ["SC-B", "DT-D"]
    assert (report.totals.markets, report.totals.qualifying) == (2, 2)
    assert (report.totals.payments, report.totals.merchants_onboarded) == (1, 2)
    assert sum(w.payments for w in report.weekly) == 1
    assert report.weekly[-1].stalls_onboarded_total == 2


def test_thresholds_come_from_the_settings(province):
    lenient = Settings(qr_share=Fraction(3, 4), active_min_payments=5)
    report = queries.province_report(_markets(), lenient, scope="province", now=NOW)
    a = _by_code(report)["TN-A"]
    assert _criteria(a)["qr_coverage"] == (True, 3, 3, 0)  # 3/4 of 4 stalls
    assert a.active_cashless_stalls == 2  # A-02's 5 payments now count too
