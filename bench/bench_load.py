"""Mixed load on one host: throughput and p99 per endpoint while all run at once.

    .venv/bin/python bench/bench_load.py [--seconds 20] [--rounds 3]

One gunicorn host (2 sync workers, as ``make run``) in production mode on a throwaway
PostgreSQL (tests/pgserver.py) with the Thái Nguyên demo data; wrk per endpoint, side by side
(bench/loadmix.py: pay page 4 connections, QR PNG 4, SePay webhook 2, dashboard 2). Each
round sends new webhook ids. Prints the median over the rounds of each endpoint's rps and
p99, and checks that nothing failed and every acknowledged webhook is stored once.
Loopback only; wrk and the app share the machine's cores, so this is a floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import loadmix
from tests.liveserver import Gunicorn, prepare_demo_database
from tests.pgserver import ThrowawayPostgres


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    postgres = ThrowawayPostgres().start()
    server = None
    try:
        url = postgres.create_database("market_bench_load")
        instance = Path(tempfile.mkdtemp(prefix="bench-load-"))
        server = Gunicorn(
            {
                "MARKET_ENV": "production",
                "SECRET_KEY": os.urandom(16).hex(),
                "DATABASE_URL": url,
                "MARKET_SECURE_COOKIES": "0",
                "MARKET_INSTANCE_PATH": str(instance / "host"),
            }
        ).launch()
        prepare_demo_database(url, instance / "deploy")
        server.ready()
        site = loadmix.prepare_site(server.base, url)
        loadmix.run_mix(site, seconds=2, run="9000")  # warm: every QR rendered once per worker
        rounds = []
        for i in range(args.rounds):
            run = str(9001 + i)
            results = loadmix.run_mix(site, seconds=args.seconds, run=run)
            _check(site, results, run)
            rounds.append(results)
    finally:
        if server is not None:
            server.stop()
        postgres.destroy()

    print(
        f"python {sys.version.split()[0]}, nproc {os.cpu_count()}, load average "
        f"{os.getloadavg()[0]:.1f}; gunicorn 2 sync workers, PostgreSQL, demo data; "
        f"wrk -t1 per endpoint, -d{args.seconds}s x {args.rounds} rounds (median)"
    )
    median = {
        name: {
            key: statistics.median(r[name][key] for r in rounds) for key in ("rps", "p50", "p99")
        }
        | {k: sum(r[name][k] for r in rounds) for k in ("non_2xx", "socket_errors", "unexpected")}
        for name in loadmix.CONNECTIONS
    }
    print(loadmix.table(median, loadmix.endpoint_labels(site)))


def _check(site: loadmix.Site, results: dict, run: str) -> None:
    bad = {
        name: (r["non_2xx"], r["socket_errors"], r["unexpected"])
        for name, r in results.items()
        if r["non_2xx"] or r["socket_errors"] or r["unexpected"]
    }
    if bad:
        print(f"run {run}: failed requests (non-2xx, socket, unexpected): {bad}", file=sys.stderr)
    stored = loadmix.stored_webhooks(site.database_url, run)
    acked = sum(a for _t, _i, a in results["webhook"]["webhook_threads"])
    if any(count != 1 for count in stored.values()) or len(stored) < acked:
        print(f"run {run}: {acked} webhooks acknowledged, {len(stored)} stored", file=sys.stderr)


if __name__ == "__main__":
    main()
