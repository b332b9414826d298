"""Market fees: billing 60 markets × 250 stalls for a month, and a market's notices PDF.

Run: ``.venv/bin/python bench/bench_fees.py [--part billing notices] [--rounds 3]``

**billing** (``--db postgresql,sqlite``): a registry of ``--markets`` markets × ``--stalls``
active stalls with their merchants, each market with four fees (rent by category with two
rates, a fixed fee, rent by area for a third of the stalls, electricity metered from a
reading of every stall), then ``market.fees.services.bill_market`` for every market, one
after the other, as ``flask fees-bill`` would be run (each market its own transaction). The
database already holds the month before, billed and paid (a tenth of the stalls paid over,
so their bills carry a credit) and ANALYZEd: billing runs month after month. (On tables last
analyzed while empty, PostgreSQL keeps planning the bill lines' foreign-key checks as scans
of a tiny table on a kept connection, and billing slows as a month's bills pile up, until
autovacuum analyzes them.) Between rounds the measured month's bills are deleted; the
median of ``--rounds`` is reported with the bills and lines made, and a second run over the
billed month (which must create nothing). PostgreSQL is the suite's throwaway server
(tests/pgserver.py, fsync off).
Target: 60 × 250 in <= 10 s on PostgreSQL. The app's own CPU time and the load average are
printed beside the wall time, with the PostgreSQL server's CPU time (its processes, from
/proc): on a shared, loaded machine the wall time mostly measures the run queue, and the
CPU the work needs (app + database) is what an unloaded server would spend.

**notices**: a SQLite market of ``--notice-counts`` stalls (verified payees, a verified board
account, a month billed) is made once per count; then, side by side in fresh processes, the
market's sticker PDF (``market.stickers.services.print_market``, four A6 per A4, the print kit
a manager downloads) and its notices PDF (``market.fees.queries.market_notices`` through
``market.qr.notices.write_notices``, one A6 page per stall), each written to a file. Reported:
median seconds, the ratio notices / stickers at each count, and peak RSS of the notices
process. Targets: notices <= 2 × stickers at 2,100 stalls; peak RSS flat (500 vs 2,100).
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
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PERIOD = "2026-11"
PREVIOUS = "2026-10"
NOW = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
CATEGORIES = ["rau-cu", "thit", "thuy-san", "tap-hoa", "an-uong", "quan-ao"]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _app(url: str):
    from market.app import create_app

    return create_app(
        {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
            "WTF_CSRF_ENABLED": False,
        }
    )


def seed(markets: int, stalls: int, *, payees: bool = False, offset: int = 0) -> list[int]:
    """Markets of active stalls with merchants (and verified payees), four fees each, a
    reading per stall: bulk statements. Returns the market ids."""
    from sqlalchemy import insert, select

    from market.extensions import db
    from market.fees.models import FeeAccount, FeeRate, FeeStallArea, FeeType, MeterReading
    from market.markets.models import Market, Stall
    from market.merchants.models import Merchant, PayeeAccount

    db.session.execute(
        insert(Market.__table__),
        [
            {
                "code": f"BM-{offset + m:03d}",
                "name": f"Chợ thử {offset + m}",
                "district": "TP. Thái Nguyên",
                "commune": "",
                "address": "",
                "status": "live",
                "created_at": NOW,
            }
            for m in range(markets)
        ],
    )
    market_ids = list(
        db.session.scalars(select(Market.id).where(Market.code.like("BM-%")).order_by(Market.id))
    )[-markets:]
    phones = [f"09{offset * 10**6 + i:08d}" for i in range(markets * stalls)]
    db.session.execute(
        insert(Merchant.__table__),
        [
            {"full_name": f"Tiểu thương {i}", "phone": p, "consent": True, "created_at": NOW}
            for i, p in enumerate(phones)
        ],
    )
    merchant_ids: dict[str, int] = {}
    for start in range(0, len(phones), 10000):
        chunk = phones[start : start + 10000]
        merchant_ids.update(
            db.session.execute(
                select(Merchant.phone, Merchant.id).where(Merchant.phone.in_(chunk))
            ).all()
        )
    rows = []
    for m, market_id in enumerate(market_ids):
        for s in range(stalls):
            i = m * stalls + s
            rows.append(
                {
                    "market_id": market_id,
                    "code": f"{chr(65 + s % 6)}-{s:04d}",
                    "zone": "",
                    "category": CATEGORIES[s % len(CATEGORIES)],
                    "status": "active",
                    "merchant_id": merchant_ids[phones[i]],
                    "created_at": NOW,
                }
            )
    db.session.execute(insert(Stall.__table__), rows)
    stall_rows = db.session.execute(
        select(Stall.id, Stall.market_id).where(Stall.market_id.in_(market_ids))
    ).all()
    if payees:
        db.session.execute(
            insert(PayeeAccount.__table__),
            [
                {
                    "stall_id": stall_id,
                    "bank_bin": "970436",
                    "account_number": f"{1903665511 + stall_id * 37:013d}",
                    "service": "account",
                    "holder_name": "NGUYEN THI HONG",
                    "is_current": True,
                    "created_at": NOW,
                    "verified_at": NOW,
                }
                for stall_id, _market in stall_rows
            ],
        )
        db.session.execute(
            insert(FeeAccount.__table__),
            [
                {
                    "market_id": market_id,
                    "bank_bin": "970415",
                    "account_number": f"1130000{market_id:05d}",
                    "holder_name": "BAN QUAN LY CHO",
                    "is_current": True,
                    "created_at": NOW,
                    "verified_at": NOW,
                }
                for market_id in market_ids
            ],
        )
    fees = [
        ("THUE", "Tiền thuê sạp", "rent_category", ""),
        ("VESINH", "Phí vệ sinh", "fixed", ""),
        ("KIOT", "Thuê ki-ốt theo diện tích", "rent_area", ""),
        ("DIEN", "Tiền điện", "metered", "kWh"),
    ]
    db.session.execute(
        insert(FeeType.__table__),
        [
            {
                "market_id": market_id,
                "code": code,
                "name": name,
                "kind": kind,
                "cycle": "monthly",
                "unit": unit,
                "active": True,
                "position": position,
                "created_at": NOW,
            }
            for market_id in market_ids
            for position, (code, name, kind, unit) in enumerate(fees, start=1)
        ],
    )
    types = db.session.execute(
        select(FeeType.id, FeeType.market_id, FeeType.kind).where(FeeType.market_id.in_(market_ids))
    ).all()
    rates = []
    for type_id, _market, kind in types:
        amount = {"rent_category": 400_000, "fixed": 50_000, "rent_area": 80_000}.get(kind, 3_500)
        rates.append({"fee_type_id": type_id, "category": "", "amount": amount})
        if kind == "rent_category":
            rates.append({"fee_type_id": type_id, "category": "rau-cu", "amount": 300_000})
    db.session.execute(
        insert(FeeRate.__table__),
        [{**rate, "valid_from": date(2026, 1, 1), "created_at": NOW} for rate in rates],
    )
    meter = {market_id: type_id for type_id, market_id, kind in types if kind == "metered"}
    db.session.execute(
        insert(MeterReading.__table__),
        [
            {
                "stall_id": stall_id,
                "fee_type_id": meter[market_id],
                "period": PERIOD,
                "start_reading": 1000 + stall_id % 97,
                "end_reading": 1040 + stall_id % 97 + stall_id % 13,
                "recorded_at": NOW,
            }
            for stall_id, market_id in stall_rows
        ],
    )
    db.session.execute(
        insert(FeeStallArea.__table__),
        [
            {"stall_id": stall_id, "area_dm2": 250 + stall_id % 300, "updated_at": NOW}
            for stall_id, _market in stall_rows
            if stall_id % 3 == 0
        ],
    )
    db.session.commit()
    return market_ids


def bill_all(market_ids: list[int], period: str = PERIOD) -> tuple[float, int, int, float]:
    """Bill every market in turn; (wall seconds, bills, lines, this process's CPU seconds),
    the counts of ``period``."""
    from sqlalchemy import func, select

    from market.extensions import db
    from market.fees import services
    from market.fees.models import FeeBill, FeeBillLine
    from market.markets.models import Market

    markets = list(db.session.scalars(select(Market).where(Market.id.in_(market_ids))))
    start, cpu = time.perf_counter(), time.process_time()
    for market in markets:
        services.bill_market(None, market, period, now=NOW)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    bills = db.session.scalar(select(func.count(FeeBill.id)).where(FeeBill.period == period))
    lines = db.session.scalar(
        select(func.count(FeeBillLine.id))
        .join(FeeBill, FeeBill.id == FeeBillLine.bill_id)
        .where(FeeBill.period == period)
    )
    return seconds, bills, lines, cpu


def server_cpu(datadir: Path | None) -> float:
    """CPU seconds used so far by a PostgreSQL server: its postmaster (with its exited
    children) and its live processes, from /proc (Linux). 0 without a server."""
    if datadir is None:
        return 0.0
    postmaster = int((datadir / "postmaster.pid").read_text().split()[0])
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(stat.parent.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
        elif ppid == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / tick


def reset_bills() -> None:
    """Delete the measured month's bills (the month before stays, as history)."""
    from sqlalchemy import delete, select

    from market.extensions import db
    from market.fees.models import FeeBill, FeeBillLine

    billed = select(FeeBill.id).where(FeeBill.period == PERIOD)
    db.session.execute(delete(FeeBillLine).where(FeeBillLine.bill_id.in_(billed)))
    db.session.execute(delete(FeeBill).where(FeeBill.period == PERIOD))
    db.session.commit()


def history(market_ids: list[int]) -> int:
    """The month before, billed and paid (a tenth of the stalls 20,000 đồng over, so their
    November bills carry a credit): the steady state billing runs in, month after month."""
    from sqlalchemy import insert, select

    from market.extensions import db
    from market.fees.models import FeeBill, FeePayment

    bill_all(market_ids, PREVIOUS)
    rows = db.session.execute(
        select(FeeBill.id, FeeBill.market_id, FeeBill.stall_id, FeeBill.total).where(
            FeeBill.period == PREVIOUS
        )
    ).all()
    db.session.execute(
        insert(FeePayment.__table__),
        [
            {
                "market_id": market_id,
                "bill_id": bill_id,
                "amount": total + (20_000 if stall_id % 10 == 0 else 0),
                "method": "transfer",
                "paid_at": NOW,
                "created_at": NOW,
            }
            for bill_id, market_id, stall_id, total in rows
        ],
    )
    db.session.commit()
    return len(rows)


def bench_billing(kinds: list[str], markets: int, stalls: int, rounds: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import text

    from market.extensions import db

    print(f"billing {markets} markets × {stalls} stalls for {PERIOD}, median of {rounds}")
    print(
        f"{'db':>10} {'bills':>7} {'lines':>7} {'seconds':>8} {'per s':>7} {'app CPU s':>9}"
        f" {'db CPU s':>8} {'rerun s':>8} {'load':>5}"
    )
    for kind in kinds:
        server = None
        with tempfile.TemporaryDirectory() as workdir:
            if kind == "postgresql":
                from tests.pgserver import ThrowawayPostgres

                server = ThrowawayPostgres().start()
                url = server.create_database("bench_fees")
            else:
                url = f"sqlite:///{workdir}/bench.sqlite3"
            try:
                app = _app(url)
                with app.app_context():
                    upgrade()
                    started = time.perf_counter()
                    market_ids = seed(markets, stalls)
                    paid = history(market_ids)
                    log(
                        f"{kind}: seeded, {PREVIOUS} billed and paid ({paid} bills) in "
                        f"{time.perf_counter() - started:.1f} s"
                    )
                    if kind == "postgresql":
                        db.session.commit()
                        with db.engine.connect().execution_options(
                            isolation_level="AUTOCOMMIT"
                        ) as conn:
                            conn.execute(text("VACUUM ANALYZE"))
                    runs, cpus, db_cpus, rerun = [], [], [], []
                    datadir = server.datadir if server is not None else None
                    for round_ in range(rounds):
                        if round_:
                            reset_bills()
                        before = server_cpu(datadir)
                        seconds, bills, lines, cpu = bill_all(market_ids)
                        db_cpus.append(server_cpu(datadir) - before)
                        runs.append(seconds)
                        cpus.append(cpu)
                        again, bills_again, _lines, _cpu = bill_all(market_ids)
                        assert bills_again == bills, "a second run must create nothing"
                        rerun.append(again)
                        log(f"{kind}: round {round_ + 1}: {seconds:.2f} s (rerun {again:.2f} s)")
                    seconds = statistics.median(runs)
                    verdict = ""
                    if kind == "postgresql":
                        verdict = (
                            "  (target <= 10 s: " + ("met" if seconds <= 10 else "MISSED") + ")"
                        )
                    print(
                        f"{kind:>10} {bills:>7} {lines:>7} {seconds:>8.2f} {bills / seconds:>7.0f}"
                        f" {statistics.median(cpus):>9.2f} {statistics.median(db_cpus):>8.2f}"
                        f" {statistics.median(rerun):>8.2f}"
                        f" {os.getloadavg()[0]:>5.1f}{verdict}"
                    )
                    db.session.remove()
                    for engine in db.engines.values():
                        engine.dispose()
            finally:
                if server is not None:
                    server.destroy()


# --- notices ----------------------------------------------------------------------------------


def notices_setup(path: str, count: int) -> None:
    from flask_migrate import upgrade
    from sqlalchemy import select

    from market.extensions import db
    from market.fees import services
    from market.markets.models import Market

    app = _app(f"sqlite:///{path}")
    with app.app_context():
        upgrade()
        [market_id] = seed(1, count, payees=True)
        services.bill_market(None, db.session.get(Market, market_id), PERIOD, now=NOW)
        assert db.session.scalar(select(Market.code)) == "BM-000"


def notices_child(path: str, what: str) -> None:
    from sqlalchemy import select

    from market.extensions import db
    from market.fees import queries
    from market.markets.models import Market
    from market.qr.notices import write_notices
    from market.stickers import services as sticker_services

    app = _app(f"sqlite:///{path}")
    with app.app_context(), tempfile.TemporaryDirectory() as tmp:
        market = db.session.scalar(select(Market))
        out_path = os.path.join(tmp, "out.pdf")
        start = time.perf_counter()
        with open(out_path, "wb") as out:
            if what == "stickers":
                pages = sticker_services.print_market(
                    None, market, out, base_url="https://cho40.vn", layout="a4x4"
                )
            else:
                pages = write_notices(queries.market_notices(market, PERIOD), out)
        seconds = time.perf_counter() - start
        size = os.path.getsize(out_path)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "rss": peak_kib / 1024, "bytes": size, "n": pages}))


