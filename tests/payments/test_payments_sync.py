"""``flask payments-sync``: the providers' transactions APIs fill what the webhooks missed,
through the webhook's own storing path, each transfer once whichever route came first."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from market.adoption.models import MarketDayPayments, StallDayPayments
from market.auth.models import utcnow
from market.extensions import db
from market.payments import services, sync
from market.payments.models import PaymentNotification
from tests.conftest import World
from tests.payments.conftest import casso_body, post_casso, post_sepay, sepay_body, vn_now
from tests.payments.providers import (
    CASSO_TOKEN,
    SEPAY_TOKEN,
    FakeProviders,
    casso_record,
    sepay_record,
)

UUID_1 = "a1b2c3d4-e5f6-7890-abcd-ef1234567801"
UUID_2 = "a1b2c3d4-e5f6-7890-abcd-ef1234567802"
UUID_3 = "a1b2c3d4-e5f6-7890-abcd-ef1234567803"


@pytest.fixture
def world(app):
    return World()


@pytest.fixture
def providers(app, integrations):
    with FakeProviders() as fake:
        app.config["SEPAY_API_URL"] = f"{fake.base}/sepay/v2"
        app.config["CASSO_API_URL"] = f"{fake.base}/casso/v2"
        app.config["PAYMENTS_SYNC_TIMEOUT"] = 0.5
        services.set_api_token("sepay", SEPAY_TOKEN)
        services.set_api_token("casso", CASSO_TOKEN)
        yield fake


class Sleeps(list):
    """Records what the sync would have slept (pacing, Retry-After) instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def run(**kwargs):
    sleeps = kwargs.pop("sleep", Sleeps())
    return sync.sync_payments(hours=2, now=utcnow(), sleep=sleeps, **kwargs)


def notifications(provider: str | None = None) -> int:
    query = select(func.count()).select_from(PaymentNotification)
    if provider:
        query = query.where(PaymentNotification.provider == provider)
    return db.session.scalar(query)


def stall_day(stall_id: int) -> tuple[int, int]:
    db.session.expire_all()
    rows = db.session.execute(
        select(func.sum(StallDayPayments.payments), func.sum(StallDayPayments.amount)).where(
            StallDayPayments.stall_id == stall_id
        )
    ).one()
    return int(rows[0] or 0), int(rows[1] or 0)


def market_payments() -> int:
    return int(db.session.scalar(select(func.sum(MarketDayPayments.payments))) or 0)


def test_sync_fills_the_gap_the_webhooks_missed_and_a_second_run_adds_nothing(
    client, world, providers
):
    # The webhook delivered one SePay transfer; the API lists it (own id, same bank
    # reference), one the webhook missed, and an outgoing one.
    assert post_sepay(client, sepay_body(1001, amount=50_000)).status_code == 200
    when = vn_now()
    providers.state.sepay = [
        sepay_record(
            UUID_1, reference="MBVCB.1001", amount=50_000, account="0011001234567", when=when
        ),
        sepay_record(
            UUID_2, reference="FT26069ABC", amount=70_000, account="0011001234567", when=when
        ),
        sepay_record(
            UUID_3,
            reference="FT26069OUT",
            amount=10_000,
            account="0011001234567",
            when=when,
            kind="out",
        ),
    ]
    providers.state.page_cap = 2  # two pages
    # Casso: the webhook missed everything; three transfers over two pages.
    providers.state.casso = [
        casso_record(
            5789 + i, tid=f"TF21041523958{i}", amount=20_000, account="101867123456", when=when
        )
        for i in range(3)
    ]
    assert stall_day(world.stall_a.id) == (1, 50_000)

    summary = run()
    assert (summary.checked, summary.new, summary.failed) == (6, 5, 0), summary.errors
    assert stall_day(world.stall_a.id) == (2, 120_000)
    assert stall_day(world.stall_b.id) == (3, 60_000)
    assert market_payments() == 5
    assert notifications("sepay") == 3  # the outgoing one is kept, "ignored"
    sepay_pages = [r for r in providers.state.requests if r.startswith("/sepay/")]
    assert len(sepay_pages) == 2 and "page=2" in sepay_pages[1]

    again = run()
    assert (again.checked, again.new, again.failed) == (6, 0, 0)
    assert stall_day(world.stall_a.id) == (2, 120_000)
    assert stall_day(world.stall_b.id) == (3, 60_000)
    assert market_payments() == 5
    assert notifications() == 6
    casso_names = db.session.scalars(
        select(PaymentNotification.payer_name).where(PaymentNotification.provider == "casso")
    ).all()
    assert casso_names == ["NGUYEN VAN A"] * 3


