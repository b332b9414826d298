"""The listening screen served as docs/deploy.md says: the app on sync workers, and the
phones' requests (``/me/listen/…``) on a threaded pool of its own (``gunicorn -k gthread``,
``MARKET_LISTEN_WAIT_SECONDS``), both on one database and one SECRET_KEY. A
question held on the pool is answered as soon as a payment stored by the app's workers is
news to the merchant, whichever process stored it, and held questions leave the pool free."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from tests.liveserver import Browser, Gunicorn
from tests.scaleout.conftest import SECRET_CACHE_SECONDS
from tests.scaleout.test_scaleout import SEPAY_KEY, _sepay

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

WAIT = 20
PHONES = 12


@pytest.fixture(scope="module")
def listen_pool(cluster, tmp_path_factory):
    env = {
        **cluster.a.env,
        "MARKET_INSTANCE_PATH": str(tmp_path_factory.mktemp("listen-pool")),
        "MARKET_LISTEN_WAIT_SECONDS": str(WAIT),
    }
    # As docs/deploy.md starts it, smaller: threads as many as connections.
    threads = str(PHONES + 8)
    options = ("--worker-class", "gthread", "--threads", threads, "--worker-connections", threads)
    pool = Gunicorn(env, workers=1, options=options).start()
    try:
        yield pool
    finally:
        pool.stop()


def _merchant_account(cluster) -> str:
    """The account of a stall of the demo merchant ``tieuthuong`` that a payment to it can
    be matched by (verified, current, no other stall's)."""
    engine = cluster.engine()
    with engine.connect() as conn:
        account = conn.scalar(
            text(
                "SELECT min(p.account_number) FROM users u "
                "JOIN stalls s ON s.merchant_id = u.merchant_id AND s.status = 'active' "
                "JOIN payee_accounts p ON p.stall_id = s.id AND p.is_current "
                "WHERE u.username = 'tieuthuong' AND p.verified_at IS NOT NULL "
                "AND p.account_number IN (SELECT account_number FROM payee_accounts "
                "GROUP BY account_number HAVING count(DISTINCT stall_id) = 1)"
            )
        )
    engine.dispose()
    assert account is not None
    return account


def _today(body: bytes) -> bytes:
    """The notification as sent now (Vietnam time): the screen lists the last days only."""
    payment = json.loads(body)
    now = datetime.now(UTC) + timedelta(hours=7)
    payment["transactionDate"] = now.strftime("%Y-%m-%d %H:%M:%S")
    return json.dumps(payment).encode()


def test_a_held_question_on_the_listen_pool_hears_a_webhook_stored_by_the_app(cluster, listen_pool):
    app = cluster.a.base
    admin = Browser(forwarded_for="198.51.100.60")
    assert admin.login(app, "admin").status == 302
    saved = admin.submit(
        app,
        "/admin/webhooks/sepay",
        {"sepay-auth_mode": "apikey", "sepay-secret": SEPAY_KEY, "sepay-enabled": "y"},
        page="/admin/webhooks",
    )
    assert saved.status == 200, saved.status
    time.sleep(SECRET_CACHE_SECONDS + 0.5)  # what the app's workers read before expires

    phone = Browser(forwarded_for="198.51.100.61")
    assert phone.login(app, "tieuthuong").status == 302
    start = phone.get(app, "/me/listen/payments.json?after=0").json()
    question = f"/me/listen/changes?seen={start['seen']}&asked={start['asked_at']}&wait=60"

    def ask() -> tuple[int, float]:
        answer = Browser().get(listen_pool.base, question, headers={"X-Listen-Key": start["key"]})
        return answer.status, time.monotonic()

    with ThreadPoolExecutor(PHONES) as phones:
        asking = [phones.submit(ask) for _ in range(PHONES)]
        time.sleep(1.5)
        # Every phone's question is held, and the pool still answers others at once.
        assert not any(a.done() for a in asking)
        began = time.monotonic()
        assert Browser().get(listen_pool.base, "/healthz").status == 200
        assert time.monotonic() - began < 2

        stored = Browser().post(
            app,
            "/api/v1/webhooks/sepay",
            body=_today(_sepay(780_001, _merchant_account(cluster))),
            headers={"Authorization": f"Apikey {SEPAY_KEY}", "Content-Type": "application/json"},
        )
        assert stored.status == 200 and stored.json()["duplicate"] is False
        acknowledged = time.monotonic()
        answers = [a.result(timeout=WAIT + 10) for a in asking]

    # All answered with news, within the board's reading (twice a second) and far inside the
    # wait: not by running out of it.
    assert [status for status, _ in answers] == [200] * PHONES
    assert max(at for _, at in answers) - acknowledged < 5
    news = phone.get(app, f"/me/listen/payments.json?after={start['cursor']}").json()
    assert [p["amount"] for p in news["payments"] if p["id"] > start["seen"]] == [35_000]
