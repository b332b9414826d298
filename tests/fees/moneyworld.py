"""Builders for the money side of fees: a board account of market A and bills of its stall
(made directly, so these tests do not depend on the billing's own rules)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from market.extensions import db
from market.fees.models import FeeAccount, FeeBill, FeeBillLine

BOARD_ACCOUNT = "0011001932418"
BOARD_BIN = "970436"


def board_account(world, *, number: str = BOARD_ACCOUNT, market=None) -> FeeAccount:
    market = market or world.market_a
    account = FeeAccount(
        market_id=market.id,
        bank_bin=BOARD_BIN,
        account_number=number,
        holder_name="BAN QUAN LY CHO",
        is_current=True,
        created_by_id=world.users["manager"].id,
        verified_at=datetime(2026, 1, 2, tzinfo=UTC),
        verified_by_id=world.users["manager2"].id,
    )
    db.session.add(account)
    db.session.commit()
    return account


def bill(
    world,
    *,
    reference: str = "CPAB23CD45",
    total: int = 500_000,
    period: str = "2026-03",
    due: date | None = None,
    stall=None,
    number: str | None = None,
) -> FeeBill:
    stall = stall or world.stall_a
    start = date(int(period[:4]), int(period[5:7]), 1)
    made = FeeBill(
        market_id=stall.market_id,
        stall_id=stall.id,
        merchant_id=stall.merchant_id,
        merchant_name=stall.merchant.full_name if stall.merchant else "",
        period=period,
        cycle="monthly",
        period_start=start,
        number=number or f"HD{period.replace('-', '')}-{stall.code}",
        reference=reference,
        total=total,
        due_date=due or start.replace(day=10),
        status="open",
        issued_at=datetime(start.year, start.month, 1, tzinfo=UTC),
    )
    db.session.add(made)
    db.session.flush()
    db.session.add(
        FeeBillLine(
            bill_id=made.id,
            position=1,
            kind="fee",
            description="Tiền thuê sạp",
            quantity=1,
            unit_price=total,
            amount=total,
        )
    )
    db.session.commit()
    return made
