"""Two app hosts as in production: two gunicorn instances (2 workers each) on different
loopback ports, sharing one PostgreSQL database, one Redis and one SECRET_KEY, each with its
own instance folder (nothing on local disk is shared). Both trust one proxy's X-Forwarded-For
(MARKET_PROXY_FIX=1), as behind the load balancer, so each test can be its own client address.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, text

from tests.liveserver import Gunicorn, prepare_demo_database
from tests.redisserver import ThrowawayRedis

LOGIN_LIMIT = 5
#: How long the hosts' workers keep a webhook secret they read (MARKET_INTEGRATION_CACHE_SECONDS).
SECRET_CACHE_SECONDS = 2.0


@dataclass
class Cluster:
    a: Gunicorn
    b: Gunicorn
    database_url: str
    redis: ThrowawayRedis

    @property
    def hosts(self) -> tuple[str, str]:
        return self.a.base, self.b.base

    def engine(self):
        return create_engine(self.database_url)

    def verified_stall(self, market_code: str, offset: int) -> tuple[str, str, int]:
        """(code, account number, id) of an active stall of the market with a verified payee;
        tests take different ``offset`` so none changes another's stall."""
        engine = self.engine()
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT s.code, p.account_number, s.id FROM stalls s "
                    "JOIN markets m ON m.id = s.market_id "
                    "JOIN payee_accounts p ON p.stall_id = s.id AND p.is_current "
                    "WHERE m.code = :market AND s.status = 'active' "
                    "AND p.verified_at IS NOT NULL AND p.service = 'account' "
                    "ORDER BY s.code LIMIT 1 OFFSET :offset"
                ),
                {"market": market_code, "offset": offset},
            ).one()
        engine.dispose()
        return row.code, row.account_number, row.id


@pytest.fixture(scope="package")
def redis_server() -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis().start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="package")
def cluster(postgres, redis_server, tmp_path_factory) -> Iterator[Cluster]:
    if postgres is None:
        pytest.skip("needs the suite's own PostgreSQL server (the recovery test restarts it)")
    url = postgres.create_database(f"market_scaleout_{os.getpid()}")
    shared = {
        "MARKET_ENV": "production",
        "SECRET_KEY": "scale-out-test-key-" + os.urandom(8).hex(),
        "DATABASE_URL": url,
        "MARKET_REDIS_URL": redis_server.url,
        "MARKET_SECURE_COOKIES": "0",  # plain http on loopback
        "MARKET_LOGIN_RATE_LIMIT": f"{LOGIN_LIMIT} per minute",
        "MARKET_PROXY_FIX": "1",
        "MARKET_INTEGRATION_CACHE_SECONDS": str(SECRET_CACHE_SECONDS),
    }
    hosts = []
    try:
        for name in ("a", "b"):
            instance = str(tmp_path_factory.mktemp(f"host-{name}"))
            hosts.append(Gunicorn({**shared, "MARKET_INSTANCE_PATH": instance}).launch())
        # While the workers load the app, the deploy's one-off steps run.
        prepare_demo_database(url, tmp_path_factory.mktemp("deploy"))
        for host in hosts:
            host.ready()
        yield Cluster(hosts[0], hosts[1], url, redis_server)
    finally:
        for host in hosts:  # both at once: each takes seconds to wind down
            host.signal_stop()
        for host in hosts:
            host.stop()
