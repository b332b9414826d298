"""2,100 listening phones and 10 payments a second on one 2-core host: how fast each phone
hears its money, and what it costs the shoppers' pay page. Mechanisms side by side.

    .venv/bin/python bench/bench_listen.py [--phones 2100] [--seconds 40] [--rate 10]
        [--rounds 3] [--pay-rate 40] [--mechanisms split:4:10 split:4 poll long full]

One gunicorn host (production settings) on a throwaway PostgreSQL (tests/pgserver.py; as in
production, every commit waits for the disk) with the Thái Nguyên demo data, vacuumed and
checkpointed after loading. Each merchant of the demo that a payment can be matched to gets
a login; the phones (asyncio, raw HTTP/1.1 on 127.0.0.1, one connection per request as a
sync worker closes them, at most ``--connections`` at once unless held) are spread over
those merchants. Mechanisms (default: the chosen layout, niced and not), each
``MECHANISM[:WORKERS[:NICE]]`` (the app's sync workers, default 2 as ``make run``; the listen
pool's niceness), run one after the other on the same data:

* ``poll``: what listen.js does on sync workers. Every 2 s after the last answer the phone
  asks ``/me/listen/changes`` with its listen key (204 from the worker's board: no session
  user, no table); on 200 it asks ``/me/listen/payments.json`` with its session;
* ``full``: the naive alternative: every phone asks ``/me/listen/payments.json`` (session
  user loaded, the merchant's payments queried) every 2 s;
* ``long``: a long poll on threaded workers for everything (gunicorn ``-k gthread``, 2
  workers × 1,600 threads, ``MARKET_LISTEN_WAIT_SECONDS=25``): the question waits on the
  worker's board until the merchant has news or 25 s pass, and is asked again at once; each
  worker's reader thread reads new payments twice a second and wakes only that merchant's
  waiting phones. The shoppers' pay page is then served by the same threaded workers;
* ``split``: docs/deploy.md's layout. The same long poll, but the phones' requests (the
  question and the payments answers, ``/me/listen/…``) go to a listen pool of its own (one
  gthread worker, 2,400 threads, started at NICE), as nginx routes them; the pay page and
  the webhooks stay on the app's sync workers.

Meanwhile signed SePay webhooks (API key) arrive at ``--rate`` a second, each to a random
phone's merchant with an amount used once. The latency of a payment is from the webhook's
200 to the end of the payments answer that first carries it to a phone of its merchant.

The pay page (10 stalls in turn) is opened by shoppers at ``--pay-rate`` a second (default
40, four times the payments), arriving at random, each on a connection of its own, timed
from its arrival (a slow answer delays no later shopper). Its p99 is measured without the
phones and payments, then with them, ``--rounds`` times per mechanism. ``--pay-rate 0``
measures it as the first runs did: wrk keeping both workers busy back to back, a saturated
host, where anything else the 2 cores do shows in the tail.

Reported per mechanism: p50 / p95 / max latency over every round's payments, payments heard
/ acknowledged, errors (any failed connection or unexpected status), requests per second
served to the phones, the pay page's p99 unloaded → loaded in each round with the median of
the rounds' ratios, the cores each part used while loaded (app and listen pools,
PostgreSQL, the bench's own processes, the machine's iowait and hypervisor steal), and when
the loaded pay page's slowest 1 % arrived (one moment: a stall; spread: queueing). The
phones and the bank run in a process of their own at a lower priority (``--phones-nice``,
default 10): on the real host they are elsewhere. Loopback only; the phones, the shoppers,
PostgreSQL and the app still share the machine's 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, text
from werkzeug.security import generate_password_hash

from tests.liveserver import Browser, Gunicorn, prepare_demo_database, processes
from tests.pgserver import ThrowawayPostgres

HERE = Path(__file__).resolve().parent
WEBHOOK_KEY = "listen-bench-sepay-api-key-0123456789"
PASSWORD = "listen-bench-password"  # noqa: S105 - bench logins on a throwaway database
CHECK_S = 2.0  # listen.js CHECK_MS


#: As many threads as connections a worker takes: a connection beyond its threads would wait
#: for a held one to end (up to the whole wait) before it is even read.
THREADED = ("--worker-class", "gthread", "--threads", "1600", "--worker-connections", "1600")
WAIT_S = 25
MECHANISMS = ("poll", "long", "full", "split")
#: ``split``'s listen pool: one threaded worker holding every phone's question, so the held
#: threads never share an interpreter lock with the pay page.
LISTEN_POOL = ("--worker-class", "gthread", "--threads", "2400", "--worker-connections", "2400")


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


def _pay_page_p99(base: str, paths: list[str], seconds: int, rate: float) -> tuple[float, str]:
    """The pay page's p99 in ms. At ``rate`` pages a second: shoppers arriving at random
    (Poisson) times, each on a connection of their own opened when they arrive, timed from
    that moment (a slow answer delays no later shopper), in a process of its own. With rate 0:
    wrk, 2 connections asking back to back, both workers always busy (a saturated host).
    Also when (seconds into the measurement) the slowest 1 % arrived: one moment or spread."""
    if rate:
        fork = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(1, mp_context=fork) as shoppers:
            port = int(base.rsplit(":", 1)[1])
            shopped = shoppers.submit(_shoppers, port, paths, seconds, rate).result()
        times = sorted(took for _, took in shopped)
        p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
        slow = sorted(at for at, took in shopped if took >= p99)
        return 1000 * p99, _moments(slow)
    output = subprocess.run(
        [
            *("wrk", "-t1", "-c2", f"-d{seconds}s", "--timeout", "10s", "--latency"),
            *("-s", str(HERE / "load_get.lua"), base, "--", *paths),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 60,
    ).stdout
    unexpected = int(re.search(r"unexpected: (\d+)", output).group(1))
    assert unexpected == 0, f"pay page: {unexpected} answers other than 200\n{output}"
    value, unit = re.search(r"\s99%\s+([\d.]+)(\w+)", output).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], ""


def _moments(seconds: list[float]) -> str:
    """Sorted moments as runs within a second of each other: "12.1-12.9 (14), 30.2"."""
    runs: list[list[float]] = []
    for at in seconds:
        if runs and at - runs[-1][-1] <= 1.0:
            runs[-1].append(at)
        else:
            runs.append([at])
    return ", ".join(
        f"{r[0]:.1f}" if len(r) == 1 else f"{r[0]:.1f}-{r[-1]:.1f} ({len(r)})" for r in runs
    )


def _shoppers(port: int, paths: list[str], seconds: int, rate: float) -> list[tuple[float, float]]:
    """Pay pages at Poisson arrival times for ``seconds``: each one's arrival (seconds from
    the start) and time in seconds, from its arrival to the end of its answer."""

    async def shop(client: Client, path: str, arrival: float, times: list) -> None:
        status, _body = await client.request("GET", path, {})
        assert status == 200, f"pay page {path}: {status}"
        times.append((arrival - start, time.monotonic() - arrival))

    start = time.monotonic()

    async def run() -> list[tuple[float, float]]:
        client = Client(port, 10_000)
        times: list[tuple[float, float]] = []
        tasks = []
        arrival = time.monotonic()
        end = arrival + seconds
        while arrival < end:
            await asyncio.sleep(max(0.0, arrival - time.monotonic()))
            path = paths[len(tasks) % len(paths)]
            tasks.append(asyncio.create_task(shop(client, path, arrival, times)))
            arrival += random.expovariate(rate)
        await asyncio.gather(*tasks)
        return times

    return asyncio.run(run())


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
    # The phones and the bank's webhooks run in a process of their own, forked before any
    # thread starts here, at a lower priority (--phones-nice): they stand for 2,100 devices
    # and a bank elsewhere, so they take the CPU the host leaves rather than the host's. What
    # they wait for the CPU counts in the latency they report.
    hook_port = None if listen_server is None else server.port
    port = server.port if listen_server is None else listen_server.port
    fork = multiprocessing.get_context("fork")
    with (
        ProcessPoolExecutor(1, mp_context=fork) as phones_process,
        ThreadPoolExecutor(1) as pool,
    ):
        run = phones_process.submit(_phones, args, port, phones, merchants, mechanism, hook_port)

        # The pay page measured while the phones listen and the payments arrive, and where
        # the 2 cores went meanwhile.
        def later():
            time.sleep(args.warmup + 2)
            before, began = _cpu_ticks(), time.monotonic()
            seconds = max(5, args.seconds - 10)
            p99, slow = _pay_page_p99(server.base, pay_paths, seconds, args.pay_rate)
            spent = _cpu_spent(before, _cpu_ticks(), time.monotonic() - began, pools)
            return p99, slow, spent

        pools = (
            {"app": server} if listen_server is None else {"app": server, "listen": listen_server}
        )
        loaded = pool.submit(later)
        phase = run.result()
        p99, phase.slow, phase.cpu = loaded.result()
        return phase, p99


def _cpu_ticks() -> dict[int | str, tuple[str, int]]:
    """Every process's command name and CPU time (user + system, clock ticks), and the
    machine's time waiting for the disk and stolen by the hypervisor."""
    system = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    found: dict[int | str, tuple[str, int]] = {
        "iowait": ("iowait", int(system[5])),
        "steal": ("steal", int(system[8])),
    }
    for pid, command, fields in processes():
        found[pid] = (command, int(fields[11]) + int(fields[12]))
    return found