def test_a_transfer_by_sync_then_by_webhook_is_stored_once(client, world, providers):
    providers.state.sepay = [
        sepay_record(
            UUID_1, reference="MBVCB.1001", amount=50_000, account="0011001234567", when=vn_now()
        )
    ]
    providers.state.casso = [
        casso_record(9001, tid="FT2001", amount=30_000, account="101867123456", when=vn_now())
    ]
    assert run().new == 2
    sepay = post_sepay(client, sepay_body(1001, amount=50_000))
    casso = post_casso(client, casso_body(2001, amount=30_000))
    assert sepay.status_code == casso.status_code == 200
    assert sepay.get_json()["duplicate"] is True
    assert casso.get_json()["duplicate"] is True
    assert notifications() == 2
    assert stall_day(world.stall_a.id) == (1, 50_000)
    assert stall_day(world.stall_b.id) == (1, 30_000)


def test_a_transfer_by_webhook_then_by_sync_is_stored_once(client, world, providers):
    assert post_casso(client, casso_body(2001, amount=30_000)).status_code == 200
    providers.state.casso = [
        casso_record(9001, tid="FT2001", amount=30_000, account="101867123456", when=vn_now())
    ]
    summary = run()
    assert (summary.checked, summary.new) == (1, 0)
    assert notifications() == 1
    assert stall_day(world.stall_b.id) == (1, 30_000)


def test_a_refused_token_is_reported_and_changes_nothing(world, providers):
    services.set_api_token("sepay", "wrong-token")
    providers.state.sepay = [
        sepay_record(UUID_1, reference="FT1", amount=50_000, account="0011001234567", when=vn_now())
    ]
    summary = run()
    assert summary.failed == 1 and summary.new == 0
    assert "401" in summary.errors[0]
    assert notifications("sepay") == 0


def test_429_waits_its_retry_after_and_a_timeout_is_retried(world, providers):
    providers.state.sepay = [
        sepay_record(UUID_1, reference="FT1", amount=50_000, account="0011001234567", when=vn_now())
    ]
    providers.state.faults = [("429", 2), ("slow", 1.5), ("500", None)]
    sleeps = Sleeps()
    summary = run(sleep=sleeps)
    assert (summary.new, summary.failed) == (1, 0), summary.errors
    assert 2.0 in sleeps  # Retry-After obeyed
    assert notifications("sepay") == 1


def test_a_provider_that_keeps_failing_is_given_up_boundedly(world, providers):
    # Exactly as many failures as the attempts the first provider read makes; the other
    # provider, read after it, is answered.
    providers.state.faults = [("500", None)] * sync.MAX_ATTEMPTS
    providers.state.casso = [
        casso_record(9001, tid="FT2001", amount=30_000, account="101867123456", when=vn_now())
    ]
    providers.state.sepay = [
        sepay_record(UUID_1, reference="FT1", amount=50_000, account="0011001234567", when=vn_now())
    ]
    summary = run()
    assert summary.failed == 1
    assert "gave up after 4 attempts" in summary.errors[0]
    assert summary.new == 1
    assert len(providers.state.requests) == sync.MAX_ATTEMPTS + 1


def test_transactions_outside_the_window_or_without_reference_are_left(world, providers):
    old = (utcnow() - timedelta(hours=5)).astimezone(sync.VN_TZ).strftime("%Y-%m-%d %H:%M:%S")
    providers.state.sepay = [
        sepay_record(UUID_1, reference="FT1", amount=50_000, account="0011001234567", when=old),
        sepay_record(UUID_2, reference="", amount=60_000, account="0011001234567", when=vn_now()),
    ]
    summary = run()
    assert (summary.checked, summary.new, summary.unkeyed) == (1, 0, 1)
    assert notifications() == 0


def test_one_run_at_a_time(app, world, providers, runner):
    with sync.run_lock(db.engine) as held:
        assert held
        assert run() is None
        result = runner.invoke(args=["payments-sync"])
        assert "another run is in progress" in result.output
    providers.state.sepay = [
        sepay_record(UUID_1, reference="FT1", amount=50_000, account="0011001234567", when=vn_now())
    ]
    result = runner.invoke(args=["payments-sync", "--since", "1"])
    assert result.exit_code == 0, result.output
    assert "payments-sync: checked 1, new 1, failed 0" in result.output


def test_the_api_token_is_read_from_stdin_never_an_argument(app, world, integrations, runner):
    result = runner.invoke(args=["integrations", "api-token", "sepay"], input="tok-123\n")
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert integrations["sepay"].api_token == "tok-123"
    assert "tok-123" not in result.output
    result = runner.invoke(args=["integrations", "api-token", "sepay", "tok-456"])
    assert result.exit_code != 0
