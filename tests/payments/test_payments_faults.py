"""Never lose a notification: a gunicorn worker killed, or PostgreSQL restarted, mid-burst.

A sender like SePay's (which retries anything but a 2xx) posts a bounded burst of signed
notifications to the real app under gunicorn (2 workers, 127.0.0.1) on the suite's PostgreSQL.
Mid-burst one worker gets SIGKILL (gunicorn starts another), or the database restarts.
Afterwards: every notification answered 2xx is stored exactly once, nothing was counted twice,
and the app served again without being restarted.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from market.payments.signatures import sign_sepay
from tests.liveserver import children
from tests.payments.conftest import SEPAY_SECRET, sepay_body

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

ROOT = Path(__file__).resolve().parents[2]
BURST = 240
ORDER_EVERY = 6  # every 6th notification pays the open collect order 1.000 đ
THREADS = 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _migrate_and_seed(url: str, instance: Path) -> int:
    from flask_migrate import upgrade

    from market.app import create_app
    from market.extensions import db
    from market.markets.models import Market, Stall
    from market.merchants.models import PayeeAccount
    from market.payments.models import CollectOrder, WebhookIntegration

    app = create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})
    app.instance_path = str(instance)
    with app.app_context():
        upgrade()
        market = Market(code="TN-F", name="Chợ Thử", district="TP. Thái Nguyên", status="live")
        stall = Stall(market=market, code="F-01", status="active")
        db.session.add_all([market, stall])
        db.session.flush()
        db.session.add(
            PayeeAccount(
                stall_id=stall.id,
                bank_bin="970436",
                account_number="0011001234567",
                holder_name="NGUYEN THI HOA",
                verified_at=db.func.now(),
            )
        )
        order = CollectOrder(stall_id=stall.id, reference="F01 KMNP", amount=10_000_000)
        db.session.add_all([order, WebhookIntegration(provider="sepay", secret=SEPAY_SECRET)])
        db.session.commit()
        order_id = order.id
        db.session.remove()
        db.engine.dispose()
    return order_id


class Sender:
    """Posts each notification until it gets a 2xx (or gives up), as SePay would."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.acked: set[int] = set()
        self.failures = 0
        self.server_errors = 0
        self.sent = 0
        self.lock = threading.Lock()

    def body(self, i: int) -> bytes:
        if i % ORDER_EVERY == 0:
            payload = sepay_body(10_000 + i, amount=1_000, content="F01 KMNP")
        else:
            payload = sepay_body(10_000 + i, amount=2_000 + i)
        return json.dumps(payload).encode()

    def post(self, raw: bytes, *, chunked: bool = False) -> int:
        """One signed POST; ``chunked`` streams the body in two pieces, with no length."""
        headers = sign_sepay(raw, SEPAY_SECRET, timestamp=int(time.time()))
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.request(
                "POST",
                "/api/v1/webhooks/sepay",
                body=iter([raw[:40], raw[40:]]) if chunked else raw,
                headers={**headers, "Content-Type": "application/json"},
                encode_chunked=chunked,
            )
            return conn.getresponse().status
        finally:
            conn.close()

    def deliver(self, i: int) -> None:
        raw = self.body(i)
        delay = 0.05
        for _attempt in range(60):
            try:
                status = self.post(raw)
            except (OSError, http.client.HTTPException):
                status = None
            with self.lock:
                self.sent += 1
                if status is not None and 200 <= status < 300:
                    self.acked.add(i)
                    return
                self.failures += 1
                if status is not None and status >= 500:
                    self.server_errors += 1
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def burst(self, fault, at: int = BURST // 3) -> None:
        """Deliver the whole burst; call ``fault()`` once ``at`` requests have gone out."""
        with ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(self.deliver, i) for i in range(BURST)]
            while self.sent < at:
                time.sleep(0.005)
            fault()
            for future in futures:
                future.result()


