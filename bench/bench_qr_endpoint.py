"""The stall QR endpoint against a bare Flask "hello", side by side on the same gunicorn
settings (2 sync workers, 127.0.0.1), measured with wrk. Target: QR ≥ 40% of hello's rps.

    .venv/bin/python bench/bench_qr_endpoint.py [--seconds 5] [--rounds 3]

The QR endpoint is measured "warm": the first request renders the PNG, later ones are served
from the in-process cache of rendered codes (the stall and its payee are still read from the
database on every request, so a payee change shows at once).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.servers import ROOT, gunicorn, median_rps, wrk


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    instance = tempfile.mkdtemp(prefix="bench-qr-")
    env = {
        "MARKET_INSTANCE_PATH": instance,
        "FLASK_APP": "wsgi.py",
        "MARKET_ENV": "production",
        "SECRET_KEY": "bench-only",
        "PATH": os.environ["PATH"],
    }
    flask = [sys.executable, "-m", "flask"]
    subprocess.run(
        [*flask, "db", "upgrade"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [*flask, "seed-demo"], cwd=ROOT, env={**os.environ, **env}, check=True, capture_output=True
    )
    url_path = _first_printable_stall(env)

    results: dict[str, list[dict]] = {"hello": [], "qr": []}
    with gunicorn("bench.hello_app:app") as hello, gunicorn("wsgi:app", env) as market:
        wrk(f"{market}{url_path}", seconds=1)  # warm the code cache in both workers
        for _ in range(args.rounds):  # alternate, so drift on a noisy machine hits both
            results["hello"].append(wrk(f"{hello}/", seconds=args.seconds))
            results["qr"].append(wrk(f"{market}{url_path}", seconds=args.seconds))

    hello_rps, qr_rps = median_rps(results["hello"]), median_rps(results["qr"])
    print(
        f"python {sys.version.split()[0]}, nproc {os.cpu_count()}, gunicorn 2 sync workers, "
        f"wrk -t2 -c16 -d{args.seconds}s × {args.rounds} rounds (median)"
    )
    print(f"{'endpoint':<28}{'rps':>10}{'p99':>10}{'non-2xx':>10}")
    for name, path in (("hello", "/"), ("qr", url_path)):
        last = results[name][-1]
        print(
            f"{name + ' ' + path:<28}{median_rps(results[name]):>10.0f}{last['p99']:>10}"
            f"{sum(r['non_2xx'] for r in results[name]):>10}"
        )
    ratio = qr_rps / hello_rps
    print(f"ratio qr/hello = {ratio:.2f}  (target ≥ 0.40: {'met' if ratio >= 0.40 else 'NOT met'})")


def _first_printable_stall(env: dict[str, str]) -> str:
    code = (
        "from market.app import create_app\n"
        "from market.markets.queries import market_by_code\n"
        "from market.stickers.queries import printable_stalls\n"
        "app = create_app()\n"
        "with app.app_context():\n"
        "    m = market_by_code('TN-DONGQUANG')\n"
        "    stall, _ = next(printable_stalls(m))\n"
        "    print(f'/stalls/{m.code}/{stall.code}/qr.png')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


if __name__ == "__main__":
    main()
