"""Monthly statements: seconds and peak memory for a month of 900 and 9,000 payments, PDF and
XLSX, against the sticker PDF of one market measured in the same run as a yardstick.

Run: ``.venv/bin/python bench/bench_statement.py [--sizes 900 9000] [--rounds 3]
[--stickers 200] [--database sqlite|postgresql]``

The parent makes one migrated database (SQLite in a temporary folder, or a throwaway
PostgreSQL server: tests/pgserver.py) holding one merchant per size, each with two stalls
and ``size`` matched payments spread over November 2026 (a busy stall takes ~300 a day),
between which one row in ten is unmatched (never read). Every measurement runs in a fresh Python process
that builds the app, then times the real path of ``/me/statement.<fmt>``
(``market.payments.views.statement_response`` in a request context: the month's totals, the
rows streamed from the database in batches, the PDF written page by page to a spooled file,
the body read to the end) and reports its wall time, its RSS before the call, and its peak
RSS (``ru_maxrss``). The yardstick child streams ``--stickers`` A6 stickers, four per A4
(about one market's stalls), with ``write_sticker_sheets``, the print kit's writer. The table
shows medians of ``--rounds`` runs, the largest peak, and each time as a ratio of the
stickers' time measured alongside; growth = peak RSS minus RSS before the call.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAYERS = ["NGUYỄN VĂN AN", "TRẦN THỊ BÍCH NGỌC", "", "LÊ HỮU PHƯỚC", "ĐỖ THỊ ÁNH", ""]


def _rss_mib() -> float:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _app(url: str):
    from market.app import create_app

    return create_app({"ENV": "testing", "SQLALCHEMY_DATABASE_URI": url})


def populate(url: str, sizes: list[int]) -> None:
    """Migrate and fill: merchant ``i`` has two stalls and ``sizes[i]`` November payments."""
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from market.extensions import db
    from market.markets.models import Market, Stall
    from market.merchants.models import Merchant
    from market.payments.models import PaymentNotification

    app = _app(url)
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        market = Market(code="TN-B", name="Chợ Đồng Quang", district="TP. Thái Nguyên")
        db.session.add(market)
        start = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)  # 06:00 on 1 November, Vietnam
        event = 0
        for index, size in enumerate(sizes):
            merchant = Merchant(full_name=f"Nguyễn Thị Hoa {index}", phone=f"09{index:08d}")
            stalls = [
                Stall(market=market, code=f"M{index}-{n}", category="rau-cu", merchant=merchant)
                for n in (1, 2)
            ]
            db.session.add_all(stalls)
            db.session.flush()
            rows = []
            total = size + size // 9  # and one unmatched row in ten, never read
            per_day = -(-total // 30)  # rounded up: every one in November
            step = timedelta(hours=13) / per_day  # market hours, 06:00 to 19:00
            for n in range(total):
                event += 1
                matched = n % 10 != 9
                rows.append(
                    {
                        "provider": "casso",
                        "event_id": str(event),
                        "raw_body": "{}",
                        "transaction_at": start
                        + timedelta(days=n // per_day)
                        + step * (n % per_day),
                        "account_number": f"00110{index:08d}",
                        "amount": 10_000 + (n * 37) % 490_000,
                        "direction": "in",
                        "content": f"thanh toan don {n}",
                        "reference_code": f"FT26{event:010d}",
                        "payer_name": PAYERS[n % len(PAYERS)],
                        "stall_id": stalls[n % 2].id if matched else None,
                        "match_status": "matched" if matched else "unmatched",
                    }
                )
            for chunk in range(0, len(rows), 2000):
                db.session.execute(insert(PaymentNotification), rows[chunk : chunk + 2000])
        db.session.commit()
        db.engine.dispose()


def child_statement(url: str, index: int, fmt: str) -> dict:
    from sqlalchemy import select

    from market.extensions import db
    from market.merchants.models import Merchant
    from market.payments import queries
    from market.payments.views import statement_response

    app = _app(url)
    with app.test_request_context(f"/me/statement.{fmt}?month=2026-11"), app.app_context():
        merchant = db.session.scalar(select(Merchant).where(Merchant.phone == f"09{index:08d}"))
        stalls = queries.merchant_stalls(merchant.id)
        for stall in stalls:
            stall.market.name  # noqa: B018 - loaded before the measurement
        count, _total = queries.month_received_totals(stalls, datetime(2026, 11, 1).date())
        before = _rss_mib()
        begin = time.perf_counter()
        response = statement_response(merchant, stalls, fmt, page=None)
        size = sum(len(chunk) for chunk in response.response)
        seconds = time.perf_counter() - begin
    return {"seconds": seconds, "before": before, "bytes": size, "payments": count}


def child_stickers(count: int) -> dict:
    from bench.bench_stickers import stickers
    from market.qr import write_sticker_sheets

    list(stickers(1))  # imports and fonts loaded before the measurement, as for statements
    before = _rss_mib()
    with tempfile.TemporaryFile() as out:
        begin = time.perf_counter()
        write_sticker_sheets(stickers(count), out, layout="a4x4")
        seconds = time.perf_counter() - begin
        size = out.tell()
    return {"seconds": seconds, "before": before, "bytes": size}


def child(args) -> None:
    if args.child == "stickers":
        result = child_stickers(args.stickers)
    else:
        result = child_statement(args.url, args.index, args.child)
    result["peak"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def run(*extra: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, *extra], check=True, capture_output=True, text=True, cwd=ROOT
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[900, 9000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--stickers", type=int, default=200)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--index", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return

    server = None
    with tempfile.TemporaryDirectory() as tmp:
        if args.database == "postgresql":
            from tests.pgserver import ThrowawayPostgres

            server = ThrowawayPostgres().start()
            url = server.create_database("bench_statement")
        else:
            url = f"sqlite:///{tmp}/bench.sqlite3"
        try:
            began = time.perf_counter()
            populate(url, args.sizes)
            print(
                f"# {args.database}: months of {', '.join(f'{n:,}' for n in args.sizes)} "
                f"payments stored in {time.perf_counter() - began:.1f} s"
            )
            runs: dict[str, list[dict]] = {}
            for _round in range(args.rounds):
                # Side by side: the yardstick, then each statement, in every round.
                runs.setdefault("stickers", []).append(
                    run("--child", "stickers", "--stickers", str(args.stickers))
                )
                for index, size in enumerate(args.sizes):
                    for fmt in ("pdf", "xlsx"):
                        key = f"{fmt} {size}"
                        extra = ("--child", fmt, "--url", url, "--index", str(index))
                        result = run(*extra)
                        assert result["payments"] == size, result  # the month really holds them
                        runs.setdefault(key, []).append(result)
        finally:
            if server is not None:
                server.destroy()
    yardstick = statistics.median(r["seconds"] for r in runs["stickers"])
    print(
        f"{'what':<22}{'median s':>10}{'× stickers':>12}{'peak MiB':>10}{'growth MiB':>12}{'KiB':>9}"
    )
    for key, results in runs.items():
        label = f"stickers {args.stickers}" if key == "stickers" else f"{key} payments"
        seconds = statistics.median(r["seconds"] for r in results)
        peak = max(r["peak"] for r in results)
        growth = max(r["peak"] - r["before"] for r in results)
        size = statistics.median(r["bytes"] for r in results) / 1024
        print(
            f"{label:<22}{seconds:>10.2f}{seconds / yardstick:>12.2f}{peak:>10.1f}"
            f"{growth:>12.1f}{size:>9.0f}"
        )


if __name__ == "__main__":
    main()
