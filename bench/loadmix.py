"""The mixed load on one app host: shoppers opening pay pages and QR images, banks posting
webhooks, a manager or the province on the dashboard, all at once.

One wrk process per endpoint, run side by side, so each reports its own rate and latency while
the others load the same workers. Shared by ``tests/load`` (short, asserts no errors and that
every acknowledged webhook is stored once) and ``bench/bench_load.py`` (longer, prints rps
and p99). Loopback only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.liveserver import Browser

HERE = Path(__file__).resolve().parent
WEBHOOK_KEY = "load-test-sepay-api-key-0123456789"
USER_AGENT = "Cho40-load/1.0"  # the dashboard session is bound to it (strong protection)

#: wrk connections per endpoint: the mix. Shoppers dominate, banks and managers are fewer.
CONNECTIONS = {"pay": 4, "qr": 4, "webhook": 2, "dashboard": 2}
#: The rest of the mix without the dashboard users (bench_load.py's baseline).
WITHOUT_DASHBOARD = {k: v for k, v in CONNECTIONS.items() if k != "dashboard"}
#: The mix plus one official downloading the dashboard's XLSX export over and over: a heavy
#: request, under the per-user limit (market.limits); its 429s are counted apart.
WITH_EXPORTS = {**CONNECTIONS, "export": 1}
EXPORT_PATH = "/adoption/export.xlsx"

#: The adoption dashboard where the app has one, else a busy market's page.
DASHBOARD_CANDIDATES = ("/adoption/", "/markets/TN-DONGQUANG")


@dataclass
class Site:
    base: str
    database_url: str
    pay_paths: list[str]
    qr_paths: list[str]
    account: str
    dashboard: str
    cookie: str


def prepare_site(base: str, database_url: str, *, stalls: int = 40) -> Site:
    """Log the province in, set SePay's API key, pick stalls with a verified payee."""
    admin = Browser(user_agent=USER_AGENT)
    assert admin.login(base, "admin").status == 302, "admin login failed"
    saved = admin.submit(
        base,
        "/admin/webhooks/sepay",
        {"sepay-auth_mode": "apikey", "sepay-secret": WEBHOOK_KEY, "sepay-enabled": "y"},
        page="/admin/webhooks",
    )
    assert saved.status == 200, f"webhook settings: {saved.status}"
    dashboard = next(p for p in DASHBOARD_CANDIDATES if admin.get(base, p).status == 200)
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT m.code AS market, s.code AS stall, p.account_number FROM stalls s "
                "JOIN markets m ON m.id = s.market_id "
                "JOIN payee_accounts p ON p.stall_id = s.id AND p.is_current "
                "WHERE s.status = 'active' AND p.verified_at IS NOT NULL "
                "ORDER BY m.code, s.code LIMIT :n"
            ),
            {"n": stalls},
        ).all()
    engine.dispose()
    return Site(
        base=base,
        database_url=database_url,
        pay_paths=[f"/pay/{r.market}/{r.stall}" for r in rows],
        qr_paths=[f"/stalls/{r.market}/{r.stall}/qr.png" for r in rows],
        account=rows[0].account_number,
        dashboard=dashboard,
        cookie="; ".join(f"{k}={v}" for k, v in admin.cookies.items()),
    )


def _wrk(site: Site, name: str, seconds: int, run: str, connections: int) -> dict:
    headers = ["-H", f"User-Agent: {USER_AGENT}"]
    if name == "pay":
        script, args = "load_get.lua", site.pay_paths
    elif name == "qr":
        script, args = "load_get.lua", site.qr_paths
    elif name == "dashboard":
        script, args = "load_get.lua", [site.dashboard]
        headers += ["-H", f"Cookie: {site.cookie}"]
    elif name == "export":
        script, args = "load_get.lua", [EXPORT_PATH]
        headers += ["-H", f"Cookie: {site.cookie}"]
    else:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 7 * 3600))
        script, args = "load_webhook.lua", [run, WEBHOOK_KEY, site.account, when]
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        *headers,
        "-s",
        str(HERE / script),
        site.base,
        "--",
        *args,
    ]
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    return _parse(name, output) | {"connections": connections}


