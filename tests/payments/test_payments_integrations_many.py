"""Several integrations per provider (one SePay company per market board): each its own
webhook secret at its own URL, API token and watched accounts; set up from the command line
with secrets read from standard input, never from arguments."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from market.auth.models import utcnow
from market.extensions import db
from market.payments import services, sync
from market.payments.models import PaymentNotification
from market.payments.signatures import sign_sepay
from tests.conftest import World
from tests.payments.conftest import SEPAY_SECRET, sepay_body, vn_now
from tests.payments.providers import SEPAY_TOKEN, FakeProviders, sepay_record

BOARD_SECRET = "board-secret-of-cho-thai-0123456789"


@pytest.fixture
def world(app):
    return World()


def _post(client, path: str, body: dict, secret: str):
    raw = json.dumps(body).encode()
    headers = sign_sepay(raw, secret, timestamp=int(time.time()))
    return client.post(path, data=raw, headers={**headers, "Content-Type": "application/json"})


def _stored() -> int:
    return db.session.scalar(select(func.count()).select_from(PaymentNotification))


def test_added_from_the_command_line_with_the_secret_on_stdin(app, world, integrations, runner):
    result = runner.invoke(
        args=["integrations", "add", "sepay", "cho-thai", "--watch", "0011001234567"],
        input=BOARD_SECRET + "\n",
    )
    assert result.exit_code == 0, result.output
    assert "/api/v1/webhooks/sepay/cho-thai" in result.output
    listed = runner.invoke(args=["integrations", "list"])
    assert "sepay/cho-thai" in listed.output and "0011001234567" in listed.output
    assert BOARD_SECRET not in result.output + listed.output
    # A name that is not a URL segment, and a short secret, are refused, field by field.
    bad = runner.invoke(args=["integrations", "add", "sepay", "Chợ Thái"], input="short\n")
    assert bad.exit_code != 0
    assert "name" in bad.output and "secret" in bad.output


def test_each_integration_has_its_own_secret_and_url(client, world, integrations):
    services.add_integration("sepay", "cho-thai", secret=BOARD_SECRET)
    body = sepay_body(7001, amount=25_000)
    # Signed with the board's secret: accepted at the board's URL only.
    assert _post(client, "/api/v1/webhooks/sepay", body, BOARD_SECRET).status_code == 401
    assert _post(client, "/api/v1/webhooks/sepay/cho-khac", body, BOARD_SECRET).status_code == 401
    assert _post(client, "/api/v1/webhooks/sepay/Cho_Thai", body, BOARD_SECRET).status_code == 404
    assert _stored() == 0
    response = _post(client, "/api/v1/webhooks/sepay/cho-thai", body, BOARD_SECRET)
    assert response.status_code == 200 and response.get_json()["duplicate"] is False
    # The main integration still answers its plain URL with its own secret.
    other = sepay_body(7002, amount=25_000)
    assert _post(client, "/api/v1/webhooks/sepay", other, SEPAY_SECRET).status_code == 200
    assert _post(client, "/api/v1/webhooks/sepay/cho-thai", other, SEPAY_SECRET).status_code == 401
    assert _stored() == 2


def test_the_sync_reads_each_integration_and_keeps_to_its_watched_accounts(
    app, world, integrations
):
    with FakeProviders() as fake:
        app.config["SEPAY_API_URL"] = f"{fake.base}/sepay/v2"
        services.add_integration(
            "sepay", "cho-thai", secret=BOARD_SECRET, accounts=["0011001234567"]
        )
        services.set_api_token("sepay", SEPAY_TOKEN, name="cho-thai")
        fake.state.sepay = [
            sepay_record(
                "u-1", reference="FT1", amount=10_000, account="0011001234567", when=vn_now()
            ),
            sepay_record(
                "u-2", reference="FT2", amount=20_000, account="101867123456", when=vn_now()
            ),
        ]
        summary = sync.sync_payments(hours=2, now=utcnow(), sleep=lambda _s: None)
    assert (summary.checked, summary.new, summary.failed) == (1, 1, 0), summary.errors
    stored = db.session.scalar(select(PaymentNotification))
    assert (stored.account_number, stored.stall_id) == ("0011001234567", world.stall_a.id)
