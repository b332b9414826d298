"""Registry search: the folded search (diacritics and case ignored) against the plain
LIKE / ILIKE it replaced, side by side in one run, on SQLite and PostgreSQL.

Run: ``.venv/bin/python bench/bench_search.py [--sizes 2000 20000] [--rounds 15]
[--db sqlite,postgresql]``

One market holds ``size`` stalls, each with a merchant (Vietnamese names), three in four with
a payee account. Measured: the market page's query (``markets.queries.stall_rows``, a page
of 50 and its count) for a name typed without diacritics ("nguyen thi"), a stall code
("S-01234") and a word that matches nothing, and the admin's merchant list
(``merchants.queries.merchant_list``); the baseline is the same query with the old
``ilike`` conditions (which do not find "nguyen" in "Nguyễn"). Medians of ``--rounds`` in
milliseconds and the folded / plain ratio. PostgreSQL is the suite's throwaway server
(tests/pgserver.py, fsync off), ANALYZEd after loading.

Measured here (``--rounds 9``, 2 shared cores, load ~4): folding merchants' names in SQL at
every search (PostgreSQL ``translate(lower(…))`` over ~600 accented letters, a Python
function on SQLite) cost 785 / 14,292 ms for 2,000 / 20,000 stalls on PostgreSQL (×23 /
×46 the plain ILIKE) and 56 / 351 ms on SQLite (×4.2 / ×2.7). So names are stored folded
(``Merchant.name_folded``, kept by a validator and a Core-insert default), codes and holder
names (ASCII) are only lower-cased, and the folded search then costs what the plain one
did: PostgreSQL 24 / 90 ms (×1.09 / ×0.70), SQLite 23 / 94 ms (×1.90 / ×0.89) for the name;
stall code 22 / 157 ms and 21 / 185 ms; the admin's merchant list 7 / 45 ms and 17 / 77 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
MIDDLE = ["Thị", "Văn", "Đức", "Quốc", "Thu", "Ngọc"]
GIVEN = ["Hoa", "Bình", "Ánh", "Hùng", "Thủy", "Đạt", "Lan", "Hương", "Việt", "Nam"]
QUERIES = {"name": "nguyen thi", "code": "S-01234", "none": "khongcoai"}


def seed(size: int) -> object:
    from sqlalchemy import insert, select

    from market.extensions import db
    from market.markets.models import Market, Stall
    from market.merchants.models import Merchant, PayeeAccount

    market = Market(code="BENCH", name="Chợ Đồng Quang", district="TP. Thái Nguyên")
    db.session.add(market)
    db.session.flush()
    merchants = [
        {
            "full_name": f"{FAMILY[i % 10]} {MIDDLE[i % 6]} {GIVEN[(i // 7) % 10]}",
            "phone": f"09{i:08d}",
            "consent": True,
        }
        for i in range(size)
    ]
    db.session.execute(insert(Merchant.__table__), merchants)
    ids = db.session.scalars(select(Merchant.id).order_by(Merchant.id)).all()
    db.session.execute(
        insert(Stall.__table__),
        [
            {
                "market_id": market.id,
                "code": f"S-{i:05d}",
                "zone": "",
                "category": "khac",
                "status": "active",
                "merchant_id": merchant_id,
            }
            for i, merchant_id in enumerate(ids)
        ],
    )
    stalls = db.session.scalars(select(Stall.id).where(Stall.market_id == market.id)).all()
    db.session.execute(
        insert(PayeeAccount.__table__),
        [
            {
                "stall_id": stall_id,
                "bank_bin": "970436",
                "account_number": f"{1000000 + i}",
                "service": "account",
                "holder_name": "NGUYEN THI HOA",
                "is_current": True,
            }
            for i, stall_id in enumerate(stalls)
            if i % 4
        ],
    )
    db.session.commit()
    return market


def plain_stall_rows(market, q: str):
    """The query as it was before the fold (LIKE / ILIKE on the raw columns)."""
    from sqlalchemy import or_

    from market.markets import queries
    from market.markets.models import Stall
    from market.merchants.models import Merchant, PayeeAccount
    from market.pagination import paginate

    like = f"%{q}%"
    query = (
        queries._stall_row_query()
        .where(Stall.market_id == market.id)
        .where(
            or_(
                Stall.code.ilike(like),
                Merchant.full_name.ilike(like),
                Merchant.phone.like(like),
                PayeeAccount.account_number.like(like),
                PayeeAccount.holder_name.ilike(like),
            )
        )
    )
    return paginate(query.order_by(Stall.code), 1, 50)


def median_ms(func, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        func()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def run(kind: str, sizes: list[int], rounds: int, workdir: Path) -> list[tuple]:
    from flask_migrate import upgrade
    from sqlalchemy import delete, text

    from market.app import create_app
    from market.auth.models import User
    from market.extensions import db
    from market.markets import queries
    from market.merchants import queries as merchant_queries

    server = None
    if kind == "postgresql":
        from tests.pgserver import ThrowawayPostgres

        server = ThrowawayPostgres().start()
        url = server.create_database("bench_search")
    else:
        url = f"sqlite:///{workdir / 'search.sqlite3'}"
    results = []
    try:
        app = create_app(
            {"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False}
        )
        with app.app_context():
            upgrade()
        for size in sizes:
            with app.test_request_context():
                from market.markets.models import Market, Stall
                from market.merchants.models import Merchant

                db.session.execute(delete(Stall))
                db.session.execute(delete(Merchant))
                db.session.execute(delete(Market))
                db.session.commit()
                market = seed(size)
                if kind == "postgresql":
                    db.session.commit()
                    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                        c.execute(text("ANALYZE"))
                admin = User(username="bench", full_name="Bench", role="admin")
                for q in QUERIES.values():
                    folded = median_ms(lambda q=q, m=market: queries.stall_rows(m, q=q), rounds)
                    plain = median_ms(lambda q=q, m=market: plain_stall_rows(m, q), rounds)
                    found = queries.stall_rows(market, q=q).total
                    results.append((kind, size, f"stalls '{q}'", found, folded, plain))
                folded = median_ms(
                    lambda a=admin: merchant_queries.merchant_list(a, q="nguyen thi"), rounds
                )
                found = merchant_queries.merchant_list(admin, q="nguyen thi").total
                results.append((kind, size, "merchants 'nguyen thi'", found, folded, float("nan")))
                db.session.rollback()
    finally:
        if server is not None:
            server.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--db", default="sqlite,postgresql")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        for kind in args.db.split(","):
            rows.extend(run(kind, args.sizes, args.rounds, Path(workdir)))
    print(
        f"{'db':<11}{'stalls':>8}  {'query':<26}{'found':>7}{'folded ms':>11}{'plain ms':>10}{'ratio':>7}"
    )
    for kind, size, name, found, folded, plain in rows:
        ratio = folded / plain if plain == plain else float("nan")
        print(
            f"{kind:<11}{size:>8}  {name:<26}{found:>7}{folded:>11.1f}{plain:>10.1f}{ratio:>7.2f}"
        )


if __name__ == "__main__":
    main()
