"""2,100 listening phones and 10 payments a second on one 2-core host: how fast each phone
hears its money, and what it costs the shoppers' pay page. Mechanisms side by side.

    .venv/bin/python bench/bench_listen.py [--phones 2100] [--seconds 40] [--rate 10]
                                           [--mechanisms poll full]

One gunicorn host (2 sync workers, as ``make run``, production settings) on a throwaway
PostgreSQL (tests/pgserver.py) with the Thái Nguyên demo data. Each merchant of the demo that
a payment can be matched to gets a login; the phones (asyncio, raw HTTP/1.1 on 127.0.0.1, one
connection per request as a sync worker closes them, at most ``--connections`` at once) are
spread over those merchants. Mechanisms (run one after the other, same server, same data):

* ``poll``: what listen.js does. Every 2 s after the last answer the phone asks
  ``/me/listen/changes`` with its listen key (204 from the worker's board: no session user,
  no table); on 200 it asks ``/me/listen/payments.json`` with its session;
* ``full``: the naive alternative: every phone asks ``/me/listen/payments.json`` (session
  user loaded, the merchant's payments queried) every 2 s;
* ``long``: a long poll on threaded workers (gunicorn ``-k gthread``, 2 workers × 1,200
  threads, ``MARKET_LISTEN_WAIT_SECONDS=25``): the question waits on the worker's board until
  the merchant has news or 25 s pass, and is asked again at once; each worker's reader
  thread reads new payments twice a second and wakes only that merchant's waiting phones.
  The shoppers' pay page is then served by the same threaded workers.

Meanwhile signed SePay webhooks (API key) arrive at ``--rate`` a second, each to a random
phone's merchant with an amount used once. The latency of a payment is from the webhook's
200 to the end of the payments answer that first carries it to a phone of its merchant.
Reported per mechanism: p50 / p95 / max latency, payments heard / acknowledged, errors (any
failed connection or unexpected status), requests per second served to the phones, and the
pay page's p99 (wrk, 2 connections, over 10 stalls) unloaded and under that load, with the
ratio. Loopback only; the phones, wrk and the app share the machine's 2 cores, so the
numbers are a floor for a host that serves phones alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from werkzeug.security import generate_password_hash

from tests.liveserver import ROOT, Browser, Gunicorn, prepare_demo_database
from tests.pgserver import ThrowawayPostgres

HERE = Path(__file__).resolve().parent
WEBHOOK_KEY = "listen-bench-sepay-api-key-0123456789"
PASSWORD = "listen-bench-password"  # noqa: S105 - bench logins on a throwaway database
CHECK_S = 2.0  # listen.js CHECK_MS


class Server(Gunicorn):
    """gunicorn wsgi:app with extra options (the worker class)."""

    def __init__(self, env: dict[str, str], options: list[str]) -> None:
        super().__init__(env)
        self.options = options

    def launch(self) -> Server:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(self.workers),
                *self.options,
                "--bind",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "wsgi:app",
            ],
            cwd=ROOT,
            env={**os.environ, **self.env},
        )
        return self


THREADED = ["--worker-class", "gthread", "--threads", "1200", "--worker-connections", "1300"]
WAIT_S = 25
MECHANISMS = ("poll", "long", "full", "split")
#: ``split``: the long poll on a listen pool of its own (one threaded worker), as nginx routes
#: ``/me/listen/`` there, while the shoppers' pay page and the webhooks stay on the app's sync
#: workers: the held phones' threads then never hold the pay page's interpreter lock.
LISTEN_POOL = ["--worker-class", "gthread", "--threads", "2300", "--worker-connections", "2400"]


@dataclass
class Phone:
    merchant_id: int
    key: str
    cookie: str
    cursor: int
    seen: int
    asked: float
    heard: set[int] = field(default_factory=set)


@dataclass
class Phase:
    name: str
    acked: dict[int, float] = field(default_factory=dict)  # amount -> time of the 200
    heard: dict[int, float] = field(default_factory=dict)  # amount -> first phone's time
    errors: dict[str, int] = field(default_factory=dict)
    requests: int = 0
    sent: int = 0
    answers: dict[str, int] = field(default_factory=dict)

    def count(self, what: str) -> None:
        self.answers[what] = self.answers.get(what, 0) + 1

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


class Client:
    """HTTP/1.1 on loopback, one connection per request, at most ``limit`` at once."""

    def __init__(self, port: int, limit: int) -> None:
        self.port = port
        self.gate = asyncio.Semaphore(limit)

    async def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes = b""
    ) -> tuple[int, bytes]:
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
        # The session is bound to the browser it was made in (strong session protection).
        head.append(f"User-Agent: {Browser.user_agent}")
        head += [f"{k}: {v}" for k, v in headers.items()]
        if body:
            head.append(f"Content-Length: {len(body)}")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode() + body
        async with self.gate:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            try:
                writer.write(raw)
                data = await asyncio.wait_for(reader.read(-1), timeout=30)
            finally:
                writer.close()
        status = int(data.split(b" ", 2)[1])
        return status, data.partition(b"\r\n\r\n")[2]


def _setup_merchants(database_url: str, limit: int) -> list[dict]:
    """Merchants a payment can be matched to (a verified current payee whose account no other
    payee has), each given a login with a cheap hash (the bench logs 2,000 of them in)."""
    engine = create_engine(database_url)
    cheap = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    with engine.begin() as conn:
        rows = conn.execute(
            text(
                "SELECT s.merchant_id, min(p.account_number) AS account FROM stalls s "
                "JOIN payee_accounts p ON p.stall_id = s.id AND p.is_current "
                "WHERE s.status = 'active' AND p.verified_at IS NOT NULL "
                "AND s.merchant_id IS NOT NULL AND p.account_number IN ("
                "  SELECT account_number FROM payee_accounts GROUP BY account_number "
                "  HAVING count(DISTINCT stall_id) = 1) "
                "GROUP BY s.merchant_id ORDER BY s.merchant_id LIMIT :n"
            ),
            {"n": limit},
        ).all()
        have = set(
            conn.scalars(text("SELECT merchant_id FROM users WHERE merchant_id IS NOT NULL"))
        )
        conn.execute(
            text(
                "INSERT INTO users (username, full_name, password_hash, role, active, "
                "merchant_id, large_text, created_at, activated_at) VALUES (:u, :u, :h, "
                "'merchant', true, :m, false, now(), now())"
            ),
            [
                {"u": f"bench-{r.merchant_id}", "h": cheap, "m": r.merchant_id}
                for r in rows
                if r.merchant_id not in have
            ],
        )
        conn.execute(
            text("UPDATE users SET password_hash = :h WHERE merchant_id IS NOT NULL"),
            {"h": cheap},
        )
        found = conn.execute(
            text("SELECT merchant_id, username FROM users WHERE role = 'merchant'")
        )
        names = {merchant_id: username for merchant_id, username in found}
    engine.dispose()
    return [
        {"merchant_id": r.merchant_id, "account": r.account, "username": names[r.merchant_id]}
        for r in rows
    ]


def _log_in(base: str, merchant: dict) -> dict:
    browser = Browser()
    answer = browser.login(base, merchant["username"], PASSWORD)
    assert answer.status == 302, f"login of {merchant['username']}: {answer.status}"
    start = browser.get(base, "/me/listen/payments.json?after=0")
    assert start.status == 200, start.status
    data = start.json()
    cookie = "; ".join(f"{k}={v}" for k, v in browser.cookies.items())
    return {**merchant, "cookie": cookie, "key": data["key"]}


def _top(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        top = conn.scalar(text("SELECT coalesce(max(id), 0) FROM payment_notifications"))
    engine.dispose()
    return int(top)


def _pay_page_p99(base: str, paths: list[str], seconds: int) -> float:
    """wrk on the pay page (2 connections): p99 in ms."""
    output = subprocess.run(
        [
            "wrk",
            "-t1",
            "-c2",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(HERE / "load_get.lua"),
            base,
            "--",
            *paths,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    value, unit = re.search(r"\s99%\s+([\d.]+)(\w+)", output).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def _take(phase: Phase, phone: Phone, body: bytes, now: float) -> None:
    data = json.loads(body)
    for payment in data["payments"]:
        if payment["id"] in phone.heard:
            continue
        phone.heard.add(payment["id"])
        phase.heard.setdefault(payment["amount"], now)
    phone.cursor = max(phone.cursor, data["cursor"])
    phone.seen = max(phone.seen, data["seen"])
    phone.asked = data["asked_at"]
    phone.key = data["key"]


async def _fetch(client: Client, phase: Phase, phone: Phone) -> None:
    status, body = await client.request(
        "GET",
        f"/me/listen/payments.json?after={phone.cursor}",
        {"Cookie": phone.cookie, "Accept": "application/json"},
    )
    phase.requests += 1
    if status != 200:
        phase.error(f"payments {status}")
        return
    await _take(phase, phone, body, time.monotonic())


async def _listen(client: Client, phase: Phase, phone: Phone, mechanism: str, end: float):
    """One phone, as listen.js behaves: ask, wait CHECK_S after a quick answer, ask again at
    once after a held long poll."""
    await asyncio.sleep(random.uniform(0, CHECK_S))
    wait = f"&wait={WAIT_S}" if mechanism in ("long", "split") else ""
    while time.monotonic() < end:
        began = time.monotonic()
        try:
            if mechanism == "full":
                await _fetch(client, phase, phone)
            else:
                status, _body = await client.request(
                    "GET",
                    f"/me/listen/changes?seen={phone.seen}&asked={phone.asked}{wait}",
                    {"X-Listen-Key": phone.key, "Accept": "application/json"},
                )
                phase.requests += 1
                quick = time.monotonic() - began < 1.0
                phase.count(f"{status} {'quick' if quick else 'held'}")
                if status == 200:
                    await _fetch(client, phase, phone)
                elif status != 204:
                    phase.error(f"changes {status}")
        except (TimeoutError, OSError, ValueError) as exc:
            phase.error(type(exc).__name__)
            await asyncio.sleep(CHECK_S)
            continue
        held = mechanism in ("long", "split") and time.monotonic() - began >= 1.0
        if not held:
            await asyncio.sleep(CHECK_S)


async def _webhooks(client: Client, phase: Phase, merchants: list[dict], rate: float, end):
    """Signed (API key) SePay notifications at ``rate`` a second, each a new amount."""
    tasks = []
    base_amount = 100_000 + random.randrange(0, 10**6) * 1000
    started = time.monotonic()
    while time.monotonic() < end:
        phase.sent += 1
        amount = base_amount + phase.sent
        merchant = random.choice(merchants)
        tasks.append(asyncio.create_task(_notify(client, phase, merchant, amount)))
        await asyncio.sleep(max(0.0, started + phase.sent / rate - time.monotonic()))
    await asyncio.gather(*tasks)


async def _notify(client: Client, phase: Phase, merchant: dict, amount: int) -> None:
    event = f"{int(time.time() * 1000)}{amount % 100000:05d}"
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() + 7 * 3600))
    body = json.dumps(
        {
            "id": int(event),
            "gateway": "Vietcombank",
            "transactionDate": when,
            "accountNumber": merchant["account"],
            "code": None,
            "content": "NGHE TIEN",
            "transferType": "in",
            "transferAmount": amount,
            "accumulated": 0,
            "subAccount": None,
            "referenceCode": f"LISTEN.{event}",
            "description": "BankAPINotify NGHE TIEN",
        }
    ).encode()
    try:
        status, answer = await client.request(
            "POST",
            "/api/v1/webhooks/sepay",
            {"Authorization": f"Apikey {WEBHOOK_KEY}", "Content-Type": "application/json"},
            body,
        )
    except (TimeoutError, OSError) as exc:
        phase.error(f"webhook {type(exc).__name__}")
        return
    if status == 200 and b'"duplicate":false' in answer.replace(b" ", b""):
        phase.acked[amount] = time.monotonic()
    else:
        phase.error(f"webhook {status}")


async def _run_phase(args, port, phones, merchants, mechanism, hook_port=None) -> Phase:
    phase = Phase(mechanism)
    # A long poll holds a connection per phone; the other mechanisms' requests are short.
    held = mechanism in ("long", "split")
    client = Client(port, args.phones + 50 if held else args.connections)
    hooks = Client(hook_port, args.connections) if hook_port else client
    start = time.monotonic()
    end = start + args.warmup + args.seconds
    listeners = [
        asyncio.create_task(_listen(client, phase, phone, mechanism, end)) for phone in phones
    ]
    await asyncio.sleep(args.warmup)
    phase.requests = 0
    phase.answers.clear()
    await _webhooks(hooks, phase, merchants, args.rate, end - 3 * CHECK_S)
    await asyncio.gather(*listeners)
    phase.elapsed = args.seconds
    return phase


def _measure(
    args, server, database_url, merchants, mechanism, pay_paths, listen_server=None
) -> tuple[Phase, float]:
    top = _top(database_url)
    now = time.time()
    phones = [
        Phone(
            merchant_id=m["merchant_id"],
            key=m["key"],
            cookie=m["cookie"],
            cursor=top,
            seen=top,
            asked=now,
        )
        for m in (merchants[i % len(merchants)] for i in range(args.phones))
    ]
    with ThreadPoolExecutor(1) as pool:
        # The pay page measured while the phones listen and the payments arrive.
        def later():
            time.sleep(args.warmup + 2)
            return _pay_page_p99(server.base, pay_paths, max(5, args.seconds - 10))

        loaded = pool.submit(later)
        if listen_server is None:
            run = _run_phase(args, server.port, phones, merchants, mechanism)
        else:  # phones on the listen pool; webhooks (and the pay page) on the app's
            run = _run_phase(args, listen_server.port, phones, merchants, mechanism, server.port)
        phase = asyncio.run(run)
        return phase, loaded.result()


def _report(phase: Phase, pay_unloaded: float, pay_loaded: float) -> None:
    latencies = sorted(
        max(0.0, phase.heard[a] - t) for a, t in phase.acked.items() if a in phase.heard
    )
    missing = len(phase.acked) - len(latencies)

    def pct(p: float) -> str:
        if not latencies:
            return "—"
        return f"{latencies[min(len(latencies) - 1, int(p * len(latencies)))]:.2f}"

    print(
        f"{phase.name:5} | heard {len(latencies)}/{len(phase.acked)} of {phase.sent} sent "
        f"(missing {missing}) | latency s p50 {pct(0.5)} p95 {pct(0.95)} "
        f"max {latencies[-1] if latencies else 0:.2f} | errors "
        f"{sum(phase.errors.values())} {phase.errors or ''} | phone rps "
        f"{phase.requests / phase.elapsed:.0f} | pay p99 ms unloaded {pay_unloaded:.1f} "
        f"loaded {pay_loaded:.1f} ratio {pay_loaded / pay_unloaded:.2f} | answers "
        f"{dict(sorted(phase.answers.items()))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phones", type=int, default=2100)
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=6)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--mechanisms", nargs="+", default=["poll", "long", "full"], choices=MECHANISMS
    )
    parser.add_argument("--merchants", type=int, default=2100)
    args = parser.parse_args()

    postgres = ThrowawayPostgres().start()
    servers: dict[str, Gunicorn] = {}
    try:
        url = postgres.create_database("market_bench_listen")
        instance = Path(tempfile.mkdtemp(prefix="bench-listen-"))
        env = {
            "MARKET_ENV": "production",
            "SECRET_KEY": os.urandom(16).hex(),
            "DATABASE_URL": url,
            "MARKET_SECURE_COOKIES": "0",
            "MARKET_INSTANCE_PATH": str(instance / "host"),
            "MARKET_LOGIN_RATE_LIMIT": "1000000 per minute",
            "MARKET_LOGIN_ACCOUNT_RATE_LIMIT": "1000000 per minute",
        }
        servers["sync"] = Gunicorn(env).launch()
        prepare_demo_database(url, instance / "deploy")
        servers["sync"].ready()
        base = servers["sync"].base
        admin = Browser()
        assert admin.login(base, "admin").status == 302
        saved = admin.submit(
            base,
            "/admin/webhooks/sepay",
            {"sepay-auth_mode": "apikey", "sepay-secret": WEBHOOK_KEY, "sepay-enabled": "y"},
            page="/admin/webhooks",
        )
        assert saved.status == 200, saved.status
        merchants = _setup_merchants(url, args.merchants)
        with ThreadPoolExecutor(4) as pool:
            merchants = list(pool.map(lambda m: _log_in(base, m), merchants))
        pay_paths = [f"/pay/{p}" for p in _pay_stalls(url)]
        results = []
        threaded = {**env, "MARKET_LISTEN_WAIT_SECONDS": str(WAIT_S)}
        for mechanism in args.mechanisms:
            kinds = {"long": ["threaded"], "split": ["sync", "listen"]}.get(mechanism, ["sync"])
            # Only the hosts this mechanism uses run on the 2 cores: the others stop first.
            for other in [k for k in servers if k not in kinds]:
                servers.pop(other).stop()
            for kind in kinds:
                if kind == "sync" and kind not in servers:
                    servers[kind] = Gunicorn(env).start()
                elif kind == "threaded" and kind not in servers:
                    servers[kind] = Server(threaded, THREADED).start()
                elif kind == "listen" and kind not in servers:
                    pool = Server(threaded, LISTEN_POOL)
                    pool.workers = 1
                    servers[kind] = pool.start()
            server = servers[kinds[0]]
            listen_server = servers.get("listen") if mechanism == "split" else None
            _pay_page_p99(server.base, pay_paths, 3)  # warm
            unloaded = _pay_page_p99(server.base, pay_paths, max(5, args.seconds - 10))
            phase, loaded = _measure(
                args, server, url, merchants, mechanism, pay_paths, listen_server
            )
            results.append((phase, unloaded, loaded))
    finally:
        for server in servers.values():
            server.stop()
        postgres.destroy()

    load = os.getloadavg()
    print(
        f"python {sys.version.split()[0]}, nproc {os.cpu_count()}, load average "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; {args.phones} phones over "
        f"{len(merchants)} merchants, {args.rate:g} payments/s for {args.seconds} s, "
        f"gunicorn 2 workers (sync; gthread for long; split: 2 sync + a 1-worker listen "
        f"pool), PostgreSQL"
    )
    for phase, unloaded, loaded in results:
        _report(phase, unloaded, loaded)


def _pay_stalls(database_url: str) -> list[str]:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT m.code, s.code FROM stalls s JOIN markets m ON m.id = s.market_id "
                "JOIN payee_accounts p ON p.stall_id = s.id AND p.is_current "
                "WHERE s.status = 'active' AND p.verified_at IS NOT NULL "
                "ORDER BY m.code, s.code LIMIT 10"
            )
        ).all()
    engine.dispose()
    return [f"{market}/{stall}" for market, stall in rows]


if __name__ == "__main__":
    main()
