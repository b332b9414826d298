"""Billing a market for a period: one bill per stall, a line per fee, idempotent, dated rates."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from market.audit.models import AuditLog
from market.errors import Forbidden, InvalidInput
from market.extensions import db
from market.fees import queries, services
from market.fees.models import FeeBill, FeeBillLine, FeePayment
from market.fees.services import ReadingEntry
from market.fees.values import is_reference


def _bills(market_id: int, period: str) -> dict[str, tuple]:
    rows = db.session.execute(
        select(FeeBill).where(FeeBill.market_id == market_id, FeeBill.period == period)
    ).scalars()
    return {
        bill.stall.code: (bill.id, bill.number, bill.reference, bill.total, bill.status)
        for bill in rows
    }


def _lines(bill_id: int) -> list[tuple[str, int]]:
    return [
        (line.kind, line.amount)
        for line in db.session.scalars(
            select(FeeBillLine).where(FeeBillLine.bill_id == bill_id).order_by(FeeBillLine.position)
        )
    ]


def test_each_active_stall_gets_one_bill_with_a_line_per_fee(fees):
    world = fees.world
    services.record_readings(
        world.users["helper"],
        world.market_a,
        fees.power,
        "2026-11",
        {world.stall_a.id: ReadingEntry(end=1_240, start=1_200)},
    )
    result = services.bill_market(world.users["manager"], world.market_a, "2026-11")
    assert (result.created, result.existing) == (2, 0)
    bills = _bills(world.market_a.id, "2026-11")
    assert set(bills) == {"A-01", "A-02"}
    # A-01 (rau-cu): rent 300,000 + hygiene 50,000 + 40 kWh x 3,500
    a01 = bills["A-01"]
    assert _lines(a01[0]) == [("fee", 300_000), ("fee", 50_000), ("meter", 140_000)]
    assert a01[3] == 490_000 and a01[4] == "open"
    # A-02 (thit): rent for every other category; no reading, no electricity line
    assert _lines(bills["A-02"][0]) == [("fee", 400_000), ("fee", 50_000)]
    assert all(is_reference(bill[2]) for bill in bills.values())
    assert len({bill[2] for bill in bills.values()}) == 2
    bill = db.session.get(FeeBill, a01[0])
    assert bill.due_date == date(2026, 11, 10)
    assert bill.merchant_name == "Nguyễn Thị Hoa"
    # Market B has no fees: nothing billed there.
    assert db.session.scalar(select(func.count(FeeBill.id)).where(FeeBill.market_id == 2)) == 0


def test_billing_twice_gives_the_same_bills(fees):
    world = fees.world
    services.bill_market(world.users["manager"], world.market_a, "2026-11")
    first = _bills(world.market_a.id, "2026-11")
    lines = {code: _lines(bill[0]) for code, bill in first.items()}
    again = services.bill_market(world.users["manager"], world.market_a, "2026-11")
    assert (again.created, again.existing) == (0, 2)
    assert _bills(world.market_a.id, "2026-11") == first
    assert {code: _lines(bill[0]) for code, bill in first.items()} == lines
    issued = db.session.scalar(
        select(func.count(AuditLog.id)).where(AuditLog.action == "fee_bill.issue")
    )
    assert issued == 1


def test_a_stall_added_later_is_billed_on_the_next_run_without_touching_the_others(fees):
    world = fees.world
    fees.stall_a2.status = "vacant"
    db.session.commit()
    services.bill_market(None, world.market_a, "2026-11")
    first = _bills(world.market_a.id, "2026-11")
    assert set(first) == {"A-01"}
    fees.stall_a2.status = "active"
    db.session.commit()
    result = services.bill_market(None, world.market_a, "2026-11")
    assert (result.created, result.existing) == (1, 1)
    now = _bills(world.market_a.id, "2026-11")
    assert now["A-01"] == first["A-01"]
    assert now["A-02"][1] == "202611-0002"


def test_a_new_rate_applies_from_its_period_and_history_is_kept(fees):
    world = fees.world
    services.add_rate(
        world.users["manager"], fees.hygiene, amount=60_000, valid_from=date(2027, 1, 1)
    )
    for period in ("2026-12", "2027-01"):
        services.bill_market(None, world.market_a, period)
    december = _bills(world.market_a.id, "2026-12")["A-02"]
    january = _bills(world.market_a.id, "2027-01")["A-02"]
    assert _lines(december[0]) == [("fee", 400_000), ("fee", 50_000)]
    assert _lines(january[0]) == [("fee", 400_000), ("fee", 60_000)]
    assert [r.amount for r in queries.rates_of(fees.hygiene)] == [60_000, 50_000]
    # A rate of a coming period does not change a bill issued before it was entered.
    services.add_rate(
        world.users["manager"], fees.rent, amount=450_000, valid_from=date(2026, 12, 1)
    )
    assert _bills(world.market_a.id, "2026-12")["A-02"] == december


def test_rent_by_area_and_one_off_charges(fees):
    world = fees.world
    manager = world.users["manager"]
    area_rent = services.create_fee_type(
        manager,
        world.market_a,
        code="KIOT",
        name="Thuê ki-ốt",
        kind="rent_area",
        amount=80_000,
        valid_from=date(2026, 9, 1),
    )
    repair = services.create_fee_type(
        manager,
        world.market_a,
        code="SUACHUA",
        name="Sửa chữa",
        kind="one_off",
        amount=0,
        valid_from=date(2026, 9, 1),
    )
    services.set_stall_areas(manager, world.market_a, {world.stall_a.id: 250})  # 2.5 m²
    services.add_charge(
        manager, world.stall_a, repair, period_text="2026-11", amount=120_000, note="thay ổ khóa"
    )
    services.bill_market(manager, world.market_a, "2026-11")
    bill = _bills(world.market_a.id, "2026-11")["A-01"]
    lines = db.session.scalars(
        select(FeeBillLine).where(FeeBillLine.bill_id == bill[0]).order_by(FeeBillLine.position)
    ).all()
    assert [(line.kind, line.amount) for line in lines][-2:] == [
        ("fee", 200_000),
        ("charge", 120_000),
    ]
    assert "2,5 m²" in lines[-2].description
    assert "thay ổ khóa" in lines[-1].description
    assert area_rent.id == lines[-2].fee_type_id
    # The charge is billed once: not again on the next month's bill.
    services.bill_market(manager, world.market_a, "2026-12")
    december = _bills(world.market_a.id, "2026-12")["A-01"]
    assert "charge" not in [kind for kind, _amount in _lines(december[0])]


def test_an_overpayment_is_carried_as_a_credit_line_onto_the_next_bill(fees):
    world = fees.world
    services.bill_market(None, world.market_a, "2026-11")
    november = db.session.get(FeeBill, _bills(world.market_a.id, "2026-11")["A-02"][0])
    db.session.add(
        FeePayment(
            market_id=november.market_id,
            bill_id=november.id,
            amount=november.total + 70_000,
            method="cash",
            paid_at=november.issued_at,
        )
    )
    services.stage_bill_status([november])
    db.session.commit()
    assert november.status == "paid"
    services.bill_market(None, world.market_a, "2026-12")
    december = _bills(world.market_a.id, "2026-12")["A-02"]
    assert _lines(december[0]) == [("fee", 400_000), ("fee", 50_000), ("carry", -70_000)]
    assert december[3] == 380_000
    # Used once: the month after carries nothing.
    services.bill_market(None, world.market_a, "2027-01")
    assert _lines(_bills(world.market_a.id, "2027-01")["A-02"][0])[-1][0] == "fee"


def test_daily_fees_are_billed_per_day(fees):
    world = fees.world
    services.create_fee_type(
        world.users["manager"],
        world.market_a,
        code="NGAY",
        name="Phí chợ ngày",
        kind="fixed",
        cycle="daily",
        amount=10_000,
        valid_from=date(2026, 11, 3),
    )
    result = services.bill_market(None, world.market_a, "2026-11-05")
    assert result.created == 2
    bill = _bills(world.market_a.id, "2026-11-05")["A-01"]
    assert _lines(bill[0]) == [("fee", 10_000)] and bill[1] == "20261105-0001"
    # The monthly bill of the same stall is another bill; daily fees are not on it.
    services.bill_market(None, world.market_a, "2026-11")
    assert 10_000 not in [a for _k, a in _lines(_bills(world.market_a.id, "2026-11")["A-01"][0])]
    # Before its first rate, a daily fee bills nothing.
    assert services.bill_market(None, world.market_a, "2026-11-02").created == 0


@pytest.mark.parametrize("period", ["2026-13", "11-2026", "2026-02-30", "", "2026-1"])
def test_a_bad_period_is_refused_and_bills_nothing(fees, period):
    with pytest.raises(InvalidInput) as caught:
        services.bill_market(None, fees.world.market_a, period)
    assert "period" in caught.value.errors
    assert db.session.scalar(select(func.count(FeeBill.id))) == 0


def test_only_the_markets_managers_and_the_province_bill(fees):
    world = fees.world
    for name in ("helper", "manager_b", "merchant"):
        with pytest.raises(Forbidden):
            services.bill_market(world.users[name], world.market_a, "2026-11")
    assert db.session.scalar(select(func.count(FeeBill.id))) == 0
    assert services.bill_market(world.users["admin"], world.market_a, "2026-11").created == 2


def test_fees_bill_command(fees, runner):
    result = runner.invoke(args=["fees-bill", "--market", "TN-A", "--period", "2026-11"])
    assert result.exit_code == 0, result.output
    assert '"created": 2' in result.output
    again = runner.invoke(args=["fees-bill", "--market", "TN-A", "--period", "2026-11"])
    assert '"created": 0' in again.output and '"existing": 2' in again.output
    bad = runner.invoke(args=["fees-bill", "--market", "TN-A", "--period", "2026-13"])
    assert bad.exit_code != 0 and "NNNN-TT" in bad.output
    unknown = runner.invoke(args=["fees-bill", "--market", "NOPE", "--period", "2026-11"])
    assert unknown.exit_code != 0
