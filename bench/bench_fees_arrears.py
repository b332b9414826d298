"""The arrears page of a 500-stall market: target <= 100 ms (median).

Run: ``.venv/bin/python bench/bench_fees_arrears.py [--db sqlite,postgresql] [--stalls 500]
[--months 12] [--rounds 30]``

A market of ``--stalls`` active stalls with four fees (bench/bench_fees.py's ``seed``), billed
for ``--months`` months; most bills paid (one payment each, a receipt each), some partly,
about one in six of the last three months' bills not at all, so the page lists a few hundred
overdue bills over the age buckets. Then, side by side in the same process: the arrears
figures alone (``market.fees.money.queries.arrears``) and the whole page as a manager gets it
(``GET /markets/<code>/fees/arrears`` through the test client: login session, the query, the
template), ``--rounds`` times each after a warm-up; medians and the 90th percentile reported.
PostgreSQL is the suite's throwaway server (tests/pgserver.py).
"""

from __future__ import annotations

import argparse
import functools
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_fees import _app, log, seed  # noqa: E402

NOW = datetime(2027, 1, 20, 3, 0, tzinfo=UTC)


def _months(count: int) -> list[str]:
    year, month = 2026, 12
    keys = []
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return sorted(keys)


def populate(stalls: int, months: int) -> str:
    """The market, its bills and payments; returns the market's code."""
    from sqlalchemy import insert, select

    from market.auth.models import User
    from market.extensions import db
    from market.fees import services
    from market.fees.models import FeeBill, FeePayment, FeeReceipt
    from market.markets.models import Market

    (market_id,) = seed(1, stalls, payees=True)
    market = db.session.get(Market, market_id)
    for key in _months(months):
        issued = datetime(int(key[:4]), int(key[5:]), 1, 1, tzinfo=UTC)
        services.bill_market(None, market, key, now=issued)
    rng = random.Random(19)
    bills = db.session.execute(
        select(FeeBill.id, FeeBill.total, FeeBill.due_date, FeeBill.period).where(
            FeeBill.market_id == market_id
        )
    ).all()
    recent = set(_months(months)[-3:])
    payments = []
    for bill_id, total, due, period in bills:
        roll = rng.random()
        if (period in recent and roll < 0.17) or roll < 0.03:
            continue  # unpaid
        amount = total if roll > 0.08 else total // 2
        paid_at = datetime.combine(due, datetime.min.time(), UTC) - timedelta(days=rng.randrange(9))
        method = "cash" if rng.random() < 0.1 else "transfer"
        payments.append(
            {
                "market_id": market_id,
                "bill_id": bill_id,
                "amount": amount,
                "method": method,
                "paid_at": paid_at,
                "created_at": paid_at,
            }
        )
    db.session.execute(insert(FeePayment.__table__), payments)
    ids = db.session.execute(
        select(FeePayment.id, FeePayment.paid_at)
        .where(FeePayment.market_id == market_id)
        .order_by(FeePayment.paid_at, FeePayment.id)
    ).all()
    seqs: dict[int, int] = {}
    receipts = []
    for payment_id, paid_at in ids:
        year = paid_at.year
        seqs[year] = seqs.get(year, 0) + 1
        receipts.append(
            {
                "market_id": market_id,
                "payment_id": payment_id,
                "year": year,
                "seq": seqs[year],
                "number": f"PT{year}-{seqs[year]:06d}",
                "issued_at": paid_at,
            }
        )
    db.session.execute(insert(FeeReceipt.__table__), receipts)
    bills_by_id = {b.id: b for b in db.session.scalars(select(FeeBill))}
    services.stage_bill_status(bills_by_id.values())
    manager = User(username="bench", full_name="Bench", role="admin")
    manager.set_password("bench-password-1")
    manager.activated_at = NOW
    db.session.add(manager)
    db.session.commit()
    log(f"{len(bills)} bills, {len(payments)} payments")
    return market.code


def _timed(func, rounds: int) -> list[float]:
    func()  # warm-up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return times


def _page(client, code: str) -> None:
    from market.extensions import db

    response = client.get(f"/markets/{code}/fees/arrears")
    assert response.status_code == 200
    db.session.remove()


def _p90(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.9) - 1]


def bench(kinds: list[str], stalls: int, months: int, rounds: int) -> None:
    from unittest import mock

    from flask_migrate import upgrade

    from market.extensions import db
    from market.fees.money import queries
    from market.markets.queries import market_by_code

    print(f"arrears of a {stalls}-stall market, {months} months billed; ms, {rounds} rounds")
    print(
        f"{'db':>10} {'overdue':>8} {'query med':>10} {'query p90':>10} {'page med':>9} {'p90':>7}"
    )
    for kind in kinds:
        server = None
        with tempfile.TemporaryDirectory() as workdir:
            if kind == "postgresql":
                from tests.pgserver import ThrowawayPostgres

                server = ThrowawayPostgres().start()
                url = server.create_database("bench_arrears")
            else:
                url = f"sqlite:///{workdir}/bench.sqlite3"
            try:
                app = _app(url)
                with app.app_context():
                    upgrade()
                    code = populate(stalls, months)
                    if kind == "postgresql":
                        from sqlalchemy import text

                        with db.engine.connect().execution_options(
                            isolation_level="AUTOCOMMIT"
                        ) as conn:
                            conn.execute(text("VACUUM ANALYZE"))
                    market = market_by_code(code)
                    report = queries.arrears(market, now=NOW)
                    query = _timed(functools.partial(queries.arrears, market, now=NOW), rounds)
                    client = app.test_client()
                    login = client.post(
                        "/login", data={"username": "bench", "password": "bench-password-1"}
                    )
                    assert login.status_code == 302, login.status_code

                    with mock.patch("market.fees.money.views.utcnow", return_value=NOW):
                        pages = _timed(functools.partial(_page, client, code), rounds)
                    med = statistics.median(pages)
                    verdict = "met" if med <= 100 else "MISSED"
                    print(
                        f"{kind:>10} {report.bill_count:>8} {statistics.median(query):>10.1f}"
                        f" {_p90(query):>10.1f} {med:>9.1f} {_p90(pages):>7.1f}"
                        f"  (target page <= 100 ms: {verdict})"
                    )
                    db.session.remove()
                    for engine in db.engines.values():
                        engine.dispose()
            finally:
                if server is not None:
                    server.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default="sqlite,postgresql")
    parser.add_argument("--stalls", type=int, default=500)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    bench(args.db.split(","), args.stalls, args.months, args.rounds)


if __name__ == "__main__":
    main()
