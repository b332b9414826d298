"""Province adoption dashboard: 60 markets × 250 stalls and 0.5M, 1M, 2M payments over a year,
on SQLite and on PostgreSQL. Target (issue 23): ``GET /api/v1/adoption`` and ``GET /adoption/``
at most 50 ms median on PostgreSQL with 2M payments as served, and flat as payments grow.

    .venv/bin/python bench/bench_adoption.py [--sizes 500000 1000000 2000000] [--rounds 5]
                                             [--db sqlite,postgresql]

For each database: migrate an empty one, insert the registry (15,000 stalls, merchants and
payee accounts: most verified, some replaced, stickers printed and audited for most), then add
payments in steps up to each size (each step spread over the whole last year, so density grows
as it would), rebuild the rollups the way ``flask adoption-rebuild`` does (one INSERT … SELECT
… GROUP BY per rollup) and measure, median of ``--rounds`` after one warm-up:

* ``report``: ``market.adoption.queries.province_report`` alone (the SQL and the assembly);
* ``api``, ``page``: ``GET /api/v1/adoption`` (token auth, JSON) and ``GET /adoption/`` (the
  whole HTML page with its SVG charts) through the app as served: the counts from the
  worker's cache (``market.adoption.cache``, ``MARKET_ADOPTION_CACHE_SECONDS`` = 60), as every
  request but one a minute per worker and scope gets them (median of 5 × ``--rounds``);
* ``api cold``, ``page cold``: the same with the cache emptied before each request: what the
  one request a minute that computes the counts again costs;
* ``market``: ``GET /adoption/markets/<code>`` as served.

Payments go to stalls with a verified payee, with a skewed activity (a fifth of them never
paid; the rest log-normal), at market hours in Vietnam time; 3 % more notifications are
outgoing transfers or unmatched, stored but never counted. Rows are bulk-loaded: COPY on
PostgreSQL (psycopg), ``executemany`` in one transaction on SQLite, with the notifications'
secondary indexes dropped during the load and built again after it. PostgreSQL is the suite's
throwaway server (tests/pgserver.py: fsync off) and is VACUUM ANALYZEd after each load, as
autovacuum would; SQLite is ANALYZEd.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_MS = 50.0
SERVED_ROUNDS = 5  # × --rounds for the served (cached) requests
MARKETS = 60
STALLS = 250
DAYS = 365
SEED = 20221
CHUNK = 200_000
AMOUNTS = [5_000, 10_000, 15_000, 20_000, 25_000, 30_000, 35_000, 50_000, 70_000, 100_000]
COLUMNS = (
    "provider",
    "event_id",
    "raw_body",
    "received_at",
    "transaction_at",
    "account_number",
    "amount",
    "direction",
    "content",
    "reference_code",
    "stall_id",
    "match_status",
)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the registry ------------------------------------------------------------------------------


def seed_registry(rng: random.Random, now: datetime) -> dict:
    """Markets, stalls, merchants, payees and an admin; returns what payments need."""
    from sqlalchemy import insert, select, text

    from market.auth.models import User
    from market.auth.services import create_api_token
    from market.extensions import db
    from market.markets.models import DISTRICTS, Market, Stall
    from market.merchants.models import Merchant, PayeeAccount

    year_ago = now - timedelta(days=DAYS)
    markets = []
    for n in range(1, MARKETS + 1):
        markets.append(
            {
                "id": n,
                "code": f"BM-{n:02d}",
                "name": f"Chợ thử {n:02d}",
                "district": DISTRICTS[n % len(DISTRICTS)],
                "commune": "",
                "address": "",
                "status": "live" if n <= 45 else "onboarding",
                "created_at": year_ago,
                "fees_cashless_since": (now - timedelta(days=100)).date() if n % 3 else None,
                "ecommerce_listed_since": (now - timedelta(days=50)).date() if n % 2 else None,
                "ecommerce_note": None,
            }
        )
    db.session.execute(insert(Market), markets)
    stalls, merchants, payees = [], [], []
    payable: list[int] = []
    for market in markets:
        complete = market["id"] <= 25  # these markets have every active stall verified
        for s in range(1, STALLS + 1):
            stall_id = (market["id"] - 1) * STALLS + s
            status = rng.choices(["active", "vacant", "closed"], [95, 3, 2])[0]
            created = year_ago + timedelta(days=rng.uniform(0, 300))
            verified = complete or rng.random() < 0.9
            verified_at = created + timedelta(hours=rng.uniform(1, 400)) if verified else None
            printed = verified_at + timedelta(days=rng.uniform(0, 10)) if verified else None
            if printed is not None and rng.random() < 0.15:
                printed = created - timedelta(days=1)  # sticker of an older account
            audited = rng.random() < 0.3 and printed is not None
            merchants.append(
                {
                    "id": stall_id,
                    "full_name": f"Tiểu thương {stall_id}",
                    "phone": f"09{stall_id:08d}",
                    "consent": True,
                    "created_at": created,
                }
            )
            stalls.append(
                {
                    "id": stall_id,
                    "market_id": market["id"],
                    "code": f"S-{s:03d}",
                    "zone": "",
                    "category": "khac",
                    "status": status,
                    "merchant_id": stall_id,
                    "sticker_printed_at": printed,
                    "last_audit_at": printed + timedelta(days=3) if audited else None,
                    "last_audit_result": (
                        rng.choices(["match", "mismatch", "unreadable"], [94, 4, 2])[0]
                        if audited
                        else None
                    ),
                    "created_at": created,
                }
            )
            if rng.random() < 0.05 and verified:  # an account replaced earlier
                payees.append(_payee(stall_id, created - timedelta(days=30), created, False))
            payees.append(_payee(stall_id, created, verified_at, True))
            if verified:
                payable.append(stall_id)
    db.session.execute(insert(Merchant), merchants)
    db.session.execute(insert(Stall), stalls)
    db.session.execute(insert(PayeeAccount), payees)
    admin = User(username="admin", full_name="Admin", role="admin")
    admin.set_password("bench-adoption-password")
    db.session.add(admin)
    db.session.commit()
    if db.engine.dialect.name == "postgresql":
        for table in ("markets", "stalls", "merchants", "payee_accounts"):
            db.session.execute(
                text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")  # noqa: S608
            )
        db.session.commit()
    _token, secret = create_api_token(db.session.scalar(select(User)), "bench")
    return {"payable": payable, "token": secret, "stalls": len(stalls)}


def _payee(stall_id: int, created: datetime, verified_at: datetime | None, current: bool) -> dict:
    return {
        "stall_id": stall_id,
        "bank_bin": "970436",
        "account_number": f"{stall_id:010d}",
        "service": "account",
        "holder_name": "CHU SAP",
        "is_current": current,
        "created_at": created,
        "replaced_at": None if current else created + timedelta(days=30),
        "verified_at": verified_at,
    }


# --- payments ----------------------------------------------------------------------------------


class PaymentMaker:
    """Rows of payment_notifications, reproducible, spread over the last year."""

    def __init__(self, rng: random.Random, payable: list[int], now: datetime) -> None:
        self.rng = rng
        self.now = now
        weights = [0.0 if rng.random() < 0.2 else rng.lognormvariate(0, 1.2) for _ in payable]
        self.stalls = payable
        self.cumulative = list(itertools.accumulate(weights))
        self.serial = itertools.count(1)
        # Vietnam midnight today, in UTC: day offsets count back from it.
        vn_now = now + timedelta(hours=7)
        self.today_start = (
            vn_now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(hours=7)
        ).replace(tzinfo=UTC)

    def rows(self, count: int):
        """``count`` counted payments and 3 % more notifications that never count."""
        rng = self.rng
        extra = count * 3 // 100
        for kind in itertools.chain(itertools.repeat("in", count), itertools.repeat("x", extra)):
            serial = next(self.serial)
            day = rng.randrange(DAYS)
            at = (
                self.today_start
                - timedelta(days=day)
                + timedelta(seconds=rng.uniform(5, 19) * 3600)
            )
            if at > self.now:
                at -= timedelta(days=1)
            amount = rng.choice(AMOUNTS)
            if kind == "in":
                stall_id = rng.choices(self.stalls, cum_weights=self.cumulative)[0]
                direction, status = "in", "matched"
            else:
                stall_id = None
                direction, status = rng.choice([("out", "ignored"), ("in", "unmatched")])
            body = f'{{"id":{serial},"transferAmount":{amount},"transferType":"{direction}"}}'
            yield (
                "sepay",
                f"b{serial}",
                body,
                at,
                at,
                "",
                amount,
                direction,
                "Thanh toan",
                f"FT{serial}",
                stall_id,
                status,
            )


def load_payments(rows, dialect: str) -> int:
    """Bulk-load notification rows. Their secondary indexes are dropped for the load and built
    again after it (as for any bulk load); the unique (provider, event_id) constraint stays."""
    from market.extensions import db
    from market.payments.models import PaymentNotification

    indexes = list(PaymentNotification.__table__.indexes)
    for index in indexes:
        index.drop(db.engine)
    loaded = 0
    connection = db.engine.raw_connection()
    try:
        if dialect == "postgresql":
            copy_sql = f"COPY payment_notifications ({', '.join(COLUMNS)}) FROM STDIN"
            with connection.cursor() as cursor, cursor.copy(copy_sql) as copy:
                for row in rows:
                    copy.write_row(row)
                    loaded += 1
        else:
            cursor = connection.cursor()
            sql = (
                f"INSERT INTO payment_notifications ({', '.join(COLUMNS)}) "  # noqa: S608
                f"VALUES ({', '.join('?' * len(COLUMNS))})"
            )
            batch = []
            for row in rows:
                # As SQLAlchemy stores a DateTime on SQLite: UTC text without the zone.
                stamp = row[3].strftime("%Y-%m-%d %H:%M:%S.%f")
                batch.append((*row[:3], stamp, stamp, *row[5:]))
                if len(batch) >= CHUNK:
                    cursor.executemany(sql, batch)
                    loaded += len(batch)
                    batch.clear()
            cursor.executemany(sql, batch)
            loaded += len(batch)
        connection.commit()
    finally:
        connection.close()
    for index in indexes:
        index.create(db.engine)
    return loaded


# --- measuring ---------------------------------------------------------------------------------


def median_ms(call, rounds: int) -> float:
    call()  # warm-up: caches, the pool, the OpenAPI spec
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def measure(app, token: str, rounds: int) -> dict:
    from sqlalchemy import select

    from market.adoption import cache, queries
    from market.adoption.criteria import Settings
    from market.extensions import db
    from market.markets.models import Market

    settings = Settings.from_config(app.config)
    api = app.test_client()
    page = app.test_client()
    response = page.post(
        "/login", data={"username": "admin", "password": "bench-adoption-password"}
    )
    assert response.status_code == 302, response.status_code

    def report():
        with app.app_context():
            markets = queries.in_province_order(db.session.scalars(select(Market)))
            queries.province_report(markets, settings, scope="province", now=queries.now_utc())
            db.session.remove()

    def call_api():
        response = api.get("/api/v1/adoption", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.status_code

    def call_page():
        response = page.get("/adoption/")
        assert response.status_code == 200, response.status_code

    def call_market():
        response = page.get("/adoption/markets/BM-01")
        assert response.status_code == 200, response.status_code

    def cold(call):
        def call_cold():
            figures = app.extensions.get(cache.EXTENSION)
            if figures is not None:
                figures.clear()
            call()

        return call_cold

    cold(lambda: None)()  # the counts kept from the previous size are a minute old at most
    data = api.get("/api/v1/adoption", headers={"Authorization": f"Bearer {token}"}).get_json()
    return {
        "report_ms": median_ms(report, rounds),
        # As served a request takes milliseconds: more rounds for a steadier median.
        "api_ms": median_ms(call_api, SERVED_ROUNDS * rounds),
        "page_ms": median_ms(call_page, SERVED_ROUNDS * rounds),
        "api_cold_ms": median_ms(cold(call_api), rounds),
        "page_cold_ms": median_ms(cold(call_page), rounds),
        "market_ms": median_ms(call_market, SERVED_ROUNDS * rounds),
        "payments_30d": data["totals"]["payments"],
        "paying_stalls": data["totals"]["paying_stalls"],
        "qualifying": data["totals"]["qualifying"],
    }


def run_database(
    kind: str, sizes: list[int], rounds: int, workdir: Path, now: datetime
) -> list[dict]:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from market.adoption import services
    from market.app import create_app
    from market.extensions import db

    server = None
    if kind == "postgresql":
        from tests.pgserver import ThrowawayPostgres

        server = ThrowawayPostgres().start()
        url = server.create_database("bench_adoption")
    else:
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    results = []
    try:
        app = create_app(
            {
                "ENV": "testing",
                "SQLALCHEMY_DATABASE_URI": url,
                "RATELIMIT_ENABLED": False,
                "WTF_CSRF_ENABLED": False,
            }
        )
        with app.app_context():
            log(f"{kind}: migrating")
            upgrade()
            if kind == "sqlite":
                db.session.execute(text("PRAGMA journal_mode=WAL"))
                db.session.commit()
            rng = random.Random(SEED)
            start = time.perf_counter()
            seeded = seed_registry(rng, now)
            log(
                f"{kind}: registry of {MARKETS} markets × {STALLS} stalls in "
                f"{time.perf_counter() - start:.1f} s"
            )
            db.session.remove()
        maker = PaymentMaker(rng, seeded["payable"], now)
        total = 0
        for size in sizes:
            # Loading in an app context of its own; measuring outside it, so that each
            # request pushes its own context as under a real server.
            with app.app_context():
                start = time.perf_counter()
                loaded = load_payments(maker.rows(size - total), kind)
                total = size
                log(
                    f"{kind}: +{loaded:,} notifications loaded in "
                    f"{time.perf_counter() - start:.1f} s (counted payments: {total:,})"
                )
                start = time.perf_counter()
                rebuilt = services.rebuild_rollups()
                rebuild_s = time.perf_counter() - start
                _analyze(kind)
                db.session.remove()
            log(
                f"{kind}: rollups rebuilt in {rebuild_s:.1f} s: {rebuilt.stall_days:,} "
                f"stall-days, {rebuilt.market_days:,} market-days"
            )
            assert rebuilt.payments == total, (rebuilt.payments, total)
            numbers = measure(app, seeded["token"], rounds)
            row = {
                "db": kind,
                "payments": total,
                "stall_days": rebuilt.stall_days,
                "rebuild_s": rebuild_s,
                **numbers,
                "load": os.getloadavg()[0],
            }
            log(
                f"{kind} {total:,}: report {row['report_ms']:.0f} ms, API "
                f"{row['api_ms']:.0f} ms (cold {row['api_cold_ms']:.0f}), page "
                f"{row['page_ms']:.0f} ms (cold {row['page_cold_ms']:.0f}) "
                f"({row['payments_30d']:,} payments and {row['paying_stalls']:,} paying stalls "
                f"in 30 days)"
            )
            results.append(row)
        with app.app_context():
            db.engine.dispose()
    finally:
        if server is not None:
            server.destroy()
    return results


def _analyze(kind: str) -> None:
    from sqlalchemy import text

    from market.extensions import db

    if kind == "postgresql":
        connection = db.engine.raw_connection()
        try:
            connection.driver_connection.autocommit = True  # VACUUM refuses a transaction
            connection.cursor().execute("VACUUM ANALYZE")
        finally:
            connection.driver_connection.autocommit = False
            connection.close()
    else:
        db.session.execute(text("ANALYZE"))
        db.session.commit()


def print_table(results: list[dict]) -> None:
    print()
    print(
        f"{os.cpu_count()} CPUs; 'load' is the 1-minute load average when measured (other work "
        "on the machine inflates the times)"
    )
    header = (
        f"{'database':<11}{'payments':>11}{'stall-days':>12}{'rebuild s':>11}"
        f"{'report ms':>11}{'API ms':>9}{'page ms':>9}{'market ms':>11}"
        f"{'API cold':>10}{'page cold':>11}{'load':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['db']:<11}{r['payments']:>11,}{r['stall_days']:>12,}{r['rebuild_s']:>11.1f}"
            f"{r['report_ms']:>11.1f}{r['api_ms']:>9.1f}{r['page_ms']:>9.1f}"
            f"{r['market_ms']:>11.1f}{r['api_cold_ms']:>10.1f}{r['page_cold_ms']:>11.1f}"
            f"{r['load']:>7.1f}"
        )
    print("API, page, market: as served (cached counts); cold: the counts computed again")
    print()
    for kind in dict.fromkeys(r["db"] for r in results):
        rows = [r for r in results if r["db"] == kind]
        base = rows[0]
        ratios = ", ".join(
            f"{r['payments'] / base['payments']:.0f}× payments -> API ×"
            f"{r['api_ms'] / base['api_ms']:.2f}, page ×{r['page_ms'] / base['page_ms']:.2f}"
            for r in rows[1:]
        )
        print(f"{kind}: scaling from {base['payments']:,}: {ratios or '(one size only)'}")
    pg = [r for r in results if r["db"] == "postgresql"]
    if pg:
        largest = pg[-1]
        worst = max(largest["api_ms"], largest["page_ms"])
        verdict = "meets" if worst <= TARGET_MS else "MISSES"
        print(
            f"target: API and page at most {TARGET_MS:.0f} ms on PostgreSQL with "
            f"{largest['payments']:,} payments: API {largest['api_ms']:.1f} ms, page "
            f"{largest['page_ms']:.1f} ms, {verdict} it (cold: {largest['api_cold_ms']:.0f} / "
            f"{largest['page_cold_ms']:.0f} ms, once a minute per worker)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[500_000, 1_000_000, 2_000_000])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    results = []
    now = datetime.now(UTC)  # one "now" for both databases, so they hold the same data
    with tempfile.TemporaryDirectory(prefix="bench-adoption-") as workdir:
        for kind in args.db.split(","):
            results += run_database(kind.strip(), sizes, args.rounds, Path(workdir), now)
    print_table(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
