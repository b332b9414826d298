"""Registry import: seconds and peak RSS to check and apply 2,000 / 10,000 / 20,000 rows.

Run: ``.venv/bin/python bench/bench_import.py [--sizes 2000 10000 20000] [--rounds 3]
[--db sqlite,postgresql] [--format csv,xlsx]``

Each measurement runs in a fresh Python process on a freshly migrated database holding one
market and its manager: the child makes the file (new stalls, each with a new merchant and a
payee account: the most work a row can make), then calls what the pages call, in a request
context: ``importing.upload`` (read, check, stage everything and roll back, store the upload:
the dry run a manager sees first) and ``importing.apply_upload`` (the same again, committed).
It reports both times and its peak RSS (``ru_maxrss``). The table shows medians of
``--rounds`` and the largest peak RSS. PostgreSQL is the suite's throwaway server
(tests/pgserver.py, fsync off). Target (issue 17): 20,000 rows checked and applied in
<= 10 s, memory flat in the row count (the import holds at most MAX_ROWS rows).
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET_SECONDS = 10.0
BANKS = ["970436", "970418", "970422", "970407", "970415"]
NAMES = ["Nguyễn Thị Hoa", "Trần Văn Bình", "Lê Thị Thu", "Phạm Quốc Đạt", "Võ Thị Ánh"]


def rows(count: int) -> list[list[str]]:
    from market.markets import importing
    from market.vietqr import transliterate

    table = [list(importing.HEADER)]
    for i in range(count):
        name = f"{NAMES[i % len(NAMES)]}"
        table.append(
            [
                f"S-{i:05d}",
                f"Khu {chr(65 + i % 8)}",
                "rau-cu" if i % 3 else "Thịt",
                "active",
                name,
                f"09{i:08d}",
                "" if i % 4 else f"{4600000000 + i:010d}",
                "có",
                BANKS[i % len(BANKS)],
                f"{1000000000 + i * 7}",
                "tai_khoan",
                transliterate(name).upper(),
            ]
        )
    return table


def make_file(count: int, fmt: str) -> bytes:
    from market.markets import importing

    table = rows(count)
    if fmt == "csv":
        return importing.to_csv(table)
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Sap")
    for row in table:
        sheet.append(row)
    import io

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def child(url: str, count: int, fmt: str) -> None:
    from flask_migrate import upgrade

    from market.app import create_app
    from market.auth.models import User
    from market.extensions import db
    from market.markets import importing
    from market.markets.models import Market

    app = create_app(
        {
            "ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": False,
        }
    )
    with app.app_context():
        upgrade()
        market = Market(code="TN-BENCH", name="Chợ Bench", district="TP. Thái Nguyên")
        manager = User(username="bench", full_name="Bench", role="manager", markets=[market])
        manager.password_hash = "!"  # noqa: S105 (no login: nothing matches it)
        db.session.add_all([market, manager])
        db.session.commit()
        market_id, manager_id = market.id, manager.id
        db.session.remove()
    with app.app_context():
        content = make_file(count, fmt)
        db.session.remove()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with app.test_request_context():
        market, manager = db.session.get(Market, market_id), db.session.get(User, manager_id)
        start = time.perf_counter()
        checked = importing.upload(manager, market, f"bench.{fmt}", content)
        upload_s = time.perf_counter() - start
        assert checked.report.ok, checked.report.errors[:3]
        batch_id = checked.batch.id
        db.session.remove()
    with app.test_request_context():
        market, manager = db.session.get(Market, market_id), db.session.get(User, manager_id)
        start = time.perf_counter()
        applied = importing.apply_upload(manager, market, batch_id)
        apply_s = time.perf_counter() - start
        assert applied.report.applied and applied.report.stalls_created == count
        db.session.remove()
    print(
        json.dumps(
            {
                "upload_s": upload_s,
                "apply_s": apply_s,
                "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "rss_before_mib": rss_before / 1024,
                "bytes": len(content),
            }
        )
    )


def measure(url_for_round, count: int, fmt: str) -> dict:
    url = url_for_round()
    done = subprocess.run(
        [sys.executable, __file__, "--child", url, str(count), fmt],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 10000, 20000])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db", default="sqlite")
    parser.add_argument("--format", default="csv,xlsx")
    parser.add_argument("--child", nargs=3, metavar=("URL", "COUNT", "FORMAT"))
    args = parser.parse_args()
    if args.child:
        url, count, fmt = args.child
        child(url, int(count), fmt)
        return

    results = []
    with tempfile.TemporaryDirectory() as workdir:
        for kind in args.db.split(","):
            server = None
            if kind == "postgresql":
                from tests.pgserver import ThrowawayPostgres

                server = ThrowawayPostgres().start()
            counter = iter(range(10**6))

            def fresh_url(kind=kind, server=server, counter=counter) -> str:
                n = next(counter)
                if kind == "postgresql":
                    return server.create_database(f"bench_import_{n}")
                return f"sqlite:///{workdir}/bench-{n}.sqlite3"

            try:
                for fmt in args.format.split(","):
                    for size in args.sizes:
                        runs = [measure(fresh_url, size, fmt) for _ in range(args.rounds)]
                        row = {
                            "db": kind,
                            "format": fmt,
                            "rows": size,
                            "upload_s": statistics.median(r["upload_s"] for r in runs),
                            "apply_s": statistics.median(r["apply_s"] for r in runs),
                            "rss_mib": max(r["rss_mib"] for r in runs),
                            "base_mib": max(r["rss_before_mib"] for r in runs),
                            "kib": runs[0]["bytes"] / 1024,
                            "load": os.getloadavg()[0],
                        }
                        results.append(row)
                        print(
                            f"{kind:10} {fmt:4} {size:>6,} rows ({row['kib']:,.0f} KiB): "
                            f"upload (dry run) {row['upload_s']:.2f} s, apply "
                            f"{row['apply_s']:.2f} s, peak RSS {row['rss_mib']:.0f} MiB "
                            f"(before the import {row['base_mib']:.0f}), load "
                            f"{row['load']:.1f}",
                            flush=True,
                        )
            finally:
                if server is not None:
                    server.destroy()
    print()
    print(
        f"target: {TARGET_SECONDS:.0f} s to check and apply 20,000 rows (apply includes the check)"
    )
    for row in results:
        per_row = row["apply_s"] / row["rows"] * 1000
        verdict = ""
        if row["rows"] == 20000:
            verdict = ", target met" if row["apply_s"] <= TARGET_SECONDS else ", target MISSED"
        print(
            f"  {row['db']:10} {row['format']:4} {row['rows']:>6,}: apply {row['apply_s']:.2f} s "
            f"({per_row:.2f} ms/row{verdict}); upload+apply "
            f"{row['upload_s'] + row['apply_s']:.2f} s; peak RSS {row['rss_mib']:.0f} MiB "
            f"(+{row['rss_mib'] - row['base_mib']:.0f} over the process before importing)"
        )


if __name__ == "__main__":
    main()
