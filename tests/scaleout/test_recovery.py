"""The pages (not only the webhooks, see tests/payments/test_payments_faults.py) come back
by themselves after PostgreSQL restarts: while it is down every host answers without a stack
trace and its health check says 503; once it is up the same workers serve every page again,
and a logged-in user is still logged in (the session lives in the signed cookie)."""

from __future__ import annotations

import time

import pytest

from tests.liveserver import Browser

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]

LEAKS = ("Traceback", "psycopg", "OperationalError", "sqlalchemy", 'File "')


def test_pages_recover_after_a_database_restart_without_restarting_the_app(cluster, postgres):
    stall_code, account, _id = cluster.verified_stall("TN-DONGQUANG", 11)
    manager = Browser(forwarded_for="198.51.100.60")
    assert manager.login(cluster.a.base, "quanly").status == 302
    shopper = Browser()
    pages = [
        (shopper, f"/pay/TN-DONGQUANG/{stall_code}", account),
        (shopper, f"/stalls/TN-DONGQUANG/{stall_code}/qr.png", None),
        (manager, "/markets/TN-DONGQUANG", "Chợ Đồng Quang"),
        (manager, f"/markets/TN-DONGQUANG/stalls/{stall_code}", account),
    ]

    def all_pages_ok() -> bool:
        for host in cluster.hosts:
            for browser, path, expected in pages:
                answer = browser.get(host, path)
                if answer.status != 200 or (expected and expected not in answer.text):
                    return False
        return True

    assert all_pages_ok()
    workers = {host.base: host.workers_pids() for host in (cluster.a, cluster.b)}

    postgres.stop()
    try:
        for host in cluster.hosts:
            assert Browser().get(host, "/healthz").status == 503
            for browser, path, _expected in pages:
                answer = browser.get(host, path)
                assert answer.status in (500, 503), (path, answer.status)
                leaked = [word for word in LEAKS if word in answer.text]
                assert leaked == [], f"{path} showed {leaked}"
            # The login form needs no database: it still renders.
            assert Browser().get(host, "/login").status == 200
    finally:
        postgres.start()

    deadline = time.monotonic() + 20
    while not all_pages_ok():
        assert time.monotonic() < deadline, "pages did not recover after the restart"
        time.sleep(0.2)
    assert all_pages_ok()  # and it stays up
    for host in cluster.hosts:
        assert Browser().get(host, "/healthz").status == 200
    # The same processes: nothing was restarted, by us or by gunicorn.
    assert {host.base: host.workers_pids() for host in (cluster.a, cluster.b)} == workers