def _seconds(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()
    return float(number) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def _parse(name: str, output: str) -> dict:
    requests = re.search(r"(\d+) requests in", output)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    limited = re.search(r"limited: (\d+)", output)
    limited = int(limited.group(1)) if limited else 0
    non_2xx = int(bad.group(1)) if bad else 0
    unexpected = int(re.search(r"unexpected: (\d+)", output).group(1))
    if name == "export":
        non_2xx -= limited  # the per-user limit at work, not a failure
    else:
        unexpected += limited
    threads = [
        (int(t), int(i), int(a))
        for t, i, a in re.findall(r"webhook thread (\d+) issued (\d+) acked (\d+)", output)
    ]
    return {
        "name": name,
        "requests": int(requests.group(1)),
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50": _seconds(re.search(r"\s50%\s+([\d.]+\w+)", output).group(1)),
        "p99": _seconds(re.search(r"\s99%\s+([\d.]+\w+)", output).group(1)),
        "non_2xx": non_2xx,
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
        "unexpected": unexpected,
        "limited": limited,
        "webhook_threads": threads,
        "output": output,
    }


def run_mix(
    site: Site, *, seconds: int, run: str, endpoints: dict[str, int] | None = None
) -> dict[str, dict]:
    """Every endpoint's wrk at once for ``seconds``; ``run`` (digits) prefixes webhook ids;
    ``endpoints``: name -> connections (default :data:`CONNECTIONS`)."""
    endpoints = endpoints or CONNECTIONS
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (Debian package wrk; make system-deps)")
    assert run.isdigit() and not run.startswith("0")
    with ThreadPoolExecutor(len(endpoints)) as pool:
        futures = {
            name: pool.submit(_wrk, site, name, seconds, run, conns)
            for name, conns in endpoints.items()
        }
        return {name: future.result() for name, future in futures.items()}


def stored_webhooks(database_url: str, run: str) -> dict[tuple[int, int], int]:
    """{(thread, counter): times stored} for the webhook ids of ``run``."""
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT event_id, count(*) FROM payment_notifications "
                "WHERE provider = 'sepay' AND event_id LIKE :prefix GROUP BY event_id"
            ),
            {"prefix": f"{run}%"},
        ).all()
    engine.dispose()
    found: dict[tuple[int, int], int] = defaultdict(int)
    for event_id, count in rows:
        rest = event_id[len(run) :]
        found[(int(rest[:-7]), int(rest[-7:]))] += count
    return dict(found)


def table(results: dict[str, dict], paths: dict[str, str]) -> str:
    lines = [f"{'endpoint':<34}{'conns':>6}{'rps':>9}{'p50 ms':>9}{'p99 ms':>9}{'errors':>8}"]
    for name, r in results.items():
        errors = r["non_2xx"] + r["socket_errors"] + r["unexpected"]
        lines.append(
            f"{paths[name]:<34}{r['connections']:>6}{r['rps']:>9.0f}"
            f"{r['p50'] * 1000:>9.1f}{r['p99'] * 1000:>9.1f}{errors:>8}"
        )
    total = sum(r["rps"] for r in results.values())
    conns = sum(r["connections"] for r in results.values())
    lines.append(f"{'all together':<34}{conns:>6}{total:>9.0f}")
    return "\n".join(lines)


def endpoint_labels(site: Site) -> dict[str, str]:
    return {
        "pay": "GET /pay/<market>/<stall>",
        "qr": "GET /stalls/<m>/<s>/qr.png",
        "webhook": "POST /api/v1/webhooks/sepay",
        "dashboard": f"GET {site.dashboard}",
        "export": f"GET {EXPORT_PATH}",
    }
