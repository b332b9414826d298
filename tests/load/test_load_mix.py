"""A bounded mixed load on one host (gunicorn, 2 workers, PostgreSQL): pay pages, QR images,
signed webhooks and the dashboard at once, for LOAD_SECONDS. No request may fail, and every
webhook the app acknowledged is stored exactly once. Throughput and p99 are printed for the
curious but not asserted: numbers live in bench/bench_load.py, not in a timed test."""

from __future__ import annotations

import os

import pytest

from bench import loadmix
from tests.liveserver import Gunicorn, prepare_demo_database

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

LOAD_SECONDS = 15


@pytest.fixture
def host(postgres, tmp_path):
    if postgres is None:
        pytest.skip("needs the suite's own PostgreSQL server")
    url = postgres.create_database(f"market_load_{os.getpid()}")
    server = Gunicorn(
        {
            "MARKET_ENV": "production",
            "SECRET_KEY": "load-test-" + os.urandom(8).hex(),
            "DATABASE_URL": url,
            "MARKET_SECURE_COOKIES": "0",  # plain http on loopback
            "MARKET_INSTANCE_PATH": str(tmp_path / "host"),
        }
    ).launch()
    try:
        prepare_demo_database(url, tmp_path / "deploy")
        server.ready()
        yield loadmix.prepare_site(server.base, url)
    finally:
        server.stop()


def test_mixed_load_has_no_errors_and_stores_each_acknowledged_webhook_once(host):
    run = "4242"
    results = loadmix.run_mix(host, seconds=LOAD_SECONDS, run=run)
    print("\n" + loadmix.table(results, loadmix.endpoint_labels(host)))
    for name, result in results.items():
        assert result["requests"] >= 5, f"{name}: the load hardly ran\n{result['output']}"
        assert result["non_2xx"] == 0, f"{name}: non-2xx answers\n{result['output']}"
        assert result["socket_errors"] == 0, f"{name}: socket errors\n{result['output']}"
        assert result["unexpected"] == 0, f"{name}: unexpected answers\n{result['output']}"

    threads = results["webhook"]["webhook_threads"]
    stored = loadmix.stored_webhooks(host.database_url, run)
    assert all(count == 1 for count in stored.values()), "a webhook was stored twice"
    for thread, issued, acked in threads:
        mine = sorted(counter for (t, counter) in stored if t == thread)
        # Acknowledged ones are all there; at most the requests still in flight when wrk
        # stopped may be stored without wrk seeing the answer; nothing it never sent.
        assert acked <= len(mine) <= issued
        assert set(mine) <= set(range(1, issued + 1))
        assert len(mine) - acked <= loadmix.CONNECTIONS["webhook"]
    assert sum(acked for _t, _i, acked in threads) == results["webhook"]["requests"]