def _cpu_spent(before, after, seconds: float, pools: dict[str, Gunicorn]) -> dict[str, float]:
    """Cores used in the window, by part: the gunicorn pools, PostgreSQL, and the bench's
    own processes (the phones, the bank, the shoppers)."""
    roles = {
        pid: name
        for name, pool in pools.items()
        for pid in [pool.process.pid, *pool.workers_pids()]
    }
    spent: dict[str, float] = {}
    for pid, (command, ticks) in after.items():
        if pid not in before:
            continue
        if isinstance(pid, str):
            role = pid
        elif pid in roles:
            role = roles[pid]
        elif command == "postgres":
            role = "postgres"
        elif command.startswith("python") or command == "wrk":
            role = "bench"
        else:
            role = "other"
        used = (ticks - before[pid][1]) / os.sysconf("SC_CLK_TCK") / seconds
        spent[role] = spent.get(role, 0.0) + used
    return {role: round(cores, 2) for role, cores in sorted(spent.items())}


def _phones(args, port, phones, merchants, mechanism, hook_port) -> Phase:
    os.nice(args.phones_nice)
    return asyncio.run(_run_phase(args, port, phones, merchants, mechanism, hook_port))


def _report(name: str, rounds: list[tuple[Phase, float, float]]) -> None:
    """One line per mechanism: the phones' latency over every round's payments, and the pay
    page's p99 unloaded and loaded in each round, with the median of the rounds' ratios."""
    latencies = sorted(
        max(0.0, phase.heard[a] - t)
        for phase, _, _ in rounds
        for a, t in phase.acked.items()
        if a in phase.heard
    )
    acked = sum(len(phase.acked) for phase, _, _ in rounds)
    sent = sum(phase.sent for phase, _, _ in rounds)
    errors: dict[str, int] = {}
    for phase, _, _ in rounds:
        for what, n in phase.errors.items():
            errors[what] = errors.get(what, 0) + n
    rps = statistics.median(phase.requests / phase.elapsed for phase, _, _ in rounds)
    ratios = [loaded / unloaded for _, unloaded, loaded in rounds]
    pay = ", ".join(f"{unloaded:.1f} → {loaded:.1f}" for _, unloaded, loaded in rounds)
    cpu = {
        part: statistics.median(phase.cpu.get(part, 0.0) for phase, _, _ in rounds)
        for part in sorted({part for phase, _, _ in rounds for part in phase.cpu})
    }

    def pct(p: float) -> str:
        if not latencies:
            return "—"
        return f"{latencies[min(len(latencies) - 1, int(p * len(latencies)))]:.2f}"

    print(
        f"{name:10} | heard {len(latencies)}/{acked} of {sent} sent "
        f"(missing {acked - len(latencies)}) | latency s p50 {pct(0.5)} p95 {pct(0.95)} "
        f"max {latencies[-1] if latencies else 0:.2f} | errors "
        f"{sum(errors.values())} {errors or ''} | phone rps {rps:.0f} | pay p99 ms "
        f"unloaded → loaded by round {pay} | ratios "
        f"{', '.join(f'{r:.2f}' for r in ratios)} median {statistics.median(ratios):.2f} | "
        f"cores used (median) {cpu} | loaded, slowest 1 % arrived at s "
        + " / ".join(phase.slow for phase, _, _ in rounds)
    )


