"""An integration's health: refusals counted by reason where the webhook refuses, the last
notification it accepted (noted at most once a minute per worker), silence through market
hours. Both databases."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from market.errors import InvalidInput
from market.extensions import db
from market.payments import services
from market.payments.health import integration_health, market_minutes
from market.payments.models import IntegrationRefusal, WebhookIntegration
from market.payments.services import WebhookRefused
from market.payments.signatures import sign_sepay
from tests.payments.conftest import SEPAY_SECRET, sepay_body

NOW = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam, markets open


def _ingest(body, *, now=NOW, secret=SEPAY_SECRET, stamp=None, integration="", raw=None):
    raw = raw if raw is not None else json.dumps(body).encode()
    headers = sign_sepay(raw, secret, timestamp=int((stamp or now).timestamp()))
    headers["Content-Type"] = "application/json"
    return services.ingest_notification("sepay", raw, headers, now=now, integration=integration)


def _refusals(integration):
    return {
        r.reason: r.count
        for r in db.session.scalars(
            select(IntegrationRefusal).where(IntegrationRefusal.integration_id == integration.id)
        )
    }


@pytest.mark.usefixtures("world")
def test_refusals_are_counted_by_reason_and_accepted_ones_are_not(app, integrations):
    sepay = integrations["sepay"]
    with pytest.raises(WebhookRefused):
        _ingest(sepay_body(1), secret="not-the-secret-at-all")
    with pytest.raises(WebhookRefused):
        _ingest(sepay_body(2), secret="not-the-secret-at-all")
    with pytest.raises(WebhookRefused):
        _ingest(sepay_body(3), stamp=NOW - timedelta(minutes=6))
    with pytest.raises(InvalidInput):
        _ingest(None, raw=b"{not json")
    _ingest(sepay_body(4))
    db.session.expire_all()
    assert _refusals(sepay) == {"bad_signature": 2, "stale_timestamp": 1, "wrong_shape": 1}
    assert _refusals(integrations["casso"]) == {}
    last = db.session.scalar(
        select(IntegrationRefusal.last_at).where(
            IntegrationRefusal.integration_id == sepay.id,
            IntegrationRefusal.reason == "bad_signature",
        )
    )
    assert last.replace(tzinfo=UTC) == NOW


@pytest.mark.usefixtures("world")
def test_a_disabled_integration_counts_what_it_refuses(app, integrations):
    integrations["sepay"].enabled = False
    db.session.commit()
    with pytest.raises(WebhookRefused):
        _ingest(sepay_body(1))
    assert _refusals(integrations["sepay"]) == {"disabled": 1}


@pytest.mark.usefixtures("world")
def test_a_named_integrations_refusals_are_its_own(app, integrations):
    named = services.add_integration("sepay", "cho-thai", secret="another-secret-0123456789")
    with pytest.raises(WebhookRefused):
        _ingest(sepay_body(1), integration="cho-thai")  # signed with the main one's secret
    assert _refusals(named) == {"bad_signature": 1}
    assert _refusals(integrations["sepay"]) == {}


@pytest.mark.usefixtures("world")
def test_the_last_notification_is_noted_at_most_once_a_minute_per_worker(app, integrations):
    sepay = integrations["sepay"]
    _ingest(sepay_body(1), now=NOW)
    _ingest(sepay_body(2), now=NOW + timedelta(seconds=30))  # within the minute: no write
    db.session.expire_all()
    assert db.session.get(WebhookIntegration, sepay.id).last_received_at.replace(tzinfo=UTC) == NOW
    services.integrations_cache(app).pop(("received", sepay.id))  # as if a minute had passed
    later = NOW + timedelta(minutes=5)
    _ingest(sepay_body(3), now=later)
    db.session.expire_all()
    assert (
        db.session.get(WebhookIntegration, sepay.id).last_received_at.replace(tzinfo=UTC) == later
    )


HOURS = (5 * 60, 19 * 60)


@pytest.mark.parametrize(
    ("last", "now", "silent"),
    [
        ("2026-03-04 09:00", "2026-03-04 10:00", False),  # an hour of market time
        ("2026-03-04 07:00", "2026-03-04 10:00", True),  # three hours
        ("2026-03-03 18:30", "2026-03-04 06:00", False),  # 30 min + 1 h: the night is free
        ("2026-03-03 18:30", "2026-03-04 07:00", True),  # 30 min + 2 h
        ("2026-03-04 15:00", "2026-03-04 23:00", True),  # the afternoon went silent
        ("2026-03-04 18:00", "2026-03-04 23:00", False),
    ],
    ids=["hour", "morning", "overnight", "overnight-late", "afternoon", "evening"],
)
def test_silence_counts_only_market_hours(last, now, silent):
    vn = lambda text: datetime.fromisoformat(text + "+07:00")  # noqa: E731
    assert (market_minutes(vn(last), vn(now), HOURS) >= 120) is silent


@pytest.mark.usefixtures("world")
def test_an_enabled_integration_silent_through_market_hours_is_flagged(app, integrations):
    sepay, casso = integrations["sepay"], integrations["casso"]
    sepay.last_received_at = NOW - timedelta(minutes=30)
    casso.last_received_at = NOW - timedelta(hours=3)
    db.session.commit()
    found = integration_health([sepay, casso], now=NOW, hours=HOURS, threshold_minutes=120)
    assert [(h.integration.provider, h.silent) for h in found] == [
        ("sepay", False),
        ("casso", True),
    ]
    casso.enabled = False  # switched off on purpose: not a warning
    (casso_health,) = integration_health([casso], now=NOW, hours=HOURS, threshold_minutes=120)
    assert not casso_health.silent


def test_market_hours_and_silence_settings_are_read_and_checked(monkeypatch, tmp_path):
    from market import config

    monkeypatch.setenv("MARKET_HOURS", "04:30-18:00")
    monkeypatch.setenv("MARKET_INTEGRATION_SILENCE_MINUTES", "90")
    settings = config.load(tmp_path)
    assert settings["MARKET_HOURS"] == (270, 1080)
    assert settings["INTEGRATION_SILENCE_MINUTES"] == 90
    for name, bad in [
        ("MARKET_HOURS", "19:00-05:00"),
        ("MARKET_HOURS", "5h-19h"),
        ("MARKET_HOURS", "05:00"),
        ("MARKET_INTEGRATION_SILENCE_MINUTES", "0"),
        ("MARKET_INTEGRATION_SILENCE_MINUTES", "two hours"),
    ]:
        monkeypatch.setenv(name, bad)
        with pytest.raises(config.ConfigError, match=name):
            config.load(tmp_path)
        monkeypatch.delenv(name)


def test_health_doctests():
    import doctest

    from market.payments import health

    result = doctest.testmod(health)
    assert result.attempted >= 3 and result.failed == 0


@pytest.mark.usefixtures("world")
def test_the_command_line_list_shows_the_health(app, integrations, runner):
    sepay = integrations["sepay"]
    sepay.last_received_at = NOW
    db.session.add(
        IntegrationRefusal(integration_id=sepay.id, reason="bad_signature", count=3, last_at=NOW)
    )
    db.session.commit()
    lines = runner.invoke(args=["integrations", "list"]).output.splitlines()
    (line,) = [line for line in lines if line.startswith("sepay\t")]
    assert "\tlast 2026-03-04T03:00:00" in line and "\trefused 3" in line
    assert line.endswith("\tSILENT")  # nothing since 10:00 on 4 March: silent today
