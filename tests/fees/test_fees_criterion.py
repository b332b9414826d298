"""``fees_cashless`` measured from what a market collected in its last closed billing period,
flipping when the cashless share crosses MARKET_FEES_CASHLESS_SHARE; declared otherwise."""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction

from market.adoption import exports, queries
from market.adoption.criteria import Settings
from market.extensions import db
from market.fees.money import services
from tests.fees.moneyworld import bill, board_account

NOW = datetime(2026, 4, 15, 3, 0, tzinfo=UTC)  # April: March is the last closed period
PAID = datetime(2026, 3, 12, 3, 0, tzinfo=UTC)


def _criterion(market, settings):
    report = queries.market_report(market, settings, now=NOW)
    return next(c for c in report.market.criteria if c.key == "fees_cashless")


def _cash(world, made, amount):
    services.record_cash(
        world.users["manager"], made, amount=amount, receipt=None, paid_at=PAID, now=NOW
    )


def _transfer(made, amount, key):
    # As a statement import records it (its own tests: test_fees_statement_import.py).
    services._stage_payment(made, amount, "statement", PAID, statement_key=key, now=NOW)
    db.session.commit()


def test_the_criterion_flips_when_the_cashless_share_crosses_the_setting(app, world):
    board_account(world)
    march = bill(world, reference="CPAB23CD45", total=2_000_000, period="2026-03")
    default = Settings.from_config(app.config)
    assert default.fees_cashless_share == Fraction(9, 10)
    _transfer(march, 800_000, "k1")
    _cash(world, march, 200_000)
    fees = _criterion(world.market_a, default)
    assert fees.measured and not fees.met  # 80 % of 1,000,000 paid cashless
    assert (fees.value, fees.required) == (800_000, 900_000)

    _transfer(march, 1_000_000, "k2")  # 1.8 of 2.0 million: 90 %
    assert _criterion(world.market_a, default).met
    strict = Settings(fees_cashless_share=Fraction(95, 100))
    assert not _criterion(world.market_a, strict).met

    # This month's bill is not closed yet: it does not count.
    april = bill(world, reference="CPAB23CD46", total=5_000_000, period="2026-04")
    _cash(world, april, 5_000_000)
    assert _criterion(world.market_a, default).met


def test_a_market_without_fee_data_keeps_its_declaration(app, world):
    world.market_b.fees_cashless_since = date(2026, 1, 1)
    db.session.commit()
    fees = _criterion(world.market_b, Settings())
    assert fees.met and not fees.measured and fees.since == date(2026, 1, 1)


def test_billed_but_nothing_collected_is_measured_and_not_met(app, world):
    board_account(world)
    bill(world, reference="CPAB23CD45", total=300_000, period="2026-03")
    world.market_a.fees_cashless_since = date(2026, 1, 1)  # a declaration no longer decides
    db.session.commit()
    fees = _criterion(world.market_a, Settings())
    assert fees.measured and not fees.met


def test_exports_and_api_say_measured_or_declared(app, world, client):
    board_account(world)
    march = bill(world, reference="CPAB23CD45", total=100_000, period="2026-03")
    _transfer(march, 100_000, "k1")
    report = queries.market_report(world.market_a, Settings(), now=NOW)
    table = exports.market_table([report.market], NOW)
    column = table[0].index("Tiêu chí thu phí: đo hay khai báo")
    assert table[1][column] == "đo từ tiền phí đã thu"
    other = queries.market_report(world.market_b, Settings(), now=NOW)
    assert exports.market_table([other.market], NOW)[1][column] == "khai báo"
    from market.adoption.schemas import AdoptionCriterionSchema

    dumped = AdoptionCriterionSchema().dump(report.market.criteria[1])
    assert dumped["key"] == "fees_cashless" and dumped["measured"] is True