@pytest.fixture
def served(postgres, tmp_path):
    """The app under gunicorn (2 sync workers) on a fresh database of the suite's server."""
    if postgres is None:
        pytest.skip("needs the suite's own PostgreSQL server (it is restarted)")
    url = postgres.create_database(f"market_faults_{os.getpid()}")
    order_id = _migrate_and_seed(url, tmp_path)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "MARKET_ENV": "testing",
        "MARKET_INSTANCE_PATH": str(tmp_path),
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "wsgi:app",
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.1)
        yield {"url": url, "port": port, "master": process.pid, "order_id": order_id}
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def _check_exactly_once(url: str, sender: Sender, order_id: int) -> None:
    engine = create_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT event_id, count(*) FROM payment_notifications GROUP BY event_id")
        ).all()
        order = conn.execute(
            text("SELECT received_amount, status FROM collect_orders WHERE id = :id"),
            {"id": order_id},
        ).one()
        credited = conn.execute(
            text("SELECT coalesce(sum(amount), 0) FROM payment_notifications WHERE order_id = :id"),
            {"id": order_id},
        ).scalar_one()
    engine.dispose()
    stored = {int(event_id) - 10_000: count for event_id, count in rows}
    assert all(count == 1 for count in stored.values()), "a notification was stored twice"
    missing = [i for i in sender.acked if i not in stored]
    assert missing == [], f"answered 2xx but not stored: {missing}"
    # Every notification got through in the end (the sender retried), and each order payment
    # was credited once: the order's total is exactly the stored payments naming it.
    assert sender.acked == set(range(BURST))
    expected = 1_000 * len([i for i in range(BURST) if i % ORDER_EVERY == 0])
    assert order.received_amount == credited == expected
    assert order.status == "short"


def test_worker_killed_mid_burst_loses_and_doubles_nothing(served):
    sender = Sender(served["port"])
    killed = []

    def kill_workers():
        # Three kills a little apart: requests take milliseconds, so one kill alone often
        # lands between two of them; three make it likely one dies mid-request.
        for _ in range(3):
            workers = sorted(set(children(served["master"])) - set(killed))
            assert workers, "no worker to kill"
            os.kill(workers[-1], signal.SIGKILL)
            killed.append(workers[-1])
            time.sleep(0.3)

    sender.burst(kill_workers)
    print(f"worker kills: {sender.sent} requests, {sender.failures} not 2xx, all retried")
    _check_exactly_once(served["url"], sender, served["order_id"])
    # Gunicorn replaced the workers; the app answers without a restart.
    deadline = time.monotonic() + 20
    while len(children(served["master"])) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    workers = children(served["master"])
    assert len(workers) == 2 and not set(killed) & set(workers)
    assert sender.post(sender.body(0)) == 200  # a late retry: a duplicate, still 200


def test_database_restarted_mid_burst_loses_and_doubles_nothing(served, postgres):
    sender = Sender(served["port"])
    sender.burst(postgres.restart)
    print(f"database restart: {sender.sent} requests, {sender.server_errors} answered 5xx")
    assert sender.server_errors > 0, "the restart was never seen: the drill did not bite"
    _check_exactly_once(served["url"], sender, served["order_id"])
    assert sender.post(sender.body(BURST - 1)) == 200


def test_a_chunked_notification_through_gunicorn_lands_once(served):
    """A sender that streams its body (chunked, no Content-Length): gunicorn decodes it and
    the endpoint reads it like any other; a stream past the body limit is refused 413 and
    not stored."""

    sender = Sender(served["port"])
    raw = json.dumps(sepay_body(77_001, amount=5_000)).encode()
    assert sender.post(raw, chunked=True) == 200
    assert sender.post(raw, chunked=True) == 200  # the same again: a duplicate
    too_long = json.dumps(sepay_body(77_002) | {"content": "x" * 70_000}).encode()
    assert sender.post(too_long, chunked=True) == 413

    engine = create_engine(served["url"])
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT event_id, amount FROM payment_notifications WHERE event_id LIKE '77%'")
        ).all()
    engine.dispose()
    assert [tuple(row) for row in stored] == [("77001", 5_000)]