def _mechanism(spec: str) -> tuple[str, int, int]:
    """``MECHANISM[:WORKERS[:NICE]]`` -> (mechanism, sync workers, listen pool's nice)."""
    parts = spec.split(":")
    name, workers, nice = [*parts, *("2", "0")[len(parts) - 1 :]][:3]
    if name not in MECHANISMS or not workers.isdigit() or not nice.isdigit():
        raise argparse.ArgumentTypeError(f"not MECHANISM[:WORKERS[:NICE]]: {spec}")
    return name, int(workers), int(nice)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phones", type=int, default=2100)
    parser.add_argument("--seconds", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=6)
    parser.add_argument("--rate", type=float, default=10.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--mechanisms",
        nargs="+",
        default=["split:4:10", "split:4"],
        type=lambda spec: _mechanism(spec) and spec,
        help="each MECHANISM[:WORKERS[:NICE]]: the app's sync workers (poll, full, split; "
        "default 2) and the listen pool's niceness (split; default 0). One of "
        + ", ".join(MECHANISMS),
    )
    parser.add_argument("--merchants", type=int, default=2100)
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="pay page unloaded, then loaded, this many times per mechanism",
    )
    parser.add_argument(
        "--pay-rate",
        type=float,
        default=40.0,
        help="pay pages a second while measuring its p99 (0: as fast as the host answers)",
    )
    parser.add_argument(
        "--phones-nice",
        type=int,
        default=10,
        help="niceness of the process simulating the phones and the bank (0: as the host)",
    )
    args = parser.parse_args()

    # PostgreSQL as in production: every commit waits for the disk.
    postgres = ThrowawayPostgres(durable=True).start()
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
        servers["sync2"] = Gunicorn(env).launch()
        prepare_demo_database(url, instance / "deploy")
        servers["sync2"].ready()
        base = servers["sync2"].base
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
        _settle(url)
        pay_paths = [f"/pay/{p}" for p in _pay_stalls(url)]
        results = []
        threaded = {**env, "MARKET_LISTEN_WAIT_SECONDS": str(WAIT_S)}
        for name in args.mechanisms:
            mechanism, workers, nice = _mechanism(name)
            sync, listen = f"sync{workers}", f"listen{nice}"
            kinds = {"long": ["threaded"], "split": [sync, listen]}.get(mechanism, [sync])
            # Only the hosts this mechanism uses run on the 2 cores: the others stop first.
            for other in [k for k in servers if k not in kinds]:
                servers.pop(other).stop()
            for kind in kinds:
                if kind == sync and kind not in servers:
                    servers[kind] = Gunicorn(env, workers=workers).start()
                elif kind == "threaded" and kind not in servers:
                    servers[kind] = Gunicorn(threaded, options=THREADED).start()
                elif kind == listen and kind not in servers:
                    pool = Gunicorn(threaded, workers=1, options=LISTEN_POOL, nice=nice)
                    servers[kind] = pool.start()
            server = servers[kinds[0]]
            listen_server = servers[listen] if mechanism == "split" else None
            _pay_page_p99(server.base, pay_paths, 3, args.pay_rate)  # warm
            rounds = []
            for _ in range(args.rounds):
                unloaded, _ = _pay_page_p99(
                    server.base, pay_paths, max(5, args.seconds - 10), args.pay_rate
                )
                phase, loaded = _measure(
                    args, server, url, merchants, mechanism, pay_paths, listen_server
                )
                rounds.append((phase, unloaded, loaded))
            results.append((name, rounds))
    finally:
        for server in servers.values():
            server.stop()
        postgres.destroy()

    load = os.getloadavg()
    print(
        f"python {sys.version.split()[0]}, nproc {os.cpu_count()}, load average "
        f"{load[0]:.1f} {load[1]:.1f} {load[2]:.1f}; {args.phones} phones over "
        f"{len(merchants)} merchants, {args.rate:g} payments/s for {args.seconds} s, "
        f"gunicorn (mechanism:workers:nice, sync workers; long: 2 gthread; split: sync + a "
        f"1-worker gthread listen pool at that nice), PostgreSQL; pay page "
        + (f"{args.pay_rate:g}/s at random" if args.pay_rate else "saturated (wrk -c2)")
        + f"; phones at nice {args.phones_nice}"
    )
    for name, rounds in results:
        _report(name, rounds)


def _settle(database_url: str) -> None:
    """After loading the demo and 2,000 logins, the database as it is on a working day: its
    statistics current and the load's writes checkpointed, not flushed during a measurement."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
        conn.execute(text("CHECKPOINT"))
    engine.dispose()


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
