"""Mixed load on one host: throughput and p99 per endpoint while all run at once, with and
without the officials on the dashboard, side by side.

    .venv/bin/python bench/bench_load.py [--seconds 20] [--rounds 3]

One gunicorn host (2 sync workers, as ``make run``) in production mode on a throwaway
PostgreSQL (tests/pgserver.py) with the Thái Nguyên demo data; wrk per endpoint, side by side
(bench/loadmix.py: pay page 4 connections, QR PNG 4, SePay webhook 2, dashboard 2). Each round
runs three mixes one after the other, in a rotating order:

* ``without``: shoppers and banks only (pay page, QR, webhook);
* ``dashboard``: the same plus two officials refreshing ``/adoption/`` (issue 23's mix);
* ``exports``: the same plus a third connection of the same official downloading the
  dashboard's XLSX export over and over (a heavy request: the per-user limit answers most of
  them 429, counted apart as "limited").

Target (issue 23): the pay page, the QR image and the webhook keep their p99 within 2× of
their p99 ``without``. Prints the median over the rounds of each endpoint's rps, p50 and p99
per mix and the p99 ratios, and checks that nothing failed and every acknowledged webhook is
stored once. Each run sends new webhook ids. Loopback only; wrk and the app share the
machine's cores, so this is a floor, not a ceiling.
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
        rounds: dict[str, list] = {name: [] for name in MIXES}
        order = list(MIXES)
        for i in range(args.rounds):
            for j, name in enumerate(order[i % 3 :] + order[: i % 3]):
                run = str(9100 + 10 * i + j)
                results = loadmix.run_mix(
                    site, seconds=args.seconds, run=run, endpoints=MIXES[name]
                )
                _check(site, results, run)
                rounds[name].append(results)
    finally:
        if server is not None:
            server.stop()
        postgres.destroy()

    print(
        f"python {sys.version.split()[0]}, nproc {os.cpu_count()}, load average "
        f"{os.getloadavg()[0]:.1f}; gunicorn 2 sync workers, PostgreSQL, demo data; "
        f"wrk -t1 per endpoint, -d{args.seconds}s x {args.rounds} rounds (median)"
    )
    labels = loadmix.endpoint_labels(site)
    medians = {name: _median(runs) for name, runs in rounds.items()}
    for name, median in medians.items():
        print(f"\nmix: {name}")
        print(loadmix.table(median, labels))
        limited = median.get("export", {}).get("limited_total")
        if limited is not None:
            print(f"exports answered 429 by the per-user limit: {limited} in all rounds")
    print("\np99 with the officials / p99 without them (target: at most 2.0)")
    base = medians["without"]
    for name in ("dashboard", "exports"):
        ratios = {
            endpoint: medians[name][endpoint]["p99"] / base[endpoint]["p99"]
            for endpoint in ("pay", "qr", "webhook")
        }
        verdict = "meets" if max(ratios.values()) <= 2.0 else "MISSES"
        text = ", ".join(f"{labels[e]} ×{r:.2f}" for e, r in ratios.items())
        print(f"{name:<10} {text}: {verdict} it")


MIXES = {
    "without": loadmix.WITHOUT_DASHBOARD,
    "dashboard": loadmix.CONNECTIONS,
    "exports": loadmix.WITH_EXPORTS,
}


def _median(runs: list[dict]) -> dict:
    return {
        name: {key: statistics.median(r[name][key] for r in runs) for key in ("rps", "p50", "p99")}
        | {k: sum(r[name][k] for r in runs) for k in ("non_2xx", "socket_errors", "unexpected")}
        | {"connections": runs[0][name]["connections"]}
        | {"limited_total": sum(r[name]["limited"] for r in runs)}
        for name in runs[0]
    }


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