def _child(path: str, what: str) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--notices-child", path, what],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def bench_notices(counts: list[int], rounds: int) -> None:
    print(f"a market's PDFs from SQLite, fresh process each, median of {rounds}, side by side")
    print(
        f"{'stalls':>7} {'stickers s':>10} {'notices s':>10} {'ratio':>6}"
        f" {'stickers RSS':>13} {'notices RSS':>12} {'notices PDF':>12} {'load':>5}"
    )
    with tempfile.TemporaryDirectory() as workdir:
        for count in counts:
            path = os.path.join(workdir, f"market-{count}.sqlite3")
            subprocess.run(
                [sys.executable, __file__, "--notices-setup", path, str(count)],
                check=True,
                cwd=ROOT,
            )
            stickers, notices = [], []
            for _ in range(rounds):
                stickers.append(_child(path, "stickers"))
                notices.append(_child(path, "notices"))
            assert all(r["n"] == count for r in notices)
            s = statistics.median(r["seconds"] for r in stickers)
            n = statistics.median(r["seconds"] for r in notices)
            verdict = ""
            if count == 2100:
                verdict = "  (target ratio <= 2: " + ("met" if n <= 2 * s else "MISSED") + ")"
            print(
                f"{count:>7} {s:>10.2f} {n:>10.2f} {n / s:>6.2f}"
                f" {max(r['rss'] for r in stickers):>9.1f} MiB"
                f" {max(r['rss'] for r in notices):>8.1f} MiB"
                f" {notices[0]['bytes'] / 1e6:>9.1f} MB {os.getloadavg()[0]:>5.1f}{verdict}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", nargs="+", default=["billing", "notices"])
    parser.add_argument("--db", default="postgresql,sqlite")
    parser.add_argument("--markets", type=int, default=60)
    parser.add_argument("--stalls", type=int, default=250)
    parser.add_argument("--notice-counts", type=int, nargs="+", default=[500, 2100])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--notices-setup", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--notices-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.notices_setup:
        notices_setup(args.notices_setup[0], int(args.notices_setup[1]))
        return
    if args.notices_child:
        notices_child(*args.notices_child)
        return
    if "billing" in args.part:
        bench_billing(args.db.split(","), args.markets, args.stalls, args.rounds)
    if "notices" in args.part:
        bench_notices(args.notice_counts, args.rounds)


if __name__ == "__main__":
    main()
