"""The fees tests' data: market A's board account and fees on top of ``world``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from market.extensions import db
from market.fees import services
from market.fees.models import FeeAccount, FeeType
from market.markets.models import Stall
from market.merchants.models import Merchant


@dataclass
class FeesWorld:
    world: object
    account: FeeAccount
    rent: FeeType
    hygiene: FeeType
    power: FeeType
    stall_a2: Stall


def setup_fees(world) -> FeesWorld:
    """Market A: a verified board account (set by manager, verified by manager2), rent by
    category (rau-cu 300,000; others 400,000), hygiene 50,000 fixed, electricity 3,500/kWh,
    all from 2026-09; a second stall A-02 (category thit) with its own merchant."""
    manager, manager2 = world.users["manager"], world.users["manager2"]
    account = services.set_board_account(
        manager,
        world.market_a,
        bank_bin="970415",
        account_number="113000006789",
        holder_name="BAN QUAN LY CHO DONG QUANG",
    )
    services.verify_board_account(manager2, account)
    start = date(2026, 9, 1)
    rent = services.create_fee_type(
        manager,
        world.market_a,
        code="THUE",
        name="Tiền thuê sạp",
        kind="rent_category",
        amount=400_000,
        valid_from=start,
    )
    services.add_rate(manager, rent, amount=300_000, valid_from=start, category="rau-cu")
    hygiene = services.create_fee_type(
        manager,
        world.market_a,
        code="VESINH",
        name="Phí vệ sinh",
        kind="fixed",
        amount=50_000,
        valid_from=start,
    )
    power = services.create_fee_type(
        manager,
        world.market_a,
        code="DIEN",
        name="Tiền điện",
        kind="metered",
        unit="kWh",
        amount=3_500,
        valid_from=start,
    )
    merchant = Merchant(full_name="Lê Thị Cúc", phone="0911222333", consent=True)
    stall_a2 = Stall(
        market=world.market_a, code="A-02", category="thit", status="active", merchant=merchant
    )
    db.session.add_all([merchant, stall_a2])
    db.session.commit()
    return FeesWorld(world, account, rent, hygiene, power, stall_a2)


@pytest.fixture
def fees(world) -> FeesWorld:
    return setup_fees(world)


@pytest.fixture
def api(client, world):
    """A client of /api/v1 sending the named world user's personal token."""
    from market.auth.services import create_api_token
    from tests.api.conftest import Api

    def token_for(username: str) -> str:
        _token, secret = create_api_token(world.users[username], f"test {username}")
        return secret

    return Api(client, token_for)
